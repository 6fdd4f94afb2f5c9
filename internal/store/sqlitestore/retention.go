package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"taxiihub/internal/store"
)

// Purge removes up to p.Limit of the oldest versions of a collection added before p.Before, and
// records them in a purge ledger entry, in one transaction.
func (s *Store) Purge(ctx context.Context, p store.Purge) (store.PurgeResult, error) {
	if err := p.Check(); err != nil {
		return store.PurgeResult{}, fmt.Errorf("sqlitestore: purge %s: %w", p.CollectionID, err)
	}
	var res store.PurgeResult
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		res = store.PurgeResult{}
		var root string
		err := tx.QueryRowContext(ctx, `SELECT api_root FROM collections WHERE id = ?`, p.CollectionID).Scan(&root)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		// One more than the limit tells whether others remain. The range read of objects_added
		// touches only the versions it returns.
		rows, err := tx.QueryContext(ctx, `SELECT object_id, version, date_added, content_sha256 FROM objects
			WHERE collection_id = ? AND date_added < ? ORDER BY date_added LIMIT ?`,
			p.CollectionID, p.Before.UnixMicro(), p.Limit+1)
		if err != nil {
			return err
		}
		var removed []store.PurgedVersion
		for rows.Next() {
			var (
				v              store.PurgedVersion
				version, added int64
			)
			if err := rows.Scan(&v.ID, &version, &added, &v.SHA256); err != nil {
				rows.Close()
				return err
			}
			v.Version, v.DateAdded = fromMicros(version), fromMicros(added)
			removed = append(removed, v)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if len(removed) > p.Limit {
			removed, res.More = removed[:p.Limit], true
		}
		if len(removed) == 0 {
			return nil
		}
		// Dates added are unique in a collection, so the prefix up to the last one read is exactly
		// the versions read, in the same snapshot.
		last := removed[len(removed)-1].DateAdded.UnixMicro()
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE collection_id = ? AND date_added <= ?`,
			p.CollectionID, last); err != nil {
			return err
		}
		res.Purged = len(removed)
		return s.appendLedger(ctx, tx, store.PurgeEntry(p, root, removed))
	})
	if err != nil {
		return store.PurgeResult{}, fmt.Errorf("sqlitestore: purge %s before %s: %w", p.CollectionID,
			p.Before.UTC().Format(time.RFC3339), err)
	}
	return res, nil
}

// statusRequestAt is a status's request time, in Unix microseconds, read from its body (to the
// millisecond, SQLite's precision there); a body without one reads as now, so that it is kept a
// whole retention rather than purged at once.
const statusRequestAt = `COALESCE(CAST(unixepoch(json_extract(body, '$.request_timestamp'), 'subsec') * 1000000 AS INTEGER),
	CAST(unixepoch('now', 'subsec') * 1000000 AS INTEGER))`

// PurgeStatuses removes up to limit statuses requested before before that are no longer pending.
func (s *Store) PurgeStatuses(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 || limit > store.MaxLimit {
		return 0, fmt.Errorf("sqlitestore: purge statuses: %w",
			&store.QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", limit, store.MaxLimit)})
	}
	var res sql.Result
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		// A node of a release before status retention, sharing the file during a rolling upgrade,
		// saves statuses without request_at: they are dated from their body here, never purged
		// as if they were from 1970.
		if _, err := tx.ExecContext(ctx, `UPDATE statuses SET request_at = `+statusRequestAt+` WHERE request_at = 0`); err != nil {
			return err
		}
		// statuses_by_request finds the old ones; a pending one stays until its review settles it.
		var err error
		res, err = tx.ExecContext(ctx, `DELETE FROM statuses WHERE rowid IN (
			SELECT rowid FROM statuses WHERE request_at < ? AND NOT json_extract(body, '$.pending')
			ORDER BY request_at LIMIT ?)`, before.UnixMicro(), limit)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: purge statuses before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: purge statuses: %w", err)
	}
	return int(n), nil
}
