package sqlitestore

import (
	"path/filepath"
	"strings"
	"testing"
)

// Counting what is held, at every scrape, reads the pending_request index and no row: its cost
// grows with the number of held objects, not with their size.
func TestPendingCountsReadTheIndexOnly(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+pendingCountsQuery)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	joined := strings.Join(plan, "; ")
	t.Logf("plan: %s", joined)
	if !strings.Contains(joined, "SCAN pending USING COVERING INDEX pending_request") {
		t.Errorf("plan %s; want a scan of the covering index pending_request", joined)
	}
}
