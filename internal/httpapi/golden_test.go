package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/httpapi"
	"taxiihub/internal/taxii"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// golden compares wire output with testdata/<name>.golden after masking the values that change from
// run to run (ids, request ids, timestamps), so that the golden file shows the shape clients parse.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var indented bytes.Buffer
	if err := json.Indent(&indented, body, "", "  "); err != nil {
		t.Fatalf("%s: not JSON: %s", name, body)
	}
	got := maskDynamic(indented.Bytes())
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n got %s\nwant %s", name, path, got, want)
	}
}

var (
	uuidPattern      = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	requestIDPattern = regexp.MustCompile(`"error_id": "[0-9a-f]{24}"`)
)

func maskDynamic(b []byte) []byte {
	b = requestIDPattern.ReplaceAll(b, []byte(`"error_id": "<request id>"`))
	return uuidPattern.ReplaceAll(b, []byte("<uuid>"))
}

func TestGoldenWireOutput(t *testing.T) {
	clock := func() time.Time { return time.Date(2026, 11, 23, 9, 30, 0, 123456000, time.UTC) }
	h, path, tok := oneCollection(t, openSQLite(t), func(c *httpapi.Config) { c.Now = clock; c.Title = "EU partnership hub" })
	golden(t, "discovery", h.get("/taxii2/", tok).body)
	golden(t, "api-root", h.get("/r/", tok).body)
	golden(t, "collection", h.get(path, tok).body)
	golden(t, "error-not-found", h.get("/r/collections/"+strings.Repeat("0", 8)+"/", tok).body)
	golden(t, "error-unauthenticated", h.get("/taxii2/", "").body)
	golden(t, "error-bad-filter", h.get(path+"objects/?limit=0", tok).body)
	r := h.post(path+"objects/", tok, envelope(
		indicatorJSON(1, "2026-01-01T00:00:00.000Z"),
		indicatorJSON(1, "2026-01-01T00:00:00.000Z"),
		strings.Replace(indicatorJSON(2, "2026-01-01T00:00:00.000Z"), objectID(2), "not-an-id", 1),
	))
	golden(t, "status", r.body)
}

// FuzzObjectsQuery sends arbitrary query strings to the objects, manifest and versions endpoints: a
// client can make the hub refuse a request, but never make it fail.
func FuzzObjectsQuery(f *testing.F) {
	for _, seed := range []string{
		"limit=5", "added_after=2026-01-01T00:00:00Z", "match[version]=first,last,2026-01-01T00:00:00.000Z",
		"match[id]=indicator--00000001-0000-4000-8000-000000000000", "next=eyJjIjoiYSJ9", "match[spec_version]=2.1,2.0",
		"limit=0&limit=1", "match[type]=%00", "added_after=9999-99-99", "next=" + strings.Repeat("A", 200),
	} {
		f.Add(seed)
	}
	h, path, tok := oneCollection(f, openSQLite(f))
	h.post(path+"objects/", tok, envelope(indicatorJSON(1, "2026-01-01T00:00:00.000Z")))
	handler := h.srv.Config.Handler
	f.Fuzz(func(t *testing.T, rawQuery string) {
		for _, p := range []string{path + "objects/", path + "manifest/", path + "objects/" + objectID(1) + "/", path + "objects/" + objectID(1) + "/versions/"} {
			req := httptest.NewRequest(http.MethodGet, p, nil)
			req.URL.RawQuery = rawQuery
			if _, err := url.ParseQuery(rawQuery); err != nil {
				req.URL.RawQuery = url.QueryEscape(rawQuery)
			}
			req.Header.Set("Accept", taxii.MediaType)
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("GET %s?%s: %d %s", p, req.URL.RawQuery, rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != taxii.MediaType {
				t.Fatalf("GET %s?%s: Content-Type %q", p, req.URL.RawQuery, ct)
			}
		}
	})
}
