package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeCommands returns the commands of the indented block that follows marker in the README, one
// per logical line (continuation lines joined).
func readmeCommands(t *testing.T, marker string) []string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, found := strings.Cut(string(readme), marker)
	if !found {
		t.Fatalf("README has no %q", marker)
	}
	var cmds []string
	inBlock, pending := false, ""
	for _, line := range strings.Split(rest, "\n") {
		code, indented := strings.CutPrefix(line, "    ")
		switch {
		case indented && strings.TrimSpace(code) != "":
			inBlock = true
			pending += strings.TrimSpace(code)
			if strings.HasSuffix(pending, "\\") {
				pending = strings.TrimSpace(strings.TrimSuffix(pending, "\\")) + " "
				continue
			}
			cmds = append(cmds, pending)
			pending = ""
		case inBlock && strings.TrimSpace(line) != "":
			return cmds
		}
	}
	return cmds
}

// TestReadmeWalkthrough runs the README's walk-through as written, in bash, against the real hub
// started by the README's run command: taxiictl built from source, curl with its default headers
// and the collection URL taxiictl prints. Only the hub's address and where the source is differ.
func TestReadmeWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walk-through needs %s: %v", tool, err)
		}
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := startHub(t, dir, nil, "--seed", filepath.Join(repo, "deploy", "examples", "partnerships.yaml"))

	cmds := readmeCommands(t, "**Walk-through.**")
	if len(cmds) < 8 || cmds[0] != "go build -o taxiictl ./cmd/taxiictl" {
		t.Fatalf("the walk-through's commands: %q", cmds)
	}
	const separator = "@@@ next command @@@"
	script := "set -euo pipefail\n"
	for _, c := range cmds {
		c = strings.ReplaceAll(c, "http://127.0.0.1:8080", base)
		c = strings.Replace(c, "go build -o taxiictl ./cmd/taxiictl", "go build -C "+repo+" -o "+filepath.Join(dir, "taxiictl")+" ./cmd/taxiictl", 1)
		script += c + "\necho\necho '" + separator + "'\n"
	}
	script += `echo "$C"` + "\n"
	bash := exec.CommandContext(t.Context(), "bash", "-c", script)
	bash.Dir = dir
	bash.Env = append(os.Environ(), "TAXIIHUB_URL="+base)
	out, err := bash.CombinedOutput()
	if err != nil {
		t.Fatalf("the walk-through failed: %v\n%s", err, out)
	}
	outputs := strings.Split(string(out), separator)
	if len(outputs) != len(cmds)+1 {
		t.Fatalf("%d outputs for %d commands:\n%s", len(outputs), len(cmds), out)
	}
	output := map[string]string{}
	for i, c := range cmds {
		output[c] = outputs[i]
	}
	expect := func(prefix string, wants ...string) {
		t.Helper()
		for c, o := range output {
			if !strings.HasPrefix(c, prefix) {
				continue
			}
			for _, w := range wants {
				if !strings.Contains(o, w) {
					t.Errorf("%s\nprinted:\n%s\nwhich does not say %q", c, o, w)
				}
			}
			return
		}
		t.Errorf("the walk-through has no command %q", prefix)
	}
	expect("./taxiictl partnership show eu-immigration-ct", "Memberships (4)", "administrative-records", "frontex", "publisher")
	expect(`curl -H "Authorization: Bearer $(cat $T/frontex.jwt)" http://127.0.0.1:8080/taxii2/`, `"api_roots":["/eu-immigration-ct/"]`)
	expect(`curl -H "Authorization: Bearer $(cat $T/frontex.jwt)" -H 'Content-Type`, `"success_count":1`, `"failure_count":0`)
	expect(`curl -H "Authorization: Bearer $(cat $T/europol-ectc.jwt)"`, `"id":"identity--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"`)
	expect("./taxiictl audit --limit 5", "SEQ", "token.issue")
	expect("./taxiictl audit pulls", "europol-ectc", "eu-immigration-ct/administrative-records")
	expect("./taxiictl token list --expiring 14d", "no active token expires within 14d")

	// The collection URL taxiictl printed meets taxii2-client's rule: the collection resource read
	// at that URL has an id that is part of the URL. The alias URL, which the hub also answers,
	// does not, which is why the README gives TAXII clients the id URL.
	collectionURL := strings.TrimSpace(outputs[len(outputs)-1])
	frontex, europol, certEU := tokenOf(t, dir, "frontex"), tokenOf(t, dir, "europol-ectc"), tokenOf(t, dir, "cert-eu")
	var coll struct {
		ID string `json:"id"`
	}
	status, body := taxiiGet(t, collectionURL, europol)
	if status != http.StatusOK || json.Unmarshal(body, &coll) != nil || coll.ID == "" || !strings.Contains(collectionURL, coll.ID) {
		t.Errorf("GET %s: %d %s; want a collection whose id is in the URL", collectionURL, status, body)
	}
	aliasURL := base + "/eu-immigration-ct/collections/administrative-records/"
	if status, body := taxiiGet(t, aliasURL, europol); status != http.StatusOK || strings.Contains(aliasURL, coll.ID) {
		t.Errorf("GET %s: %d %s", aliasURL, status, body)
	}
	// What the prose says: Frontex may not read (403), CERT-EU has no grant there (404).
	if status, _ := taxiiGet(t, collectionURL+"objects/", frontex); status != http.StatusForbidden {
		t.Errorf("Frontex reading the collection: %d, want 403", status)
	}
	if status, _ := taxiiGet(t, collectionURL+"objects/", certEU); status != http.StatusNotFound {
		t.Errorf("CERT-EU reading the collection: %d, want 404", status)
	}

	// The taxiictl paragraph's command for scripts: built once, the binary keeps its exit status.
	build := readmeCommands(t, "scripts that act on the status build the tool once and run the binary:")
	if len(build) != 1 || !strings.HasPrefix(build[0], "go build -o taxiictl ./cmd/taxiictl && ./taxiictl ") {
		t.Fatalf("the taxiictl build command: %q", build)
	}
	run := strings.Replace(build[0], "go build -o taxiictl ./cmd/taxiictl", "go build -C "+repo+" -o "+filepath.Join(dir, "taxiictl")+" ./cmd/taxiictl", 1)
	cmd := exec.CommandContext(t.Context(), "bash", "-c", run)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TAXIIHUB_URL="+base)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "europol-ectc") {
		t.Errorf("%s: %v\n%s", build[0], err, out)
	}
	usage := exec.CommandContext(t.Context(), filepath.Join(dir, "taxiictl"), "partnership", "create", "x")
	usage.Dir = dir
	if err := usage.Run(); err == nil || usage.ProcessState.ExitCode() != 2 {
		t.Errorf("the built taxiictl on a usage error: %v, want exit status 2", err)
	}
}

func tokenOf(t *testing.T, dir, member string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "taxiihub-data", "tokens", member+".jwt"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}

// taxiiGet reads a TAXII URL as curl does: Accept */*.
func taxiiGet(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}
