package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"taxiihub/internal/store"
)

// Submit holds a request's objects in the pending table, appends the submit entry and saves the
// status, in one write transaction.
func (s *Store) Submit(ctx context.Context, sub store.Submission) error {
	p := sub.Publication
	if p.DryRun || p.Status == nil {
		return fmt.Errorf("sqlitestore: submit to %s: a submission needs a status and cannot be a dry run", p.CollectionID)
	}
	for i, o := range p.Objects {
		if err := validate(o); err != nil {
			return fmt.Errorf("sqlitestore: submit to %s: object %d: %w", p.CollectionID, i, err)
		}
	}
	warnings := heldWarnings(*p.Status)
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		var root string
		err := tx.QueryRowContext(ctx, `SELECT api_root FROM collections WHERE id = ?`, p.CollectionID).Scan(&root)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO pending (collection_id, api_root, status_id, member_id, token_id,
			object_id, type, spec_version, version, content, tlp, fingerprint, warnings, submitted_at, expires)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for i, o := range p.Objects {
			if _, err := ins.ExecContext(ctx, p.CollectionID, root, p.Status.Status.ID, p.Member, p.TokenID,
				o.ID, o.Type, o.SpecVersion, versionMicros(o.Version), o.Content, int(o.TLP), o.Fingerprint, warnings[i],
				sub.At.UnixMicro(), sub.Expires.UnixMicro()); err != nil {
				return err
			}
		}
		if err := s.appendLedger(ctx, tx, store.SubmitEntry(sub, root)); err != nil {
			return err
		}
		return saveStatus(ctx, tx, p.Status.Hold(p.Objects))
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: submit to %s: %w", p.CollectionID, err)
	}
	return nil
}

// heldWarnings are the warnings of a plan's objects that reached the store, in order.
func heldWarnings(plan store.StatusPlan) []string {
	var out []string
	for _, d := range plan.Details {
		if !d.Refused {
			out = append(out, d.Warnings)
		}
	}
	return out
}

func versionMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

const pendingColumns = `seq, collection_id, api_root, status_id, member_id, token_id, object_id, type, spec_version,
	version, content, tlp, fingerprint, warnings, submitted_at, expires`

// PendingObjects lists held objects, oldest submission first.
func (s *Store) PendingObjects(ctx context.Context, q store.PendingQuery) ([]store.PendingObject, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	out, _, err := pendingIn(ctx, s.read, q)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: pending objects: %w", err)
	}
	return out, nil
}

// pendingIn reads the held objects q selects with db, with their row numbers.
func pendingIn(ctx context.Context, db querier, q store.PendingQuery) ([]store.PendingObject, []int64, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if q.APIRoot != "" {
		add("api_root = ?", q.APIRoot)
	}
	if q.CollectionID != "" {
		add("collection_id = ?", q.CollectionID)
	}
	if q.StatusID != "" {
		add("status_id = ?", q.StatusID)
	}
	if q.Member != "" {
		add("member_id = ?", q.Member)
	}
	if !q.SubmittedBefore.IsZero() {
		add("submitted_at < ?", q.SubmittedBefore.UnixMicro())
	}
	if !q.ExpiredBy.IsZero() {
		add("expires <= ?", q.ExpiredBy.UnixMicro())
	}
	var b strings.Builder
	b.WriteString("SELECT " + pendingColumns + " FROM pending WHERE 1")
	for _, w := range where {
		b.WriteString(" AND " + w)
	}
	if len(q.ObjectIDs) > 0 {
		var err error
		if args, err = whereIn(&b, args, "object_id", q.ObjectIDs); err != nil {
			return nil, nil, err
		}
	}
	b.WriteString(" ORDER BY seq")
	if q.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", q.Limit)
	}
	rows, err := db.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		out  []store.PendingObject
		seqs []int64
	)
	for rows.Next() {
		var (
			p                         store.PendingObject
			seq, version, at, expires int64
			tlp                       int
		)
		if err := rows.Scan(&seq, &p.CollectionID, &p.APIRoot, &p.StatusID, &p.Member, &p.TokenID, &p.Object.ID,
			&p.Object.Type, &p.Object.SpecVersion, &version, &p.Object.Content, &tlp, &p.Object.Fingerprint, &p.Warnings,
			&at, &expires); err != nil {
			return nil, nil, err
		}
		if version != 0 {
			p.Object.Version = time.UnixMicro(version).UTC()
		}
		p.Object.TLP = store.TLP(tlp)
		p.SubmittedAt, p.Expires = time.UnixMicro(at).UTC(), time.UnixMicro(expires).UTC()
		out = append(out, p)
		seqs = append(seqs, seq)
	}
	return out, seqs, rows.Err()
}

// Decide releases or rejects held objects of one request in one write transaction: the rows are
// read and removed, the released ones stored as Publish stores them, the ledger entries appended
// and the status settled, so that an object is decided once, and is either held or decided.
func (s *Store) Decide(ctx context.Context, d store.ReviewDecision) ([]store.ReviewOutcome, error) {
	var out []store.ReviewOutcome
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		out = nil
		held, seqs, err := pendingIn(ctx, tx, store.PendingQuery{CollectionID: d.CollectionID, StatusID: d.StatusID, ObjectIDs: d.ObjectIDs})
		if err != nil {
			return err
		}
		if len(held) == 0 {
			return nil
		}
		for _, seq := range seqs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM pending WHERE seq = ?`, seq); err != nil {
				return err
			}
		}
		first := held[0]
		pub := store.Publication{CollectionID: d.CollectionID, Member: first.Member, TokenID: first.TokenID,
			Release: store.ReleaseEndpoint(d.Reviewer, d.ReviewerToken, d.ReviewerPerson)}
		var released []int
		for i, p := range held {
			if d.Released(p) {
				pub.Objects = append(pub.Objects, p.Object)
				released = append(released, i)
			}
		}
		outcomes := make([]store.Outcome, len(pub.Objects))
		root := first.APIRoot
		if len(pub.Objects) > 0 {
			if _, err := s.addObjects(ctx, tx, d.CollectionID, pub.Objects, outcomes, &pub); err != nil {
				return err
			}
			if err := s.appendLedger(ctx, tx, store.PublishEntry(pub, root, outcomes)); err != nil {
				return err
			}
		}
		st, err := readStatus(ctx, tx, root, d.StatusID)
		if err != nil {
			return err
		}
		var rejected []store.ReviewOutcome
		next := 0
		for i, p := range held {
			var o store.Outcome
			if next < len(released) && released[next] == i {
				o = outcomes[next]
				next++
			}
			msg, ok := d.DecisionMessage(p, o)
			st.Settle(p.Object, msg, ok)
			r := store.ReviewOutcome{Pending: p, Outcome: o, Message: msg}
			out = append(out, r)
			if !d.Released(p) {
				rejected = append(rejected, r)
			}
		}
		if len(rejected) > 0 {
			if err := s.appendLedger(ctx, tx, d.RejectEntry(root, rejected)); err != nil {
				return err
			}
		}
		return saveStatus(ctx, tx, st)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: decide on request %s in %s: %w", d.StatusID, d.CollectionID, err)
	}
	return out, nil
}

const pendingCountsQuery = `SELECT c.api_root, p.collection_id, p.n
	FROM (SELECT collection_id, COUNT(*) AS n FROM pending GROUP BY collection_id) AS p
	JOIN collections AS c ON c.id = p.collection_id
	ORDER BY c.api_root, p.collection_id`

// PendingCounts counts held objects per collection. It reads the pending_request index only (its
// collection id), never a row's content; a collection belongs to one API root, which the join
// gives.
func (s *Store) PendingCounts(ctx context.Context) ([]store.PendingCount, error) {
	rows, err := s.read.QueryContext(ctx, pendingCountsQuery)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: count pending objects: %w", err)
	}
	defer rows.Close()
	var out []store.PendingCount
	for rows.Next() {
		var c store.PendingCount
		if err := rows.Scan(&c.APIRoot, &c.CollectionID, &c.Objects); err != nil {
			return nil, fmt.Errorf("sqlitestore: count pending objects: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: count pending objects: %w", err)
	}
	return out, nil
}
