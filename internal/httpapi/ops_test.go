package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"taxiihub/internal/auth"
	"taxiihub/internal/httpapi"
	"taxiihub/internal/store"
)

// withMetrics gives the hub its own registry and serves it at /metrics, to operators.
func withMetrics(reg *prometheus.Registry) hubOption {
	return func(c *httpapi.Config) {
		c.Metrics = reg
		c.MetricsHandler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
		c.Operators = c.Auth.(httpapi.OperatorAuthenticator)
	}
}

// operator records an operator token and returns it.
func (h *hub) operator(name string) string {
	h.t.Helper()
	now := time.Now()
	c := auth.Claims{ID: auth.NewTokenID(), Subject: name, Audience: auth.OperatorAudience, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	raw, err := h.tokens.Sign(c)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.SaveToken(h.t.Context(), store.Token{ID: c.ID, Kind: store.OperatorToken, Subject: name, IssuedAt: now, ExpiresAt: c.ExpiresAt}); err != nil {
		h.t.Fatal(err)
	}
	return raw
}

func withLimits(l httpapi.Limits) hubOption {
	return func(c *httpapi.Config) { c.Limits = l }
}

// series is one scraped sample: its labels and its value (the count, for histograms).
type series struct {
	labels map[string]string
	value  float64
}

// scrape reads /metrics over HTTP, as Prometheus does, and returns the samples of each family.
func (h *hub) scrape(t *testing.T) map[string][]series {
	t.Helper()
	r := h.do(request{path: "/metrics", token: h.operator("prometheus"), headers: map[string]string{"Accept": "text/plain"}})
	if r.status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", r.status, r.body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(r.body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, r.body)
	}
	out := map[string][]series{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			s := series{labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				s.value = m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				s.value = float64(m.GetHistogram().GetSampleCount())
			case dto.MetricType_GAUGE:
				s.value = m.GetGauge().GetValue()
			}
			out[name] = append(out[name], s)
		}
	}
	return out
}

// value is the sample of name whose labels include want, or -1 when there is none.
func value(all map[string][]series, name string, want map[string]string) float64 {
	for _, s := range all[name] {
		match := true
		for k, v := range want {
			if s.labels[k] != v {
				match = false
			}
		}
		if match {
			return s.value
		}
	}
	return -1
}

func TestMetricsNameRouteTemplatesAndMembers(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHub(t, openSQLite(t), withMetrics(reg))
	h.root("eu-japan")
	coll := h.collection("eu-japan", "Cyber threats")
	tok := h.partner("cert-eu")
	h.grant("cert-eu", "eu-japan", coll, true, true)

	objects := "/eu-japan/collections/" + coll + "/objects/"
	h.get("/taxii2/", tok)
	bad := strings.Replace(indicatorJSON(2, "2026-01-01T00:00:00.000Z"), objectID(2), "indicator--not-a-uuid", 1)
	if r := h.post(objects, tok, envelope(indicatorJSON(1, "2026-01-01T00:00:00.000Z"), bad)); r.status != http.StatusAccepted {
		t.Fatalf("post: %d %s", r.status, r.body)
	}
	h.post(objects, tok, envelope(indicatorJSON(1, "2026-01-01T00:00:00.000Z"))) // the same version again
	for range 2 {
		if r := h.get(objects, tok); r.status != http.StatusOK {
			t.Fatalf("get objects: %d %s", r.status, r.body)
		}
	}
	h.get(strings.TrimSuffix(objects, "/"), tok) // the same route without its slash
	h.get("/eu-japan/collections/"+coll+"/objects/"+objectID(1)+"/", tok)
	h.get("/no/such/thing/at/all/", tok)
	h.get("/taxii2/", "")
	h.do(request{method: "BREW", path: "/taxii2/", token: tok})

	m := h.scrape(t)
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"taxiihub_http_requests_total", map[string]string{"method": "GET", "route": "/taxii2/", "status": "200", "member": "cert-eu"}, 1},
		{"taxiihub_http_requests_total", map[string]string{"method": "GET", "route": "/:root/collections/:collection/objects/", "status": "200", "member": "cert-eu"}, 3},
		{"taxiihub_http_requests_total", map[string]string{"method": "POST", "route": "/:root/collections/:collection/objects/", "status": "202", "member": "cert-eu"}, 2},
		{"taxiihub_http_requests_total", map[string]string{"method": "GET", "route": "/:root/collections/:collection/objects/:object/", "status": "200", "member": "cert-eu"}, 1},
		{"taxiihub_http_requests_total", map[string]string{"method": "GET", "route": "unmatched", "status": "404"}, 1},
		{"taxiihub_http_requests_total", map[string]string{"method": "GET", "route": "/taxii2/", "status": "401", "member": ""}, 1},
		{"taxiihub_http_requests_total", map[string]string{"method": "other", "status": "405"}, 1},
		{"taxiihub_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/:root/collections/:collection/objects/"}, 3},
		{"taxiihub_taxii_page_duration_seconds", map[string]string{"route": "/:root/collections/:collection/objects/"}, 3},
		{"taxiihub_taxii_page_duration_seconds", map[string]string{"route": "/:root/collections/:collection/objects/:object/"}, 1},
		{"taxiihub_objects_accepted_total", map[string]string{"result": "added"}, 1},
		{"taxiihub_objects_accepted_total", map[string]string{"result": "unchanged"}, 1},
		{"taxiihub_objects_refused_total", map[string]string{"reason": "invalid-identifier"}, 1},
		{"taxiihub_auth_failures_total", map[string]string{"api": "taxii", "reason": "missing"}, 1},
	} {
		if got := value(m, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	// No label anywhere carries what a client put in a path.
	for name, ss := range m {
		for _, s := range ss {
			for k, v := range s.labels {
				if strings.Contains(v, coll) || strings.Contains(v, "indicator--") || strings.Contains(v, "eu-japan") ||
					strings.Contains(v, "BREW") || strings.Contains(v, "/no/such") {
					t.Errorf("%s has %s=%q: a raw request value as a label", name, k, v)
				}
				if k == "route" && v != "unmatched" && !strings.HasPrefix(v, "/") {
					t.Errorf("%s has route %q", name, v)
				}
			}
		}
	}
}

func TestTokenFailuresCountedByReason(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHub(t, openSQLite(t), withMetrics(reg))
	tok := h.partner("cert-eu")
	revoked := h.token("cert-eu")
	if err := h.store.RevokeToken(t.Context(), tokenID(t, revoked), mustTime("2026-01-01T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	h.get("/taxii2/", "")
	h.get("/taxii2/", "not-a-jwt")
	h.get("/taxii2/", revoked)
	h.get("/taxii2/", tok) // succeeds: not a failure

	m := h.scrape(t)
	for reason, want := range map[string]float64{"missing": 1, "invalid": 1, "revoked": 1} {
		if got := value(m, "taxiihub_auth_failures_total", map[string]string{"api": "taxii", "reason": reason}); got != want {
			t.Errorf("failures for %s: %v, want %v", reason, got, want)
		}
	}
}

// tokenID reads the jti of a token without verifying it.
func tokenID(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		ID string `json:"jti"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.ID
}

// unreachable is a store whose database has gone away: every read fails.
type unreachable struct{ store.Store }

func (unreachable) APIRoots(context.Context) ([]store.APIRoot, error) {
	return nil, errors.New("server selection error: context deadline exceeded")
}

func TestHealthAndReadiness(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		st := open(t)
		h := newHub(t, st)
		probe := func(path string) (int, map[string]string) {
			t.Helper()
			r := h.do(request{path: path, headers: map[string]string{"Accept": ""}})
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s: Content-Type %q, want plain JSON", path, ct)
			}
			var body map[string]string
			r.json(t, &body)
			return r.status, body
		}
		if code, body := probe("/healthz"); code != http.StatusOK || body["status"] != "ok" {
			t.Errorf("/healthz: %d %v", code, body)
		}
		if code, body := probe("/readyz"); code != http.StatusOK || body["status"] != "ready" {
			t.Errorf("/readyz: %d %v", code, body)
		}

		// A store that fails: not ready, and the cause stays in the log.
		down := newHub(t, unreachable{st})
		r := down.do(request{path: "/readyz"})
		if r.status != http.StatusServiceUnavailable || strings.Contains(string(r.body), "server selection") {
			t.Errorf("/readyz on a failing store: %d %s", r.status, r.body)
		}
		if !strings.Contains(down.logs.String(), "server selection") {
			t.Errorf("the cause of unreadiness is not logged:\n%s", down.logs)
		}

		// A closed store: not ready, but the process is alive.
		if err := st.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if code, _ := probe("/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz on a closed store: %d, want 503", code)
		}
		if code, _ := probe("/healthz"); code != http.StatusOK {
			t.Errorf("/healthz on a closed store: %d, want 200", code)
		}
	})
}

func TestMetricsServedOnlyWhenConfigured(t *testing.T) {
	h := newHub(t, openSQLite(t))
	if r := h.get("/metrics", ""); r.status == http.StatusOK {
		t.Errorf("/metrics answered without a metrics handler: %s", r.body)
	}
}

// On the partners' listener /metrics, which names every member, answers operators alone.
func TestMetricsAnswerOperatorsOnly(t *testing.T) {
	h := newHub(t, openSQLite(t), withMetrics(prometheus.NewRegistry()))
	for what, tok := range map[string]string{"no token": "", "a partner's": h.partner("cert-eu"), "a made-up one": "guess"} {
		if r := h.get("/metrics", tok); r.status != http.StatusUnauthorized || strings.Contains(string(r.body), "taxiihub_") {
			t.Errorf("/metrics with %s token: %d", what, r.status)
		}
	}
	if r := h.get("/metrics", h.operator("prometheus")); r.status != http.StatusOK || !strings.Contains(string(r.body), "taxiihub_http_requests_total") {
		t.Errorf("/metrics with an operator token: %d", r.status)
	}
}

func TestMemberRateLimit(t *testing.T) {
	reg := prometheus.NewRegistry()
	// A burst of two and then practically nothing: the third request must wait.
	h := newHub(t, openSQLite(t), withMetrics(reg), withLimits(httpapi.Limits{MemberRate: 0.01, MemberBurst: 2}))
	busy, quiet := h.partner("cert-eu"), h.partner("nl-nctv")
	for i := range 2 {
		if r := h.get("/taxii2/", busy); r.status != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i+1, r.status, r.body)
		}
	}
	r := h.get("/taxii2/", busy)
	e := checkError(t, "over the rate", r, http.StatusTooManyRequests)
	if e.ErrorCode != "too-many-requests" {
		t.Errorf("error_code %q", e.ErrorCode)
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 100 {
		t.Errorf("Retry-After %q, want whole seconds until the next token (about 100)", r.header.Get("Retry-After"))
	}
	if !strings.Contains(e.Description, "Retry in "+r.header.Get("Retry-After")+" s") {
		t.Errorf("the description does not say when to retry: %q", e.Description)
	}
	// Another member has its own bucket.
	for range 2 {
		if r := h.get("/taxii2/", quiet); r.status != http.StatusOK {
			t.Errorf("another member was limited: %d %s", r.status, r.body)
		}
	}
	m := h.scrape(t)
	if got := value(m, "taxiihub_http_requests_total", map[string]string{"status": "429", "member": "cert-eu"}); got != 1 {
		t.Errorf("429s of cert-eu: %v, want 1", got)
	}
	if got := value(m, "taxiihub_rate_limited_total", map[string]string{"limit": "member"}); got != 1 {
		t.Errorf("rate_limited{member}: %v", got)
	}
	if !strings.Contains(h.logs.String(), `"status":429`) || !strings.Contains(h.logs.String(), `"member":"cert-eu"`) {
		t.Errorf("the access log does not name the limited member:\n%s", h.logs)
	}
}

func TestFailedAuthenticationsLimitedPerAddress(t *testing.T) {
	t.Run("direct clients", func(t *testing.T) {
		h := newHub(t, openSQLite(t), withLimits(httpapi.Limits{FailureRate: 0.01, FailureBurst: 3}))
		tok := h.partner("cert-eu")
		for i := range 3 {
			checkError(t, "failure "+strconv.Itoa(i+1), h.get("/taxii2/", "guess-"+strconv.Itoa(i)), http.StatusUnauthorized)
		}
		// Over its budget, the address's failures answer 429, and a forged X-Forwarded-For from
		// an untrusted peer changes nothing; valid credentials from the same address (a NAT a
		// partner shares with the guesser) still get through.
		for _, r := range []response{
			h.get("/taxii2/", "guess-4"),
			h.do(request{path: "/taxii2/", token: "guess-5", headers: map[string]string{"X-Forwarded-For": "198.51.100.9"}}),
		} {
			checkError(t, "blocked address", r, http.StatusTooManyRequests)
			if r.header.Get("Retry-After") == "" {
				t.Errorf("no Retry-After")
			}
		}
		if r := h.get("/taxii2/", tok); r.status != http.StatusOK {
			t.Errorf("valid credentials from a blocked address: %d %s", r.status, r.body)
		}
		// The probes still answer, so a load balancer never takes the node out for this.
		if r := h.do(request{path: "/healthz"}); r.status != http.StatusOK {
			t.Errorf("/healthz from a blocked address: %d", r.status)
		}
		if r := h.do(request{path: "/readyz"}); r.status != http.StatusOK {
			t.Errorf("/readyz from a blocked address: %d", r.status)
		}
	})
	t.Run("behind a trusted proxy", func(t *testing.T) {
		h := newHub(t, openSQLite(t), withLimits(httpapi.Limits{FailureRate: 0.01, FailureBurst: 1}),
			func(c *httpapi.Config) { c.TrustedProxies = []string{"127.0.0.1", "::1"} })
		tok := h.partner("cert-eu")
		from := func(client, token string) response {
			return h.do(request{path: "/taxii2/", token: token, headers: map[string]string{"X-Forwarded-For": client}})
		}
		checkError(t, "first failure", from("198.51.100.9", "guess"), http.StatusUnauthorized)
		checkError(t, "the guesser again", from("198.51.100.9", "guess"), http.StatusTooManyRequests)
		// Another client behind the same proxy is not held responsible.
		if r := from("203.0.113.20", tok); r.status != http.StatusOK {
			t.Errorf("another client behind the proxy: %d %s", r.status, r.body)
		}
	})
}

func TestAccessLogNamesMemberAndPartnership(t *testing.T) {
	h := newHub(t, openSQLite(t))
	h.root("eu-japan")
	coll := h.collection("eu-japan", "Threats")
	tok := h.partner("cert-eu")
	h.grant("cert-eu", "eu-japan", coll, true, false)
	r := h.do(request{path: "/eu-japan/collections/" + coll + "/objects/", token: tok, headers: map[string]string{"X-Request-ID": "trace-42"}})
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	h.get("/healthz", "")
	var line map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(h.logs.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(l), &entry); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		if entry["msg"] == "request" && entry["request_id"] == "trace-42" {
			line = entry
		}
		if entry["msg"] == "request" && entry["path"] == "/healthz" {
			t.Errorf("a probe was logged at info level: %s", l)
		}
	}
	if line == nil {
		t.Fatalf("no access log line for the request:\n%s", h.logs)
	}
	for k, want := range map[string]any{"member": "cert-eu", "partnership": "eu-japan", "status": float64(200),
		"route": "/:root/collections/:collection/objects/", "method": "GET"} {
		if line[k] != want {
			t.Errorf("access log %s = %v, want %v", k, line[k], want)
		}
	}
}
