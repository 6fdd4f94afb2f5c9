package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taxiihub/internal/store/sqlitestore"
)

// TestBackupCommand backs up an embedded-database hub with taxiictl backup and checks the file is a
// whole taxiihub database whose ledger ends where the command said; a second backup to the same
// name is refused without touching the file; a MongoDB hub answers that its backups are MongoDB's,
// pointing to the README.
func TestBackupCommand(t *testing.T) {
	h := startHub(t)
	h.must(t, "partnership", "create", "backup-test", "--title", "Backup test")
	file := filepath.Join(t.TempDir(), "hub.db")
	var res backupResult
	h.mustJSON(t, &res, "backup", file)
	b, err := sqlitestore.CheckBackup(t.Context(), file)
	if err != nil {
		t.Fatalf("the backup does not check: %v", err)
	}
	if b.Size != res.Bytes || b.Ledger.Seq != res.LedgerSeq || b.SchemaVersion != res.SchemaVersion || b.SchemaVersion == 0 {
		t.Errorf("the backup file is %+v; taxiictl said %+v", b, res)
	}
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	h.fails(t, exitUsage, []string{"exists; a backup never overwrites a file"}, "backup", file)
	if after, err := os.ReadFile(file); err != nil || string(after) != string(before) {
		t.Errorf("a refused backup changed the file (%v)", err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(h.dataDir, ".taxiihub-backup-*")); len(leftovers) > 0 {
		t.Errorf("the hub kept its copies: %v", leftovers)
	}
	if audit := h.must(t, "audit", "--limit", "5"); !strings.Contains(audit, "database.backup") {
		t.Errorf("the audit trail does not record the backup:\n%s", audit)
	}

	// One backup at a time per node: a second while the first is being sent is refused.
	first, err := h.server.Admin().Backup(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	h.fails(t, exitFailed, []string{"backup is already being taken or sent"}, "backup", filepath.Join(t.TempDir(), "second.db"))
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	h.must(t, "backup", filepath.Join(t.TempDir(), "third.db"))

	m := startHub(t, "--mongo-uri", mongod.URI(), "--mongo-database", mongod.Database(t))
	m.fails(t, exitFailed, []string{"mongodump --oplog", "README"}, "backup", filepath.Join(t.TempDir(), "m.db"))
}
