package deploy

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"taxiihub/internal/httpapi"
	"taxiihub/internal/load"
	"taxiihub/internal/server"
)

// The monitoring files, relative to this directory.
const (
	alertRulesFile = "monitoring/taxiihub-alerts.yml"
	alertTestsFile = "monitoring/taxiihub-alerts.test.yml"
	dashboardFile  = "monitoring/taxiihub-dashboard.json"
)

func TestMain(m *testing.M) {
	httpapi.UseReleaseMode()
	os.Exit(m.Run())
}

// promtool finds Debian's promtool (package prometheus, which .ci/run installs). In CI a missing
// promtool fails the test, as a missing mongod does; elsewhere the test says how to get it and
// stops there.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("promtool is not installed (apt-get install prometheus): %v", err)
	}
	t.Skipf("promtool is not installed (apt-get install prometheus); CI fails here")
	return ""
}

func runPromtool(t *testing.T, bin string, args ...string) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestAlertRulesPassPromtool checks the alerting rules with promtool and runs their unit tests,
// which must cover at least the error-rate, certificate-expiry and token-expiry alerts firing.
func TestAlertRulesPassPromtool(t *testing.T) {
	bin := promtool(t)
	runPromtool(t, bin, "check", "rules", alertRulesFile)
	runPromtool(t, bin, "test", "rules", alertTestsFile)

	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string           `yaml:"alertname"`
				ExpAlerts []map[string]any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	raw, err := os.ReadFile(alertTestsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &tests); err != nil {
		t.Fatal(err)
	}
	fires := map[string]bool{}
	for _, g := range tests.Tests {
		for _, a := range g.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			}
		}
	}
	for _, name := range []string{"TaxiihubHighErrorRate", "TaxiihubCertificateExpiresSoon", "TaxiihubMemberTokenExpiresSoon"} {
		if !fires[name] {
			t.Errorf("no unit test sees %s fire", name)
		}
	}
}

// TestDashboardQueriesParse hands every query of the dashboard to promtool as a recording rule, with
// Grafana's variables replaced by values, so that a query Prometheus would refuse fails here.
func TestDashboardQueriesParse(t *testing.T) {
	bin := promtool(t)
	exprs := dashboardExprs(t)
	grafana := strings.NewReplacer("$__rate_interval", "5m", "$job", "taxiihub", "$instance", ".*")
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for _, e := range exprs {
		rules = append(rules, rule{Record: "dashboard:query", Expr: grafana.Replace(e)})
	}
	doc := map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, bin, "check", "rules", file)
}

// dashboardExprs returns the PromQL of every panel target and templating query of the dashboard.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var exprs []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	return exprs
}

// alertExprs returns the expression of every alerting rule.
func alertExprs(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(alertRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	return exprs
}

// promqlWords are PromQL's functions, aggregations and keywords: every other name a query holds,
// once label matchers, grouping lists, ranges and strings are taken out, is a metric.
var promqlWords = []string{
	"sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "group",
	"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
	"rate", "irate", "increase", "delta", "idelta", "deriv", "histogram_quantile", "time", "sort", "sort_desc",
	"abs", "clamp_min", "clamp_max", "label_replace", "label_values", "absent", "vector", "scalar",
	"max_over_time", "min_over_time", "avg_over_time", "changes", "resets", "timestamp", "humanize",
}

var (
	promqlStrings   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promqlMatchers  = regexp.MustCompile(`\{[^}]*\}`)
	promqlRanges    = regexp.MustCompile(`\[[^\]]*\]`)
	promqlGrouping  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlNames     = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promqlDurations = regexp.MustCompile(`\b\d+(?:ms|[smhdwy])\b`) // offset 1d
	promqlNumbers   = regexp.MustCompile(`\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b`)
	prometheusOwnUp = "up" // the series Prometheus itself records for every target it scrapes
)

// metricsIn names, roughly, the metrics a PromQL expression reads.
func metricsIn(expr string) []string {
	e := promqlStrings.ReplaceAllString(expr, " ")
	e = promqlMatchers.ReplaceAllString(e, " ")
	e = promqlRanges.ReplaceAllString(e, " ")
	e = promqlGrouping.ReplaceAllString(e, " ")
	e = promqlDurations.ReplaceAllString(e, " ")
	e = promqlNumbers.ReplaceAllString(e, " ")
	var names []string
	for _, n := range promqlNames.FindAllString(e, -1) {
		if !slices.Contains(promqlWords, n) && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// TestMonitoringNamesOnlyExportedMetrics reads every metric the dashboard's queries and the alerting
// rules name, and checks that a real hub exports each: a hub is started in-process with a TLS
// certificate and the example partnerships, partners publish, poll, post an invalid object and
// present bad credentials, and /metrics is then scraped with the operator token.
func TestMonitoringNamesOnlyExportedMetrics(t *testing.T) {
	exported := scrapeMetricNames(t)
	for _, src := range []struct {
		file  string
		exprs []string
	}{{dashboardFile, dashboardExprs(t)}, {alertRulesFile, alertExprs(t)}} {
		for _, e := range src.exprs {
			names := metricsIn(e)
			if len(names) == 0 {
				t.Errorf("%s: no metric found in %q", src.file, e)
			}
			for _, n := range names {
				if n != prometheusOwnUp && !exported[n] {
					t.Errorf("%s: %q reads %s, which the hub does not export", src.file, e, n)
				}
			}
		}
	}
	// The check itself must see past PromQL's syntax to the metric.
	if got := metricsIn(`sum by (le) (rate(taxiihub_x_bucket{route="/a/"}[5m])) / on (job) up`); !slices.Equal(got, []string{"taxiihub_x_bucket", "up"}) {
		t.Errorf("metricsIn reads %q", got)
	}
}

// scrapeMetricNames runs a hub, exercises every series, scrapes it and returns the names of the
// series it exports (a histogram's _bucket, _count and _sum included).
func scrapeMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile := selfSignedCertificate(t, dir)
	cfg, err := server.ParseConfig([]string{"--data-dir", filepath.Join(dir, "data"),
		"--seed", filepath.Join("examples", "partnerships.yaml"),
		"--tls-cert", certFile, "--tls-key", keyFile, "--auth-failure-burst", "1"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("start hub: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		s.Close(t.Context())
	})
	members, err := load.ReadMembers(filepath.Join(cfg.DataDir, "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	// Publishing and polling: accepted objects, pages, store calls, requests by member.
	rep, err := load.Run(t.Context(), load.Config{Hubs: []string{srv.URL}, Members: members,
		Collections: []string{"eu-japan/cyber-threats"}, Objects: 20, Batch: 10, Publishers: 1, Pollers: 1,
		Drain: 30 * time.Second, GiveUpAfter: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if ps := rep.Problems(); len(ps) > 0 {
		t.Fatalf("load: %q", ps)
	}
	var certEU string
	for _, m := range members {
		if m.ID == "cert-eu" {
			certEU = m.Token
		}
	}
	// A refused object, and bad credentials twice from one address (the second is rate limited).
	send(t, http.MethodPost, srv.URL+"/eu-japan/collections/cyber-threats/objects/", certEU,
		`{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--not-a-uuid"}]}`)
	send(t, http.MethodGet, srv.URL+"/taxii2/", "not-a-token", "")
	send(t, http.MethodGet, srv.URL+"/taxii2/", "not-a-token", "")
	// An object held for review in the example's reviewed collection: a series of the pending gauge.
	send(t, http.MethodPost, srv.URL+"/eu-china-cyber/collections/released/objects/", certEU,
		`{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--00000001-3333-4333-8333-333333333333",`+
			`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"held",`+
			`"pattern":"[ipv4-addr:value = '203.0.113.9']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}]}`)

	operator, err := os.ReadFile(filepath.Join(cfg.DataDir, server.OperatorTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	// An operator's verification, which the hub counts for TaxiihubLedgerVerificationFailed.
	send(t, http.MethodGet, srv.URL+"/admin/ledger/verify/", strings.TrimSpace(string(operator)), "")
	body := send(t, http.MethodGet, srv.URL+"/metrics", strings.TrimSpace(string(operator)), "")
	if !strings.Contains(body, `taxiihub_ledger_verifications_total{check="ledger",result="ok"} 1`+"\n") {
		t.Errorf("the operator's ledger verification is not counted:\n%s", body)
	}
	names := map[string]bool{}
	for line := range strings.Lines(body) {
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "#" || f[1] != "TYPE" {
			continue
		}
		names[f[2]] = true
		if f[3] == "histogram" || f[3] == "summary" {
			names[f[2]+"_count"], names[f[2]+"_sum"] = true, true
			names[f[2]+"_bucket"] = f[3] == "histogram"
		}
	}
	return names
}

func send(t *testing.T, method, url, token, body string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// selfSignedCertificate writes a certificate for localhost and its key, so that the hub registers
// its certificate-expiry gauge.
func selfSignedCertificate(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
