package metrics_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"taxiihub/internal/metrics"
	"taxiihub/internal/store"
	"taxiihub/internal/store/sqlitestore"
)

var _ store.Store = (*metrics.Store)(nil)

func TestStoreTimesCallsByOutcome(t *testing.T) {
	ctx := t.Context()
	sq, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close(ctx) })
	reg := prometheus.NewRegistry()
	st := metrics.NewStore(sq, reg)

	if err := st.CreateAPIRoot(ctx, store.APIRoot{Slug: "eu-japan", Title: "EU–Japan"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAPIRoot(ctx, store.APIRoot{Slug: "eu-japan", Title: "again"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := st.APIRoot(ctx, "nowhere"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing root: %v", err)
	}
	for range 3 {
		if _, err := st.APIRoots(ctx); err != nil {
			t.Fatal(err)
		}
	}

	got := map[[2]string]uint64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "taxiihub_store_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[[2]string{labels["operation"], labels["outcome"]}] = m.GetHistogram().GetSampleCount()
		}
	}
	want := map[[2]string]uint64{
		{"CreateAPIRoot", "ok"}: 1, {"CreateAPIRoot", "conflict"}: 1,
		{"APIRoot", "not_found"}: 1, {"APIRoots", "ok"}: 3,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("observations %v, want %v", got, want)
	}
}

// TestStoreTimesEveryOperation fails when the store contract gains a method that Store passes
// through untimed, so that the histogram keeps covering every call the hub makes.
func TestStoreTimesEveryOperation(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "store.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	timed := map[string]bool{}
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil {
			continue
		}
		if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok {
			if id, ok := star.X.(*ast.Ident); ok && id.Name == "Store" && fn.Name.IsExported() {
				timed[fn.Name.Name] = true
			}
		}
	}
	contract := reflect.TypeFor[store.Store]()
	for i := range contract.NumMethod() {
		name := contract.Method(i).Name
		if name == "Close" {
			continue // shutting down is not a call worth a latency series
		}
		if !timed[name] {
			t.Errorf("store.Store.%s is not timed by metrics.Store", name)
		}
	}
}
