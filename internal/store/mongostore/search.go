package mongostore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

// indexValueSearch answers SearchValues from the index alone: a value, then one collection, newest
// first. It is partial, so that versions naming nothing (most of a collection that is not
// indicators) take no room in it.
const indexValueSearch = "values_collection_date_added"

// indexUpgradeID is the counters document recording that every version stored has its
// value-search index entries.
const indexUpgradeID = "value-index-v1"

// indexBatch is how many versions indexValues reads and updates at a time, which bounds its memory.
const indexBatch = 500

func valueSearchIndex() mongo.IndexModel {
	return mongo.IndexModel{
		Keys: bson.D{{Key: "values.v", Value: 1}, {Key: "collection_id", Value: 1}, {Key: "date_added", Value: -1}, {Key: "tlp", Value: 1}},
		Options: options.Index().SetName(indexValueSearch).
			SetPartialFilterExpression(bson.D{{Key: "values.v", Value: bson.D{{Key: "$exists", Value: true}}}}),
	}
}

// valuesOf is what a version of type typ is indexed under; nil without an indexer.
func (s *Store) valuesOf(typ string, content []byte) []valueDoc {
	values := store.IndexValues(s.indexer, typ, content)
	if len(values) == 0 {
		return nil
	}
	out := make([]valueDoc, len(values))
	for i, v := range values {
		out[i] = valueDoc{Kind: v.Kind, Value: v.Value}
	}
	return out
}

// indexValues makes the value-search index complete at Open. With an indexer, unless counters
// records that it already did, it gives every stored version without entries that is not a
// tombstone its entries, a batch at a time in _id order, and then records it; an update applies
// only to a version still without entries, so processes opening at once, or a run interrupted and
// started again, do no harm. Without one it removes the record, since the versions this store
// stores will have no entries.
func (s *Store) indexValues(ctx context.Context) error {
	marker := bson.D{{Key: "_id", Value: indexUpgradeID}}
	if s.indexer == nil {
		if _, err := s.counters.DeleteOne(ctx, marker); err != nil {
			return fmt.Errorf("mongostore: value index: %w", err)
		}
		return nil
	}
	err := s.counters.FindOne(ctx, marker).Err()
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("mongostore: value index: %w", err)
	}
	var after any = bson.MinKey{}
	for {
		cur, err := s.objects.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
			options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(indexBatch).
				SetProjection(bson.D{{Key: "type", Value: 1}, {Key: "content", Value: 1}, {Key: "withdrawn", Value: 1}, {Key: "values", Value: 1}}))
		if err != nil {
			return fmt.Errorf("mongostore: value index: %w", err)
		}
		var batch []struct {
			ID        bson.RawValue `bson:"_id"`
			Type      string        `bson:"type"`
			Content   []byte        `bson:"content"`
			Withdrawn bool          `bson:"withdrawn"`
			Values    []valueDoc    `bson:"values"`
		}
		if err := cur.All(ctx, &batch); err != nil {
			return fmt.Errorf("mongostore: value index: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		var updates []mongo.WriteModel
		for _, d := range batch {
			if d.Withdrawn || d.Values != nil {
				continue
			}
			if values := s.valuesOf(d.Type, d.Content); values != nil {
				updates = append(updates, mongo.NewUpdateOneModel().
					SetFilter(bson.D{{Key: "_id", Value: d.ID}, {Key: "values", Value: bson.D{{Key: "$exists", Value: false}}}}).
					SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "values", Value: values}}}}))
			}
		}
		if len(updates) > 0 {
			if _, err := s.objects.BulkWrite(ctx, updates, options.BulkWrite().SetOrdered(false)); err != nil {
				return fmt.Errorf("mongostore: value index: fill: %w", err)
			}
		}
		after = batch[len(batch)-1].ID
	}
	_, err = s.counters.InsertOne(ctx, bson.D{{Key: "_id", Value: indexUpgradeID}, {Key: "at", Value: s.now().UnixMicro()}})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mongostore: value index: %w", err)
	}
	return nil
}

// SearchValues reads, per clearance, the newest versions of the scopes' collections indexed under
// one of the values, then the latest visible version of each object found.
func (s *Store) SearchValues(ctx context.Context, q store.ValueSearch) (store.ValueHits, error) {
	if err := q.Check(); err != nil {
		return store.ValueHits{}, err
	}
	var (
		matches []store.ValueMatch
		full    bool
		tlpOf   = map[string]store.TLP{}
	)
	for _, g := range q.ByClearance() {
		found, groupFull, err := s.searchGroup(ctx, q.Values, g, q.ScanLimit())
		if err != nil {
			return store.ValueHits{}, fmt.Errorf("mongostore: search values: %w", err)
		}
		full = full || groupFull
		matches = append(matches, found...)
		for _, c := range g.CollectionIDs {
			tlpOf[c] = g.MaxTLP
		}
	}
	objects, more := q.CollectMatches(matches, full)
	hits, err := s.latestVisible(ctx, objects, tlpOf)
	if err != nil {
		return store.ValueHits{}, fmt.Errorf("mongostore: search values: %w", err)
	}
	return store.ValueHits{Hits: hits, More: more}, nil
}

// maxIndexBounds is how many (value, collection) pairs one query may give the index and still be
// read as a merge of index ranges, each already newest first, that stops at the limit: MongoDB
// explodes a query into at most 200 such ranges (internalQueryMaxScansToExplode), and beyond that
// sorts every matching version in memory, which fails past 32 MB (a value named by tens of
// thousands of versions).
const maxIndexBounds = 200

// searchGroup reads the newest versions naming one of values in the group's collections, in
// queries of at most maxIndexBounds pairs of a value and a collection: the index bounds of each
// query are its pairs, so that no other collection's entries are read, and each query reads at most
// limit versions. full reports that some query reached its limit.
func (s *Store) searchGroup(ctx context.Context, values []string, g store.ScopeGroup, limit int) ([]store.ValueMatch, bool, error) {
	var (
		out  []store.ValueMatch
		full bool
	)
	for colls := range slices.Chunk(g.CollectionIDs, maxIndexBounds) {
		for vals := range slices.Chunk(values, max(1, maxIndexBounds/len(colls))) {
			found, err := s.searchBounds(ctx, vals, colls, g.MaxTLP, limit)
			if err != nil {
				return nil, false, err
			}
			full = full || len(found) == limit
			out = append(out, found...)
		}
	}
	return out, full, nil
}

func (s *Store) searchBounds(ctx context.Context, values, colls []string, maxTLP store.TLP, limit int) ([]store.ValueMatch, error) {
	q := s.searchQuery(values, colls, maxTLP, limit)
	cur, err := q.coll.Find(ctx, q.filter, q.options())
	if err != nil {
		return nil, err
	}
	var docs []struct {
		CollectionID string     `bson:"collection_id"`
		ObjectID     string     `bson:"object_id"`
		DateAdded    int64      `bson:"date_added"`
		Values       []valueDoc `bson:"values"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]store.ValueMatch, 0, len(docs))
	for _, d := range docs {
		m := store.ValueMatch{CollectionID: d.CollectionID, ObjectID: d.ObjectID, DateAdded: fromMicros(d.DateAdded)}
		// The value searched for, in the order the searcher gave its forms.
		best := len(values)
		for _, v := range d.Values {
			if i := slices.Index(values, v.Value); i >= 0 && i < best {
				best, m.Kind, m.Value = i, v.Kind, v.Value
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// searchQuery is the read behind searchBounds: the ranges of values × colls of
// indexValueSearch, merged newest first, stopping at limit.
func (s *Store) searchQuery(values, colls []string, maxTLP store.TLP, limit int) findQuery {
	filter := bson.D{
		// $exists repeats the index's partial filter, so that the planner may use it.
		{Key: "values.v", Value: bson.D{{Key: "$in", Value: values}, {Key: "$exists", Value: true}}},
		{Key: "collection_id", Value: bson.D{{Key: "$in", Value: colls}}},
	}
	if maxTLP != store.TLPNone {
		filter = append(filter, tlpAtMost(maxTLP))
	}
	return findQuery{
		coll:   s.objects,
		filter: filter,
		sort:   bson.D{{Key: "date_added", Value: -1}},
		hint:   indexValueSearch,
		projection: bson.D{{Key: "_id", Value: 0}, {Key: "collection_id", Value: 1}, {Key: "object_id", Value: 1},
			{Key: "date_added", Value: 1}, {Key: "values", Value: 1}},
		limit: int64(limit),
	}
}

// latestVisible completes the matches with the latest version of each object visible at its
// collection's clearance, reading the versions of the objects found on the primary index, one
// query per clearance.
func (s *Store) latestVisible(ctx context.Context, objects []store.ValueMatch, tlpOf map[string]store.TLP) ([]store.ValueHit, error) {
	type key struct{ coll, id string }
	type latest struct {
		typ            string
		version, added int64
	}
	byTLP := map[store.TLP][]store.ValueMatch{}
	for _, m := range objects {
		byTLP[tlpOf[m.CollectionID]] = append(byTLP[tlpOf[m.CollectionID]], m)
	}
	found := map[key]latest{}
	for tlp, ms := range byTLP {
		var colls, ids []string
		for _, m := range ms {
			colls, ids = append(colls, m.CollectionID), append(ids, m.ObjectID)
		}
		filter := bson.D{
			{Key: "collection_id", Value: bson.D{{Key: "$in", Value: colls}}},
			{Key: "object_id", Value: bson.D{{Key: "$in", Value: ids}}},
			{Key: "withdrawn", Value: bson.D{{Key: "$ne", Value: true}}},
		}
		if tlp != store.TLPNone {
			filter = append(filter, tlpAtMost(tlp))
		}
		cur, err := s.objects.Find(ctx, filter, options.Find().SetHint(indexObjectVersion).
			SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "collection_id", Value: 1}, {Key: "object_id", Value: 1},
				{Key: "type", Value: 1}, {Key: "version", Value: 1}, {Key: "date_added", Value: 1}}))
		if err != nil {
			return nil, err
		}
		for cur.Next(ctx) {
			var d struct {
				CollectionID string `bson:"collection_id"`
				ObjectID     string `bson:"object_id"`
				Type         string `bson:"type"`
				Version      int64  `bson:"version"`
				DateAdded    int64  `bson:"date_added"`
			}
			if err := cur.Decode(&d); err != nil {
				cur.Close(context.WithoutCancel(ctx))
				return nil, err
			}
			if tlpOf[d.CollectionID] != tlp {
				continue // another clearance's collection, read because the filter crosses ids and collections
			}
			k := key{d.CollectionID, d.ObjectID}
			if l, ok := found[k]; !ok || d.Version > l.version {
				found[k] = latest{typ: d.Type, version: d.Version, added: d.DateAdded}
			}
		}
		err = cur.Err()
		cur.Close(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
	}
	var hits []store.ValueHit
	for _, m := range objects {
		l, ok := found[key{m.CollectionID, m.ObjectID}]
		if !ok {
			continue // deleted between the two reads
		}
		hits = append(hits, store.ValueHit{CollectionID: m.CollectionID, ObjectID: m.ObjectID, Type: l.typ,
			Version: fromMicros(l.version), DateAdded: fromMicros(l.added), Kind: m.Kind, Value: m.Value})
	}
	return hits, nil
}

// Browse reads one page of a collection's versions of one type newest first, walking
// collection_type_date_added backwards from q.Before.
func (s *Store) Browse(ctx context.Context, collectionID string, q store.BrowseQuery) (store.Page, error) {
	if err := q.Check(); err != nil {
		return store.Page{}, err
	}
	if err := s.collectionExists(ctx, collectionID); err != nil {
		return store.Page{}, fmt.Errorf("mongostore: browse: %w", err)
	}
	filter := bson.D{{Key: "collection_id", Value: collectionID}, {Key: "type", Value: q.Type}}
	if !q.Before.IsZero() {
		filter = append(filter, bson.E{Key: "date_added", Value: bson.D{{Key: "$lt", Value: q.Before.UnixMicro()}}})
	}
	if q.MaxTLP != store.TLPNone {
		filter = append(filter, tlpAtMost(q.MaxTLP))
	}
	cur, err := s.objects.Find(ctx, filter, options.Find().SetHint(indexTypeDateAdded).
		SetSort(bson.D{{Key: "date_added", Value: -1}}).SetLimit(int64(q.Limit+1)).SetProjection(versionProjection(false)))
	if err != nil {
		return store.Page{}, fmt.Errorf("mongostore: browse %s: %w", collectionID, err)
	}
	records, err := decodeRecords(ctx, cur, q.Limit+1)
	if err != nil {
		return store.Page{}, fmt.Errorf("mongostore: browse %s: %w", collectionID, err)
	}
	var page store.Page
	if len(records) > q.Limit {
		records, page.More = records[:q.Limit], true
	}
	page.Records = records
	return page, nil
}
