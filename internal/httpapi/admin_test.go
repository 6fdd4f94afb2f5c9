package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/httpapi"
	"taxiihub/internal/requestlog"
	"taxiihub/internal/store"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// adminHub is a hub with both APIs, over a real store, and an operator token for the admin API.
type adminHub struct {
	*hub
	operator string
}

// rotationRefused stands for a node whose key file the operator provides; the rotation of files is
// internal/server's, and tested there.
type rotationRefused struct{ keyring *auth.Keyring }

func (k rotationRefused) SigningKeyID() string { return k.keyring.SigningKeyID() }
func (rotationRefused) RotateSigningKey(context.Context) (store.VerificationKey, error) {
	return store.VerificationKey{}, admin.ErrKeyNotManaged
}

func newAdminHub(t *testing.T, st store.Store) *adminHub {
	t.Helper()
	key, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveVerificationKey(t.Context(), auth.VerificationKeyOf(key, time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	keyring := auth.NewSharedKeyring(key, st)
	tokens := auth.NewTokens(keyring, "", time.Now)
	authn := auth.NewAuthenticator(tokens, st)
	logs := &bytes.Buffer{}
	// Wrapped as the server wraps it, so that the operator service names the request it serves.
	log := slog.New(requestlog.NewHandler(slog.NewJSONHandler(logs, nil)))
	svc := admin.New(admin.Config{Store: st, Signer: tokens, Keys: rotationRefused{keyring}, Logger: log})
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Sharing: newSharing(t, st, log, nil), Store: st, Auth: authn,
		Logger: log, Admin: svc, Operators: authn, Metrics: reg, MetricsHandler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}))
	t.Cleanup(srv.Close)
	op, err := svc.IssueToken(t.Context(), "test", admin.TokenRequest{Kind: "operator", Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	return &adminHub{hub: &hub{t: t, store: st, tokens: tokens, srv: srv, logs: logs}, operator: op.JWT}
}

// call sends a JSON request to the admin API as the operator, unless token says otherwise.
func (h *adminHub) call(method, path string, body any, token ...string) response {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		raw, ok := body.(string)
		if !ok {
			b, err := json.Marshal(body)
			if err != nil {
				h.t.Fatal(err)
			}
			raw = string(b)
		}
		r = strings.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(h.t.Context(), method, h.srv.URL+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	tok := h.operator
	if len(token) > 0 {
		tok = token[0]
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (h *adminHub) ok(what string, r response, status int, v any) {
	h.t.Helper()
	if r.status != status {
		h.t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != httpapi.AdminMediaType {
		h.t.Errorf("%s: Content-Type %q, want %q", what, ct, httpapi.AdminMediaType)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		h.t.Errorf("%s: Cache-Control %q, want no-store", what, cc)
	}
	if v != nil {
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.DisallowUnknownFields() // the answer is exactly the documented type
		if err := dec.Decode(v); err != nil {
			h.t.Fatalf("%s: decode %s: %v", what, r.body, err)
		}
	}
}

// adminErrorBody is the admin API's error body as a client reads it.
type adminErrorBody struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	ErrorID     string `json:"error_id"`
	ErrorCode   string `json:"error_code"`
	HTTPStatus  string `json:"http_status"`
	Details     struct {
		Problems []string `json:"problems"`
	} `json:"details"`
}

func (h *adminHub) refused(what string, r response, status int, code string) adminErrorBody {
	h.t.Helper()
	var e adminErrorBody
	if r.status != status {
		h.t.Errorf("%s: status %d, want %d: %s", what, r.status, status, r.body)
		return e
	}
	if ct := r.header.Get("Content-Type"); ct != httpapi.AdminMediaType {
		h.t.Errorf("%s: Content-Type %q", what, ct)
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		h.t.Errorf("%s: not an error body: %s", what, r.body)
		return e
	}
	if e.Title == "" || e.ErrorID == "" || e.ErrorCode != code || e.HTTPStatus != strconv.Itoa(status) {
		h.t.Errorf("%s: error body %s, want code %s", what, r.body, code)
	}
	return e
}

// TestAdminAPI walks through every admin route as an operator would, on both backends.
func TestAdminAPI(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newAdminHub(t, open(t))

		var p admin.Partnership
		h.ok("create partnership", h.call("POST", "/admin/partnerships", admin.Partnership{Slug: "eu-japan", Title: "EU–Japan"}), 201, &p)
		var list struct{ Partnerships []admin.Partnership }
		h.ok("list partnerships", h.call("GET", "/admin/partnerships/", nil), 200, &list)
		if len(list.Partnerships) != 1 || !reflect.DeepEqual(list.Partnerships[0], p) {
			t.Errorf("partnerships %+v", list.Partnerships)
		}
		var coll admin.Collection
		h.ok("create collection", h.call("POST", "/admin/partnerships/eu-japan/collections/",
			map[string]any{"alias": "cyber-threats", "title": "Cyber threats", "media_types": []string{"application/stix+json;version=2.1"}}), 201, &coll)
		if coll.ID == "" || coll.Partnership != "eu-japan" {
			t.Errorf("collection %+v", coll)
		}
		var colls struct{ Collections []admin.Collection }
		h.ok("list collections", h.call("GET", "/admin/partnerships/eu-japan/collections", nil), 200, &colls)
		var m admin.Member
		h.ok("add member", h.call("POST", "/admin/members/", admin.Member{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU"}), 201, &m)
		var members struct{ Members []admin.Member }
		h.ok("list members", h.call("GET", "/admin/members/", nil), 200, &members)
		var g admin.GrantResult
		h.ok("grant", h.call("PUT", "/admin/partnerships/eu-japan/collections/cyber-threats/grants/cert-eu/",
			map[string]bool{"read": true, "write": true}), 200, &g)
		if !g.Changed || g.Grant.Collection != coll.ID {
			t.Errorf("grant %+v", g)
		}
		var d admin.PartnershipDetail
		h.ok("show partnership", h.call("GET", "/admin/partnerships/eu-japan/", nil), 200, &d)
		if len(d.Collections) != 1 || len(d.Grants) != 1 {
			t.Errorf("detail %+v", d)
		}

		var issued admin.IssuedToken
		h.ok("issue token", h.call("POST", "/admin/tokens/", admin.TokenRequest{Subject: "cert-eu", TTL: "7d"}), 201, &issued)
		// The issued token opens the TAXII API, within its grant.
		if r := h.get("/eu-japan/collections/"+coll.ID+"/objects/", issued.JWT); r.status != 200 {
			t.Errorf("the issued token on TAXII: %d %s", r.status, r.body)
		}
		var tokens struct{ Tokens []admin.Token }
		h.ok("list tokens", h.call("GET", "/admin/tokens/?subject=cert-eu", nil), 200, &tokens)
		if len(tokens.Tokens) != 1 || tokens.Tokens[0].ID != issued.Token.ID {
			t.Errorf("tokens %+v", tokens.Tokens)
		}
		var shown admin.Token
		h.ok("show token", h.call("GET", "/admin/tokens/"+issued.Token.ID, nil), 200, &shown)
		var revoked admin.Token
		h.ok("revoke token", h.call("POST", "/admin/tokens/"+issued.Token.ID+"/revoke/", nil), 200, &revoked)
		if revoked.Status != admin.TokenRevoked {
			t.Errorf("revoked %+v", revoked)
		}
		checkError(t, "the revoked token on TAXII", h.get("/eu-japan/collections/"+coll.ID+"/objects/", issued.JWT), 401)

		var keys struct{ Keys []admin.Key }
		h.ok("list keys", h.call("GET", "/admin/keys/", nil), 200, &keys)
		if len(keys.Keys) != 1 || !keys.Keys[0].Signing {
			t.Errorf("keys %+v", keys.Keys)
		}
		h.refused("rotate an operator-managed key", h.call("POST", "/admin/keys/rotate", nil), 409, "conflict")
		h.refused("retire the signing key", h.call("POST", "/admin/keys/"+keys.Keys[0].KID+"/retire", nil), 409, "conflict")

		spec := admin.Spec{Members: []admin.Member{{ID: "jpcert-cc", Name: "JPCERT/CC", Jurisdiction: "JP"}}}
		var dry, applied, again admin.ApplyResult
		h.ok("apply, dry run", h.call("POST", "/admin/apply?dry_run=true", spec), 200, &dry)
		h.ok("apply", h.call("POST", "/admin/apply/", spec), 200, &applied)
		h.ok("apply again", h.call("POST", "/admin/apply/", spec), 200, &again)
		if len(dry.Changes) != 1 || !dry.DryRun || len(applied.Changes) != 1 || applied.DryRun || len(again.Changes) != 0 {
			t.Errorf("apply: dry %+v, applied %+v, again %+v", dry, applied, again)
		}
		if !strings.Contains(string(h.call("POST", "/admin/apply/", spec).body), `"changes":[]`) {
			t.Errorf("no changes is not an empty list")
		}

		var ch admin.Change
		h.ok("remove grant", h.call("DELETE", "/admin/partnerships/eu-japan/collections/cyber-threats/grants/cert-eu", nil), 200, &ch)
		h.ok("delete collection", h.call("DELETE", "/admin/partnerships/eu-japan/collections/"+coll.ID+"/", nil), 200, &ch)
		h.ok("remove member", h.call("DELETE", "/admin/members/cert-eu/", nil), 200, &ch)
		var deleted admin.Change
		h.ok("delete partnership", h.call("DELETE", "/admin/partnerships/eu-japan", nil), 200, &deleted)
		if deleted != (admin.Change{Action: "delete", Kind: "partnership", Target: "eu-japan"}) {
			t.Errorf("change %+v", deleted)
		}

		var audit struct{ Entries []admin.AuditEntry }
		h.ok("audit", h.call("GET", "/admin/audit?limit=1000", nil), 200, &audit)
		var actions []string
		for _, e := range audit.Entries {
			if e.Actor != "alice" && e.Actor != "test" {
				t.Errorf("entry %+v names no operator", e)
			}
			actions = append(actions, e.Action)
		}
		want := "token.issue partnership.create collection.create member.create grant.create token.issue token.revoke " +
			"member.create grant.delete collection.delete member.delete partnership.delete"
		if got := strings.Join(actions, " "); got != want {
			t.Errorf("audit actions\n  %s\nwant\n  %s", got, want)
		}
		var page struct{ Entries []admin.AuditEntry }
		h.ok("audit after", h.call("GET", "/admin/audit?after="+strconv.FormatInt(audit.Entries[9].Seq, 10)+"&limit=1", nil), 200, &page)
		if len(page.Entries) != 1 || page.Entries[0].Action != "member.delete" {
			t.Errorf("audit page %+v", page.Entries)
		}
		// Newest first: the last entries of the trail, in reverse; since leaves out older ones.
		var newest struct{ Entries []admin.AuditEntry }
		h.ok("audit newest", h.call("GET", "/admin/audit?newest=true&limit=2", nil), 200, &newest)
		n := len(audit.Entries)
		if len(newest.Entries) != 2 || newest.Entries[0].Seq != audit.Entries[n-1].Seq || newest.Entries[1].Seq != audit.Entries[n-2].Seq {
			t.Errorf("audit newest %+v", newest.Entries)
		}
		since := audit.Entries[n-1].At.Format(time.RFC3339Nano)
		h.ok("audit newest since", h.call("GET", "/admin/audit?newest=true&since="+url.QueryEscape(since), nil), 200, &newest)
		for _, e := range newest.Entries {
			if e.At.Before(audit.Entries[n-1].At) {
				t.Errorf("audit since %s lists %+v", since, e)
			}
		}
		if len(newest.Entries) == 0 {
			t.Errorf("audit since the last entry's time lists nothing")
		}
	})
}

func TestAdminErrors(t *testing.T) {
	h := newAdminHub(t, openSQLite(t))
	h.ok("create partnership", h.call("POST", "/admin/partnerships", admin.Partnership{Slug: "eu-japan", Title: "EU–Japan"}), 201, nil)

	e := h.refused("invalid partnership", h.call("POST", "/admin/partnerships", admin.Partnership{Slug: "Admin"}), 400, "invalid-request")
	if len(e.Details.Problems) != 2 {
		t.Errorf("problems %v, want the slug and the missing title", e.Details.Problems)
	}
	h.refused("taken", h.call("POST", "/admin/partnerships", admin.Partnership{Slug: "eu-japan", Title: "x"}), 409, "conflict")
	h.refused("missing partnership", h.call("GET", "/admin/partnerships/nowhere", nil), 404, "not-found")
	h.refused("missing member", h.call("DELETE", "/admin/members/nobody", nil), 404, "not-found")
	h.refused("unknown field", h.call("POST", "/admin/members", `{"id":"a","nmae":"A","jurisdiction":"EU"}`), 400, "invalid-json")
	h.refused("not JSON", h.call("POST", "/admin/members", `{"id":`), 400, "invalid-json")
	h.refused("two values", h.call("POST", "/admin/members", `{} {}`), 400, "invalid-json")
	h.refused("partnership in body and path differ", h.call("POST", "/admin/partnerships/eu-japan/collections",
		admin.Collection{Partnership: "other", Title: "x"}), 400, "invalid-request")
	h.refused("bad dry_run", h.call("POST", "/admin/apply?dry_run=maybe", admin.Spec{}), 400, "invalid-parameter")
	h.refused("bad audit limit", h.call("GET", "/admin/audit?limit=0", nil), 400, "invalid-parameter")
	h.refused("bad audit after", h.call("GET", "/admin/audit?after=x", nil), 400, "invalid-parameter")
	h.refused("bad audit since", h.call("GET", "/admin/audit?newest=true&since=yesterday", nil), 400, "invalid-parameter")
	h.refused("audit newest after", h.call("GET", "/admin/audit?newest=true&after=3", nil), 400, "invalid-parameter")
	h.refused("too large", h.call("POST", "/admin/apply", `{"members":[`+strings.Repeat(`{"id":"a","name":"A","jurisdiction":"EU"},`, 120_000)+`]}`), 413, "too-large")

	req, _ := http.NewRequestWithContext(t.Context(), "POST", h.srv.URL+"/admin/members", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+h.operator)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %d, want 415", resp.StatusCode)
	}

	// Failures carry no internal detail and are logged only when they are the hub's fault.
	r := h.call("GET", "/admin/partnerships/", nil, "")
	h.refused("no token", r, 401, "unauthenticated")
	if !strings.Contains(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
	}
	h.member("cert-eu")
	h.refused("partner token", h.call("GET", "/admin/partnerships/", nil, h.token("cert-eu")), 401, "unauthenticated")
	// The operator token does not open TAXII.
	checkError(t, "operator token on TAXII", h.get("/taxii2/", h.operator), 401)
}

// TestAdminLogLinesNameTheRequest checks that every line logged for an admin request names it, the
// operator service's included, though no call site passes the id.
func TestAdminLogLinesNameTheRequest(t *testing.T) {
	h := newAdminHub(t, openSQLite(t))
	h.logs.Reset()
	r := h.do(request{method: http.MethodPost, path: "/admin/members/", token: h.operator,
		body:    []byte(`{"id":"cert-eu","name":"CERT-EU","jurisdiction":"EU"}`),
		headers: map[string]string{"Content-Type": httpapi.AdminMediaType, "X-Request-ID": "op-change-7"}})
	if r.status != http.StatusCreated {
		t.Fatalf("add member: %d %s", r.status, r.body)
	}
	seen := map[string]bool{}
	for l := range strings.SplitSeq(strings.TrimSpace(h.logs.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(l), &entry); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		msg, _ := entry["msg"].(string)
		seen[msg] = true
		if entry["request_id"] != "op-change-7" || strings.Count(l, `"request_id"`) != 1 {
			t.Errorf("%q does not name the request exactly once: %s", msg, l)
		}
	}
	for _, msg := range []string{"operator action", "request"} {
		if !seen[msg] {
			t.Errorf("no %q line:\n%s", msg, h.logs)
		}
	}
}
