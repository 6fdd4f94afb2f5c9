package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"taxiihub/internal/store"
)

var (
	_ store.Exporter     = (*Store)(nil)
	_ store.ExportSource = (*Store)(nil)
	_ store.ImportTarget = (*Store)(nil)
)

// TablesExported maps every table of the schema to the export kinds that carry it, or to none
// with the reason it needs no kind of its own. A test compares it with the schema, so that a
// table added without being exported fails the build's tests.
var TablesExported = map[string][]store.ExportKind{
	"api_roots":         {store.KindAPIRoot},
	"collections":       {store.KindCollection},
	"objects":           {store.KindObject},
	"statuses":          {store.KindStatus},
	"members":           {store.KindMember},
	"grants":            {store.KindGrant},
	"tokens":            {store.KindToken},
	"verification_keys": {store.KindVerificationKey},
	"audit":             {store.KindAudit},
	"audit_head":        {store.KindAuditHead},
	"memberships":       {store.KindMembership},
	"origins":           {store.KindOrigin},
	"withdrawals":       {store.KindWithdrawal},
	"ledger":            {store.KindLedger},
	"ledger_head":       {store.KindLedgerHead},
	"seeds":             {store.KindSeed},
	"pending":           {store.KindPending},
	"pull_details":      {store.KindPullDetail},
	// object_values is the value-search index, derived from the versions' content by the store's
	// indexer: ImportObjects writes the entries of every version it imports, as a publication
	// does, and a store opened without an indexer has none to carry.
	"object_values": nil,
	// upgrades records schema upgrades Open made to this file's rows; the importing hub's store
	// made its own when it opened, and imported rows are already in the current form (the
	// value-index marker included: imported versions are indexed as they are written).
	"upgrades": nil,
	// sqlite_sequence is SQLite's own record of AUTOINCREMENT numbers, which the imported
	// sequence numbers move.
	"sqlite_sequence": nil,
}

// Export writes every record through emit from one read transaction's snapshot: it copies the
// database with VACUUM INTO, as Backup does (so the data directory needs as much free space again
// as the database while it runs), reads the copy, and removes it. Writers carry on meanwhile, and
// the export holds exactly what was committed when the copy began.
func (s *Store) Export(ctx context.Context, emit func(store.ExportKind, any) error) (err error) {
	b, err := s.Backup(ctx)
	if err != nil {
		return fmt.Errorf("sqlitestore: export: %w", err)
	}
	defer func() {
		for _, p := range []string{b.Path, b.Path + "-wal", b.Path + "-shm"} {
			if rmErr := os.Remove(p); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
				err = errors.Join(err, rmErr)
			}
		}
	}()
	snapshot, err := Open(ctx, b.Path, WithReaders(1))
	if err != nil {
		return fmt.Errorf("sqlitestore: export: %w", err)
	}
	defer func() { err = errors.Join(err, snapshot.Close(context.WithoutCancel(ctx))) }()
	if err := store.Export(ctx, snapshot, store.ExportMark{}, emit); err != nil {
		return fmt.Errorf("sqlitestore: %w", err)
	}
	return nil
}

// LastAdded returns the latest date added the collection ever assigned.
func (s *Store) LastAdded(ctx context.Context, collectionID string) (time.Time, error) {
	var last int64
	err := s.read.QueryRowContext(ctx, `SELECT last_added FROM collections WHERE id = ?`, collectionID).Scan(&last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, fmt.Errorf("sqlitestore: last date added of %s: %w", collectionID, store.ErrNotFound)
	case err != nil:
		return time.Time{}, fmt.Errorf("sqlitestore: last date added of %s: %w", collectionID, err)
	case last == 0:
		return time.Time{}, nil
	}
	return fromMicros(last), nil
}

// StatusKeysAfter lists status keys in primary key order.
func (s *Store) StatusKeysAfter(ctx context.Context, after store.StatusKey, limit int) ([]store.StatusKey, error) {
	if err := limitError(limit); err != nil {
		return nil, fmt.Errorf("sqlitestore: statuses: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT api_root, id FROM statuses
		WHERE (api_root, id) > (?, ?) ORDER BY api_root, id LIMIT ?`, after.APIRoot, after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: statuses: %w", err)
	}
	defer rows.Close()
	var out []store.StatusKey
	for rows.Next() {
		var k store.StatusKey
		if err := rows.Scan(&k.APIRoot, &k.ID); err != nil {
			return nil, fmt.Errorf("sqlitestore: statuses: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: statuses: %w", err)
	}
	return out, nil
}

// importError wraps a failed import write, turning a taken key into store.ErrConflict.
func importError(what string, err error) error {
	if isTaken(err) {
		return fmt.Errorf("sqlitestore: import %s: %w: %w", what, store.ErrConflict, err)
	}
	return fmt.Errorf("sqlitestore: import %s: %w", what, err)
}

// ImportObjects inserts the versions as they were, in one transaction.
func (s *Store) ImportObjects(ctx context.Context, collectionID string, vs []store.StoredVersion) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		var last int64
		err := tx.QueryRowContext(ctx, `SELECT last_added FROM collections WHERE id = ?`, collectionID).Scan(&last)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO objects
			(collection_id, object_id, version, spec_version, type, date_added, content_sha256, content, tlp, withdrawn)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		// Imported versions get their value-search entries as published ones do, in the same
		// transaction: the index's done-marker, which this store set when it opened, stays true.
		index, err := s.prepareIndex(ctx, tx)
		if err != nil {
			return err
		}
		defer index.close()
		for _, v := range vs {
			added := v.DateAdded.UnixMicro()
			if _, err := ins.ExecContext(ctx, collectionID, v.ID, v.Version.UnixMicro(), v.SpecVersion, v.Type, added,
				v.SHA256, v.Content, int64(v.TLP), v.Withdrawn); err != nil {
				return fmt.Errorf("%s at %s: %w", v.ID, v.DateAdded.Format(time.RFC3339Nano), err)
			}
			if !v.Withdrawn {
				if err := index.add(ctx, collectionID, v.ID, v.Type, v.Content, v.Version.UnixMicro(), added, v.TLP); err != nil {
					return err
				}
			}
			last = max(last, added)
		}
		_, err = tx.ExecContext(ctx, `UPDATE collections SET last_added = ? WHERE id = ?`, last, collectionID)
		return err
	})
	if err != nil {
		return importError("objects of "+collectionID, err)
	}
	return nil
}

// ImportLastAdded moves the collection's latest date added up to last.
func (s *Store) ImportLastAdded(ctx context.Context, collectionID string, last time.Time) error {
	if last.IsZero() {
		return nil
	}
	res, err := s.write.ExecContext(ctx, `UPDATE collections SET last_added = MAX(last_added, ?) WHERE id = ?`,
		last.UnixMicro(), collectionID)
	if err := updated(res, err); err != nil {
		return importError("last date added of "+collectionID, err)
	}
	return nil
}

// ImportOrigins inserts the origins as they were.
func (s *Store) ImportOrigins(ctx context.Context, origins []store.Origin) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		for _, o := range origins {
			if _, err := tx.ExecContext(ctx, `INSERT INTO origins (key, api_root, member_id, at, derived_from)
				VALUES (?, ?, ?, ?, ?)`, o.Key, o.APIRoot, o.Member, o.At.UnixMicro(), o.DerivedFrom); err != nil {
				return fmt.Errorf("%s in %s: %w", o.Key, o.APIRoot, err)
			}
		}
		return nil
	})
	if err != nil {
		return importError("origins", err)
	}
	return nil
}

// ImportWithdrawals inserts the withdrawals as they were.
func (s *Store) ImportWithdrawals(ctx context.Context, ws []store.WithdrawnObject) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		for _, w := range ws {
			if _, err := tx.ExecContext(ctx, `INSERT INTO withdrawals (api_root, object_id, collection_id, member_id, at)
				VALUES (?, ?, ?, ?, ?)`, w.APIRoot, w.ObjectID, w.CollectionID, w.Member, w.At.UnixMicro()); err != nil {
				return fmt.Errorf("%s in %s: %w", w.ObjectID, w.APIRoot, err)
			}
		}
		return nil
	})
	if err != nil {
		return importError("withdrawals", err)
	}
	return nil
}

// ImportPending holds the objects for review as they were held.
func (s *Store) ImportPending(ctx context.Context, ps []store.PendingObject) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		for _, p := range ps {
			o := p.Object
			if _, err := tx.ExecContext(ctx, `INSERT INTO pending (collection_id, api_root, status_id, member_id,
				token_id, object_id, type, spec_version, version, content, tlp, fingerprint, warnings, submitted_at, expires)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				p.CollectionID, p.APIRoot, p.StatusID, p.Member, p.TokenID, o.ID, o.Type, o.SpecVersion,
				versionMicros(o.Version), o.Content, int64(o.TLP), o.Fingerprint, p.Warnings,
				p.SubmittedAt.UnixMicro(), p.Expires.UnixMicro()); err != nil {
				return fmt.Errorf("%s: %w", o.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return importError("objects held for review", err)
	}
	return nil
}

// errDiscontinuous reports imported entries that do not continue the chain they are added to.
var errDiscontinuous = errors.New("the entries do not continue the chain")

// ImportLedger appends the entries verbatim after checking that they continue the ledger.
func (s *Store) ImportLedger(ctx context.Context, es []store.LedgerEntry) error {
	if len(es) == 0 {
		return nil
	}
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		head := store.LedgerHead{Hash: store.GenesisHash()}
		err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM ledger_head WHERE id = 1`).Scan(&head.Seq, &head.Hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		for _, e := range es {
			if e.Seq != head.Seq+1 || !bytes.Equal(e.PrevHash, head.Hash) {
				return fmt.Errorf("entry %d after head %d: %w", e.Seq, head.Seq, errDiscontinuous)
			}
			if err := insertLedger(ctx, tx, e); err != nil {
				return err
			}
			head = store.LedgerHead{Seq: e.Seq, Hash: e.Hash}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO ledger_head (id, seq, hash) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`, head.Seq, head.Hash)
		return err
	})
	if err != nil {
		return importError("ledger entries", err)
	}
	return nil
}

// ImportPullDetails inserts the pull details as they were kept.
func (s *Store) ImportPullDetails(ctx context.Context, ds []store.PullDetail) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		for _, d := range ds {
			items, err := encodeItems(d.Items)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO pull_details (seq, at, items) VALUES (?, ?, ?)`,
				d.Seq, d.At.UnixMicro(), items); err != nil {
				return fmt.Errorf("entry %d: %w", d.Seq, err)
			}
		}
		return nil
	})
	if err != nil {
		return importError("pull details", err)
	}
	return nil
}

// ImportAudit appends the entries verbatim after checking that they continue the trail.
func (s *Store) ImportAudit(ctx context.Context, es []store.AuditEntry) error {
	if len(es) == 0 {
		return nil
	}
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		head, err := auditHead(ctx, tx)
		if err != nil {
			return err
		}
		if head.Hash == nil {
			head.Hash = store.GenesisHash()
		}
		for _, e := range es {
			if e.Seq != head.Seq+1 || !bytes.Equal(e.PrevHash, head.Hash) {
				return fmt.Errorf("entry %d after head %d: %w", e.Seq, head.Seq, errDiscontinuous)
			}
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO audit (seq, at, actor, action, target, detail, state_before, state_after, prev_hash, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				e.Seq, e.At.UnixMicro(), e.Actor, e.Action, e.Target, e.Detail, e.Before, e.After, e.PrevHash, e.Hash); err != nil {
				return fmt.Errorf("entry %d: %w", e.Seq, err)
			}
			head = store.AuditHead{Seq: e.Seq, Hash: e.Hash}
		}
		return moveAuditHead(ctx, tx, head.Seq, head.Hash)
	})
	if err != nil {
		return importError("audit entries", err)
	}
	return nil
}

// ResetAuditForImport empties the audit trail, its head and its sequence, and returns what it held.
func (s *Store) ResetAuditForImport(ctx context.Context) ([]store.AuditEntry, error) {
	var own []store.AuditEntry
	for after := int64(0); ; {
		page, err := s.Audit(ctx, after, store.MaxLimit)
		if err != nil {
			return nil, err
		}
		own = append(own, page...)
		if len(page) < store.MaxLimit {
			break
		}
		after = page[len(page)-1].Seq
	}
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM audit`, `DELETE FROM audit_head`,
			`DELETE FROM sqlite_sequence WHERE name = 'audit'`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: reset the audit trail for an import: %w", err)
	}
	return own, nil
}
