package sqlitestore

import (
	"path/filepath"
	"testing"

	"taxiihub/internal/store"
	"taxiihub/internal/store/storetest"
)

// TestLedgerTampering edits the ledger table directly, as someone with the database file could.
func TestLedgerTampering(t *testing.T) {
	storetest.RunLedgerTampering(t, func(t *testing.T) (store.Store, storetest.Tamper) {
		s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
		exec := func(t *testing.T, query string, args ...any) {
			t.Helper()
			if _, err := s.write.ExecContext(t.Context(), query, args...); err != nil {
				t.Fatalf("tamper: %v", err)
			}
		}
		return s, storetest.Tamper{
			Alter: func(t *testing.T, seq int64) {
				exec(t, `UPDATE ledger SET member_id = 'someone-else' WHERE seq = ?`, seq)
			},
			Delete: func(t *testing.T, seq int64) {
				exec(t, `DELETE FROM ledger WHERE seq = ?`, seq)
			},
			Swap: func(t *testing.T, a, b int64) {
				exec(t, `UPDATE ledger SET seq = -1 WHERE seq = ?`, a)
				exec(t, `UPDATE ledger SET seq = ? WHERE seq = ?`, a, b)
				exec(t, `UPDATE ledger SET seq = ? WHERE seq = -1`, b)
			},
		}
	})
}
