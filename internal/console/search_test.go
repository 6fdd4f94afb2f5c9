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

// TestConsoleSearchByValue checks the search page against a hub process: every partner page's
// navigation offers the search; jpcert-cc finds, by a defanged spelling, an indicator cert-eu
// published in eu-japan, with a link to its object page, which opens; cert-eu sees that search among
// who pulled its objects; a member that reads no collection of eu-japan finds nothing and is told
// so; an empty value, a limit out of range or not a number are answered 400 on the search page with
// the use case's sentence, the form kept as sent.
func TestConsoleSearchByValue(t *testing.T) {
	partners := freeAddr(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	startHub(t, dataDir, []string{"TAXIIHUB_MEMBER_RATE=0"}, "--listen", partners,
		"--seed", filepath.Join("..", "..", "deploy", "examples", "partnerships.yaml"))
	signIn := func(member string) (*consoleClient, string) {
		c := newClient(t, "http://"+partners)
		token := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "tokens", member+".jwt")))
		if resp, _ := c.do(http.MethodPost, "/console/signin", url.Values{"token": {token}}, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in of %s: %s", member, resp.Status)
		}
		_, home := c.do(http.MethodGet, "/console/", nil, nil)
		return c, home
	}

	certEU, home := signIn("cert-eu")
	if !strings.Contains(home, `<label for="nav-value">Search by value</label>`) || !strings.Contains(home, `action="/console/search"`) {
		t.Errorf("the home page's navigation offers no labelled search form:\n%s", home)
	}
	resp, published := certEU.do(http.MethodPost, "/console/collections/eu-japan/cyber-threats/publish", url.Values{
		"csrf": {certEU.csrf(home)}, "content": {"198.51.100.7\nscanner.example.org"}, "tlp": {"green"}, "action": {"publish"}}, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(published, "2 stored") {
		t.Fatalf("cert-eu publishes two indicators: %s\n%s", resp.Status, published)
	}

	jpcert, _ := signIn("jpcert-cc")
	if resp, page := jpcert.do(http.MethodGet, "/console/search", nil, nil); resp.StatusCode != http.StatusOK ||
		!strings.Contains(page, `<label for="value">Value</label>`) || !strings.Contains(page, `<label for="limit">At most</label>`) || strings.Contains(page, "Objects naming") {
		t.Errorf("the search page without a value: %s, want the labelled form alone\n%s", resp.Status, page)
	}
	resp, found := jpcert.do(http.MethodGet, "/console/search?value="+url.QueryEscape("198[.]51[.]100[.]7")+"&limit=10", nil, nil)
	link := regexp.MustCompile(`href="(/console/collections/eu-japan/cyber-threats/objects/(indicator--[0-9a-f-]+))"`).FindStringSubmatch(found)
	if resp.StatusCode != http.StatusOK || link == nil || !strings.Contains(found, "Objects naming <code>198.51.100.7</code>") ||
		!strings.Contains(found, "<code>198.51.100.7</code></td>") || strings.Count(found, "/objects/indicator--") != 1 {
		t.Fatalf("jpcert-cc searches 198[.]51[.]100[.]7: %s, want one indicator of cyber-threats linked\n%s", resp.Status, found)
	}
	if resp, object := jpcert.do(http.MethodGet, link[1], nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(object, "198.51.100.7") {
		t.Errorf("the object page the result links to: %s", resp.Status)
	}
	if resp, found := jpcert.do(http.MethodGet, "/console/search?value=SCANNER.example.org.", nil, nil); resp.StatusCode != http.StatusOK ||
		!strings.Contains(found, "<code>scanner.example.org</code></td>") {
		t.Errorf("jpcert-cc searches a domain in upper case with a trailing dot: %s\n%s", resp.Status, found)
	}
	if resp, none := jpcert.do(http.MethodGet, "/console/search?value=203.0.113.250", nil, nil); resp.StatusCode != http.StatusOK ||
		!strings.Contains(none, "No object you may read names this value.") {
		t.Errorf("a value nobody published: %s, want the no-result sentence\n%s", resp.Status, none)
	}

	// cert-eu sees who learnt, by a search, that its object names the value.
	_, pulls := certEU.do(http.MethodGet, "/console/partnerships/eu-japan/pulls", nil, nil)
	if !regexp.MustCompile(`<td>jpcert-cc</td>.*\n<td><code>[^<]+</code></td><td>search</td><td><code>` + link[2]).MatchString(pulls) {
		t.Errorf("cert-eu's pulls page does not show jpcert-cc's search of %s:\n%s", link[2], pulls)
	}

	// A member reading nothing of eu-japan finds nothing there, whatever it searches for.
	europol, _ := signIn("europol-ectc")
	if resp, none := europol.do(http.MethodGet, "/console/search?value=198.51.100.7", nil, nil); resp.StatusCode != http.StatusOK ||
		!strings.Contains(none, "No object you may read names this value.") || strings.Contains(none, "indicator--") {
		t.Errorf("europol-ectc searches eu-japan's value: %s, want nothing found\n%s", resp.Status, none)
	}

	for _, bad := range []struct{ query, message string }{
		{"value=", "Give a value to search for"},
		{"value=%20%20", "Give a value to search for"},
		{"value=198.51.100.7&limit=201", "The limit must be between 1 and 200."},
		{"value=198.51.100.7&limit=-1", "The limit must be between 1 and 200."},
		{"value=198.51.100.7&limit=ten", "The limit must be a whole number between 1 and 200."},
		{"value=" + strings.Repeat("a", 2049), "The value to search for is longer than 2048 bytes."},
	} {
		resp, page := jpcert.do(http.MethodGet, "/console/search?"+bad.query, nil, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `role="alert">`+bad.message) || !strings.Contains(page, `id="value"`) {
			t.Errorf("search ?%.40s: %s, want 400 saying %q on the search page\n%.2000s", bad.query, resp.Status, bad.message, page)
		}
	}
	if resp, page := jpcert.do(http.MethodGet, "/console/search?value=198.51.100.7&limit=ten", nil, nil); !strings.Contains(page, `value="ten"`) {
		t.Errorf("the refused form is not kept as sent: %s", resp.Status)
	}
	// The page is a session's like any other.
	if resp, _ := newClient(t, "http://"+partners).do(http.MethodGet, "/console/search?value=198.51.100.7", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("search without a session: %s, want 303 to sign in", resp.Status)
	}
}
