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
	// testsAllowed may import it in their tests alone: benchmarks whose yardstick is the driver.
	testsAllowed []string
	why          string
}

var importRules = []importRule{
	{prefix: "go.mongodb.org/", allowed: []string{"taxiihub/internal/store/mongostore", "taxiihub/internal/mongotest"},
		// BenchmarkIngestVersusRaw measures the hub against the plain driver on the same server.
		testsAllowed: []string{"taxiihub/internal/reliability"},
		why:          "the MongoDB driver is adapted in one place; everything else sees the store contract"},
	{prefix: "modernc.org/sqlite", allowed: []string{"taxiihub/internal/store/sqlitestore"},
		why: "the SQLite driver is adapted in one place; everything else sees the store contract"},
	{prefix: "github.com/gin-gonic/", allowed: []string{"taxiihub/internal/httpapi"},
		why: "gin stays in the HTTP layer"},
}

func TestDriversAndFrameworkStayInTheirPackages(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, rule := range importRules {
			if slices.Contains(rule.allowed, p.ImportPath) {
				continue
			}
			checked := slices.Concat(p.Imports, p.TestImports, p.XTestImports)
			if slices.Contains(rule.testsAllowed, p.ImportPath) {
				checked = p.Imports
			}
			for _, imp := range checked {
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

// layers are the one-way dependencies between the hub's layers: cmd wires, the HTTP layer
// translates, the sharing layer owns the use cases, the store contract is implemented by backends.
// Each entry names packages a layer's non-test code must never depend on, even indirectly.
var layers = []struct {
	pkg       string
	forbidden []string
	why       string
}{
	{"taxiihub/internal/sharing", []string{"github.com/gin-gonic/", "taxiihub/internal/httpapi",
		"taxiihub/internal/taxii", "go.mongodb.org/", "modernc.org/", "taxiihub/internal/store/"},
		"the application layer knows no HTTP, no wire format and no database; every face of the hub calls it"},
	{"taxiihub/internal/policy", []string{"github.com/gin-gonic/", "taxiihub/internal/httpapi", "taxiihub/internal/sharing"},
		"the sharing rules are pure; the sharing layer applies them"},
	{"taxiihub/internal/taxii", []string{"taxiihub/internal/httpapi", "taxiihub/internal/sharing"},
		"the TAXII wire formats are rendered by the HTTP layer from the sharing layer's results"},
	{"taxiihub/internal/console", []string{"github.com/gin-gonic/", "taxiihub/internal/httpapi", "go.mongodb.org/",
		"modernc.org/", "taxiihub/internal/store/"},
		"the console is a face of the hub over the application layer: it reads no store and knows no other face"},
	{"taxiihub/internal/store", []string{"taxiihub/internal/sharing", "taxiihub/internal/httpapi", "taxiihub/internal/taxii"},
		"the store contract is owned below its consumers"},
}

func TestLayersDependOneWay(t *testing.T) {
	for _, l := range layers {
		cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", l.pkg)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", l.pkg, err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, l.pkg) {
			t.Fatalf("go list -deps did not list %s itself", l.pkg)
		}
		for _, d := range deps {
			for _, f := range l.forbidden {
				if d == f || strings.HasPrefix(d, f) {
					t.Errorf("%s depends on %s: %s", l.pkg, d, l.why)
				}
			}
		}
	}
}

// The application layer and the rules speak no HTTP of their own. (The JSON Schema library the STIX
// validator uses imports net/http to fetch remote schemas, which the hub never asks of it, so only
// direct imports are checked here.)
func TestUseCasesImportNoHTTP(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.ImportPath != "taxiihub/internal/sharing" && p.ImportPath != "taxiihub/internal/policy" {
			continue
		}
		for _, imp := range p.Imports {
			if imp == "net/http" || strings.HasPrefix(imp, "net/http/") {
				t.Errorf("%s imports %s", p.ImportPath, imp)
			}
		}
	}
}

// The HTTP layer reaches the use cases through the sharing layer: it imports it, and never the
// store backends.
func TestHTTPLayerCallsTheSharingLayer(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.ImportPath != "taxiihub/internal/httpapi" {
			continue
		}
		if !slices.Contains(p.Imports, "taxiihub/internal/sharing") {
			t.Error("httpapi does not import the sharing layer")
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "taxiihub/internal/store/") {
				t.Errorf("httpapi imports %s; it reaches data only through the sharing layer", imp)
			}
		}
		return
	}
	t.Fatal("httpapi not found")
}

// The console reaches data only through the application layers (sharing for partners, admin for
// operators), which decide every right: it never imports a store backend, and of the store
// contract it may use types but never call a store.
func TestConsoleCallsTheApplicationLayer(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.ImportPath != "taxiihub/internal/console" {
			continue
		}
		for _, want := range []string{"taxiihub/internal/sharing", "taxiihub/internal/admin"} {
			if !slices.Contains(p.Imports, want) {
				t.Errorf("the console does not import %s", want)
			}
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "taxiihub/internal/store/") {
				t.Errorf("the console imports %s; it reaches data only through the application layer", imp)
			}
		}
		return
	}
	t.Fatal("console not found")
}
