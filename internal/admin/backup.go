package admin

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"taxiihub/internal/store"
)

// BackupMediaType is the content type of a backup the admin API sends: an SQLite database file.
const BackupMediaType = "application/vnd.sqlite3"

// Headers of a backup's answer: where its ledger ends and its schema version, so that the operator
// can later prove, on the restored hub, that the ledger still reaches that entry.
const (
	BackupLedgerSeqHeader  = "X-Taxiihub-Ledger-Seq"
	BackupLedgerHashHeader = "X-Taxiihub-Ledger-Hash"
	BackupSchemaHeader     = "X-Taxiihub-Schema-Version"
)

// Backup is a consistent copy of the embedded database, taken while the hub serves, ready to be
// read. Closing it removes the copy from the hub's disk.
type Backup struct {
	io.ReadCloser
	Size          int64
	SchemaVersion int
	// LedgerSeq and LedgerHash (hex) are where the copy's ledger ends: every publication
	// acknowledged before that entry is in the copy, which `audit verify --ledger-at SEQ:HASH` on a
	// restored hub proves.
	LedgerSeq  int64
	LedgerHash string
}

// mongoBackups is what an operator asking a MongoDB hub for a backup is told.
const mongoBackups = "this hub keeps its data in MongoDB, which is backed up with MongoDB's tools " +
	"(mongodump --oplog, or a filesystem snapshot of a replica set member), not through the hub: " +
	"see Backups in the README's Production section"

// Backup copies the hub's database and records, in the audit trail, that the operator took a copy
// of every partner's intelligence.
//
// One backup runs at a time on a node, from the copy until its file is closed: each copy takes as
// much disk as the database, so a second request is refused (conflict) rather than doubling that.
func (s *Service) Backup(ctx context.Context, actor string) (_ Backup, err error) {
	b, ok := s.store.(store.Backups)
	if !ok {
		return Backup{}, conflict(store.ErrNoOnlineBackup, mongoBackups)
	}
	if !s.backingUp.CompareAndSwap(false, true) {
		return Backup{}, conflict(nil, "a backup is already being taken or sent on this hub node; try again once it is done")
	}
	defer func() {
		if err != nil {
			s.backingUp.Store(false)
		}
	}()
	copied, err := b.Backup(ctx)
	if errors.Is(err, store.ErrNoOnlineBackup) {
		return Backup{}, conflict(err, mongoBackups)
	}
	if err != nil {
		return Backup{}, fmt.Errorf("admin: backup: %w", err)
	}
	f, err := os.Open(copied.Path)
	if err != nil {
		return Backup{}, errors.Join(fmt.Errorf("admin: backup: %w", err), os.Remove(copied.Path))
	}
	out := Backup{
		ReadCloser:    removeOnClose{File: f, done: func() { s.backingUp.Store(false) }},
		Size:          copied.Size,
		SchemaVersion: copied.SchemaVersion,
		LedgerSeq:     copied.Ledger.Seq,
		LedgerHash:    hex.EncodeToString(copied.Ledger.Hash),
	}
	if err := s.record(ctx, actor, Change{Action: "backup", Kind: "database", Target: "embedded",
		Detail: fmt.Sprintf("%d bytes, ledger at %d", copied.Size, copied.Ledger.Seq)}); err != nil {
		return Backup{}, errors.Join(err, out.Close())
	}
	return out, nil
}

// removeOnClose deletes the copy once it has been read: the hub keeps no backups of its own.
type removeOnClose struct {
	*os.File
	done func()
}

func (r removeOnClose) Close() error {
	defer r.done()
	return errors.Join(r.File.Close(), os.Remove(r.Name()))
}
