//go:build linux

package console_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleReviewQueue checks the review pages against a hub process, with the example
// partnerships' eu-china-cyber "released" collection (own-member review): cert-eu publishes two
// indicators there through the console and they are held; its publishing token's session is offered
// no review and refused the queue; a second person of cert-eu, signed in with a reviewer token,
// lists both, opens the request, releases one and rejects the other with a reason, through forms
// that need the session's CSRF token; cncert-cc then reads the released one only, and the ledger
// names the reviewer's token for both decisions.
func TestConsoleReviewQueue(t *testing.T) {
	partners, admins := freeAddr(t), freeAddr(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	startHub(t, dataDir, []string{"TAXIIHUB_MEMBER_RATE=0"}, "--listen", partners, "--admin-listen", admins,
		"--seed", filepath.Join("..", "..", "deploy", "examples", "partnerships.yaml"))
	operatorToken := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "operator.token")))
	signIn := func(token string) (*consoleClient, string) {
		c := newClient(t, "http://"+partners)
		if resp, _ := c.do(http.MethodPost, "/console/signin", url.Values{"token": {token}}, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %s", resp.Status)
		}
		_, home := c.do(http.MethodGet, "/console/", nil, nil)
		return c, home
	}
	memberToken := func(member string) string {
		return strings.TrimSpace(readFile(t, filepath.Join(dataDir, "tokens", member+".jwt")))
	}

	certEU, home := signIn(memberToken("cert-eu"))
	resp, posted := certEU.do(http.MethodPost, "/console/collections/eu-china-cyber/released/publish", url.Values{
		"csrf": {certEU.csrf(home)}, "content": {"198.51.100.21\n198.51.100.22"}, "tlp": {"green"}, "action": {"publish"}}, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(posted, "198.51.100.22") {
		t.Fatalf("cert-eu posts two indicators to a reviewed collection: %s\n%s", resp.Status, posted)
	}
	if strings.Contains(home, `href="/console/review"`) {
		t.Error("a session without the reviewer role is offered the review queue")
	}
	if resp, page := certEU.do(http.MethodGet, "/console/review", nil, nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "not a reviewer") {
		t.Errorf("the review queue for cert-eu's posting token: %s, want 403", resp.Status)
	}

	reviewerJWT := issueToken(t, "http://"+admins, operatorToken, `{"subject": "cert-eu", "role": "reviewer"}`)
	reviewer, home := signIn(reviewerJWT)
	if !strings.Contains(home, `<a href="/console/review">Review</a>`) {
		t.Errorf("the reviewer's navigation offers no review queue:\n%s", home)
	}
	resp, queue := reviewer.do(http.MethodGet, "/console/review", nil, nil)
	requests := regexp.MustCompile(`href="(/console/review/eu-china-cyber/[^"]+)"`).FindAllStringSubmatch(queue, -1)
	held := regexp.MustCompile(`<code>(indicator--[0-9a-f-]+)</code>`).FindAllStringSubmatch(queue, -1)
	// The conversion adds the TLP marking definition the indicators refer to: it is held with them.
	if resp.StatusCode != http.StatusOK || len(requests) != 3 || requests[0][1] != requests[2][1] || len(held) != 2 ||
		!strings.Contains(queue, "<code>marking-definition--") {
		t.Fatalf("the reviewer's queue: %s, want two indicators and their marking of one request\n%s", resp.Status, queue)
	}
	request := requests[0][1]
	resp, shown := reviewer.do(http.MethodGet, request, nil, nil)
	if resp.StatusCode != http.StatusOK || strings.Count(shown, "New: the collection holds no earlier version") != 3 ||
		!strings.Contains(shown, "198.51.100.21") || !strings.Contains(shown, `<label for="reason">`) {
		t.Fatalf("the request page: %s\n%s", resp.Status, shown)
	}
	csrf := reviewer.csrf(shown)
	first, second := held[0][1], held[1][1]

	for _, bad := range []struct {
		form   url.Values
		status int
		says   string
	}{
		{url.Values{"decision": {"approve"}, "object": {first}}, http.StatusForbidden, "This form has expired"},
		{url.Values{"csrf": {csrf}, "decision": {"reject"}, "object": {second}}, http.StatusBadRequest, "A rejection needs a reason"},
		{url.Values{"csrf": {csrf}, "decision": {"maybe"}}, http.StatusBadRequest, "Choose to release or to reject."},
		{url.Values{"csrf": {csrf}, "decision": {"reject"}, "reason": {strings.Repeat("x", 501)}}, http.StatusBadRequest, "at most 500"},
	} {
		if resp, page := reviewer.do(http.MethodPost, request, bad.form, nil); resp.StatusCode != bad.status || !strings.Contains(page, bad.says) {
			t.Errorf("decision %v: %s, want %d saying %q", bad.form, resp.Status, bad.status, bad.says)
		}
	}
	// cert-eu's posting token may not decide what it posted, even with its request id.
	if resp, _ := certEU.do(http.MethodPost, request, url.Values{"csrf": {certEU.csrf(home)}, "decision": {"approve"}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the posting token's own decision: %s, want 403", resp.Status)
	}

	resp, released := reviewer.do(http.MethodPost, request, url.Values{"csrf": {csrf}, "decision": {"approve"}, "object": {first}}, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(released, "Released") || !strings.Contains(released, "released by cert-eu") ||
		strings.Contains(released, second) {
		t.Errorf("release the first: %s\n%s", resp.Status, released)
	}
	resp, rejected := reviewer.do(http.MethodPost, request, url.Values{"csrf": {csrf}, "decision": {"reject"}, "reason": {"source not cleared for release"}}, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(rejected, "rejected: [rejected-in-review] source not cleared for release") ||
		!strings.Contains(rejected, second) {
		t.Errorf("reject the rest: %s\n%s", resp.Status, rejected)
	}
	if _, queue := reviewer.do(http.MethodGet, "/console/review", nil, nil); !strings.Contains(queue, "Nothing is waiting for your review.") {
		t.Errorf("the queue after both decisions:\n%s", queue)
	}
	if resp, _ := reviewer.do(http.MethodGet, request, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the decided request's page: %s, want 404", resp.Status)
	}

	cncert, _ := signIn(memberToken("cncert-cc"))
	_, browse := cncert.do(http.MethodGet, "/console/collections/eu-china-cyber/released/?type=indicator", nil, nil)
	if !strings.Contains(browse, first) || strings.Contains(browse, second) {
		t.Errorf("cncert-cc reads %v of released, want only %s", regexp.MustCompile(`indicator--[0-9a-f-]+`).FindAllString(browse, -1), first)
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+admins+"/admin/ledger/?limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+operatorToken)
	lresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer lresp.Body.Close()
	var ledger struct {
		Entries []struct{ Kind, Member, Endpoint string } `json:"entries"`
	}
	if err := json.NewDecoder(lresp.Body).Decode(&ledger); err != nil {
		t.Fatal(err)
	}
	decisions := map[string]int{}
	for _, e := range ledger.Entries {
		if strings.HasPrefix(e.Endpoint, "reviewer:cert-eu/") && e.Member == "cert-eu" {
			decisions[e.Kind]++
		}
	}
	if decisions["publish"] != 1 || decisions["reject"] != 1 {
		t.Errorf("ledger entries naming cert-eu's reviewer: %v, want one publish and one reject", decisions)
	}
}

// issueToken issues a token through the admin API and returns its JWT.
func issueToken(t *testing.T, adminURL, operatorToken, body string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, adminURL+"/admin/tokens/", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+operatorToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var issued struct{ JWT string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &issued) != nil || issued.JWT == "" {
		t.Fatalf("issue a token: %s %s", resp.Status, b)
	}
	return issued.JWT
}
