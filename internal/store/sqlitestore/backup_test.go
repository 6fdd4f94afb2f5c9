package sqlitestore

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taxiihub/internal/store"
)

// TestBackupIsACheckedCopy takes a backup of a store with content and checks that the copy is a
// database CheckBackup accepts, of this build's schema, ending its ledger where the store's does,
// and that the store keeps no copy of its own beside the database once the caller removed it.
func TestBackupIsACheckedCopy(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := Open(ctx, filepath.Join(dir, "taxiihub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	if err := st.CreateAPIRoot(ctx, store.APIRoot{Slug: "backup", Title: "Backup"}); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordPull(ctx, store.LedgerEntry{Kind: store.LedgerPull, Member: "m", APIRoot: "backup", Collection: "c"}); err != nil {
		t.Fatal(err)
	}
	want, err := st.LedgerHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(b.Path) != dir || b.SchemaVersion != len(migrations) || b.Ledger.Seq != want.Seq || !bytes.Equal(b.Ledger.Hash, want.Hash) || want.Seq == 0 {
		t.Errorf("backup %+v; want beside the database, schema %d, ledger at %+v", b, len(migrations), want)
	}
	copied, err := Open(ctx, b.Path)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := copied.APIRoots(ctx)
	if err = errorsFirst(err, copied.Close(ctx)); err != nil || len(roots) != 1 || roots[0].Slug != "backup" {
		t.Errorf("the copy holds %v (%v)", roots, err)
	}
	if info, err := os.Stat(b.Path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the copy's mode: %v %v", info, err)
	}
}

// TestCheckBackupRefuses lists what a restore must not put in place.
func TestCheckBackupRefuses(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte(strings.Repeat("not a database\n", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "other.db") // an SQLite database of another program
	db, err := sql.Open("sqlite", empty)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.db")
	ndb, err := sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ndb.Exec(`CREATE TABLE t (x); PRAGMA user_version = 9999`); err != nil {
		t.Fatal(err)
	}
	if err := errorsFirst(db.Close(), ndb.Close()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{text, "not an SQLite database"},
		{empty, "not a taxiihub database"},
		{newer, "newer than the"},
		{filepath.Join(dir, "absent.db"), "no such file"},
	} {
		if _, err := CheckBackup(ctx, c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckBackup(%s) = %v; want an error saying %q", filepath.Base(c.path), err, c.want)
		}
	}
}

func errorsFirst(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
