package sqlitestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"taxiihub/internal/store"
)

// AddObjects adds object versions to a collection, all in one write transaction: either every
// outcome it reports holds, or (with an error) nothing was written and every outcome is NotStored.
func (s *Store) AddObjects(ctx context.Context, collectionID string, objs []store.Object) ([]store.Outcome, error) {
	out := make([]store.Outcome, len(objs))
	for i, o := range objs {
		if err := validate(o); err != nil {
			return out, fmt.Errorf("sqlitestore: add objects to %s: object %d: %w", collectionID, i, err)
		}
	}
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := s.addObjects(ctx, tx, collectionID, objs, out, nil)
		return err
	})
	if err != nil {
		// The transaction rolled back, so whatever the loop had decided did not happen.
		clear(out)
		return out, fmt.Errorf("sqlitestore: add objects to %s: %w", collectionID, err)
	}
	return out, nil
}

func validate(o store.Object) error {
	switch {
	case o.ID == "":
		return errors.New("empty id")
	case o.Type == "":
		return fmt.Errorf("%s: empty type", o.ID)
	case o.SpecVersion == "":
		return fmt.Errorf("%s: empty spec version", o.ID)
	case len(o.Content) == 0:
		return fmt.Errorf("%s: empty content", o.ID)
	}
	return nil
}

// The statements AddObjects runs per object.
//
// A note on "+date_added", here and in ScanVersions: SQLite's planner, lacking statistics (the hub
// never runs ANALYZE), prefers an index that yields the ORDER BY and stops at the LIMIT, even when
// that means walking the whole collection on objects_added to find the few versions of one object.
// The unary plus keeps objects_added out of such queries, so that they look the object up on the
// primary key and sort its handful of versions instead.
const (
	sqlInsertObject = `INSERT INTO objects
		(collection_id, object_id, version, spec_version, type, date_added, content_sha256, content, tlp, withdrawn)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (collection_id, object_id, version) DO NOTHING`
	// Publish looks up withdrawals and records origins for a whole batch in one statement each, a
	// JSON array read with json_each: one statement per object doubled the time a publication holds
	// the write lock. json_each yields the array in order, so the first origin of a key in the batch
	// is the one kept. ("WHERE true" lets SQLite parse ON CONFLICT after a SELECT.)
	sqlWithdrawnAmong = `SELECT object_id, member_id FROM withdrawals WHERE api_root = ? AND object_id IN (SELECT value FROM json_each(?))`
	sqlOwnersAmong    = `SELECT key, member_id FROM origins WHERE api_root = ? AND key IN (SELECT value FROM json_each(?))`
	sqlAddOrigins     = `INSERT INTO origins (key, api_root, member_id, at)
		SELECT value ->> '$[0]', ?, ?, value ->> '$[1]' FROM json_each(?) WHERE true
		ON CONFLICT (key, api_root) DO NOTHING`
	sqlObjectByVersion = `SELECT content_sha256, date_added FROM objects
		WHERE collection_id = ? AND object_id = ? AND version = ?`
	sqlObjectByContent = `SELECT version, date_added FROM objects
		WHERE collection_id = ? AND object_id = ? AND content_sha256 = ? ORDER BY +date_added LIMIT 1`
)

// addObjects decides and writes each object in turn, filling out, and returns the collection's API
// root. It runs under the write lock, so last_added cannot move under it: each new version gets a
// date added later than every date added the collection has ever assigned, and commit order is
// assignment order. With pub, it also refuses withdrawn ids and records the origins of what it adds.
func (s *Store) addObjects(ctx context.Context, tx *sql.Tx, collectionID string, objs []store.Object, out []store.Outcome,
	pub *store.Publication) (string, error) {
	var (
		last int64
		root string
	)
	err := tx.QueryRowContext(ctx, `SELECT last_added, api_root FROM collections WHERE id = ?`, collectionID).Scan(&last, &root)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", store.ErrNotFound
	case err != nil:
		return "", err
	}
	if err := s.addVersions(ctx, tx, collectionID, root, last, objs, out, pub); err != nil {
		return "", err
	}
	return root, nil
}

func (s *Store) addVersions(ctx context.Context, tx *sql.Tx, collectionID, root string, last int64, objs []store.Object,
	out []store.Outcome, pub *store.Publication) error {
	first := last

	// Prepared once per call: a 1,000-object batch costs one parse of each statement.
	insert, err := tx.PrepareContext(ctx, sqlInsertObject)
	if err != nil {
		return err
	}
	defer insert.Close()
	byVersion, err := tx.PrepareContext(ctx, sqlObjectByVersion)
	if err != nil {
		return err
	}
	defer byVersion.Close()
	byContent, err := tx.PrepareContext(ctx, sqlObjectByContent)
	if err != nil {
		return err
	}
	defer byContent.Close()
	var withdrawn, owners map[string]string
	if pub != nil {
		if withdrawn, err = withdrawnAmong(ctx, tx, root, objs); err != nil {
			return err
		}
		if owners, err = ownersAmong(ctx, tx, root, objs); err != nil {
			return err
		}
	}

	index, err := s.prepareIndex(ctx, tx)
	if err != nil {
		return err
	}
	defer index.close()

	// tryInsert stores o as version v added at d, with its entries in the value-search index, or
	// reports that (id, v) is already taken.
	tryInsert := func(o store.Object, v, d int64, sum []byte) (bool, error) {
		res, err := insert.ExecContext(ctx, collectionID, o.ID, v, o.SpecVersion, o.Type, d, sum, o.Content, int(o.TLP), false)
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		if err != nil || n != 1 {
			return false, err
		}
		return true, index.add(ctx, collectionID, o.ID, o.Type, o.Content, v, d, o.TLP)
	}

	for i, o := range objs {
		if w, ok := withdrawn[o.ID]; ok && store.WithdrawalBars(w, pub.Member) {
			out[i] = store.Outcome{Result: store.Withdrawn}
			continue
		}
		sum := sha256.Sum256(o.Content)
		if pub != nil && !store.MayVersion(owners[o.ID], pub.Member, o) {
			if out[i], err = othersObject(ctx, byVersion, collectionID, o, sum[:]); err != nil {
				return err
			}
			continue
		}
		d := store.NextDateAdded(s.now(), last)
		if !o.Version.IsZero() {
			v := o.Version.UnixMicro()
			ok, err := tryInsert(o, v, d, sum[:])
			if err != nil {
				return fmt.Errorf("insert %s: %w", o.ID, err)
			}
			if ok {
				last = d
				out[i] = store.Outcome{Result: store.Added, Version: fromMicros(v), DateAdded: fromMicros(d)}
				continue
			}
			var (
				stored []byte
				added  int64
			)
			if err := byVersion.QueryRowContext(ctx, collectionID, o.ID, v).Scan(&stored, &added); err != nil {
				return fmt.Errorf("read stored %s: %w", o.ID, err)
			}
			r := store.Unchanged
			if !bytes.Equal(stored, sum[:]) {
				r = store.KeptExisting
			}
			out[i] = store.Outcome{Result: r, Version: fromMicros(v), DateAdded: fromMicros(added)}
			continue
		}

		// No version of its own: a stored version with the same content makes this a no-op, else it
		// becomes a new version identified by its date added.
		var v, added int64
		err := byContent.QueryRowContext(ctx, collectionID, o.ID, sum[:]).Scan(&v, &added)
		switch {
		case err == nil:
			out[i] = store.Outcome{Result: store.Unchanged, Version: fromMicros(v), DateAdded: fromMicros(added)}
			continue
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read stored %s: %w", o.ID, err)
		}
		// A version the object carries itself may already sit on that microsecond; the date added
		// may then move on, since it need only be later than the last one.
		for {
			ok, err := tryInsert(o, d, d, sum[:])
			if err != nil {
				return fmt.Errorf("insert %s: %w", o.ID, err)
			}
			if ok {
				break
			}
			d++
		}
		last = d
		out[i] = store.Outcome{Result: store.Added, Version: fromMicros(d), DateAdded: fromMicros(d)}
	}

	if last != first {
		if _, err := tx.ExecContext(ctx, `UPDATE collections SET last_added = ? WHERE id = ?`, last, collectionID); err != nil {
			return fmt.Errorf("advance last date added: %w", err)
		}
	}
	if pub != nil {
		return recordOrigins(ctx, tx, root, pub.Member, objs, out)
	}
	return nil
}

// othersObject is the outcome of o, which another member owns: a copy of a version the collection
// holds changes nothing, and any other content would be a version only its publisher may add.
func othersObject(ctx context.Context, byVersion *sql.Stmt, collectionID string, o store.Object, sum []byte) (store.Outcome, error) {
	var (
		stored []byte
		added  int64
	)
	v := o.Version.UnixMicro()
	err := byVersion.QueryRowContext(ctx, collectionID, o.ID, v).Scan(&stored, &added)
	switch {
	case err == nil && bytes.Equal(stored, sum):
		return store.Outcome{Result: store.Unchanged, Version: fromMicros(v), DateAdded: fromMicros(added)}, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return store.Outcome{}, fmt.Errorf("read stored %s: %w", o.ID, err)
	}
	return store.Outcome{Result: store.NotOwner}, nil
}

// withdrawnAmong reads which of the objects' ids were withdrawn in root, and by whom.
func withdrawnAmong(ctx context.Context, tx *sql.Tx, root string, objs []store.Object) (map[string]string, error) {
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = o.ID
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("look up withdrawals: %w", err)
	}
	rows, err := tx.QueryContext(ctx, sqlWithdrawnAmong, root, string(list))
	if err != nil {
		return nil, fmt.Errorf("look up withdrawals: %w", err)
	}
	defer rows.Close()
	withdrawn := make(map[string]string)
	for rows.Next() {
		var id, member string
		if err := rows.Scan(&id, &member); err != nil {
			return nil, fmt.Errorf("look up withdrawals: %w", err)
		}
		withdrawn[id] = member
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up withdrawals: %w", err)
	}
	return withdrawn, nil
}

// ownersAmong reads who first published each of the objects' ids in root, by id.
func ownersAmong(ctx context.Context, tx *sql.Tx, root string, objs []store.Object) (map[string]string, error) {
	keys := make([]string, len(objs))
	idOf := make(map[string]string, len(objs))
	for i, o := range objs {
		keys[i] = store.OriginKeyID(o.ID)
		idOf[keys[i]] = o.ID
	}
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("look up owners: %w", err)
	}
	rows, err := tx.QueryContext(ctx, sqlOwnersAmong, root, string(list))
	if err != nil {
		return nil, fmt.Errorf("look up owners: %w", err)
	}
	defer rows.Close()
	owners := make(map[string]string)
	for rows.Next() {
		var key, member string
		if err := rows.Scan(&key, &member); err != nil {
			return nil, fmt.Errorf("look up owners: %w", err)
		}
		owners[idOf[key]] = member
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up owners: %w", err)
	}
	return owners, nil
}

// recordOrigins records member as the origin, in root, of the id and fingerprint of every object the
// batch added, unless another member published either there first.
func recordOrigins(ctx context.Context, tx *sql.Tx, root, member string, objs []store.Object, out []store.Outcome) error {
	if member == "" {
		return nil
	}
	type origin [2]any // key, date added
	var origins []origin
	for i, o := range objs {
		if out[i].Result != store.Added {
			continue
		}
		at := out[i].DateAdded.UnixMicro()
		origins = append(origins, origin{store.OriginKeyID(o.ID), at})
		if o.Fingerprint != "" {
			origins = append(origins, origin{store.OriginKeyFingerprint(o.Fingerprint), at})
		}
	}
	if len(origins) == 0 {
		return nil
	}
	list, err := json.Marshal(origins)
	if err != nil {
		return fmt.Errorf("record origins: %w", err)
	}
	if _, err := tx.ExecContext(ctx, sqlAddOrigins, root, member, string(list)); err != nil {
		return fmt.Errorf("record origins: %w", err)
	}
	return nil
}

// errDryRun ends a dry run's transaction without committing it.
var errDryRun = errors.New("dry run")

// Publish adds objects on a member's behalf, refusing withdrawn ids, recording origins, and appending
// the publish ledger entry, all in one write transaction; a dry run rolls it back.
func (s *Store) Publish(ctx context.Context, p store.Publication) ([]store.Outcome, error) {
	out := make([]store.Outcome, len(p.Objects))
	for i, o := range p.Objects {
		if err := validate(o); err != nil {
			return out, fmt.Errorf("sqlitestore: publish to %s: object %d: %w", p.CollectionID, i, err)
		}
	}
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		root, err := s.addObjects(ctx, tx, p.CollectionID, p.Objects, out, &p)
		if err != nil {
			return err
		}
		if p.DryRun {
			return errDryRun
		}
		if err := s.appendLedger(ctx, tx, store.PublishEntry(p, root, out)); err != nil {
			return err
		}
		if p.Status != nil {
			return saveStatus(ctx, tx, p.Status.Complete(out))
		}
		return nil
	})
	switch {
	case errors.Is(err, errDryRun):
		return out, nil
	case err != nil:
		clear(out)
		return out, fmt.Errorf("sqlitestore: publish to %s: %w", p.CollectionID, err)
	}
	return out, nil
}

// Withdraw replaces every version of an object with the tombstone w.Tombstone builds, records the id
// as withdrawn and appends the withdraw ledger entry, in one write transaction.
func (s *Store) Withdraw(ctx context.Context, w store.Withdrawal) (store.Outcome, error) {
	var out store.Outcome
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		var (
			last int64
			root string
		)
		err := tx.QueryRowContext(ctx, `SELECT last_added, api_root FROM collections WHERE id = ?`, w.CollectionID).Scan(&last, &root)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("collection %s: %w", w.CollectionID, store.ErrNotFound)
		case err != nil:
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+recordColumns+`, content FROM objects
			WHERE collection_id = ? AND object_id = ? ORDER BY version DESC, +date_added DESC`, w.CollectionID, w.ObjectID)
		if err != nil {
			return err
		}
		versions, err := scanRecords(rows, true)
		if err != nil {
			return err
		}
		now := s.now()
		plan, err := w.Plan(versions, now)
		if err != nil {
			return err
		}
		if plan.Done {
			out = plan.Outcome
			return nil
		}
		newest, content, version := versions[0], plan.Content, plan.Version
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE collection_id = ? AND object_id = ?`,
			w.CollectionID, w.ObjectID); err != nil {
			return err
		}
		d := store.NextDateAdded(now, last)
		v := d
		if !version.IsZero() {
			v = version.UnixMicro()
		}
		sum := sha256.Sum256(content)
		if _, err := tx.ExecContext(ctx, sqlInsertObject, w.CollectionID, w.ObjectID, v, newest.SpecVersion, newest.Type,
			d, sum[:], content, int(newest.TLP), true); err != nil {
			return fmt.Errorf("insert the tombstone of %s: %w", w.ObjectID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE collections SET last_added = ? WHERE id = ?`, d, w.CollectionID); err != nil {
			return fmt.Errorf("advance last date added: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO withdrawals (api_root, object_id, collection_id, member_id, at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (api_root, object_id) DO NOTHING`, root, w.ObjectID, w.CollectionID, w.Member, d); err != nil {
			return fmt.Errorf("record the withdrawal of %s: %w", w.ObjectID, err)
		}
		out = store.Outcome{Result: store.Added, Version: fromMicros(v), DateAdded: fromMicros(d)}
		return s.appendLedger(ctx, tx, store.WithdrawEntry(w, root, out, content))
	})
	if err != nil {
		return store.Outcome{}, fmt.Errorf("sqlitestore: withdraw %s from %s: %w", w.ObjectID, w.CollectionID, err)
	}
	return out, nil
}

// TransferOwnership moves origins and withdrawals from one member to another and records it, in one
// write transaction.
func (s *Store) TransferOwnership(ctx context.Context, t store.Transfer) (int, error) {
	var ids, keys []string
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		ids, keys = nil, nil
		// Everything: every key the member holds there, fingerprints too. One object: its id alone.
		which, args := ``, []any{t.APIRoot, t.From}
		if t.ObjectID != "" {
			which, args = ` AND key = ?`, append(args, store.OriginKeyID(t.ObjectID))
		}
		rows, err := tx.QueryContext(ctx, `SELECT key FROM origins WHERE api_root = ? AND member_id = ?`+which+` ORDER BY key`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			if err := rows.Scan(&key); err != nil {
				return err
			}
			keys = append(keys, key)
			if id, ok := store.IDOfOriginKey(key); ok {
				ids = append(ids, id)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE origins SET member_id = ? WHERE api_root = ? AND member_id = ?`+which,
			append([]any{t.To}, args...)...); err != nil {
			return err
		}
		withdrawn, wargs := ``, []any{t.To, t.APIRoot, t.From}
		if t.ObjectID != "" {
			withdrawn, wargs = ` AND object_id = ?`, append(wargs, t.ObjectID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE withdrawals SET member_id = ? WHERE api_root = ? AND member_id = ?`+withdrawn, wargs...); err != nil {
			return err
		}
		if len(keys) == 0 {
			return nil
		}
		return s.appendLedger(ctx, tx, store.TransferEntry(t, keys))
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: transfer %s's objects in %s to %s: %w", t.From, t.APIRoot, t.To, err)
	}
	return len(ids), nil
}

// Origins returns the origins recorded for any of the keys, in any API root.
func (s *Store) Origins(ctx context.Context, keys []string) ([]store.Origin, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString(`SELECT key, api_root, member_id, at, derived_from FROM origins WHERE 1`)
	args, err := whereIn(&b, nil, "key", keys)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: origins: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: origins: %w", err)
	}
	defer rows.Close()
	var out []store.Origin
	for rows.Next() {
		var (
			o  store.Origin
			at int64
		)
		if err := rows.Scan(&o.Key, &o.APIRoot, &o.Member, &at, &o.DerivedFrom); err != nil {
			return nil, fmt.Errorf("sqlitestore: origins: %w", err)
		}
		o.At = fromMicros(at)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: origins: %w", err)
	}
	return out, nil
}

// Objects returns one page of object versions, with content, matching q.
func (s *Store) Objects(ctx context.Context, collectionID string, q store.Query) (store.Page, error) {
	p, err := s.page(ctx, collectionID, q, true)
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlitestore: objects of %s: %w", collectionID, err)
	}
	return p, nil
}

// Manifest is Objects without content.
func (s *Store) Manifest(ctx context.Context, collectionID string, q store.Query) (store.Page, error) {
	p, err := s.page(ctx, collectionID, q, false)
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlitestore: manifest of %s: %w", collectionID, err)
	}
	return p, nil
}

// page runs Paginate inside one read transaction, so that its scans and sibling lookups all see the
// same snapshot; in WAL mode that costs nothing and never waits for the writer.
func (s *Store) page(ctx context.Context, collectionID string, q store.Query, withContent bool) (store.Page, error) {
	var page store.Page
	err := s.inRead(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx,
			`SELECT EXISTS (SELECT 1 FROM collections WHERE id = ?)`, collectionID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return store.ErrNotFound
		}
		var err error
		page, err = store.Paginate(ctx, versions{q: tx, collection: collectionID}, collectionID, q, withContent)
		return err
	})
	return page, err
}

// DeleteVersions removes the versions of one object that f selects and returns how many it removed.
func (s *Store) DeleteVersions(ctx context.Context, collectionID, objectID string, f store.VersionFilter) (int, error) {
	return s.deleteVersions(ctx, store.Deletion{CollectionID: collectionID, ObjectID: objectID, Filter: f}, false)
}

// Delete removes a member's versions and records the deletion in the ledger, in one transaction.
func (s *Store) Delete(ctx context.Context, d store.Deletion) (int, error) {
	return s.deleteVersions(ctx, d, true)
}

// deleteVersions removes the versions d selects; recorded makes it a member's or operator's deletion, which
// is recorded, and spares tombstones unless an operator's.
func (s *Store) deleteVersions(ctx context.Context, d store.Deletion, recorded bool) (int, error) {
	var n int
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		all, err := versions{q: tx, collection: d.CollectionID}.VersionsOf(ctx, []string{d.ObjectID}, store.TLPNone)
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return store.ErrNotFound
		}
		selected := d.Filter.Select(all)
		if len(selected) == 0 {
			return nil
		}
		if recorded && d.Operator == "" && store.HoldsTombstone(selected) {
			return store.ErrTombstone
		}
		del, err := tx.PrepareContext(ctx,
			`DELETE FROM objects WHERE collection_id = ? AND object_id = ? AND version = ?`)
		if err != nil {
			return err
		}
		defer del.Close()
		for _, r := range selected {
			if _, err := del.ExecContext(ctx, d.CollectionID, d.ObjectID, r.Version.UnixMicro()); err != nil {
				return err
			}
		}
		n = len(selected)
		if !recorded {
			return nil
		}
		var root string
		if err := tx.QueryRowContext(ctx, `SELECT api_root FROM collections WHERE id = ?`, d.CollectionID).Scan(&root); err != nil {
			return err
		}
		return s.appendLedger(ctx, tx, store.DeleteEntry(d, root, selected))
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete versions of %s in %s: %w", d.ObjectID, d.CollectionID, err)
	}
	return n, nil
}

// querier is what versions reads through: a transaction, so that a page sees one snapshot.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// versions is the store.VersionSource of one collection. Its errors carry no context of their own:
// Paginate and DeleteVersions, its only callers, add it.
type versions struct {
	q          querier
	collection string
}

var _ store.VersionSource = versions{}

const recordColumns = `object_id, type, spec_version, version, date_added, tlp, withdrawn`

// ScanVersions returns up to s.Limit versions added after s.After, in date-added order.
//
// Without an id filter it is one range read of objects_added (or, for one type, of
// objects_type_added), stopping at the limit: no sort, whatever the size of the collection. Several
// types or spec versions are filtered on the way, which is cheap when they are common and bounded by
// the limit otherwise. With an id filter it looks each id up on the primary key and sorts what it
// finds: ids name few versions, and walking the collection in date order to find them would not be
// bounded at all.
//
// Lists of values are passed as one JSON array parameter, so that no list can reach SQLite's limit
// on bound parameters.
func (v versions) ScanVersions(ctx context.Context, sc store.Scan) ([]store.Record, error) {
	// With ids, the unary plus keeps every index but the primary key out of the plan (see the note
	// on sqlInsertObject): walking objects_added or objects_type_added would cover every version of
	// the collection or of the type to find a few objects.
	added, typ := "date_added", "type"
	if len(sc.IDs) > 0 {
		added, typ = "+date_added", "+type"
	}
	var b strings.Builder
	b.WriteString(`SELECT ` + recordColumns)
	if sc.WithContent {
		b.WriteString(`, content`)
	}
	b.WriteString(` FROM objects WHERE collection_id = ? AND ` + added + ` > ?`)
	args := []any{v.collection, sc.After}
	for _, f := range []struct {
		column string
		values []string
	}{{"object_id", sc.IDs}, {typ, sc.Types}, {"spec_version", sc.SpecVersions}} {
		var err error
		if args, err = whereIn(&b, args, f.column, f.values); err != nil {
			return nil, err
		}
	}
	// Filtered on the way, like several types: a low clearance in a collection of mostly higher
	// levels costs more rows read per page, never a wrong page.
	if sc.MaxTLP != store.TLPNone {
		b.WriteString(` AND tlp <= ?`)
		args = append(args, int(sc.MaxTLP))
	}
	b.WriteString(` ORDER BY ` + added + ` LIMIT ?`)
	args = append(args, sc.Limit)

	rows, err := v.q.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, err
	}
	return scanRecords(rows, sc.WithContent)
}

// VersionsOf returns every version held of the given object ids, without content, leaving out those
// marked above maxTLP.
func (v versions) VersionsOf(ctx context.Context, ids []string, maxTLP store.TLP) ([]store.Record, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString(`SELECT ` + recordColumns + ` FROM objects WHERE collection_id = ?`)
	args, err := whereIn(&b, []any{v.collection}, "object_id", ids)
	if err != nil {
		return nil, err
	}
	if maxTLP != store.TLPNone {
		b.WriteString(` AND tlp <= ?`)
		args = append(args, int(maxTLP))
	}
	rows, err := v.q.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, err
	}
	return scanRecords(rows, false)
}

// whereIn appends "AND column IN values" to b and its parameter to args. One value is an equality,
// which lets the planner walk an index in order; more are one JSON array read with json_each.
// column is SQL, never input.
func whereIn(b *strings.Builder, args []any, column string, values []string) ([]any, error) {
	switch len(values) {
	case 0:
		return args, nil
	case 1:
		b.WriteString(` AND ` + column + ` = ?`)
		return append(args, values[0]), nil
	}
	list, err := json.Marshal(values)
	if err != nil {
		return nil, err
	}
	b.WriteString(` AND ` + column + ` IN (SELECT value FROM json_each(?))`)
	// A string, not []byte: SQLite would read a BLOB as JSONB.
	return append(args, string(list)), nil
}

func scanRecords(rows *sql.Rows, withContent bool) ([]store.Record, error) {
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		var (
			r                   store.Record
			version, added, tlp int64
			dest                = []any{&r.ID, &r.Type, &r.SpecVersion, &version, &added, &tlp, &r.Withdrawn}
		)
		if withContent {
			dest = append(dest, &r.Content)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		r.Version, r.DateAdded, r.TLP = fromMicros(version), fromMicros(added), store.TLP(tlp)
		out = append(out, r)
	}
	return out, rows.Err()
}
