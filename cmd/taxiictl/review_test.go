package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReviewCommands: a CERT-EU post to a collection under own-member review is listed, shown,
// half approved and half rejected by a second CERT-EU token with the reviewer role, through
// taxiictl review; the publishing token is refused.
func TestReviewCommands(t *testing.T) {
	h, tokenOf := seededHub(t)
	h.must(t, "policy", "collection", "eu-china-cyber", "indicators", "--review", "own-member")
	reviewer := filepath.Join(t.TempDir(), "reviewer.jwt")
	h.must(t, "token", "issue", "cert-eu", "--role", "reviewer", "--out", reviewer)

	var objs []string
	for i := 1; i <= 2; i++ {
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-2222-4222-8222-222222222222",`+
			`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"c2 %d",`+
			`"pattern":"[ipv4-addr:value = '203.0.113.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, i, i, i))
	}
	raw, err := os.ReadFile(tokenOf("cert-eu"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.url+"/eu-china-cyber/collections/indicators/objects/",
		strings.NewReader(`{"objects":[`+strings.Join(objs, ",")+`]}`))
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(raw)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		ID           string `json:"id"`
		Status       string `json:"status"`
		PendingCount int    `json:"pending_count"`
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 202 || st.Status != "pending" || st.PendingCount != 2 {
		t.Fatalf("post under review: %d %+v %v", resp.StatusCode, st, err)
	}

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
