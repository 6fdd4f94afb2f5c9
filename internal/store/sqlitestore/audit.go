package sqlitestore

import (
	"context"
	"fmt"

	"taxiihub/internal/store"
)

// sqlAudit reads one page of the audit log, named for TestAdminQueryPlans: a range of the rowid.
const sqlAudit = `SELECT seq, at, actor, action, target, detail FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`

// AppendAudit records one operator action; e.Seq is ignored. The sequence number is the row's
// AUTOINCREMENT key, assigned under the write lock that every writer, in this process or another,
// takes before inserting: numbers increase in commit order, and a reader paging by them never sees
// one appear below a number it has already passed.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)`,
		e.At.UnixMicro(), e.Actor, e.Action, e.Target, e.Detail)
	if err != nil {
		return fmt.Errorf("sqlitestore: append audit entry %s %s: %w", e.Action, e.Target, err)
	}
	return nil
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
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
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
