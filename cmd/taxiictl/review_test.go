package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// heldStatus is what a test reads of the status answering a post under review.
type heldStatus struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	PendingCount int    `json:"pending_count"`
}

// postHeld posts n new indicators to the collection path (root/collections/alias) with token and
// checks that all of them are held for review.
func postHeld(t *testing.T, base, path, token string, n int) heldStatus {
	t.Helper()
	var objs []string
	for i := 1; i <= n; i++ {
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-2222-4222-8222-222222222222",`+
			`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"c2 %d",`+
			`"pattern":"[ipv4-addr:value = '203.0.113.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, i, i, i))
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/"+path+"/objects/",
		strings.NewReader(`{"objects":[`+strings.Join(objs, ",")+`]}`))
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var st heldStatus
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 202 || st.Status != "pending" || st.PendingCount != n {
		t.Fatalf("post under review: %d %+v %v", resp.StatusCode, st, err)
	}
	return st
}

// TestReviewCommands: a CERT-EU post to a collection under own-member review is listed, shown,
// half approved and half rejected by a second CERT-EU token with the reviewer role, through
// taxiictl review; the publishing token is refused.
func TestReviewCommands(t *testing.T) {
	h, tokenOf := seededHub(t)
	h.must(t, "policy", "collection", "eu-china-cyber", "indicators", "--review", "own-member")
	reviewer := filepath.Join(t.TempDir(), "reviewer.jwt")
	h.must(t, "token", "issue", "cert-eu", "--role", "reviewer", "--out", reviewer)

	raw, err := os.ReadFile(tokenOf("cert-eu"))
	if err != nil {
		t.Fatal(err)
	}
	st := postHeld(t, h.url, "eu-china-cyber/collections/indicators", strings.TrimSpace(string(raw)), 2)

	review := func(args ...string) (int, string, string) {
		return runTool("", append([]string{"review"}, append(args, "--url", h.url, "--token-file", reviewer)...)...)
	}
	if status, out, errOut := review("list", "eu-china-cyber"); status != exitOK || strings.Count(out, st.ID) != 2 {
		t.Errorf("review list: exit %d\n%s%s", status, out, errOut)
	}
	if status, out, _ := review("show", "eu-china-cyber", st.ID); status != exitOK || !strings.Contains(out, "203.0.113.2") ||
		!strings.Contains(out, "new: the collection holds no version") {
		t.Errorf("review show: exit %d\n%s", status, out)
	}
	first := "indicator--00000001-2222-4222-8222-222222222222"
	if status, out, errOut := review("approve", "eu-china-cyber", st.ID, "--object", first); status != exitOK ||
		!strings.Contains(out, "released by cert-eu") {
		t.Errorf("review approve: exit %d\n%s%s", status, out, errOut)
	}
	if status, _, _ := review("reject", "eu-china-cyber", st.ID); status != exitUsage {
		t.Errorf("review reject without --reason: exit %d, want %d", status, exitUsage)
	}
	if status, out, errOut := review("reject", "eu-china-cyber", st.ID, "--reason", "not cleared"); status != exitOK ||
		!strings.Contains(out, "[rejected-in-review] not cleared") {
		t.Errorf("review reject: exit %d\n%s%s", status, out, errOut)
	}
	if status, _, errOut := runTool("", "review", "list", "eu-china-cyber", "--url", h.url, "--token-file", tokenOf("cert-eu")); status != exitFailed ||
		!strings.Contains(errOut, "reviewer") {
		t.Errorf("review list with the publishing token: exit %d\n%s", status, errOut)
	}
}

// pendingSeries returns the taxiihub_review_pending_objects lines a node's metrics serve.
func pendingSeries(t *testing.T, h testHub) []string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.server.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return regexp.MustCompile(`(?m)^taxiihub_review_pending_objects\{.*$`).FindAllString(rec.Body.String(), -1)
}

// TestReviewPendingMetricAcrossNodes: two hub nodes share one MongoDB database; what is posted
// through one and decided through the other is counted the same by both, because the gauge is
// read from the store at each scrape.
func TestReviewPendingMetricAcrossNodes(t *testing.T) {
	db := mongod.Database(t)
	seed, err := filepath.Abs("../../deploy/examples/partnerships.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := startHub(t, "--mongo-uri", mongod.URI(), "--mongo-database", db, "--seed", seed)
	b := startNode(t, db)
	b.tokenFile = a.tokenFile
	raw, err := os.ReadFile(filepath.Join(a.dataDir, "tokens", "cert-eu.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	publisher := strings.TrimSpace(string(raw))
	reviewer := filepath.Join(t.TempDir(), "reviewer.jwt")
	a.must(t, "token", "issue", "cert-eu", "--role", "reviewer", "--out", reviewer)
	_, body := taxii(t, a.url, "/eu-china-cyber/collections/released/", publisher)
	var coll struct{ ID string }
	if err := json.Unmarshal([]byte(body), &coll); err != nil || coll.ID == "" {
		t.Fatalf("collection released: %s (%v)", body, err)
	}
	series := func(n int) []string {
		return []string{fmt.Sprintf(`taxiihub_review_pending_objects{collection="%s",root="eu-china-cyber"} %d`, coll.ID, n)}
	}

	for name, h := range map[string]testHub{"A": a, "B": b} {
		if got := pendingSeries(t, h); len(got) != 0 {
			t.Errorf("node %s before any post: %q; want no series", name, got)
		}
	}
	st := postHeld(t, a.url, "eu-china-cyber/collections/released", publisher, 3)
	for name, h := range map[string]testHub{"A": a, "B": b} {
		if got := pendingSeries(t, h); !slices.Equal(got, series(3)) {
			t.Errorf("node %s after A held 3: %q; want %q", name, got, series(3))
		}
	}
	if status, out, errOut := runTool("", "review", "approve", "eu-china-cyber", st.ID, "--object",
		"indicator--00000001-2222-4222-8222-222222222222", "--url", b.url, "--token-file", reviewer); status != exitOK {
		t.Fatalf("approve through B: exit %d\n%s%s", status, out, errOut)
	}
	for name, h := range map[string]testHub{"A": a, "B": b} {
		if got := pendingSeries(t, h); !slices.Equal(got, series(2)) {
			t.Errorf("node %s after B released 1: %q; want %q", name, got, series(2))
		}
	}
	if status, out, errOut := runTool("", "review", "reject", "eu-china-cyber", st.ID, "--reason", "not cleared",
		"--url", a.url, "--token-file", reviewer); status != exitOK {
		t.Fatalf("reject through A: exit %d\n%s%s", status, out, errOut)
	}
	for name, h := range map[string]testHub{"A": a, "B": b} {
		if got := pendingSeries(t, h); len(got) != 0 {
			t.Errorf("node %s after the rest was rejected: %q; want no series", name, got)
		}
	}
}
