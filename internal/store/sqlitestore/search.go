package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	"taxiihub/internal/store"
)

// indexUpgrade marks, in upgrades, that every version stored has its value-search index entries.
const indexUpgrade = "value-index-v1"

// indexBatch is how many stored versions indexValues reads and indexes in one write transaction:
// small enough that a hub filling the index of a large database holds the write lock briefly and
// keeps one batch in memory.
const indexBatch = 500

const sqlInsertValue = `INSERT INTO object_values (collection_id, object_id, version, kind, value, date_added, tlp)
	VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`

// valueIndex writes the value-search index entries of versions as they are stored, through one
// prepared statement per write transaction; without an indexer it writes nothing.
type valueIndex struct {
	indexer store.ValueIndexer
	insert  *sql.Stmt
}

func (s *Store) prepareIndex(ctx context.Context, tx *sql.Tx) (valueIndex, error) {
	if s.indexer == nil {
		return valueIndex{}, nil
	}
	insert, err := tx.PrepareContext(ctx, sqlInsertValue)
	if err != nil {
		return valueIndex{}, err
	}
	return valueIndex{indexer: s.indexer, insert: insert}, nil
}

func (x valueIndex) close() {
	if x.insert != nil {
		x.insert.Close()
	}
}

func (x valueIndex) add(ctx context.Context, collectionID, objectID, typ string, content []byte, version, added int64, tlp store.TLP) error {
	if x.insert == nil {
		return nil
	}
	for _, v := range store.IndexValues(x.indexer, typ, content) {
		if _, err := x.insert.ExecContext(ctx, collectionID, objectID, version, v.Kind, v.Value, added, int(tlp)); err != nil {
			return fmt.Errorf("index the values of %s: %w", objectID, err)
		}
	}
	return nil
}

// indexValues makes the value-search index complete at Open. With an indexer, unless upgrades
// records that it already did, it indexes every stored version that is not a tombstone, a batch at
// a time in rowid order, and then records it: entries already there are kept (ON CONFLICT DO
// NOTHING), so a hub stopped midway starts over without harm. Without one it removes the record,
// since the versions this store stores will have no entries.
func (s *Store) indexValues(ctx context.Context) error {
	if s.indexer == nil {
		if _, err := s.write.ExecContext(ctx, `DELETE FROM upgrades WHERE name = ?`, indexUpgrade); err != nil {
			return fmt.Errorf("value index: %w", err)
		}
		return nil
	}
	var done bool
	if err := s.write.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM upgrades WHERE name = ?)`, indexUpgrade).Scan(&done); err != nil {
		return fmt.Errorf("value index: %w", err)
	}
	if done {
		return nil
	}
	for after := int64(0); ; {
		var last int64
		err := s.inWrite(ctx, func(tx *sql.Tx) error {
			var err error
			last, err = s.indexBatch(ctx, tx, after)
			return err
		})
		if err != nil {
			return fmt.Errorf("value index: fill: %w", err)
		}
		if last == after {
			break
		}
		after = last
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO upgrades (name, at) VALUES (?, ?) ON CONFLICT DO NOTHING`,
		indexUpgrade, s.now().UnixMicro()); err != nil {
		return fmt.Errorf("value index: %w", err)
	}
	return nil
}

// indexBatch indexes up to indexBatch versions with a rowid above after and returns the last rowid
// read (after itself when none was left).
func (s *Store) indexBatch(ctx context.Context, tx *sql.Tx, after int64) (int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT rowid, collection_id, object_id, version, type, date_added, tlp, withdrawn, content
		FROM objects WHERE rowid > ? ORDER BY rowid LIMIT ?`, after, indexBatch)
	if err != nil {
		return after, err
	}
	type version struct {
		coll, id, typ       string
		version, added, tlp int64
		withdrawn           bool
		content             []byte
	}
	var batch []version
	last := after
	for rows.Next() {
		var v version
		if err := rows.Scan(&last, &v.coll, &v.id, &v.version, &v.typ, &v.added, &v.tlp, &v.withdrawn, &v.content); err != nil {
			rows.Close()
			return after, err
		}
		batch = append(batch, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return after, err
	}
	index, err := s.prepareIndex(ctx, tx)
	if err != nil {
		return after, err
	}
	defer index.close()
	for _, v := range batch {
		if v.withdrawn {
			continue
		}
		if err := index.add(ctx, v.coll, v.id, v.typ, v.content, v.version, v.added, store.TLP(v.tlp)); err != nil {
			return after, err
		}
	}
	return last, nil
}

// SearchValues reads, per clearance, the newest index entries of the scopes' collections that hold
// one of the values, then the latest visible version of each object found, in one read snapshot.
func (s *Store) SearchValues(ctx context.Context, q store.ValueSearch) (store.ValueHits, error) {
	if err := q.Check(); err != nil {
		return store.ValueHits{}, err
	}
	var hits store.ValueHits
	err := s.inRead(ctx, func(tx *sql.Tx) error {
		var (
			matches []store.ValueMatch
			full    bool
			tlpOf   = map[string]store.TLP{}
		)
		for _, g := range q.ByClearance() {
			found, groupFull, err := searchGroup(ctx, tx, q.Values, g, q.ScanLimit())
			if err != nil {
				return err
			}
			full = full || groupFull
			matches = append(matches, found...)
			for _, c := range g.CollectionIDs {
				tlpOf[c] = g.MaxTLP
			}
		}
		objects, more := q.CollectMatches(matches, full)
		hits.More = more
		var err error
		hits.Hits, err = latestVisible(ctx, tx, objects, tlpOf)
		return err
	})
	if err != nil {
		return store.ValueHits{}, fmt.Errorf("sqlitestore: search values: %w", err)
	}
	return hits, nil
}

// searchGroup reads the newest entries naming one of values in the group's collections: one probe
// of object_values_search per pair of a value and a collection, each walking the index newest first
// and stopping at limit entries. A probe never reads another collection's entries, and none reads
// more than limit (plus the entries above the group's clearance it skips), however many versions
// name a value: one query over every pair at once would have to sort all their entries first.
func searchGroup(ctx context.Context, tx *sql.Tx, values []string, g store.ScopeGroup, limit int) (matches []store.ValueMatch, full bool, err error) {
	probe, err := tx.PrepareContext(ctx, probeQuery(g.MaxTLP))
	if err != nil {
		return nil, false, err
	}
	defer probe.Close()
	for _, coll := range g.CollectionIDs {
		for _, v := range values {
			rows, err := probe.QueryContext(ctx, v, coll, limit)
			if err != nil {
				return nil, false, err
			}
			n := 0
			for rows.Next() {
				m := store.ValueMatch{CollectionID: coll, Value: v}
				var added int64
				if err := rows.Scan(&m.ObjectID, &added, &m.Kind); err != nil {
					rows.Close()
					return nil, false, err
				}
				m.DateAdded = fromMicros(added)
				matches = append(matches, m)
				n++
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, false, err
			}
			full = full || n == limit
		}
	}
	return matches, full, nil
}

// probeQuery reads the newest index entries of one value in one collection (parameters: value,
// collection, limit) visible at maxTLP, which is a level, never input.
func probeQuery(maxTLP store.TLP) string {
	query := `SELECT object_id, date_added, kind FROM object_values WHERE value = ? AND collection_id = ?`
	if maxTLP != store.TLPNone {
		query += ` AND tlp <= ` + strconv.Itoa(int(maxTLP))
	}
	return query + ` ORDER BY date_added DESC LIMIT ?`
}

// latestVisible completes the matches with the latest version of each object visible at its
// collection's clearance: one query per collection, looking the objects up on the primary key.
func latestVisible(ctx context.Context, tx *sql.Tx, objects []store.ValueMatch, tlpOf map[string]store.TLP) ([]store.ValueHit, error) {
	type key struct{ coll, id string }
	type latest struct {
		typ            string
		version, added int64
	}
	idsOf := map[string][]string{}
	for _, m := range objects {
		idsOf[m.CollectionID] = append(idsOf[m.CollectionID], m.ObjectID)
	}
	found := map[key]latest{}
	for coll, ids := range idsOf {
		list, err := json.Marshal(ids)
		if err != nil {
			return nil, err
		}
		// A string, not []byte: SQLite would read a BLOB as JSONB.
		rows, err := tx.QueryContext(ctx, latestQuery(tlpOf[coll]), coll, string(list))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				id string
				l  latest
			)
			if err := rows.Scan(&id, &l.typ, &l.version, &l.added); err != nil {
				rows.Close()
				return nil, err
			}
			if prev, ok := found[key{coll, id}]; !ok || l.version > prev.version {
				found[key{coll, id}] = l
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var hits []store.ValueHit
	for _, m := range objects {
		l, ok := found[key{m.CollectionID, m.ObjectID}]
		if !ok {
			continue
		}
		hits = append(hits, store.ValueHit{CollectionID: m.CollectionID, ObjectID: m.ObjectID, Type: l.typ,
			Version: fromMicros(l.version), DateAdded: fromMicros(l.added), Kind: m.Kind, Value: m.Value})
	}
	return hits, nil
}

// latestQuery reads the versions visible at maxTLP of some objects of a collection (parameters:
// collection, the ids as a JSON array), without content.
func latestQuery(maxTLP store.TLP) string {
	query := `SELECT object_id, type, version, date_added FROM objects
		WHERE collection_id = ? AND object_id IN (SELECT value FROM json_each(?)) AND withdrawn = 0`
	if maxTLP != store.TLPNone {
		query += ` AND tlp <= ` + strconv.Itoa(int(maxTLP))
	}
	return query
}

// browseQuery reads a page of one type newest first (parameters: collection, type, then before
// when before, then the limit) visible at maxTLP.
func browseQuery(before bool, maxTLP store.TLP) string {
	query := `SELECT ` + recordColumns + ` FROM objects WHERE collection_id = ? AND type = ?`
	if before {
		query += ` AND date_added < ?`
	}
	if maxTLP != store.TLPNone {
		query += ` AND tlp <= ` + strconv.Itoa(int(maxTLP))
	}
	return query + ` ORDER BY date_added DESC LIMIT ?`
}

// Browse reads one page of a collection's versions of one type newest first, walking
// objects_type_added backwards from q.Before.
func (s *Store) Browse(ctx context.Context, collectionID string, q store.BrowseQuery) (store.Page, error) {
	if err := q.Check(); err != nil {
		return store.Page{}, err
	}
	var page store.Page
	err := s.inRead(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM collections WHERE id = ?)`, collectionID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return store.ErrNotFound
		}
		args := []any{collectionID, q.Type}
		if !q.Before.IsZero() {
			args = append(args, q.Before.UnixMicro())
		}
		rows, err := tx.QueryContext(ctx, browseQuery(!q.Before.IsZero(), q.MaxTLP), append(args, q.Limit+1)...)
		if err != nil {
			return err
		}
		records, err := scanRecords(rows, false)
		if err != nil {
			return err
		}
		if len(records) > q.Limit {
			records, page.More = records[:q.Limit], true
		}
		page.Records = records
		return nil
	})
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlitestore: browse %s: %w", collectionID, err)
	}
	return page, nil
}
