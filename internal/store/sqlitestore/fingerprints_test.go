package sqlitestore

import (
	"path/filepath"
	"strings"
	"testing"
)

// LastPulls searches the index of content pulls, for one root or several: its cost grows with the
// member's pulls in those roots, not with the ledger.
func TestLastPullsUseTheirIndex(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	for _, roots := range [][]string{{"a"}, {"a", "b", "c"}} {
		query, args, err := lastPullsQuery("cert-eu", roots)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if joined := strings.Join(plan, "; "); !strings.Contains(joined, "USING COVERING INDEX ledger_content_pulls") &&
			!strings.Contains(joined, "USING INDEX ledger_content_pulls") || strings.Contains(joined, "SCAN ledger") {
			t.Errorf("%d roots: plan %s, want a search of ledger_content_pulls", len(roots), joined)
		}
	}
}
