package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// readmeBlock returns the fenced block of the README that follows the line holding marker.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("the README has no %q", marker)
	}
	rest := text[i:]
	start := strings.Index(rest, "```")
	rest = rest[start:]
	rest = rest[strings.Index(rest, "\n")+1:]
	return rest[:strings.Index(rest, "```")]
}

// seededHub is a hub seeded with the example partnerships, and the partners' token files.
func seededHub(t *testing.T) (testHub, func(member string) string) {
	t.Helper()
	seed, err := filepath.Abs("../../deploy/examples/partnerships.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := startHub(t, "--seed", seed)
	return h, func(member string) string { return filepath.Join(h.dataDir, "tokens", member+".jwt") }
}

// TestPublishTheReadmeExample runs the Analysts section of the README: its six defanged IOCs are
// published to eu-japan at TLP:GREEN with cert-eu's partner token, the verdicts are those the
// README shows, and the same file published again stores nothing twice.
func TestPublishTheReadmeExample(t *testing.T) {
	h, tokenOf := seededHub(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "iocs.txt")
	if err := os.WriteFile(file, []byte(readmeBlock(t, "`iocs.txt`:")), 0o600); err != nil {
		t.Fatal(err)
	}
	wantFirst, wantAgain := readmeBlock(t, "prints a verdict per line:"), readmeBlock(t, "The same file again:")
	args := []string{"publish", "--url", h.url, "--token-file", tokenOf("cert-eu"), "--collection", "eu-japan/cyber-threats", "--tlp", "green"}
	// The README's command runs in the directory of the file, so that the file is named as shown.
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(wd) })

	status, stdout, stderr := runTool("", append(args, "iocs.txt")...)
	if status != exitOK {
		t.Fatalf("exit %d\n%s%s", status, stdout, stderr)
	}
	if want := wantFirst; normalise(stdout) != normalise(want) {
		t.Errorf("the output differs from the README's:\n%s\nREADME:\n%s", stdout, want)
	}
	if !strings.Contains(stderr, "7 lines sent") {
		t.Errorf("no progress line on stderr: %q", stderr)
	}

	status, again, _ := runTool("", append(args, "iocs.txt")...)
	if status != exitOK || strings.Count(again, "already present") != 7 || strings.Contains(again, " stored ") {
		t.Errorf("second run: exit %d\n%s", status, again)
	}
	if want := wantAgain; normalise(again) != normalise(want) {
		t.Errorf("the second run differs from the README's:\n%s\nREADME:\n%s", again, want)
	}
	// What was stored is what a partner reads: cert-eu's indicators, marked TLP:GREEN.
	code, body := taxii(t, h.url, "/eu-japan/collections/", tokenIn(t, tokenOf("jpcert-cc")))
	if code != 200 {
		t.Fatalf("collections: %d %s", code, body)
	}
	var list struct{ Collections []struct{ ID, Alias string } }
	json.Unmarshal([]byte(body), &list)
	for _, c := range list.Collections {
		if c.Alias != "cyber-threats" {
			continue
		}
		_, objs := taxii(t, h.url, "/eu-japan/collections/"+c.ID+"/objects/?match[type]=indicator", tokenIn(t, tokenOf("jpcert-cc")))
		if n := strings.Count(objs, `"type":"indicator"`); n != 5 {
			t.Errorf("jpcert-cc reads %d indicators, want 5", n)
		}
		if !strings.Contains(objs, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb") {
			t.Errorf("the indicators are not marked TLP:GREEN: %s", objs)
		}
	}
}

// normalise drops the spacing of columns, which is not what the README is about.
func normalise(s string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, "\n")
}

func tokenIn(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}

func TestPublishVerdictsAndExitStatuses(t *testing.T) {
	h, tokenOf := seededHub(t)
	files := writeFiles(t,
		"evil[.]example[.]org\ninvoice.pdf\n\n# comment\n1.2.3.4 5.6.7.8\nbad-host[.]example[.]net\n",
		"value,type,description,confidence,source\nphish[.]example[.]com,domain-name,kit,80,x\n198.51.100.7,ipv6-addr,,,\n",
	)
	base := []string{"publish", "--url", h.url, "--token-file", tokenOf("cert-eu"), "--collection", "eu-japan/cyber-threats"}

	// JSON lines: line numbers counted in the file, the CSV's too.
	status, stdout, stderr := runTool("", append(base, "--json", "--tlp", "amber", files[0], files[1])...)
	if status != exitFailed {
		t.Errorf("a refused line: exit %d, want %d\n%s", status, exitFailed, stderr)
	}
	var got []string
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var v lineVerdict
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("not a JSON line: %s", sc.Text())
		}
		got = append(got, fmt.Sprintf("%s:%d %s %s", filepath.Base(v.File), v.Line, v.Verdict, v.Code))
	}
	want := []string{"doca.json:1 stored ", "doca.json:2 refused ambiguous", "doca.json:5 refused ambiguous",
		"doca.json:6 stored ", "docb.json:1 skipped ", "docb.json:2 stored ", "docb.json:3 refused invalid"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("verdicts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A TLP above the collection's ceiling is refused by the rules, as for any POST.
	status, stdout, _ = runTool("", append(base, "--tlp", "red", files[0])...)
	if status != exitFailed || !strings.Contains(stdout, "[tlp-above-ceiling]") {
		t.Errorf("TLP:RED into a collection capped at AMBER: exit %d\n%s", status, stdout)
	}
	// A dry run stores nothing.
	dry := writeFiles(t, "dry-run-only[.]example[.]org\n")[0]
	runTool("", append(base, "--dry-run", dry)...)
	if status, stdout, _ := runTool("", append(base, dry)...); status != exitOK || !strings.Contains(stdout, " stored ") {
		t.Errorf("after a dry run the line was not new: exit %d\n%s", status, stdout)
	}

	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"no collection", []string{"publish", "--url", h.url, "--token-file", tokenOf("cert-eu"), files[0]}, exitUsage},
		{"no token", []string{"publish", "--url", h.url, "--collection", "eu-japan/cyber-threats", files[0]}, exitUsage},
		{"bad flag", append(base, "--tlp", "purple", files[0]), exitUsage},
		{"missing file", append(base, filepath.Join(t.TempDir(), "none.txt")), exitUsage},
		{"unknown collection", []string{"publish", "--url", h.url, "--token-file", tokenOf("cert-eu"), "--collection", "eu-japan/nothing", files[0]}, exitFailed},
		{"unreachable", []string{"publish", "--url", "http://127.0.0.1:1", "--token-file", tokenOf("cert-eu"), "--collection", "eu-japan/cyber-threats", files[0]}, exitUnreachable},
	} {
		if status, stdout, stderr := runTool("", tc.args...); status != tc.want {
			t.Errorf("%s: exit %d, want %d\n%s%s", tc.name, status, tc.want, stdout, stderr)
		}
	}
}

// TestPublishMISP publishes a native MISP event and the MISP STIX exports of the shared corpus.
func TestPublishMISP(t *testing.T) {
	h, tokenOf := seededHub(t)
	base := []string{"publish", "--url", h.url, "--token-file", tokenOf("cert-eu"), "--collection", "eu-japan/critical-infrastructure", "--json"}
	status, stdout, stderr := runTool("", append(base, "../../internal/convert/testdata/misp-event.json")...)
	counts := verdictCounts(t, stdout)
	if status != exitFailed || counts["stored"] != 22 || counts["refused"] != 2 || counts["skipped"] != 2 {
		t.Errorf("native MISP event: exit %d, %v\n%s", status, counts, stderr)
	}

	// The bundles go to a partnership where cert-eu reads all it may post to, so that the hub tells
	// it what became of every object (in eu-japan its clearance makes the hub say "accepted"); the
	// partnership rejects personal data, which MISP's e-mail and user-account objects carry.
	base = []string{"publish", "--url", h.url, "--token-file", tokenOf("cert-eu"), "--collection", "eu-china-cyber/indicators", "--json"}
	corpus, _ := filepath.Glob("../../internal/stix/testdata/corpus/misp-stix-*/*.json")
	if len(corpus) < 40 {
		t.Fatalf("found %d MISP corpus files", len(corpus))
	}
	total := map[string]int{}
	refusedCodes := map[string]int{}
	for _, f := range corpus {
		_, stdout, stderr := runTool("", append(base, "--format", "stix", f)...)
		if strings.Contains(stderr, "cannot reach") {
			t.Fatal(stderr)
		}
		for k, v := range verdictCounts(t, stdout) {
			total[k] += v
		}
		sc := bufio.NewScanner(strings.NewReader(stdout))
		for sc.Scan() {
			var v lineVerdict
			json.Unmarshal(sc.Bytes(), &v)
			if v.Verdict == "refused" {
				refusedCodes[v.Code]++
			}
		}
	}
	t.Logf("MISP corpus: %d files, verdicts %v, refusals by code %v", len(corpus), total, refusedCodes)
	if total["stored"] < 100 {
		t.Errorf("only %d objects of the MISP corpus stored", total["stored"])
	}
}

var verdictLine = regexp.MustCompile(`"verdict":"([a-z ]+)"`)

func verdictCounts(t *testing.T, jsonLines string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, m := range verdictLine.FindAllStringSubmatch(jsonLines, -1) {
		counts[m[1]]++
	}
	return counts
}

func TestConvertPrintsABundle(t *testing.T) {
	files := writeFiles(t, "evil[.]example[.]org\ninvoice.pdf\nCVE-2021-44228\n")
	status, stdout, stderr := runTool("", "convert", "--member", "cert-eu", "--tlp", "green", "--report", "Wave 2", files[0])
	if status != exitInvalid || !strings.Contains(stderr, "line 2: [ambiguous]") {
		t.Errorf("exit %d, stderr %s", status, stderr)
	}
	v := writeFiles(t, stdout)
	if status, out, _ := runTool("", "validate", v[0]); status != exitOK {
		t.Errorf("the bundle convert prints is not valid: %s\n%s", out, stdout)
	}
	var b struct{ Objects []struct{ Type string } }
	if err := json.Unmarshal([]byte(stdout), &b); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, o := range b.Objects {
		types = append(types, o.Type)
	}
	if strings.Join(types, ",") != "marking-definition,indicator,vulnerability,report" {
		t.Errorf("objects %v", types)
	}
	if status, _, _ := runTool("", "convert", files[0]); status != exitUsage {
		t.Errorf("no member: exit %d", status)
	}
}

// TestPublishSplitsABundleTooLargeForOneRequest publishes a bundle three times the hub's
// max_content_length: it goes in parts of whole objects, every object gets one verdict named by its
// place in the file, and the one object larger than any request is refused while its neighbours
// are stored.
func TestPublishSplitsABundleTooLargeForOneRequest(t *testing.T) {
	const maxContentLength = 64 << 10
	seed, err := filepath.Abs("../../deploy/examples/partnerships.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := startHub(t, "--seed", seed, "--max-content-length", fmt.Sprint(maxContentLength))
	token := filepath.Join(h.dataDir, "tokens", "cert-eu.jwt")

	const n = 400
	const huge = 140
	var objects []string
	for i := range n {
		description := "part of a bundle sent in parts"
		if i == huge {
			description = strings.Repeat("x", maxContentLength)
		}
		digest := sha256.Sum256([]byte(fmt.Sprint("split-test-", i)))
		objects = append(objects, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z","name":"split test %d","description":%q,"pattern":"[file:hashes.'SHA-256' = '%x']","pattern_type":"stix","valid_from":"2026-01-02T03:04:05Z"}`,
			uuid.NewString(), i, description, digest))
	}
	bundle := `{"type":"bundle","id":"bundle--` + uuid.NewString() + `","objects":[` + strings.Join(objects, ",") + `]}`
	if len(bundle) < 3*maxContentLength {
		t.Fatalf("the bundle is only %d bytes", len(bundle))
	}
	file := writeFiles(t, bundle)[0]

	status, stdout, stderr := runTool("", "publish", "--url", h.url, "--token-file", token, "--collection", "eu-china-cyber/indicators", "--json", file)
	if status != exitFailed {
		t.Errorf("exit %d, want %d (one object refused)\n%s", status, exitFailed, stderr)
	}
	places := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var v lineVerdict
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("not a JSON line: %s", sc.Text())
		}
		if _, twice := places[v.Where]; twice {
			t.Errorf("%s has two verdicts", v.Where)
		}
		places[v.Where] = v.Verdict + " " + v.Code
	}
	for i := range n {
		want := "stored "
		if i == huge {
			want = "refused object-too-large"
		}
		if got := places[fmt.Sprintf("objects[%d]", i)]; got != want {
			t.Errorf("objects[%d]: %q, want %q", i, got, want)
		}
	}
	if len(places) != n {
		t.Errorf("%d verdicts for %d objects", len(places), n)
	}

	// Again, in plain output: one progress line per part, nothing stored twice.
	_, stdout, stderr = runTool("", "publish", "--url", h.url, "--token-file", token, "--collection", "eu-china-cyber/indicators", file)
	if parts := strings.Count(stderr, "lines sent"); parts < 3 {
		t.Errorf("the bundle went in %d parts, want at least 3\n%s", parts, stderr)
	}
	if again := strings.Count(stdout, " already present "); again != n-1 {
		t.Errorf("%d objects already present on the second run, want %d\n%s", again, n-1, stdout)
	}
}
