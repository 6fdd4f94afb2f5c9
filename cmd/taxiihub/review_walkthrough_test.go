package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"taxiihub/internal/server"
)

// reviewView is what one step of the release review walk-through leaves for CERT-EU, CNCERT and the
// operators to see.
type reviewView struct {
	status                        string
	successes, failures, pendings int
	certEUSees, cncertSees        int
	submits, releases, rejects    int // ledger entries of the collection
	releasedItems, rejectedItems  int
	pendingGauge                  int
}

func (v reviewView) String() string {
	return fmt.Sprintf("status %s (%d successes, %d failures, %d pending); CERT-EU reads %d objects, CNCERT %d; "+
		"ledger: %d submit, %d release (%d items), %d reject (%d items); taxiihub_review_pending_objects %d",
		v.status, v.successes, v.failures, v.pendings, v.certEUSees, v.cncertSees,
		v.submits, v.releases, v.releasedItems, v.rejects, v.rejectedItems, v.pendingGauge)
}

// TestReleaseReviewWalkthrough runs the closing walk-through of release review on the real hub
// binary, once per backend, with the example partnerships: CERT-EU posts six indicators to
// eu-china-cyber's released collection (own-member review); a second CERT-EU person, with a
// reviewer token, lists and shows them with taxiictl, approves three and rejects the other three.
// At each step it records what CERT-EU and CNCERT read, CERT-EU's status, the ledger and the
// pending gauge; the transcript is in the verbose log.
func TestReleaseReviewWalkthrough(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	ctl := filepath.Join(t.TempDir(), "taxiictl")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-C", repo, "-o", ctl, "./cmd/taxiictl").CombinedOutput(); err != nil {
		t.Fatalf("build taxiictl: %v\n%s", err, out)
	}
	for _, backend := range []struct {
		name string
		args func() []string
	}{
		{"sqlite", func() []string { return nil }},
		{"mongodb", func() []string { return []string{"--mongo-uri", mongod.URI(), "--mongo-database", mongod.Database(t)} }},
	} {
		t.Run(backend.name, func(t *testing.T) {
			dir := t.TempDir()
			base := startHub(t, dir, nil, append(backend.args(), "--seed", filepath.Join(repo, "deploy", "examples", "partnerships.yaml"))...)
			releaseReviewWalkthrough(t, ctl, dir, base)
		})
	}
}

func releaseReviewWalkthrough(t *testing.T, ctl, dir, base string) {
	const n = 6
	data := filepath.Join(dir, "taxiihub-data")
	operator := filepath.Join(data, server.OperatorTokenFile)
	certEU, cncert := tokenOf(t, dir, "cert-eu"), tokenOf(t, dir, "cncert-cc")
	run := func(tokenFile string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), ctl, append(args, "--url", base, "--token-file", tokenFile)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		t.Logf("$ taxiictl %s\n%s", strings.Join(args, " "), trimLines(string(out), 8))
		return string(out), err
	}
	must := func(tokenFile string, args ...string) string {
		t.Helper()
		out, err := run(tokenFile, args...)
		if err != nil {
			t.Fatalf("taxiictl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	reviewer := filepath.Join(dir, "reviewer.jwt")
	must(operator, "token", "issue", "cert-eu", "--role", "reviewer", "--out", reviewer)
	cnReviewer := filepath.Join(dir, "cncert-reviewer.jwt")
	must(operator, "token", "issue", "cncert-cc", "--role", "reviewer", "--out", cnReviewer)

	var objs, ids []string
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("indicator--%08d-5555-4555-8555-555555555555", i)
		ids = append(ids, id)
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-01T00:00:00.000Z",`+
			`"modified":"2026-01-01T00:00:00.000Z","name":"C2 server %d","description":"Command and control.","pattern":"[ipv4-addr:value = '203.0.113.%d']",`+
			`"pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, id, i, i))
	}
	code, body := taxiiDo(t, http.MethodPost, base+"/eu-china-cyber/collections/released/objects/", certEU, `{"objects":[`+strings.Join(objs, ",")+`]}`)
	t.Logf("$ curl -X POST …/eu-china-cyber/collections/released/objects/ (CERT-EU, %d indicators)\n%d %s", n, code, trimLines(string(body), 1))
	var posted struct {
		ID           string `json:"id"`
		Status       string `json:"status"`
		PendingCount int    `json:"pending_count"`
	}
	if code != http.StatusAccepted || json.Unmarshal(body, &posted) != nil || posted.Status != "pending" || posted.PendingCount != n {
		t.Fatalf("post to the reviewed collection: %d %s", code, body)
	}
	var coll struct{ ID string }
	if code, body := taxiiDo(t, http.MethodGet, base+"/eu-china-cyber/collections/released/", certEU, ""); code != http.StatusOK || json.Unmarshal(body, &coll) != nil {
		t.Fatalf("the released collection: %d %s", code, body)
	}

	look := func(step string) reviewView {
		t.Helper()
		var v reviewView
		var st struct {
			Status                                   string
			SuccessCount, FailureCount, PendingCount int
		}
		code, body := taxiiDo(t, http.MethodGet, base+"/eu-china-cyber/status/"+posted.ID+"/", certEU, "")
		if code != http.StatusOK || json.Unmarshal(bytes.ReplaceAll(body, []byte("_count"), []byte("Count")), &st) != nil {
			t.Fatalf("status: %d %s", code, body)
		}
		v.status, v.successes, v.failures, v.pendings = st.Status, st.SuccessCount, st.FailureCount, st.PendingCount
		v.certEUSees, v.cncertSees = objectCount(t, base, certEU), objectCount(t, base, cncert)
		v.submits, v.releases, v.rejects, v.releasedItems, v.rejectedItems = ledgerCounts(t, base, operator, coll.ID)
		v.pendingGauge = pendingGauge(t, base, operator, coll.ID)
		t.Logf("after %s: %v", step, v)
		return v
	}
	expect := func(step string, got, want reviewView) {
		t.Helper()
		if got != want {
			t.Errorf("after %s:\n got %v\nwant %v", step, got, want)
		}
	}

	expect("the post", look("the post"), reviewView{status: "pending", pendings: n, submits: 1, pendingGauge: n})
	for _, id := range ids {
		if code, _ := taxiiDo(t, http.MethodGet, base+"/eu-china-cyber/collections/released/objects/"+id+"/", cncert, ""); code != http.StatusNotFound {
			t.Errorf("CNCERT reading held %s: %d, want 404", id, code)
		}
	}
	if out := must(reviewer, "review", "list", "eu-china-cyber"); strings.Count(out, posted.ID) != n {
		t.Errorf("CERT-EU's reviewer lists %d of the %d held objects", strings.Count(out, posted.ID), n)
	}
	if out := must(cnReviewer, "review", "list", "eu-china-cyber"); strings.Contains(out, posted.ID) {
		t.Errorf("CNCERT's reviewer lists CERT-EU's held objects under own-member review")
	}
	if out, err := run(filepath.Join(data, "tokens", "cert-eu.jwt"), "review", "list", "eu-china-cyber"); err == nil || !strings.Contains(out, "reviewer") {
		t.Errorf("CERT-EU's publishing token lists the queue: %v", err)
	}
	if out := must(reviewer, "review", "show", "eu-china-cyber", posted.ID); !strings.Contains(out, "203.0.113.6") {
		t.Errorf("review show lacks the held objects")
	}

	approve := []string{"review", "approve", "eu-china-cyber", posted.ID}
	for _, id := range ids[:n/2] {
		approve = append(approve, "--object", id)
	}
	if out := must(reviewer, approve...); strings.Count(out, "released by cert-eu") != n/2 {
		t.Errorf("approve released %d, want %d", strings.Count(out, "released by cert-eu"), n/2)
	}
	expect("approving half", look("approving half"), reviewView{status: "pending", successes: n / 2, pendings: n - n/2,
		certEUSees: n / 2, cncertSees: n / 2, submits: 1, releases: 1, releasedItems: n / 2, pendingGauge: n - n/2})

	if out := must(reviewer, "review", "reject", "eu-china-cyber", posted.ID, "--reason", "source not cleared for release"); strings.Count(out, "[rejected-in-review] source not cleared for release") != n-n/2 {
		t.Errorf("reject rejected %d, want %d", strings.Count(out, "[rejected-in-review]"), n-n/2)
	}
	expect("rejecting the rest", look("rejecting the rest"), reviewView{status: "complete", successes: n / 2, failures: n - n/2,
		certEUSees: n / 2, cncertSees: n / 2, submits: 1, releases: 1, releasedItems: n / 2, rejects: 1, rejectedItems: n - n/2})
	for _, id := range ids[n/2:] {
		if code, _ := taxiiDo(t, http.MethodGet, base+"/eu-china-cyber/collections/released/objects/"+id+"/", cncert, ""); code != http.StatusNotFound {
			t.Errorf("CNCERT reading rejected %s: %d, want 404", id, code)
		}
	}
}

// trimLines keeps the first max lines of s, saying how many it left out.
func trimLines(s string, max int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) <= max {
		return strings.Join(lines, "\n")
	}
	return strings.Join(lines[:max], "\n") + fmt.Sprintf("\n… (%d more lines)", len(lines)-max)
}

// taxiiDo sends a TAXII request with a partner token and returns the status and body.
func taxiiDo(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	if body != "" {
		req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// objectCount is how many objects the member reads in eu-china-cyber's released collection.
func objectCount(t *testing.T, base, token string) int {
	t.Helper()
	code, body := taxiiDo(t, http.MethodGet, base+"/eu-china-cyber/collections/released/objects/", token, "")
	var env struct{ Objects []json.RawMessage }
	if code != http.StatusOK || json.Unmarshal(body, &env) != nil {
		t.Fatalf("objects: %d %s", code, body)
	}
	return len(env.Objects)
}

// ledgerCounts counts the ledger entries of a collection by kind, as operators read them.
func ledgerCounts(t *testing.T, base, operatorFile, coll string) (submits, releases, rejects, releasedItems, rejectedItems int) {
	t.Helper()
	code, body := adminGet(t, base+"/admin/ledger/?limit=1000", operatorFile)
	var page struct {
		Entries []struct {
			Kind, Collection, Endpoint string
			Items                      []json.RawMessage
		}
	}
	if code != http.StatusOK || json.Unmarshal(body, &page) != nil {
		t.Fatalf("ledger: %d %s", code, body)
	}
	for _, e := range page.Entries {
		switch {
		case e.Collection != coll:
		case e.Kind == "submit":
			submits++
		case e.Kind == "publish" && strings.HasPrefix(e.Endpoint, "reviewer:cert-eu/"):
			releases++
			releasedItems += len(e.Items)
		case e.Kind == "reject":
			rejects++
			rejectedItems += len(e.Items)
		}
	}
	return
}

var pendingSeries = regexp.MustCompile(`(?m)^taxiihub_review_pending_objects\{collection="([^"]+)",root="eu-china-cyber"\} (\d+)$`)

// pendingGauge reads taxiihub_review_pending_objects of the collection from the hub's metrics; 0
// when it has no series.
func pendingGauge(t *testing.T, base, operatorFile, coll string) int {
	t.Helper()
	code, body := adminGet(t, base+"/metrics", operatorFile)
	if code != http.StatusOK {
		t.Fatalf("metrics: %d", code)
	}
	for _, m := range pendingSeries.FindAllStringSubmatch(string(body), -1) {
		if m[1] == coll {
			n, _ := strconv.Atoi(m[2])
			return n
		}
	}
	return 0
}

func adminGet(t *testing.T, url, operatorFile string) (int, []byte) {
	t.Helper()
	raw, err := readTrimmed(operatorFile)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+raw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func readTrimmed(path string) (string, error) {
	raw, err := os.ReadFile(path)
	return strings.TrimSpace(string(raw)), err
}
