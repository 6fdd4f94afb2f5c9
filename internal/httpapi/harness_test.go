package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"taxiihub/internal/auth"
	"taxiihub/internal/httpapi"
	"taxiihub/internal/mongotest"
	"taxiihub/internal/sharing"
	"taxiihub/internal/stix"
	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/sqlitestore"
	"taxiihub/internal/taxii"
)

var mongod *mongotest.Server

func TestMain(m *testing.M) {
	httpapi.UseReleaseMode()
	os.Exit(mongotest.Main(m, &mongod))
}

// backends runs fn once per store backend: the HTTP behaviour must not depend on which one serves.
func backends(t *testing.T, fn func(t *testing.T, open func(t *testing.T) store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(t *testing.T) store.Store {
			s, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "hub.db"))
			if err != nil {
				t.Fatalf("open sqlite: %v", err)
			}
			t.Cleanup(func() { s.Close(context.Background()) })
			return s
		})
	})
	t.Run("mongo", func(t *testing.T) {
		fn(t, func(t *testing.T) store.Store {
			s, err := mongostore.Open(t.Context(), mongostore.Config{URI: mongod.URI(), Database: mongod.Database(t)})
			if err != nil {
				t.Fatalf("open mongo: %v", err)
			}
			t.Cleanup(func() { s.Close(context.Background()) })
			return s
		})
	})
}

func openSQLite(t testing.TB) store.Store {
	t.Helper()
	s, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// hub is a whole TAXII API over a real store, served by httptest.
type hub struct {
	t      testing.TB
	store  store.Store
	tokens *auth.Tokens
	srv    *httptest.Server
	logs   *bytes.Buffer
}

type hubOption func(*httpapi.Config)

func newHub(t testing.TB, st store.Store, opts ...hubOption) *hub {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens(auth.NewKeyring(key), "", time.Now)
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	cfg := httpapi.Config{
		Store:  st,
		Auth:   auth.NewAuthenticator(tokens, st),
		Logger: log,
	}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.Sharing = newSharing(t, st, log, cfg.Now)
	srv := httptest.NewServer(httpapi.New(cfg))
	t.Cleanup(srv.Close)
	return &hub{t: t, store: st, tokens: tokens, srv: srv, logs: logs}
}

// validator is the production STIX validator, compiled once for every hub of the test binary: the
// HTTP tests judge objects exactly as the hub does.
var validator = sync.OnceValues(stix.NewValidator)

// newSharing is the sharing service over st, checking objects with the production validator.
func newSharing(t testing.TB, st store.Store, log *slog.Logger, now func() time.Time) *sharing.Service {
	t.Helper()
	v, err := validator()
	if err != nil {
		t.Fatalf("STIX validator: %v", err)
	}
	svc, err := sharing.New(sharing.Config{Store: st, Checker: v, Logger: log, Now: now})
	if err != nil {
		t.Fatalf("sharing service: %v", err)
	}
	return svc
}

func (h *hub) root(slug string) {
	h.t.Helper()
	if err := h.store.CreateAPIRoot(h.t.Context(), store.APIRoot{Slug: slug, Title: "Partnership " + slug}); err != nil {
		h.t.Fatalf("create root: %v", err)
	}
}

func (h *hub) collection(root, title string) string {
	h.t.Helper()
	id := uuid.NewString()
	c := store.Collection{ID: id, APIRoot: root, Title: title, Alias: strings.ToLower(strings.ReplaceAll(title, " ", "-"))}
	if err := h.store.CreateCollection(h.t.Context(), c); err != nil {
		h.t.Fatalf("create collection: %v", err)
	}
	return id
}

func (h *hub) member(id string) {
	h.t.Helper()
	if err := h.store.CreateMember(h.t.Context(), store.Member{ID: id, Name: strings.ToUpper(id), Jurisdiction: "EU"}); err != nil {
		h.t.Fatalf("create member: %v", err)
	}
}

func (h *hub) grant(member, root, collection string, read, write bool) {
	h.t.Helper()
	g := store.Grant{MemberID: member, APIRoot: root, CollectionID: collection, Read: read, Write: write}
	if err := h.store.PutGrant(h.t.Context(), g); err != nil {
		h.t.Fatalf("grant: %v", err)
	}
}

// token issues and records a partner token for a member.
func (h *hub) token(member string) string {
	h.t.Helper()
	now := time.Now()
	c := auth.Claims{ID: auth.NewTokenID(), Subject: member, Audience: auth.PartnerAudience, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	raw, err := h.tokens.Sign(c)
	if err != nil {
		h.t.Fatal(err)
	}
	rec := store.Token{ID: c.ID, Kind: store.PartnerToken, Subject: member, IssuedAt: now, ExpiresAt: c.ExpiresAt}
	if err := h.store.SaveToken(h.t.Context(), rec); err != nil {
		h.t.Fatal(err)
	}
	return raw
}

// partner makes a member with one token; the usual start of a test.
func (h *hub) partner(member string) string {
	h.member(member)
	return h.token(member)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

type request struct {
	method  string
	path    string
	token   string
	body    []byte
	headers map[string]string
}

func (h *hub) do(r request) response {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.t.Context(), cmpOr(r.method, http.MethodGet), h.srv.URL+r.path, bytes.NewReader(r.body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Accept", taxii.MediaType)
	if r.body != nil {
		req.Header.Set("Content-Type", taxii.MediaType)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, r.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func (h *hub) get(path, token string) response { return h.do(request{path: path, token: token}) }

func (h *hub) post(path, token string, body []byte) response {
	return h.do(request{method: http.MethodPost, path: path, token: token, body: body})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// indicatorJSON is a valid STIX 2.1 indicator.
func indicatorJSON(n int, modified string) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000",`+
		`"created":"2026-01-01T00:00:00.000Z","modified":"%s","name":"bad %d","description":"A host seen in phishing.","pattern":"[ipv4-addr:value = '198.51.100.%d']",`+
		`"pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, n, modified, n, n%256)
}

func envelope(objects ...string) []byte {
	return []byte(`{"objects":[` + strings.Join(objects, ",") + `]}`)
}

func objectID(n int) string { return fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", n) }

func checkTAXIIContentType(t *testing.T, what string, r response) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != taxii.MediaType {
		t.Errorf("%s: Content-Type %q, want %q", what, ct, taxii.MediaType)
	}
}

// errorBody is the TAXII error resource as a client reads it.
type errorBody struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	ErrorID     string `json:"error_id"`
	ErrorCode   string `json:"error_code"`
	HTTPStatus  string `json:"http_status"`
}

func checkError(t *testing.T, what string, r response, status int) errorBody {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	checkTAXIIContentType(t, what, r)
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Errorf("%s: body is not an error resource: %s", what, r.body)
		return e
	}
	if e.Title == "" || e.ErrorID == "" || e.ErrorCode == "" || e.HTTPStatus != fmt.Sprint(status) {
		t.Errorf("%s: incomplete error resource: %s", what, r.body)
	}
	return e
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}
