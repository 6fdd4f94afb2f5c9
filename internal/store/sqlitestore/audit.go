package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"taxiihub/internal/store"
)

// sqlAudit reads one page of the audit log, named for TestAdminQueryPlans: a range of the rowid.
const sqlAudit = `SELECT seq, at, actor, action, target, detail, state_before, state_after, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`

// AppendAudit records one operator action, chained after the last; e.Seq is ignored. The write lock
// the transaction takes, which every writer in this process or another takes too, serializes
// appends, so the head cannot move between reading and writing it.
//
// The number is one above the highest ever handed out (AUTOINCREMENT's record of it), not the
// head's plus one, so that a number is never reused even if the last entries were removed by hand:
// a reader resuming after one must not skip a later entry. The hash commits to the number, so it is
// given, not left to AUTOINCREMENT.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		head, err := auditHead(ctx, tx)
		if err != nil {
			return err
		}
		if head.Hash == nil {
			// A file migrated by another process that has not chained its trail yet.
			if head, err = chainAuditTx(ctx, tx); err != nil {
				return err
			}
		}
		var last int64
		if err := tx.QueryRowContext(ctx,
			`SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0)`).Scan(&last); err != nil {
			return fmt.Errorf("read the last audit number: %w", err)
		}
		e = e.Chain(max(last, head.Seq)+1, head.Hash)
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO audit (seq, at, actor, action, target, detail, state_before, state_after, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, e.At.UnixMicro(), e.Actor, e.Action, e.Target, e.Detail, e.Before, e.After, e.PrevHash, e.Hash); err != nil {
			return fmt.Errorf("insert entry %d: %w", e.Seq, err)
		}
		return moveAuditHead(ctx, tx, e.Seq, e.Hash)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: append audit entry %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// auditHead reads the audit head in tx; a nil Hash means there is none yet: the trail is not
// chained.
func auditHead(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (store.AuditHead, error) {
	var h store.AuditHead
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.AuditHead{}, fmt.Errorf("read audit head: %w", err)
	}
	return h, nil
}

func moveAuditHead(ctx context.Context, tx *sql.Tx, seq int64, hash []byte) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`, seq, hash); err != nil {
		return fmt.Errorf("move audit head: %w", err)
	}
	return nil
}

// chainAudit chains the entries of a trail written before the audit trail was chained, and creates
// its head, once: a file whose head exists is left alone, so that nothing here can make an entry
// changed since verify.
func (s *Store) chainAudit(ctx context.Context) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		head, err := auditHead(ctx, tx)
		if err != nil || head.Hash != nil {
			return err
		}
		_, err = chainAuditTx(ctx, tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: chain the audit trail: %w", err)
	}
	return nil
}

// chainAuditTx chains every entry in order, in tx, and records the head. Operator actions are few,
// so the trail is read whole; a write lock held for it at upgrade stalls nobody for long.
func chainAuditTx(ctx context.Context, tx *sql.Tx) (store.AuditHead, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, at, actor, action, target, detail FROM audit ORDER BY seq`)
	if err != nil {
		return store.AuditHead{}, fmt.Errorf("read the trail to chain: %w", err)
	}
	var entries []store.AuditEntry
	for rows.Next() {
		var (
			e  store.AuditEntry
			at int64
		)
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			rows.Close()
			return store.AuditHead{}, fmt.Errorf("read the trail to chain: %w", err)
		}
		e.At = fromMicros(at)
		entries = append(entries, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return store.AuditHead{}, fmt.Errorf("read the trail to chain: %w", err)
	}
	head := store.AuditHead{Hash: store.GenesisHash()}
	for _, e := range entries {
		e = e.Chain(e.Seq, head.Hash)
		if _, err := tx.ExecContext(ctx, `UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?`, e.PrevHash, e.Hash, e.Seq); err != nil {
			return store.AuditHead{}, fmt.Errorf("chain audit entry %d: %w", e.Seq, err)
		}
		head = store.AuditHead{Seq: e.Seq, Hash: e.Hash}
	}
	return head, moveAuditHead(ctx, tx, head.Seq, head.Hash)
}

// Audit returns up to limit entries with a sequence number above after, in order. A limit outside
// 1..store.MaxLimit is refused with a *store.QueryError, as a page of objects is.
func (s *Store) Audit(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	if limit < 1 || limit > store.MaxLimit {
		return nil, fmt.Errorf("sqlitestore: audit after %d: %w", after,
			&store.QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", limit, store.MaxLimit)})
	}
	rows, err := s.read.QueryContext(ctx, sqlAudit, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: audit after %d: %w", after, err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var (
			e  store.AuditEntry
			at int64
		)
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Before, &e.After, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("sqlitestore: audit after %d: %w", after, err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: audit after %d: %w", after, err)
	}
	return out, nil
}

// AuditHead returns where the audit trail ends.
func (s *Store) AuditHead(ctx context.Context) (store.AuditHead, error) {
	h, err := auditHead(ctx, s.read)
	if err != nil {
		return store.AuditHead{}, fmt.Errorf("sqlitestore: %w", err)
	}
	if h.Seq == 0 {
		h.Hash = nil
	}
	return h, nil
}
