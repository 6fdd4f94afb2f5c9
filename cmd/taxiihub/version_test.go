package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// recordedBuild is what the toolchain recorded in bin, as `go version -m` reads it: the Go
// version and the version-control revision, or "unknown" when the build recorded none (a build
// with -buildvcs=false, or in a git worktree, which the toolchain does not recognise as a checkout).
func recordedBuild(t *testing.T, bin string) (goVersion, revision string) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	revision = "unknown"
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 2 && strings.HasSuffix(fields[0], ":"):
			goVersion = fields[1]
		case len(fields) == 2 && fields[0] == "build" && strings.HasPrefix(fields[1], "vcs.revision="):
			revision = strings.TrimPrefix(fields[1], "vcs.revision=")
		}
	}
	return goVersion, revision
}

// TestVersionAndBuildInfoMetric: --version prints the build the toolchain recorded in the binary
// (revision and Go version), without starting anything, and the hub's metrics carry the same build
// in taxiihub_build_info.
func TestVersionAndBuildInfoMetric(t *testing.T) {
	bin := buildHub(t)
	goVersion, head := recordedBuild(t, bin)
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), bin, "--version", "--listen", "not an address")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("taxiihub --version: %v\n%s", err, out)
	}
	line := strings.TrimSpace(string(out))
	if !strings.HasPrefix(line, "taxiihub ") || !strings.Contains(line, "revision "+head) || !strings.HasSuffix(line, " "+goVersion) || strings.Count(line, "\n") > 0 {
		t.Errorf("taxiihub --version printed %q; want one line naming revision %s", line, head)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("taxiihub --version wrote into its directory: %v", entries)
	}

	base := startHub(t, dir, nil)
	operator, err := os.ReadFile(filepath.Join(dir, "taxiihub-data", "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(operator)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	series := regexp.MustCompile(`(?m)^taxiihub_build_info\{[^}]*revision="` + head + `"[^}]*\} 1$`).Find(body)
	if series == nil {
		t.Fatalf("no taxiihub_build_info series with revision %s in /metrics (status %d)", head, resp.StatusCode)
	}
	if !strings.Contains(string(series), `goversion="`+goVersion+`"`) || !strings.Contains(string(series), `version="`) {
		t.Errorf("taxiihub_build_info lacks its labels: %s", series)
	}
}
