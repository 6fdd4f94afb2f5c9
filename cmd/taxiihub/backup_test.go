package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadmeBackupAndRestore runs the README's backup, restore and check commands as written, in
// bash, around a hub started and stopped as the README says: taxiictl backup while the hub serves,
// the hub stopped, the database moved aside and the backup restored with --restore, the hub started
// again, and audit verify --deep from the ledger head the backup printed.
func TestReadmeBackupAndRestore(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	hubBin := buildHub(t)
	ctl := filepath.Join(dir, "taxiictl")
	if out, err := exec.Command("go", "build", "-C", repo, "-o", ctl, "./cmd/taxiictl").CombinedOutput(); err != nil {
		t.Fatalf("build taxiictl: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	bash := func(cmds []string) string {
		t.Helper()
		script := "set -euo pipefail\n"
		for _, c := range cmds {
			script += strings.Replace(c, "go run ./cmd/taxiihub", hubBin, 1) + "\n"
		}
		cmd := exec.CommandContext(t.Context(), "bash", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TAXIIHUB_URL=http://"+addr, "TAXIIHUB_LISTEN="+addr)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return string(out)
	}
	start := func() *exec.Cmd {
		t.Helper()
		cmd := exec.Command(hubBin, "--seed", filepath.Join(repo, "deploy", "examples", "partnerships.yaml"))
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TAXIIHUB_LISTEN="+addr)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if resp, err := http.Get("http://" + addr + "/taxii2/"); err == nil {
				resp.Body.Close()
				return cmd
			}
			if time.Now().After(deadline) {
				t.Fatal("the hub did not serve within 60 s")
			}
		}
	}
	stop := func(cmd *exec.Cmd) {
		t.Helper()
		if err := errorsOf(cmd.Process.Signal(syscall.SIGTERM), cmd.Wait()); err != nil {
			t.Fatalf("stop the hub: %v", err)
		}
	}

	hub := start()
	// Something to back up: a partner publishes, as in the walk-through.
	token, err := os.ReadFile(filepath.Join(dir, "taxiihub-data", "tokens", "frontex.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/eu-immigration-ct/collections/administrative-records/objects/",
		strings.NewReader(`{"objects":[{"type":"identity","spec_version":"2.1","id":"identity--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9","created":"2026-11-20T09:00:00.000Z","modified":"2026-11-20T09:00:00.000Z","name":"Case 2026-0042","identity_class":"individual"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: status %d", resp.StatusCode)
	}
	backup := readmeCommands(t, "**Backups.** On the embedded database")
	if len(backup) != 1 {
		t.Fatalf("the backup commands: %q", backup)
	}
	out := bash(backup)
	head := regexp.MustCompile(`--ledger-at (\d+:[0-9a-f]{64})`).FindStringSubmatch(out)
	if head == nil {
		t.Fatalf("taxiictl backup printed no ledger head:\n%s", out)
	}
	stop(hub)

	bash(readmeCommands(t, "**Restore.** Stop the hub"))
	hub = start()
	check := readmeCommands(t, "Start the hub as before, then check the restored hub")
	if len(check) != 1 || !strings.Contains(check[0], "SEQ:HASH") {
		t.Fatalf("the check command: %q", check)
	}
	out = bash([]string{strings.Replace(check[0], "SEQ:HASH", head[1], 1)})
	if !strings.Contains(out, "ledger intact") || !strings.Contains(out, "problems: 0") || !strings.Contains(out, "stored versions 1,") {
		t.Errorf("audit verify --deep on the restored hub:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "taxiihub-data.damaged", "taxiihub.db")); err != nil {
		t.Errorf("the damaged database was not kept aside: %v", err)
	}
	stop(hub)
}

func errorsOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
