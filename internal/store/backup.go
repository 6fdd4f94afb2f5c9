package store

import (
	"context"
	"errors"
)

// ErrNoOnlineBackup is what Backups.Backup answers on a backend that cannot copy itself while
// serving: MongoDB is backed up with its own tools (mongodump --oplog, or filesystem snapshots of a
// replica set member), never through the hub.
var ErrNoOnlineBackup = errors.New("store: this backend takes no online backup through the hub")

// Backup is a consistent copy of the whole store in one file, taken while the hub serves.
type Backup struct {
	// Path is the copy's file; the caller removes it once it has moved it elsewhere.
	Path string
	// Size is the file's size in bytes.
	Size int64
	// SchemaVersion is the copy's schema version.
	SchemaVersion int
	// Ledger is where the copy's ledger ends: every publication acknowledged before that entry
	// was appended is in the copy.
	Ledger LedgerHead
}

// Backups is implemented by stores that can copy themselves while serving.
type Backups interface {
	// Backup writes a consistent copy of the store to a new file and describes it.
	Backup(ctx context.Context) (Backup, error)
}
