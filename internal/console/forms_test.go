//go:build linux

package console_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// consoleClient is a browser-like client of a hub's console: it keeps cookies and follows no
// redirect, so that each answer can be checked.
type consoleClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *consoleClient {
	jar, _ := cookiejar.New(nil)
	return &consoleClient{t: t, base: base, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *consoleClient) do(method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *consoleClient) csrf(page string) string {
	c.t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	return m[1]
}

// TestConsoleSessionsAndFormsResistMisuse checks the console's defences against a hub process:
// pages need a session; a bad token is refused and opens none; the session cookie is HttpOnly and
// SameSite=Strict and is not the token; every page carries the strict CSP; a form without the
// session's CSRF token, or sent from another site, changes nothing; an OpenID Connect answer not
// started in this browser is refused; signing out and the idle timeout end the session; the
// operators' pages are not on the partners' listener.
func TestConsoleSessionsAndFormsResistMisuse(t *testing.T) {
	partners, admins := freeAddr(t), freeAddr(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	startHub(t, dataDir, nil, "--listen", partners, "--admin-listen", admins,
		"--seed", filepath.Join("..", "..", "deploy", "examples", "partnerships.yaml"),
		"--console-idle-timeout", "3s", "--console-session-timeout", "1h", "--auth-failure-burst", "4", "--auth-failure-rate", "0.01")
	token := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "tokens", "cert-eu.jwt")))
	c := newClient(t, "http://"+partners)

	if resp, _ := c.do(http.MethodGet, "/console/", nil, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Errorf("a page without a session: %s to %q, want 303 to the sign-in page", resp.Status, resp.Header.Get("Location"))
	}
	if resp, body := c.do(http.MethodGet, "/", nil, map[string]string{"Accept": "application/taxii+json;version=2.1"}); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "TAXII") {
		t.Errorf("/ asked for by a TAXII client: %s %s, want the TAXII 404", resp.Status, body)
	}

	resp, body := c.do(http.MethodPost, "/console/signin", url.Values{"token": {token + "x"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 || !strings.Contains(body, "does not accept this token") {
		t.Errorf("sign-in with a bad token: %s, cookies %v", resp.Status, resp.Cookies())
	}
	resp, _ = c.do(http.MethodPost, "/console/signin", url.Values{"token": {token}}, nil)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("sign-in with cert-eu's token: %s, cookies %v", resp.Status, resp.Cookies())
	}
	ck := resp.Cookies()[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Value == token || strings.Contains(token, ck.Value) {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, not Secure without TLS, and not the token", ck)
	}
	// Signing in again replaces the session: the one held before is ended.
	again := newClient(t, "http://"+partners)
	again.do(http.MethodPost, "/console/signin", url.Values{"token": {token}}, nil)
	first := again.http.Jar.Cookies(mustURL(t, "http://"+partners+"/console/"))
	again.do(http.MethodPost, "/console/signin", url.Values{"token": {token}}, nil)
	replay := newClient(t, "http://"+partners)
	replay.http.Jar.SetCookies(mustURL(t, "http://"+partners+"/console/"), first)
	if resp, _ := replay.do(http.MethodGet, "/console/", nil, nil); len(first) != 1 || resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the session held before signing in again: %s (cookies %v), want it ended", resp.Status, first)
	}
	resp, home := c.do(http.MethodGet, "/console/", nil, nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(home, token) {
		t.Fatalf("home page: %s (token on the page: %v)", resp.Status, strings.Contains(home, token))
	}
	const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	if got := resp.Header.Get("Content-Security-Policy"); got != csp || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers: CSP %q, X-Frame-Options %q", got, resp.Header.Get("X-Frame-Options"))
	}
	if regexp.MustCompile(`<script|\son[a-z]+=`).MatchString(home) {
		t.Error("a page carries script")
	}
	csrf := c.csrf(home)

	// Forms: the CSRF token is required, and a browser's word that the form came from another
	// site is enough to refuse it.
	publish := "/console/collections/eu-japan/cyber-threats/publish"
	form := url.Values{"content": {"198.51.100.99"}, "tlp": {"green"}, "action": {"publish"}}
	if resp, _ := c.do(http.MethodPost, publish, form, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("publish without the CSRF token: %s, want 403", resp.Status)
	}
	form.Set("csrf", "not-"+csrf)
	if resp, _ := c.do(http.MethodPost, publish, form, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("publish with another CSRF token: %s, want 403", resp.Status)
	}
	form.Set("csrf", csrf)
	if resp, _ := c.do(http.MethodPost, publish, form, map[string]string{"Sec-Fetch-Site": "cross-site"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("publish from another site: %s, want 403", resp.Status)
	}
	if resp, _ := c.do(http.MethodPost, publish, form, map[string]string{"Origin": "http://evil.example"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("publish with a foreign Origin: %s, want 403", resp.Status)
	}
	// A TLP the collection's ceiling does not admit is refused before anything is converted.
	form.Set("tlp", "red")
	if resp, body := c.do(http.MethodPost, publish, form, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "takes TLP clear, green, amber only") {
		t.Errorf("publish at TLP:RED under an AMBER ceiling: %s", resp.Status)
	}
	form.Set("tlp", "green")
	if resp, body := c.do(http.MethodPost, publish, form, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Status ") {
		t.Errorf("publish with the CSRF token: %s", resp.Status)
	}

	// Publish forms read at once are bounded: two uploads held open take the room, and a third is
	// answered 503 before its body is read.
	for range 2 {
		conn, err := net.Dial("tcp", partners)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\nContent-Type: multipart/form-data; boundary=x\r\n"+
			"Content-Length: 1000000\r\n\r\n--x\r\n", publish, partners, ck.Name, ck.Value)
	}
	time.Sleep(300 * time.Millisecond)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, c.base+publish, strings.NewReader("--x--\r\n"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	if resp, err := c.http.Do(req); err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a third publish form while two are read: %v %v, want 503 with Retry-After", resp.Status, err)
	} else {
		resp.Body.Close()
	}

	// An OpenID Connect answer for a sign-in this browser did not start.
	if resp, _ := c.do(http.MethodGet, "/console/oidc/callback?state=forged&code=stolen", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback with a foreign state: %s, want 400", resp.Status)
	}
	// The operators' pages are not served to partners.
	if resp, _ := c.do(http.MethodGet, "/console/tokens", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("operators' tokens page on the partners' listener: %s, want 404", resp.Status)
	}
	op := newClient(t, "http://"+partners)
	operatorToken := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "operator.token")))
	if resp, _ := op.do(http.MethodPost, "/console/signin", url.Values{"token": {operatorToken}}, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an operator token at the partners' console: %s, want 401", resp.Status)
	}

	// An operator signed in on the admin listener issues a partner token, shown once, which works.
	ops := newClient(t, "http://"+admins)
	if resp, _ := ops.do(http.MethodPost, "/console/signin", url.Values{"token": {operatorToken}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("operator sign-in: %s", resp.Status)
	}
	_, tokensPage := ops.do(http.MethodGet, "/console/tokens", nil, nil)
	issue := url.Values{"member": {"frontex"}, "ttl": {"30d"}, "note": {"issued in the console"}}
	if resp, _ := ops.do(http.MethodPost, "/console/tokens", issue, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("issue a token without the CSRF token: %s, want 403", resp.Status)
	}
	issue.Set("csrf", ops.csrf(tokensPage))
	resp, issued := ops.do(http.MethodPost, "/console/tokens", issue, nil)
	jwt := regexp.MustCompile(`<textarea id="jwt" readonly>([^<]+)</textarea>`).FindStringSubmatch(issued)
	if resp.StatusCode != http.StatusOK || jwt == nil {
		t.Fatalf("issue a token: %s\n%s", resp.Status, issued)
	}
	// Raising a TLP ceiling weakens a rule: it is refused until the operator confirms it on the page
	// that names the weakening.
	ceiling := "/console/partnerships/eu-japan/collections/cyber-threats/ceiling"
	csrfOps := ops.csrf(tokensPage)
	resp, refused := ops.do(http.MethodPost, ceiling, url.Values{"csrf": {csrfOps}, "tlp_max": {"red"}}, nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(refused, "weakens a sharing rule") || !strings.Contains(refused, `name="confirm_weaken" value="yes"`) {
		t.Errorf("raising a ceiling unconfirmed: %s\n%s", resp.Status, refused)
	}
	resp, done := ops.do(http.MethodPost, ceiling, url.Values{"csrf": {csrfOps}, "tlp_max": {"red"}, "confirm_weaken": {"yes"}}, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(done, "&#34;tlp_max&#34;:&#34;amber&#34;") || !strings.Contains(done, "&#34;tlp_max&#34;:&#34;red&#34;") {
		t.Errorf("raising a ceiling confirmed: %s, want before amber and after red\n%s", resp.Status, done)
	}
	frontex := newClient(t, "http://"+partners)
	if resp, _ := frontex.do(http.MethodPost, "/console/signin", url.Values{"token": {jwt[1]}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-in with the token the console issued: %s", resp.Status)
	}
	if _, again := ops.do(http.MethodGet, "/console/tokens", nil, nil); strings.Contains(again, jwt[1]) {
		t.Error("the tokens page shows an issued token again")
	}

	// Signing out ends the session for good; the idle timeout ends another.
	if resp, _ := c.do(http.MethodPost, "/console/signout", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign out: %s", resp.Status)
	}
	stale := newClient(t, "http://"+partners)
	u, _ := url.Parse("http://" + partners + "/console/")
	stale.http.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	if resp, _ := stale.do(http.MethodGet, "/console/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the cookie of a signed-out session: %s, want 303 to sign in", resp.Status)
	}
	idle := newClient(t, "http://"+partners)
	idle.do(http.MethodPost, "/console/signin", url.Values{"token": {token}}, nil)
	if resp, _ := idle.do(http.MethodGet, "/console/", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh session: %s", resp.Status)
	}
	time.Sleep(3100 * time.Millisecond)
	if resp, _ := idle.do(http.MethodGet, "/console/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a session idle beyond --console-idle-timeout: %s, want 303 to sign in", resp.Status)
	}

	// Guessing tokens at the sign-in form spends the address's budget of failed authentications
	// (--auth-failure-burst 4, two spent above): then sign-ins are refused without a check.
	guesser := newClient(t, "http://"+partners)
	var statuses []int
	for range 4 {
		resp, _ := guesser.do(http.MethodPost, "/console/signin", url.Values{"token": {"guess"}}, nil)
		statuses = append(statuses, resp.StatusCode)
	}
	if statuses[0] != http.StatusUnauthorized || statuses[3] != http.StatusTooManyRequests {
		t.Errorf("four guesses after two failures answered %v, want 401 first and 429 once over the budget of 4", statuses)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
