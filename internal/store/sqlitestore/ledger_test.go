package sqlitestore

import (
	"path/filepath"
	"testing"
	"time"

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

// TestDeepTampering edits objects, origins, withdrawals and the audit trail directly, as someone
// with the database file could.
func TestDeepTampering(t *testing.T) {
	storetest.RunDeepTampering(t, func(t *testing.T) (store.Store, storetest.DeepTamper) {
		s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
		exec := func(t *testing.T, query string, args ...any) {
			t.Helper()
			res, err := s.write.ExecContext(t.Context(), query, args...)
			if err != nil {
				t.Fatalf("tamper: %v", err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				t.Fatalf("tamper: %d rows changed, %v; want 1", n, err)
			}
		}
		return s, storetest.DeepTamper{
			SetContent: func(t *testing.T, collection, id string, version time.Time, content, digest []byte) {
				if digest == nil {
					exec(t, `UPDATE objects SET content = ? WHERE collection_id = ? AND object_id = ? AND version = ?`,
						content, collection, id, version.UnixMicro())
					return
				}
				exec(t, `UPDATE objects SET content = ?, content_sha256 = ? WHERE collection_id = ? AND object_id = ? AND version = ?`,
					content, digest, collection, id, version.UnixMicro())
			},
			DeleteVersion: func(t *testing.T, collection, id string, version time.Time) {
				exec(t, `DELETE FROM objects WHERE collection_id = ? AND object_id = ? AND version = ?`, collection, id, version.UnixMicro())
			},
			SetOrigin: func(t *testing.T, o store.Origin) {
				exec(t, `INSERT INTO origins (key, api_root, member_id, at) VALUES (?, ?, ?, 1)
					ON CONFLICT (key, api_root) DO UPDATE SET member_id = excluded.member_id`, o.Key, o.APIRoot, o.Member)
			},
			DeleteOrigin: func(t *testing.T, root, key string) {
				exec(t, `DELETE FROM origins WHERE key = ? AND api_root = ?`, key, root)
			},
			SetWithdrawal: func(t *testing.T, w store.WithdrawnObject) {
				exec(t, `INSERT INTO withdrawals (api_root, object_id, collection_id, member_id, at) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT (api_root, object_id) DO UPDATE SET collection_id = excluded.collection_id, member_id = excluded.member_id`,
					w.APIRoot, w.ObjectID, w.CollectionID, w.Member, w.At.UnixMicro())
			},
			DeleteWithdrawal: func(t *testing.T, root, objectID string) {
				exec(t, `DELETE FROM withdrawals WHERE api_root = ? AND object_id = ?`, root, objectID)
			},
			AlterAudit: func(t *testing.T, seq int64) {
				exec(t, `UPDATE audit SET actor = 'mallory' WHERE seq = ?`, seq)
			},
			DeleteAudit: func(t *testing.T, seq int64) {
				exec(t, `DELETE FROM audit WHERE seq = ?`, seq)
			},
		}
	})
}
