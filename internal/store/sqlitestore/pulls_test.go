package sqlitestore

import (
	"path/filepath"
	"slices"
	"testing"

	"taxiihub/internal/store"
)

// TestChangedPullDetailsAreNotShown: ids of a compact pull changed in the database no longer match
// the digest the entry's hash commits to, so they are reported and never shown as what was pulled.
func TestChangedPullDetailsAreNotShown(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	items := []store.LedgerItem{{ID: "indicator--00000000-0000-4000-8000-000000000001"}, {ID: "indicator--00000000-0000-4000-8000-000000000002"}}
	if err := s.RecordPull(ctx, store.LedgerEntry{Member: "jpcert", APIRoot: "r", Collection: "c", Endpoint: "objects", Items: items}); err != nil {
		t.Fatal(err)
	}
	entries, err := s.Ledger(ctx, 0, 10)
	if err != nil || len(entries) != 1 {
		t.Fatalf("ledger: %+v, %v", entries, err)
	}
	// A pull of the first object only, made to look like the whole page.
	if _, err := s.write.ExecContext(ctx, `UPDATE pull_details SET items = ? WHERE seq = 1`,
		`[{"id":"indicator--00000000-0000-4000-8000-000000000001"},{"id":"indicator--00000000-0000-4000-8000-000000000003"}]`); err != nil {
		t.Fatal(err)
	}
	altered, err := store.WithPullDetails(ctx, s, entries)
	if err != nil || !slices.Equal(altered, []int64{1}) || len(entries[0].Items) != 0 {
		t.Errorf("changed details: altered %v, %v, items %+v; want entry 1 reported and no ids shown", altered, err, entries[0].Items)
	}
	if v, err := store.VerifyLedger(ctx, s); err != nil || !v.OK {
		t.Errorf("the ledger itself is untouched: %+v, %v", v, err)
	}
}
