package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/auth"
	"taxiihub/internal/httpapi"
	"taxiihub/internal/taxii"
)

// Every answer, success or error, TAXII or probe, forbids caching and content sniffing; over TLS it
// also asks browsers to come back over TLS only.
func TestEveryAnswerIsProtected(t *testing.T) {
	h, path, tok := oneCollection(t, openSQLite(t))
	for what, r := range map[string]response{
		"discovery":       h.get("/taxii2/", tok),
		"objects":         h.get(path+"objects/", tok),
		"unauthenticated": h.get("/taxii2/", ""),
		"no such path":    h.get("/nowhere/", tok),
		"liveness probe":  h.get("/healthz", ""),
	} {
		if got := r.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q", what, got)
		}
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", what, got)
		}
		if got := r.header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("%s over plain HTTP: Strict-Transport-Security %q", what, got)
		}
	}

	st := openSQLite(t)
	log := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	key, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens(auth.NewKeyring(key), "", time.Now)
	srv := httptest.NewTLSServer(httpapi.New(httpapi.Config{Sharing: newSharing(t, st, log, nil), Store: st,
		Auth: auth.NewAuthenticator(tokens, st), Logger: log}))
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/taxii2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", taxii.MediaType)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("over TLS: Strict-Transport-Security %q", got)
	}
}

// Filters are bounded before they cost anything: more than taxii.MaxFilterValues values in one
// filter, or a query longer than taxii.MaxQueryLength, answer 400 with a TAXII error.
func TestQueriesAreBounded(t *testing.T) {
	h, path, tok := oneCollection(t, openSQLite(t))
	versions := make([]string, taxii.MaxFilterValues+1)
	for i := range versions {
		versions[i] = fmt.Sprintf("2026-01-01T00:00:%02d.000Z", i%60)
	}
	checkError(t, "too many values", h.get(path+"objects/?match[version]="+strings.Join(versions, ","), tok), http.StatusBadRequest)
	if r := h.get(path+"objects/?match[version]="+strings.Join(versions[:taxii.MaxFilterValues], ","), tok); r.status != http.StatusOK {
		t.Errorf("%d values: %d %s", taxii.MaxFilterValues, r.status, r.body)
	}
	long := path + "objects/?match[type]=" + strings.Repeat("a", taxii.MaxQueryLength)
	if e := checkError(t, "a long query", h.get(long, tok), http.StatusBadRequest); e.ErrorCode != "invalid-filter" {
		t.Errorf("a long query: %+v", e)
	}
}

// A POST without credentials whose body never finishes arriving is answered 401 at once, and its
// connection closed, instead of the hub waiting for the rest of the body.
func TestARefusedBodyIsNotWaitedFor(t *testing.T) {
	h, path, _ := oneCollection(t, openSQLite(t))
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %sobjects/ HTTP/1.1\r\nHost: hub\r\nAccept: %s\r\nContent-Type: %s\r\nContent-Length: 100000\r\n\r\n{\"objects\":[",
		path, taxii.MediaType, taxii.MediaType)
	// Generous, so that only a hub waiting for the body misses it.
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the body is incomplete: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
		t.Errorf("answer %d, close %v; want 401 and the connection closed", resp.StatusCode, resp.Close)
	}
}
