package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

type goPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", "list", "-json", "-deps=false", "taxiihub/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages; the rules below would check nothing", len(pkgs))
	}
	return pkgs
}

// importRule says which packages alone may import anything under a prefix.
type importRule struct {
	prefix  string
	allowed []string
	why     string
}

var importRules = []importRule{
	{"go.mongodb.org/", []string{"taxiihub/internal/store/mongostore", "taxiihub/internal/mongotest"},
		"the MongoDB driver is adapted in one place; everything else sees the store contract"},
	{"modernc.org/sqlite", []string{"taxiihub/internal/store/sqlitestore"},
		"the SQLite driver is adapted in one place; everything else sees the store contract"},
	{"github.com/gin-gonic/", []string{"taxiihub/internal/httpapi"},
		"gin stays in the HTTP layer"},
}

func TestDriversAndFrameworkStayInTheirPackages(t *testing.T) {
	for _, p := range listPackages(t) {
		all := slices.Concat(p.Imports, p.TestImports, p.XTestImports)
		for _, rule := range importRules {
			if slices.Contains(rule.allowed, p.ImportPath) {
				continue
			}
			for _, imp := range all {
				if strings.HasPrefix(imp, rule.prefix) {
					t.Errorf("%s imports %s: %s", p.ImportPath, imp, rule.why)
				}
			}
		}
	}
}

func TestStoreContractImportsNoDriver(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", "taxiihub/internal/store")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "taxiihub/internal/store") {
		t.Fatalf("go list -deps did not list the store package itself: %v", deps)
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "go.mongodb.org/") || strings.HasPrefix(d, "modernc.org/") ||
			strings.HasPrefix(d, "github.com/") {
			t.Errorf("the store contract depends on %s; it must stay free of drivers and frameworks", d)
		}
	}
}

func TestTestHelpersStayInTests(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, imp := range p.Imports {
			if imp == "taxiihub/internal/mongotest" {
				t.Errorf("%s imports the test-only mongotest outside its tests", p.ImportPath)
			}
			if imp == "testing" && !strings.HasSuffix(p.ImportPath, "test") {
				t.Errorf("%s imports testing in non-test code; only *test helper packages may", p.ImportPath)
			}
		}
	}
}
