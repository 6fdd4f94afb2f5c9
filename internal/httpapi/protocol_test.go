package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

func TestDiscoveryAndListsShowOnlyWhatTheTokenOpens(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newHub(t, open(t))
		h.root("eu-china-cyber")
		h.root("eu-japan")
		h.root("eu-immigration-ct")
		cyber := h.collection("eu-china-cyber", "Indicators")
		h.collection("eu-china-cyber", "Hidden")
		japan := h.collection("eu-japan", "Critical infrastructure")
		tok := h.partner("cert-eu")
		h.grant("cert-eu", "eu-china-cyber", cyber, true, false)
		h.grant("cert-eu", "eu-japan", japan, false, true)
		none := h.partner("nobody")

		var d taxii.Discovery
		r := h.get("/taxii2/", tok)
		r.json(t, &d)
		if r.status != http.StatusOK || !slices.Equal(d.APIRoots, []string{"/eu-china-cyber/", "/eu-japan/"}) {
			t.Errorf("discovery: %d %s; want the two granted roots", r.status, r.body)
		}
		h.get("/taxii2/", none).json(t, &d)
		if len(d.APIRoots) != 0 {
			t.Errorf("a member without grants sees roots %v", d.APIRoots)
		}

		var root taxii.APIRoot
		r = h.get("/eu-china-cyber/", tok)
		r.json(t, &root)
		if r.status != http.StatusOK || !slices.Equal(root.Versions, []string{taxii.MediaType}) ||
			root.MaxContentLength != taxii.DefaultMaxContentLength || root.Title == "" {
			t.Errorf("api root: %d %s", r.status, r.body)
		}
		checkError(t, "a root without grants", h.get("/eu-immigration-ct/", tok), http.StatusNotFound)
		checkError(t, "a root that does not exist", h.get("/nowhere/", tok), http.StatusNotFound)
		if a, b := h.get("/eu-immigration-ct/", tok), h.get("/nowhere/", tok); string(stripErrorID(a.body)) != string(stripErrorID(b.body)) {
			t.Errorf("a hidden root and a missing root answer differently:\n%s\n%s", a.body, b.body)
		}

		var list taxii.Collections
		h.get("/eu-china-cyber/collections/", tok).json(t, &list)
		if len(list.Collections) != 1 || list.Collections[0].ID != cyber || !list.Collections[0].CanRead || list.Collections[0].CanWrite {
			t.Errorf("collections: %+v; want only the granted one, read-only", list.Collections)
		}
		var coll taxii.Collection
		h.get("/eu-japan/collections/"+japan+"/", tok).json(t, &coll)
		if coll.ID != japan || coll.CanRead || !coll.CanWrite || !slices.Equal(coll.MediaTypes, []string{taxii.STIXMediaType}) {
			t.Errorf("collection: %+v; want write-only with the STIX media type", coll)
		}
		h.get("/eu-japan/collections/critical-infrastructure/", tok).json(t, &coll)
		if coll.ID != japan {
			t.Errorf("addressing a collection by its alias gave %+v", coll)
		}
		checkError(t, "a collection of another root through this one", h.get("/eu-china-cyber/collections/"+japan+"/", tok), http.StatusNotFound)
	})
}

func stripErrorID(body []byte) []byte {
	s := string(body)
	if i := strings.Index(s, `"error_id":"`); i >= 0 {
		j := strings.Index(s[i+12:], `"`)
		s = s[:i] + s[i+12+j+1:]
	}
	return []byte(s)
}

func TestAcceptNegotiation(t *testing.T) {
	h := newHub(t, openSQLite(t))
	tok := h.partner("cert-eu")
	for _, accept := range []string{
		"application/taxii+json;version=2.1",
		"application/taxii+json; version=2.1",
		"application/taxii+json",
		"application/TAXII+json;version=2.1",
		"text/html, application/taxii+json;version=2.1;q=0.9",
		"application/taxii+json;version=2.1;charset=utf-8",
		"application/json;q=1, application/taxii+json;q=0.5",
		"", // no Accept at all: the client takes anything
		// Wildcards, as curl (*/*) and many HTTP libraries send them: RFC 9110 lets them mean TAXII.
		"*/*",
		"application/*",
		"text/html, */*;q=0.8",
		"application/json, */*;q=0.1",
		"application/taxii+json;version=2.1;q=0.5, */*;q=0",
	} {
		r := h.do(request{path: "/taxii2/", token: tok, headers: map[string]string{"Accept": accept}})
		if r.status != http.StatusOK {
			t.Errorf("Accept %q: status %d", accept, r.status)
		}
		checkTAXIIContentType(t, "Accept "+accept, r)
	}
	for _, accept := range []string{
		"application/json",
		"application/taxii+json;version=2.0",
		"text/*",
		"*/*;q=0",
		"application/*;q=0",
		// The most specific range decides: TAXII refused outright beside a wildcard.
		"application/taxii+json;q=0, */*",
		"application/taxii+json;version=2.1;q=0, application/*",
		"application/vnd.oasis.taxii+json;version=2.0",
		"application/taxii+json;version=2.1;q=0",
		"text/html",
	} {
		r := h.do(request{path: "/taxii2/", token: tok, headers: map[string]string{"Accept": accept}})
		checkError(t, "Accept "+accept, r, http.StatusNotAcceptable)
	}
}

func TestPostContentTypes(t *testing.T) {
	h := newHub(t, openSQLite(t))
	h.root("r")
	c := h.collection("r", "C")
	tok := h.partner("cert-eu")
	h.grant("cert-eu", "r", c, true, true)
	path := "/r/collections/" + c + "/objects/"
	body := envelope(indicatorJSON(1, "2026-01-01T00:00:00.000Z"))
	for _, ct := range []string{
		"application/taxii+json;version=2.1",
		"application/taxii+json; version=2.1; charset=utf-8",
		"application/taxii+json",
		"application/stix+json;version=2.1",
	} {
		r := h.do(request{method: http.MethodPost, path: path, token: tok, body: body, headers: map[string]string{"Content-Type": ct}})
		if r.status != http.StatusAccepted {
			t.Errorf("Content-Type %q: status %d %s", ct, r.status, r.body)
		}
	}
	for _, ct := range []string{"application/json", "text/plain", "application/taxii+json;version=2.0", "application/stix+json;version=2.0", ""} {
		r := h.do(request{method: http.MethodPost, path: path, token: tok, body: body, headers: map[string]string{"Content-Type": ct}})
		checkError(t, "Content-Type "+ct, r, http.StatusUnsupportedMediaType)
	}
}

func TestEveryAnswerCarriesTheTAXIIMediaType(t *testing.T) {
	h := newHub(t, openSQLite(t))
	tok := h.partner("cert-eu")
	checkError(t, "unknown path", h.get("/no/such/deep/path/here/at/all/", tok), http.StatusNotFound)
	checkError(t, "unknown method", h.do(request{method: http.MethodPut, path: "/taxii2/", token: tok}), http.StatusMethodNotAllowed)
	checkError(t, "no credentials", h.get("/taxii2/", ""), http.StatusUnauthorized)
}

func TestCredentials(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newHub(t, open(t))
		tok := h.partner("cert-eu")
		for name, header := range map[string]string{
			"Bearer":                   "Bearer " + tok,
			"lower-case bearer":        "bearer " + tok,
			"Token":                    "Token " + tok,
			"Basic with the token":     basic("cert-eu", tok),
			"Basic with any user name": basic("sentinel-connector", tok),
			"lower-case basic (MISP)":  "basic " + basic("", tok)[6:],
		} {
			r := h.do(request{path: "/taxii2/", headers: map[string]string{"Authorization": header}})
			if r.status != http.StatusOK {
				t.Errorf("%s: status %d %s", name, r.status, r.body)
			}
		}

		revoked := h.token("cert-eu")
		claims, err := h.tokens.Verify(revoked, auth.PartnerAudience)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.store.RevokeToken(t.Context(), claims.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		unrecorded, _ := h.tokens.Sign(auth.Claims{ID: auth.NewTokenID(), Subject: "cert-eu", Audience: auth.PartnerAudience, IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
		operator, _ := h.tokens.Sign(auth.Claims{ID: auth.NewTokenID(), Subject: "ops", Audience: auth.OperatorAudience, IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
		expiredClaims := auth.Claims{ID: auth.NewTokenID(), Subject: "cert-eu", Audience: auth.PartnerAudience, IssuedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
		expired, _ := h.tokens.Sign(expiredClaims)
		if err := h.store.SaveToken(t.Context(), store.Token{ID: expiredClaims.ID, Kind: store.PartnerToken, Subject: "cert-eu",
			IssuedAt: expiredClaims.IssuedAt, ExpiresAt: expiredClaims.ExpiresAt}); err != nil {
			t.Fatal(err)
		}
		for name, header := range map[string]string{
			"none":                "",
			"revoked":             "Bearer " + revoked,
			"never recorded":      "Bearer " + unrecorded,
			"operator token":      "Bearer " + operator,
			"expired":             "Bearer " + expired,
			"garbage":             "Bearer abc",
			"Basic without token": basic("cert-eu", ""),
			"unsupported scheme":  "Digest username=x",
			"token in user name":  basic(tok, ""),
		} {
			r := h.do(request{path: "/taxii2/", headers: map[string]string{"Authorization": header}})
			checkError(t, name, r, http.StatusUnauthorized)
			if !strings.Contains(r.header.Get("WWW-Authenticate"), "Basic") || !strings.Contains(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: WWW-Authenticate %q does not offer Basic and Bearer", name, r.header.Get("WWW-Authenticate"))
			}
		}
	})
}

// failingStore fails every read with an error whose text must never reach a client.
type failingStore struct{ store.Store }

func (failingStore) APIRoots(context.Context) ([]store.APIRoot, error) {
	return nil, errors.New("dial tcp 10.0.0.7:27017: secret internal detail")
}

// panickingStore panics where a bug would.
type panickingStore struct{ store.Store }

func (panickingStore) APIRoots(context.Context) ([]store.APIRoot, error) {
	panic("index out of range [3]")
}

func TestServerFaultsAreTAXIIErrorsWithARequestID(t *testing.T) {
	base := openSQLite(t)
	for name, st := range map[string]store.Store{"store error": failingStore{base}, "panic": panickingStore{base}} {
		h := newHub(t, st)
		tok := h.partner("cert-" + strings.ReplaceAll(name, " ", "-"))
		r := h.get("/taxii2/", tok)
		e := checkError(t, name, r, http.StatusInternalServerError)
		if e.ErrorID == "" || e.ErrorID != r.header.Get("X-Request-ID") {
			t.Errorf("%s: error_id %q does not match X-Request-ID %q", name, e.ErrorID, r.header.Get("X-Request-ID"))
		}
		for _, leak := range []string{"10.0.0.7", "secret", "index out of range", "goroutine", ".go:"} {
			if strings.Contains(string(r.body), leak) {
				t.Errorf("%s: the body leaks %q: %s", name, leak, r.body)
			}
		}
		if !strings.Contains(h.logs.String(), e.ErrorID) {
			t.Errorf("%s: the log does not carry the error id %s, so an operator cannot find the cause", name, e.ErrorID)
		}
	}
}

func TestEveryPathAnswersWithAndWithoutTheTrailingSlash(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newHub(t, open(t))
		h.root("r")
		c := h.collection("r", "C")
		tok := h.partner("cert-eu")
		h.grant("cert-eu", "r", c, true, true)
		post := h.post("/r/collections/"+c+"/objects/", tok, envelope(indicatorJSON(1, "2026-01-01T00:00:00.000Z")))
		var st taxii.Status
		post.json(t, &st)
		obj := objectID(1)
		for _, path := range []string{
			"/taxii2/", "/r/", "/r/collections/", "/r/collections/" + c + "/", "/r/collections/" + c + "/manifest/",
			"/r/collections/" + c + "/objects/", "/r/collections/" + c + "/objects/" + obj + "/",
			"/r/collections/" + c + "/objects/" + obj + "/versions/", "/r/status/" + st.ID + "/",
		} {
			with := h.get(path, tok)
			without := h.get(strings.TrimSuffix(path, "/"), tok)
			if with.status != http.StatusOK || without.status != http.StatusOK {
				t.Errorf("%s: %d with the slash, %d without", path, with.status, without.status)
			}
		}
		r := h.do(request{method: http.MethodPost, path: "/r/collections/" + c + "/objects", token: tok,
			body: envelope(indicatorJSON(2, "2026-01-01T00:00:00.000Z"))})
		if r.status != http.StatusAccepted {
			t.Errorf("POST without the slash: %d (a redirect would lose the body)", r.status)
		}
		r = h.do(request{method: http.MethodDelete, path: "/r/collections/" + c + "/objects/" + objectID(2), token: tok})
		if r.status != http.StatusOK {
			t.Errorf("DELETE without the slash: %d", r.status)
		}
	})
}
