//go:build unix

package mongostore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
)

// A search reads the value index as merged ranges, newest first, and stops at its limit: however
// many versions name the value, it examines about limit keys and never sorts; and it reads no range
// of a collection it was not given.
func TestSearchReadsTheValueIndexWithoutSorting(t *testing.T) {
	s := openIndexed(t, mongod.Database(t), policy.IndexValues)
	ctx := t.Context()
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: "root", Title: "Root"}); err != nil {
		t.Fatal(err)
	}
	var colls []string
	for i := range 6 {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		if err := s.CreateCollection(ctx, store.Collection{ID: id, APIRoot: "root", Title: id}); err != nil {
			t.Fatal(err)
		}
		colls = append(colls, id)
	}
	indicators := func(from, n int) []store.Object {
		var out []store.Object
		for i := from; i < from+n; i++ {
			id := fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", i)
			out = append(out, store.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Version: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
				Content: fmt.Appendf(nil, `{"type":"indicator","id":%q,"pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix"}`, id)})
		}
		return out
	}
	// The searched collection and one the search is not given both hold 300 versions naming it.
	if _, err := s.AddObjects(ctx, colls[0], indicators(0, 300)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddObjects(ctx, colls[5], indicators(300, 300)); err != nil {
		t.Fatal(err)
	}
	forms := policy.SearchForms("198.51.100.7")
	const limit = 20
	ex, stages, indexes := readExplain(t)(s.ExplainSearch(ctx, forms, colls[:5], store.TLPAmber, limit))
	if slices.Contains(stages, "SORT") || !slices.Contains(stages, "IXSCAN") {
		t.Errorf("plan stages %v: want index scans and no sort", stages)
	}
	if len(indexes) == 0 || slices.ContainsFunc(indexes, func(n string) bool { return n != "values_collection_date_added" }) {
		t.Errorf("plan reads indexes %v", indexes)
	}
	if ex.ExecutionStats.NReturned != limit {
		t.Errorf("returned %d, want %d", ex.ExecutionStats.NReturned, limit)
	}
	// One key per result, plus at most the head of each of the other ranges merged.
	if maxKeys := int64(limit + len(forms)*5); ex.ExecutionStats.TotalKeysExamined > maxKeys || ex.ExecutionStats.TotalDocsExamined > maxKeys {
		t.Errorf("examined %d keys and %d documents for %d results; want at most %d", ex.ExecutionStats.TotalKeysExamined,
			ex.ExecutionStats.TotalDocsExamined, limit, maxKeys)
	}
}
