package server

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"taxiihub/internal/store/sqlitestore"
)

// RestoreFlag puts a backup in place of the embedded database and exits, instead of serving. It is
// a command, like --version, so it has no environment variable or config key: a restore left in a
// deployment's settings would be attempted at every start.
const RestoreFlag = "--restore"

// Restore checks that file is a whole taxiihub database of a schema this build knows (see
// sqlitestore.CheckBackup) and makes it the embedded database of cfg's data directory, which must
// hold none yet: a restore never overwrites data, so an operator moves the damaged database aside
// first and keeps it until the restored hub verifies. The file is copied beside its final name and
// renamed once synced, so that a restore cut short leaves no half database to start on.
func Restore(ctx context.Context, cfg Config, file string, log *slog.Logger) error {
	if cfg.MongoURI != "" || cfg.MongoURIFile != "" {
		return errors.New("restore: this hub keeps its data in MongoDB, which is restored with mongorestore --oplogReplay or from a snapshot; see Backups in the README")
	}
	b, err := sqlitestore.CheckBackup(ctx, file)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("restore: create data directory: %w", err)
	}
	target := filepath.Join(cfg.DataDir, DatabaseFile)
	for _, p := range []string{target, target + "-wal", target + "-shm"} {
		info, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("restore: %w", err)
		case info.Size() > 0 || p != target:
			return fmt.Errorf("restore: %s exists; move the data directory's database files aside first (a restore never overwrites a database)", p)
		}
	}
	if err := copyInPlace(file, target); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	log.InfoContext(ctx, "restored the embedded database; start the hub and run taxiictl audit verify --deep",
		"from", file, "to", target, "bytes", b.Size, "schema_version", b.SchemaVersion,
		"ledger_seq", b.Ledger.Seq, "ledger_hash", hex.EncodeToString(b.Ledger.Hash))
	return nil
}

// copyInPlace copies src to a temporary file in dst's directory, syncs it and renames it to dst.
func copyInPlace(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".restore-*.db")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(tmp.Name()))
		}
	}()
	if _, err := io.Copy(tmp, in); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if err := errors.Join(tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
