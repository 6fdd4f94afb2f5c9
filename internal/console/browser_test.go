//go:build linux

package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is Debian's headless-capable Chromium, which .ci/run installs.
const chromium = "/usr/bin/chromium"

// TestConsoleInABrowser drives the console in a real Chromium against a real hub process, with a
// real OpenID Connect provider: an analyst of cert-eu signs in through her organisation's provider,
// previews and publishes 20 indicators; jpcert-cc, signed in with its token, finds one by its value
// on the search page and opens it; the analyst sees that pull, searches herself and withdraws the
// object; a reviewer of cert-eu, signed in through the same provider, releases what cert-eu's feed
// posted to a reviewed collection; an operator signs in through the operators' provider, tightens a
// TLP ceiling and revokes jpcert-cc's token, which ends its session. Every page is checked with axe-core and screenshotted.
func TestConsoleInABrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		missing(t, "Chromium is needed for the console's browser test: apt-get install chromium")
	}
	axe := axeSource(t)
	shots := os.Getenv("TAXIIHUB_CONSOLE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	partners, admins := freeAddr(t), freeAddr(t)
	hubURL, adminURL := "http://"+partners, "http://"+admins
	const secret = "test-client-secret-of-the-console"
	issuer := startProvider(t, []person{
		{username: "alice", password: "alice-pw", email: "alice@cert.example", roles: []string{"analyst"}},
		{username: "rita", password: "rita-pw", email: "rita@cert.example", roles: []string{"reviewer"}},
		{username: "olga", password: "olga-pw", email: "olga@hub.example", roles: []string{"operator"}},
	}, map[string]string{
		"taxiihub-cert-eu":   hubURL + "/console/oidc/callback",
		"taxiihub-operators": adminURL + "/console/oidc/callback",
	}, secret)
	dir := t.TempDir()
	providers := filepath.Join(dir, "providers.yaml")
	writeFile(t, providers, fmt.Sprintf(`providers:
  - name: operators
    operators: true
    issuer: %[1]s
    client_id: taxiihub-operators
    client_secret_env: CONSOLE_TEST_SECRET
    roles_claim: %[2]s
`, issuer, rolesClaim))
	dataDir := filepath.Join(dir, "data")
	startHub(t, dataDir, []string{"CONSOLE_TEST_SECRET=" + secret, "TAXIIHUB_MEMBER_RATE=0"},
		"--listen", partners, "--admin-listen", admins, "--seed", filepath.Join("..", "..", "deploy", "examples", "partnerships.yaml"),
		"--console-url", hubURL, "--console-admin-url", adminURL, "--console-identity-providers", providers)
	jpcertToken := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "tokens", "jpcert-cc.jwt")))
	operatorToken := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "operator.token")))
	// cert-eu's provider is set on the member, as operators do, with a spec.
	adminCall(t, adminURL, operatorToken, http.MethodPost, "/admin/apply/", fmt.Sprintf(`{"members": [{"id": "cert-eu",
		"name": "CERT-EU, the Cybersecurity Service for the Union institutions, bodies, offices and agencies",
		"jurisdiction": "EU", "contact": "liaison@cert-eu.example", "identity_provider": {"issuer": %q,
		"client_id": "taxiihub-cert-eu", "client_secret_env": "CONSOLE_TEST_SECRET", "roles_claim": %q}}]}`, issuer, rolesClaim))

	alloc, cancel := chromedp.NewExecAllocator(t.Context(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.Flag("no-sandbox", true), chromedp.WindowSize(1280, 1000))...)
	defer cancel()
	root, cancelRoot := chromedp.NewContext(alloc)
	defer cancelRoot()
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	b := &browser{t: t, axe: axe, shots: shots}
	// Each person has a browser context of their own: their own cookies.
	alice := b.tab(root)
	jpcert := b.tab(root)
	olga := b.tab(root)
	rita := b.tab(root)

	// The analyst signs in at her organisation's provider.
	b.run(alice, "sign-in", chromedp.Navigate(hubURL+"/"), chromedp.WaitVisible(chromedp.CSS(`a[href="/console/oidc/cert-eu/start"]`)))
	b.run(alice, "", chromedp.Click(chromedp.CSS(`a[href="/console/oidc/cert-eu/start"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "alice"), chromedp.SendKeys(chromedp.CSS(`#password`), "alice-pw"),
		chromedp.Submit(chromedp.CSS(`#password`)), chromedp.WaitVisible(chromedp.CSS(`.who`)))
	b.expectText(alice, ".who", "alice@cert.example (cert-eu)")
	b.run(alice, "partnerships", chromedp.WaitVisible(chromedp.CSS(`main`)))

	// She previews 20 indicators, then publishes them.
	var iocs []string
	for i := 1; i <= 20; i++ {
		iocs = append(iocs, fmt.Sprintf("198.51.100.%d", i))
	}
	b.run(alice, "", chromedp.Click(chromedp.Search(`//a[text()="Publish to Cyber threats"]`)))
	b.run(alice, "publish", chromedp.WaitVisible(chromedp.CSS(`#content`)), chromedp.SetValue(chromedp.CSS(`#content`), strings.Join(iocs, "\n")),
		chromedp.SetValue(chromedp.CSS(`#confidence`), "80"), chromedp.SetValue(chromedp.CSS(`#description`), "Scanner farm seen by CERT-EU"))
	b.run(alice, "preview", chromedp.Click(chromedp.CSS(`button[value="preview"]`)), chromedp.WaitVisible(chromedp.CSS(`#result`)))
	b.expectText(alice, "#result", "Preview: nothing was stored")
	b.expectText(alice, "main", "20 would be stored")
	b.run(alice, "published", chromedp.Click(chromedp.CSS(`button[value="publish"]`)), chromedp.WaitVisible(chromedp.CSS(`#result`)))
	b.expectText(alice, "main", "20 stored")

	// jpcert-cc signs in with its token, browses the collection, and finds one of them by its value
	// (defanged, as it came in a report), with the keyboard alone: the search field of the
	// navigation, Enter, then Enter on the object's link.
	b.run(jpcert, "", chromedp.Navigate(hubURL+"/console/signin"), chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), jpcertToken), chromedp.Submit(chromedp.CSS(`#token`)), chromedp.WaitVisible(chromedp.CSS(`.who`)))
	b.expectText(jpcert, ".who", "jpcert-cc (token)")
	b.run(jpcert, "", chromedp.Click(chromedp.Search(`//a[text()="Browse Cyber threats"]`)), chromedp.WaitVisible(chromedp.CSS(`#type`)))
	b.run(jpcert, "browse", chromedp.SetValue(chromedp.CSS(`#type`), "indicator"), chromedp.Submit(chromedp.CSS(`#type`)), chromedp.WaitVisible(chromedp.CSS(`table`)))
	b.run(jpcert, "", chromedp.Focus(chromedp.CSS(`#nav-value`)), chromedp.KeyEvent("198[.]51[.]100[.]7\r"),
		chromedp.WaitVisible(chromedp.CSS(`#results`)))
	b.run(jpcert, "search", chromedp.WaitVisible(chromedp.CSS(`table`)))
	b.expectText(jpcert, "#results", "198.51.100.7")
	b.expectText(jpcert, "tbody", "ipv4-addr 198.51.100.7")
	if rows := b.eval(jpcert, `String(document.querySelectorAll("tbody tr").length)`); rows != "1" {
		t.Errorf("the search for 198.51.100.7 lists %s objects, want 1", rows)
	}
	objectURL := b.eval(jpcert, `document.querySelector("tbody a[href*='/objects/']").href`)
	b.run(jpcert, "", chromedp.Focus(chromedp.CSS(`tbody a[href*='/objects/']`)), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`pre`)))
	b.run(jpcert, "object", chromedp.WaitVisible(chromedp.CSS(`pre`)))
	b.expectText(jpcert, "pre", "198.51.100.7'")
	if offered := b.eval(jpcert, `String(document.body.textContent.includes("Withdraw this object"))`); offered != "false" {
		t.Error("jpcert-cc is offered to withdraw cert-eu's object")
	}

	// The analyst sees her publication, and the pull, and withdraws the object.
	b.run(alice, "publications", chromedp.Navigate(hubURL+"/console/partnerships/eu-japan/publications"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	b.expectText(alice, "tbody", "alice@cert.example")
	b.run(alice, "", chromedp.Navigate(hubURL+"/console/"), chromedp.Click(chromedp.CSS(`a[href="/console/partnerships/eu-japan/pulls"]`)), chromedp.WaitVisible(chromedp.CSS(`table`)))
	b.run(alice, "pulls", chromedp.WaitVisible(chromedp.CSS(`table`)))
	b.expectText(alice, "tbody", "jpcert-cc")
	b.expectText(alice, "tbody", "search")
	// Her own search is recorded with her, as her other reads are (checked in the ledger below).
	b.run(alice, "", chromedp.Focus(chromedp.CSS(`#nav-value`)), chromedp.KeyEvent("198.51.100.3\r"),
		chromedp.WaitVisible(chromedp.CSS(`#results`)))
	b.expectText(alice, "tbody", "ipv4-addr 198.51.100.3")
	b.run(alice, "", chromedp.Navigate(objectURL), chromedp.WaitVisible(chromedp.CSS(`pre`)),
		chromedp.Click(chromedp.Search(`//a[starts-with(text(), "Withdraw this object")]`)), chromedp.WaitVisible(chromedp.CSS(`button.danger`)))
	b.run(alice, "withdraw", chromedp.WaitVisible(chromedp.CSS(`button.danger`)))
	b.run(alice, "withdrawn", chromedp.Click(chromedp.CSS(`button.danger`)), chromedp.WaitVisible(chromedp.CSS(`pre`)))
	b.expectText(alice, "main", "This object was withdrawn by its publisher.")

	// cert-eu's feed posts an indicator to eu-china-cyber's reviewed collection with its token, and
	// a second person of cert-eu, signed in with the reviewer role, releases it from the queue.
	heldID := postTAXII(t, hubURL, strings.TrimSpace(readFile(t, filepath.Join(dataDir, "tokens", "cert-eu.jwt"))),
		"eu-china-cyber", "released", "198.51.100.99")
	b.run(rita, "", chromedp.Navigate(hubURL+"/console/signin"), chromedp.WaitVisible(chromedp.CSS(`a[href="/console/oidc/cert-eu/start"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/console/oidc/cert-eu/start"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "rita"), chromedp.SendKeys(chromedp.CSS(`#password`), "rita-pw"),
		chromedp.Submit(chromedp.CSS(`#password`)), chromedp.WaitVisible(chromedp.CSS(`.who`)))
	// What the analyst posts there herself is held too, but no person decides it in the console: the
	// hub keeps the token a held object came with, and people have none to tell them apart.
	b.run(alice, "", chromedp.Navigate(hubURL+"/console/collections/eu-china-cyber/released/publish"),
		chromedp.WaitVisible(chromedp.CSS(`#content`)), chromedp.SetValue(chromedp.CSS(`#content`), "198.51.100.98"),
		chromedp.Click(chromedp.CSS(`button[value="publish"]`)), chromedp.WaitVisible(chromedp.CSS(`#result`)))
	b.run(rita, "", chromedp.Click(chromedp.CSS(`nav a[href="/console/review"]`)), chromedp.WaitVisible(chromedp.CSS(`table`)))
	b.run(rita, "review", chromedp.WaitVisible(chromedp.CSS(`table`)))
	b.expectText(rita, "tbody", heldID)
	if rows := b.eval(rita, `String(document.querySelectorAll("tbody tr").length)`); rows != "1" {
		t.Errorf("the reviewer's queue lists %s objects, want only the feed's, not what a person posted in the console", rows)
	}
	b.run(rita, "", chromedp.Click(chromedp.CSS(`tbody a`)), chromedp.WaitVisible(chromedp.CSS(`#reason`)))
	b.run(rita, "review-request", chromedp.WaitVisible(chromedp.CSS(`#reason`)))
	b.expectText(rita, "main", "198.51.100.99")
	b.run(rita, "review-released", chromedp.Click(chromedp.CSS(`button[value="approve"]`)), chromedp.WaitVisible(chromedp.CSS(`#decided`)))
	b.expectText(rita, "main", "released by cert-eu")

	// The operator signs in through the operators' provider, tightens the ceiling of Cyber
	// threats from AMBER to GREEN and revokes jpcert-cc's token.
	b.run(olga, "", chromedp.Navigate(adminURL+"/console/signin"), chromedp.WaitVisible(chromedp.CSS(`a[href="/console/oidc/operators/start"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/console/oidc/operators/start"]`)), chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "olga"), chromedp.SendKeys(chromedp.CSS(`#password`), "olga-pw"),
		chromedp.Submit(chromedp.CSS(`#password`)), chromedp.WaitVisible(chromedp.CSS(`.who`)))
	b.expectText(olga, ".who", "olga@hub.example (operators)")
	b.run(olga, "operator-partnerships", chromedp.WaitVisible(chromedp.CSS(`main`)))
	ceilingForm := b.eval(olga, `(() => { const row = [...document.querySelectorAll("#p-eu-japan ~ table tbody tr")].find(r => r.textContent.includes("Cyber threats")); return "#" + CSS.escape(row.querySelector("select").id); })()`)
	b.run(olga, "", chromedp.SetValue(chromedp.CSS(ceilingForm), "green"), chromedp.Submit(chromedp.CSS(ceilingForm)), chromedp.WaitVisible(chromedp.CSS(`h2`)))
	b.run(olga, "operator-rule-changed", chromedp.WaitVisible(chromedp.CSS(`h2`)))
	b.expectText(olga, "main", `"tlp_max":"green"`)
	b.run(olga, "", chromedp.Navigate(adminURL+"/console/tokens"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	b.run(olga, "operator-tokens", chromedp.WaitVisible(chromedp.CSS(`table`)))
	b.run(olga, "", chromedp.Click(chromedp.Search(`//tr[td[text()="jpcert-cc"] and td[text()="partner"]]//button`)),
		chromedp.WaitVisible(chromedp.Search(`//tr[td[text()="jpcert-cc"] and td[text()="revoked"]]`)))
	b.run(olga, "operator-audit", chromedp.Navigate(adminURL+"/console/audit"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	b.expectText(olga, "tbody", "olga@hub.example")
	b.run(olga, "operator-ledger", chromedp.Navigate(adminURL+"/console/ledger"), chromedp.WaitVisible(chromedp.CSS(`main p`)))
	b.expectText(olga, "main", "The ledger verifies")

	// Revoking the token ended the session it opened.
	b.run(jpcert, "", chromedp.Navigate(hubURL+"/console/"), chromedp.WaitVisible(chromedp.CSS(`main`)))
	b.expectText(jpcert, "main", "You were signed out: the token has been revoked.")

	// The ledger names the analyst beside cert-eu for her publication and withdrawal.
	checkLedgerPeople(t, adminURL, operatorToken)
	t.Logf("screenshots in %s; axe-core: no serious or critical violation on %d pages", shots, b.pages)
}

// checkLedgerPeople reads the ledger through the admin API and checks that the analyst's publish,
// withdraw and search entries name her, and that jpcert-cc's token pulls (its search among them)
// name nobody.
func checkLedgerPeople(t *testing.T, adminURL, operatorToken string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, adminURL+"/admin/ledger/?limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+operatorToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Entries []struct {
			Kind, Member, Endpoint string
			Person                 *struct{ Issuer, Subject, Name string } `json:"person"`
		} `json:"entries"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatalf("ledger: %s: %v", resp.Status, err)
	}
	kinds := map[string]int{}
	for _, e := range page.Entries {
		switch {
		case e.Member == "cert-eu" && strings.HasPrefix(e.Endpoint, "reviewer:"):
			if want := "reviewer:cert-eu/rita@cert.example <rita at "; !strings.HasPrefix(e.Endpoint, want) || e.Kind != "publish" {
				t.Errorf("the release's %s entry names %q, want %q and the issuer", e.Kind, e.Endpoint, want)
			}
			kinds["release"]++
		case e.Member == "cert-eu" && (e.Kind == "publish" || e.Kind == "withdraw"):
			if e.Person == nil || e.Person.Name != "alice@cert.example" || e.Person.Subject != "alice" {
				t.Errorf("%s entry of cert-eu names %+v, want alice", e.Kind, e.Person)
			}
			kinds[e.Kind]++
		case e.Member == "cert-eu" && e.Endpoint == "search":
			if e.Person == nil || e.Person.Subject != "alice" {
				t.Errorf("cert-eu's search pull names %+v, want alice", e.Person)
			}
			kinds["search"]++
		case e.Member == "jpcert-cc" && e.Endpoint == "search":
			kinds["search by jpcert-cc"]++
			if e.Person != nil {
				t.Errorf("jpcert-cc's token search names a person: %+v", e.Person)
			}
		case e.Member == "jpcert-cc" && e.Person != nil:
			t.Errorf("jpcert-cc's token pull names a person: %+v", e.Person)
		}
	}
	if kinds["publish"] != 1 || kinds["withdraw"] != 1 || kinds["search"] != 1 || kinds["search by jpcert-cc"] != 1 || kinds["release"] != 1 {
		t.Errorf("entries: %v, want one publish, one withdraw and one search by the analyst, one search by jpcert-cc "+
			"and one release by the reviewer", kinds)
	}
}

// postTAXII posts one indicator of value to a collection through TAXII, as a member's feed does,
// and returns its id.
func postTAXII(t *testing.T, hubURL, token, root, collection, value string) string {
	t.Helper()
	id := "indicator--7d2f0c1e-52a4-4c1a-9a57-5e0b7a1c2d99"
	body := fmt.Sprintf(`{"objects": [{"type": "indicator", "spec_version": "2.1", "id": %q,
		"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "scanner",
		"pattern": "[ipv4-addr:value = '%s']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}]}`, id, value)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, hubURL+"/"+root+"/collections/"+collection+"/objects/", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(b), `"pending_count":1`) {
		t.Fatalf("post to %s/%s: %s %s", root, collection, resp.Status, b)
	}
	return id
}

// adminCall sends a JSON request to the admin API and fails the test unless it succeeds.
func adminCall(t *testing.T, adminURL, token, method, path, body string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, adminURL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %s %s", method, path, resp.Status, b)
	}
}

// browser runs steps in tabs, checking and screenshotting each named page.
type browser struct {
	t     *testing.T
	axe   string
	shots string
	pages int
}

// tab opens a tab in a browser context of its own: a person with their own cookies.
func (b *browser) tab(root context.Context) context.Context {
	ctx, cancel := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// run runs the actions; with a name, it then checks the page with axe-core and saves a screenshot
// as <name>.png.
func (b *browser) run(tab context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		location, _ := chromedp.Run(tab, chromedp.Location())
		b.t.Fatalf("%s at %s: %v", cmpName(name), location, err)
	}
	if name == "" {
		return
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](b.axe)); err != nil {
		b.t.Fatalf("load axe-core into %s: %v", name, err)
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document).then(r => r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", ")))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe-core on %s: %v", name, err)
	}
	for _, v := range violations {
		b.t.Errorf("axe-core on %s: %s", name, v)
	}
	b.pages++
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	writeFile(b.t, filepath.Join(b.shots, name+".png"), string(png))
}

// eval evaluates a JavaScript expression in the tab and returns its string value.
func (b *browser) eval(tab context.Context, expression string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expression))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expression, err)
	}
	return v
}

func cmpName(name string) string {
	if name == "" {
		return "step"
	}
	return name
}

func (b *browser) expectText(tab context.Context, selector, want string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		b.t.Fatalf("read %s: %v", selector, err)
	}
	if !strings.Contains(text, want) {
		b.t.Fatalf("%s says %q, want it to contain %q", selector, text, want)
	}
}

// startHub runs the hub built from this tree until the test ends.
func startHub(t *testing.T, dataDir string, env []string, args ...string) {
	t.Helper()
	bin := hubBinary(t)
	logPath := filepath.Join(t.TempDir(), "hub.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, append([]string{"--data-dir", dataDir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("hub log:\n%s", readFile(t, logPath))
		}
	})
	addr := args[1]
	for deadline := time.Now().Add(60 * time.Second); ; {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		select {
		case err := <-exited:
			t.Fatalf("hub exited before serving: %v\n%s", err, readFile(t, logPath))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub did not serve in time:\n%s", readFile(t, logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
