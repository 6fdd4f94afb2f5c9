package sqlitestore

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDeepVerificationQueryPlans: the pages deep verification reads are ranges of an index, in its
// order, with no sort: they cost the same at the end of a collection of millions as at its start.
func TestDeepVerificationQueryPlans(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	for _, tc := range []struct {
		name, query string
		args        []any
		want        string
	}{
		{"stored versions", sqlStoredVersions + sqlStoredRange, []any{"c", 0, 10},
			"SEARCH objects USING INDEX objects_added (collection_id=? AND date_added>?)"},
		{"stored versions with content", sqlStoredVersions + `, content` + sqlStoredRange, []any{"c", 0, 10},
			"SEARCH objects USING INDEX objects_added (collection_id=? AND date_added>?)"},
		{"origins", sqlOriginsAfter, []any{"id:x", "r", 10}, "SEARCH origins USING PRIMARY KEY ((key,api_root)>(?,?))"},
		{"withdrawals", sqlWithdrawalsAfter, []any{"r", "x", 10}, "SEARCH withdrawals USING PRIMARY KEY ((api_root,object_id)>(?,?))"},
	} {
		rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var lines []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, detail)
		}
		rows.Close()
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, tc.want) || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan\n%s\nwant %q and no sort", tc.name, plan, tc.want)
		}
	}
}
