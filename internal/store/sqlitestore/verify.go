package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"taxiihub/internal/store"
)

// The reads deep verification makes: every stored version with its recorded digest, every origin
// and every withdrawal, each in pages along a primary key or the keyset index.

// The statements deep verification runs, named for TestDeepVerificationQueryPlans. The stored
// versions' is completed with the content column or not, then the range.
const (
	sqlStoredVersions = `SELECT ` + recordColumns + `, content_sha256`
	sqlStoredRange    = ` FROM objects WHERE collection_id = ? AND date_added > ? ORDER BY date_added LIMIT ?`
	sqlOriginsAfter   = `SELECT key, api_root, member_id, at, derived_from FROM origins
		WHERE (key, api_root) > (?, ?) ORDER BY key, api_root LIMIT ?`
	sqlWithdrawalsAfter = `SELECT api_root, object_id, collection_id, member_id, at FROM withdrawals
		WHERE (api_root, object_id) > (?, ?) ORDER BY api_root, object_id LIMIT ?`
)

// limitError refuses a page size outside 1..store.MaxLimit, as every paged read does.
func limitError(limit int) error {
	if limit < 1 || limit > store.MaxLimit {
		return &store.QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", limit, store.MaxLimit)}
	}
	return nil
}

// StoredVersions returns up to limit versions of a collection added after after, in date-added
// order, with their recorded digests: one range read of objects_added.
func (s *Store) StoredVersions(ctx context.Context, collectionID string, after time.Time, limit int, withContent bool) ([]store.StoredVersion, error) {
	if err := limitError(limit); err != nil {
		return nil, fmt.Errorf("sqlitestore: stored versions of %s: %w", collectionID, err)
	}
	from := int64(math.MinInt64)
	if !after.IsZero() {
		from = after.UnixMicro()
	}
	query := sqlStoredVersions
	if withContent {
		query += `, content`
	}
	query += sqlStoredRange
	var out []store.StoredVersion
	err := s.inRead(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM collections WHERE id = ?)`, collectionID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return store.ErrNotFound
		}
		rows, err := tx.QueryContext(ctx, query, collectionID, from, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				v                   store.StoredVersion
				version, added, tlp int64
				dest                = []any{&v.ID, &v.Type, &v.SpecVersion, &version, &added, &tlp, &v.Withdrawn, &v.SHA256}
			)
			if withContent {
				dest = append(dest, &v.Content)
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			v.Version, v.DateAdded, v.TLP = fromMicros(version), fromMicros(added), store.TLP(tlp)
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: stored versions of %s: %w", collectionID, err)
	}
	return out, nil
}

// OriginsAfter returns up to limit origins after after's key and root, in the primary key's order.
func (s *Store) OriginsAfter(ctx context.Context, after store.Origin, limit int) ([]store.Origin, error) {
	if err := limitError(limit); err != nil {
		return nil, fmt.Errorf("sqlitestore: origins: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, sqlOriginsAfter, after.Key, after.APIRoot, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: origins after %s in %s: %w", after.Key, after.APIRoot, err)
	}
	defer rows.Close()
	var out []store.Origin
	for rows.Next() {
		var (
			o  store.Origin
			at int64
		)
		if err := rows.Scan(&o.Key, &o.APIRoot, &o.Member, &at, &o.DerivedFrom); err != nil {
			return nil, fmt.Errorf("sqlitestore: origins after %s in %s: %w", after.Key, after.APIRoot, err)
		}
		o.At = fromMicros(at)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: origins after %s in %s: %w", after.Key, after.APIRoot, err)
	}
	return out, nil
}

// WithdrawalsAfter returns up to limit withdrawals after the object id, in the primary key's order.
func (s *Store) WithdrawalsAfter(ctx context.Context, after store.WithdrawnObject, limit int) ([]store.WithdrawnObject, error) {
	if err := limitError(limit); err != nil {
		return nil, fmt.Errorf("sqlitestore: withdrawals: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, sqlWithdrawalsAfter, after.APIRoot, after.ObjectID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: withdrawals after %s %q: %w", after.APIRoot, after.ObjectID, err)
	}
	defer rows.Close()
	var out []store.WithdrawnObject
	for rows.Next() {
		var (
			w  store.WithdrawnObject
			at int64
		)
		if err := rows.Scan(&w.APIRoot, &w.ObjectID, &w.CollectionID, &w.Member, &at); err != nil {
			return nil, fmt.Errorf("sqlitestore: withdrawals after %s %q: %w", after.APIRoot, after.ObjectID, err)
		}
		w.At = fromMicros(at)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: withdrawals after %s %q: %w", after.APIRoot, after.ObjectID, err)
	}
	return out, nil
}
