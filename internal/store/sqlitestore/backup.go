package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"taxiihub/internal/store"
)

var _ store.Backups = (*Store)(nil)

// backupPattern names the copies Backup writes next to the database, so that an operator who finds
// one left behind by a crash knows what it is; the hub never reads them.
const backupPattern = ".taxiihub-backup-*.db"

// Backup copies the database with VACUUM INTO, on a connection of its own: the copy is one read
// transaction's snapshot, so it is consistent, and in WAL mode writers carry on meanwhile. Not on
// the reader pool, whose query_only refuses VACUUM even into another file, nor on the writer, which
// writers would then queue behind. The
// copy is written next to the database (the same file system, which has room for the database
// already) and read back to check it and to find where its ledger ends. ctx bounds the copy: the
// driver interrupts SQLite when it ends.
func (s *Store) Backup(ctx context.Context) (store.Backup, error) {
	tmp, err := os.CreateTemp(filepath.Dir(s.path), backupPattern)
	if err != nil {
		return store.Backup{}, fmt.Errorf("sqlitestore: backup: %w", err)
	}
	path := tmp.Name()
	// VACUUM INTO refuses an existing file, even an empty one; the name is reserved, then freed.
	if err := errors.Join(tmp.Close(), os.Remove(path)); err != nil {
		return store.Backup{}, fmt.Errorf("sqlitestore: backup: %w", err)
	}
	fail := func(err error) (store.Backup, error) {
		if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			err = errors.Join(err, rmErr)
		}
		return store.Backup{}, fmt.Errorf("sqlitestore: backup: %w", err)
	}
	q := url.Values{"_pragma": basePragmas}
	conn, err := sql.Open("sqlite", "file:"+(&url.URL{Path: filepath.ToSlash(s.path)}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return fail(err)
	}
	_, err = conn.ExecContext(ctx, `VACUUM INTO ?`, path)
	if err = errors.Join(err, conn.Close()); err != nil {
		return fail(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fail(err)
	}
	b, err := CheckBackup(ctx, path)
	if err != nil {
		return fail(err)
	}
	return b, nil
}

// CheckBackup opens the database file at path read-only and checks that it is a whole taxiihub
// database of a schema this build knows, as a restore must before it puts the file in place: a file
// of another program, a truncated copy or one from a newer build is refused with the reason.
func CheckBackup(ctx context.Context, path string) (store.Backup, error) {
	info, err := os.Stat(path)
	if err != nil {
		return store.Backup{}, fmt.Errorf("check %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return store.Backup{}, fmt.Errorf("check %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath()+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return store.Backup{}, fmt.Errorf("check %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	b := store.Backup{Path: path, Size: info.Size()}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&b.SchemaVersion); err != nil {
		return store.Backup{}, fmt.Errorf("check %s: not an SQLite database: %w", path, err)
	}
	switch {
	case b.SchemaVersion == 0:
		return store.Backup{}, fmt.Errorf("check %s: not a taxiihub database (no schema version)", path)
	case b.SchemaVersion > len(migrations):
		return store.Backup{}, fmt.Errorf("check %s: schema version %d is newer than the %d this build knows; restore it with the build that wrote it", path, b.SchemaVersion, len(migrations))
	}
	var verdict string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&verdict); err != nil {
		return store.Backup{}, fmt.Errorf("check %s: %w", path, err)
	}
	if verdict != "ok" {
		return store.Backup{}, fmt.Errorf("check %s: the database is damaged: %s", path, verdict)
	}
	err = db.QueryRowContext(ctx, `SELECT seq, hash FROM ledger_head WHERE id = 1`).Scan(&b.Ledger.Seq, &b.Ledger.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.Backup{}, fmt.Errorf("check %s: not a taxiihub database (no ledger): %w", path, err)
	}
	return b, nil
}
