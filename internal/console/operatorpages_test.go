//go:build linux

package console_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// signInOperator starts a hub with the example partnerships and both listeners and signs its
// operator in to the operators' console.
func signInOperator(t *testing.T) (*consoleClient, string) {
	t.Helper()
	partners, admins := freeAddr(t), freeAddr(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	startHub(t, dataDir, nil, "--listen", partners, "--admin-listen", admins,
		"--seed", filepath.Join("..", "..", "deploy", "examples", "partnerships.yaml"))
	ops := newClient(t, "http://"+admins)
	operatorToken := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "operator.token")))
	if resp, _ := ops.do(http.MethodPost, "/console/signin", url.Values{"token": {operatorToken}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("operator sign-in: %s", resp.Status)
	}
	_, home := ops.do(http.MethodGet, "/console/", nil, nil)
	return ops, home
}

// TestConsoleOperatorChangesAnyRule checks the operators' policy forms against a hub process: any
// rule of a collection or a partnership changes by a JSON merge patch, before and after shown; a
// weakening is refused (409) until confirmed on the page naming it, which carries the patch; a patch
// that is not a JSON object, or names no rule, is answered 400 and changes nothing; the form needs
// the CSRF token.
func TestConsoleOperatorChangesAnyRule(t *testing.T) {
	ops, home := signInOperator(t)
	if !strings.Contains(home, `action="/console/partnerships/eu-japan/policy"`) || !strings.Contains(home, `<label for="policy-eu-japan">`) {
		t.Fatalf("the operators' home page has no labelled rules form for eu-japan:\n%s", home)
	}
	csrf := ops.csrf(home)
	coll := "/console/partnerships/eu-japan/collections/cyber-threats/policy"
	if resp, _ := ops.do(http.MethodPost, coll, url.Values{"patch": {`{"denied_properties":["x_secret"]}`}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a rules change without the CSRF token: %s, want 403", resp.Status)
	}
	resp, done := ops.do(http.MethodPost, coll, url.Values{"csrf": {csrf}, "patch": {`{"denied_properties":["x_secret"]}`}}, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(done, "&#34;denied_properties&#34;:[&#34;x_secret&#34;]") {
		t.Errorf("denying a property (a tightening): %s, want done with the rule after\n%s", resp.Status, done)
	}

	resp, refused := ops.do(http.MethodPost, coll, url.Values{"csrf": {csrf}, "patch": {`{"tlp_max":null}`}}, nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(refused, "weakens a sharing rule") ||
		!strings.Contains(refused, `name="patch" value="{&#34;tlp_max&#34;:null}"`) {
		t.Fatalf("removing the TLP ceiling unconfirmed: %s, want 409 with the confirmation form\n%s", resp.Status, refused)
	}
	resp, done = ops.do(http.MethodPost, coll, url.Values{"csrf": {csrf}, "patch": {`{"tlp_max":null}`}, "confirm_weaken": {"yes"}}, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(done, "<td><code>{&#34;denied_properties&#34;:[&#34;x_secret&#34;],&#34;unmarked&#34;:&#34;clear&#34;}</code></td></tr>") {
		t.Errorf("removing the TLP ceiling confirmed: %s, want the ceiling gone after\n%s", resp.Status, done)
	}

	root := "/console/partnerships/eu-japan/policy"
	resp, done = ops.do(http.MethodPost, root, url.Values{"csrf": {csrf}, "patch": {`{"no_onward_sharing":true}`}}, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(done, "&#34;no_onward_sharing&#34;:true") {
		t.Errorf("forbidding onward sharing: %s\n%s", resp.Status, done)
	}
	if resp, refused := ops.do(http.MethodPost, root, url.Values{"csrf": {csrf}, "patch": {`{"no_onward_sharing":null}`}}, nil); resp.StatusCode != http.StatusConflict ||
		!strings.Contains(refused, `name="confirm_weaken" value="yes"`) {
		t.Errorf("allowing onward sharing again unconfirmed: %s, want 409\n%s", resp.Status, refused)
	}

	for _, bad := range []struct{ patch, message string }{
		{`tlp_max=red`, "must be a JSON object"},
		{`{}`, "must be a JSON object"},
		{`{"TLP_MAX":"red"}`, "names no rule"},
	} {
		if resp, page := ops.do(http.MethodPost, coll, url.Values{"csrf": {csrf}, "patch": {bad.patch}}, nil); resp.StatusCode != http.StatusBadRequest ||
			!strings.Contains(page, bad.message) {
			t.Errorf("patch %s: %s, want 400 saying %q\n%s", bad.patch, resp.Status, bad.message, page)
		}
	}
	if _, home := ops.do(http.MethodGet, "/console/", nil, nil); strings.Contains(home, "TLPMax:red") {
		t.Error("a refused patch changed the ceiling")
	}
}

// TestConsoleOperatorHealth checks the operators' health page against a hub process: the node is
// ready and its store answers, the ledger's head is shown, the audit trail's head is shown and moves
// when an operator acts, and a token issued for one day is listed among those expiring soon while the
// seed's 90-day tokens are not.
func TestConsoleOperatorHealth(t *testing.T) {
	ops, home := signInOperator(t)
	if !strings.Contains(home, `<a href="/console/health">Health</a>`) {
		t.Errorf("the operators' navigation has no health page")
	}
	resp, page := ops.do(http.MethodGet, "/console/health", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<th scope="row">Ready</th><td>yes</td>`) ||
		!strings.Contains(page, "reachable, answered in") || !strings.Contains(page, `<th scope="row">Ledger head</th>`) || strings.Contains(page, "Not ready") {
		t.Fatalf("health of a hub that serves: %s\n%s", resp.Status, page)
	}
	auditHead := regexp.MustCompile(`Audit trail head</th><td><code>([^<]+)</code>`).FindStringSubmatch(page)
	if auditHead == nil {
		t.Errorf("no audit trail head although the seed was recorded:\n%s", page)
	}
	if strings.Contains(page, " of frontex, expires") {
		t.Errorf("a 90-day token is listed as expiring soon:\n%s", page)
	}
	_, tokensPage := ops.do(http.MethodGet, "/console/tokens", nil, nil)
	issue := url.Values{"csrf": {ops.csrf(tokensPage)}, "member": {"frontex"}, "ttl": {"1d"}}
	if resp, _ := ops.do(http.MethodPost, "/console/tokens", issue, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("issue a one-day token: %s", resp.Status)
	}
	_, page = ops.do(http.MethodGet, "/console/health", nil, nil)
	if !regexp.MustCompile(`<li><code>[0-9a-f]+</code> \(partner\) of frontex, expires `).MatchString(page) {
		t.Errorf("the one-day token is not listed as expiring soon:\n%s", page)
	}
	if again := regexp.MustCompile(`Audit trail head</th><td><code>([^<]+)</code>`).FindStringSubmatch(page); again == nil || auditHead == nil || again[1] == auditHead[1] {
		t.Errorf("the audit trail head did not move with the token issued: %v then %v", auditHead, again)
	}
}
