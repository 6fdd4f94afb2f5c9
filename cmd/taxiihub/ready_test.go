package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartupLine: once it serves, the hub logs one line a person can read, with the discovery URL
// and where the operator and partner tokens are; at a terminal it also prints that sentence as plain
// text, and the JSON logs stay as they were.
func TestStartupLine(t *testing.T) {
	dir := t.TempDir()
	seed, err := filepath.Abs("../../deploy/examples/partnerships.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base, logs := startHubWithLogs(t, dir, nil, "--seed", seed)
	f, err := os.Open(logs)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ready []map[string]any
	lines := 0
	for sc := bufio.NewScanner(f); sc.Scan(); lines++ {
		var entry map[string]any
		if err := json.Unmarshal(sc.Bytes(), &entry); err != nil {
			t.Errorf("a log line that is not JSON when stderr is not a terminal: %q", sc.Text())
			continue
		}
		if entry["event"] == "ready" {
			ready = append(ready, entry)
		}
	}
	if len(ready) != 1 {
		t.Fatalf("%d ready lines among %d, want 1", len(ready), lines)
	}
	msg, _ := ready[0]["msg"].(string)
	for _, want := range []string{
		"serves TAXII 2.1 at " + base + "/taxii2/",
		"operator token: " + filepath.Join("taxiihub-data", "operator.token"),
		"partner tokens: " + filepath.Join("taxiihub-data", "tokens", "<member-id>.jwt") + " (7)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the ready line %q does not say %q", msg, want)
		}
	}
	if ready[0]["discovery_url"] != base+"/taxii2/" {
		t.Errorf("discovery_url %v", ready[0]["discovery_url"])
	}
	// The README shows this line for the README's run command, on its address.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	shown := strings.ReplaceAll(msg, base, "http://127.0.0.1:8080")
	if !strings.Contains(string(readme), "\n    "+shown+"\n") {
		t.Errorf("the README does not show the ready line as the hub writes it:\n    %s", shown)
	}

	// At a terminal (script gives the hub one), the same sentence as plain text. timeout stops the
	// hub with SIGTERM once it has had time to start.
	bin := buildHub(t)
	addr := freeAddr(t)
	term := exec.CommandContext(t.Context(), "script", "-qec", "timeout -s TERM 5 "+bin, "/dev/null")
	term.Dir = t.TempDir()
	term.Env = append(os.Environ(), "TAXIIHUB_LISTEN="+addr)
	out, err := term.Output()
	// timeout exits 124 when it had to stop the hub, which is how this run ends.
	if exit, ok := err.(*exec.ExitError); ok && exit.ExitCode() == 124 {
		err = nil
	}
	if err != nil {
		t.Fatalf("taxiihub at a terminal: %v\n%s", err, out)
	}
	var plain []string
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n") {
		if line != "" && !strings.HasPrefix(line, "{") {
			plain = append(plain, line)
		}
	}
	want := "serves TAXII 2.1 at http://" + addr + "/taxii2/; operator token: " + filepath.Join("taxiihub-data", "operator.token") +
		"; no partner tokens written"
	if len(plain) != 1 || !strings.HasPrefix(plain[0], "taxiihub ") || !strings.Contains(plain[0], want) {
		t.Errorf("plain lines at a terminal: %q; want one saying %q", plain, want)
	}
}
