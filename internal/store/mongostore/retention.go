package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

// Purge removes up to p.Limit of the oldest versions of a collection added before p.Before and adds
// the purge ledger entry, pending, in one transaction; then it chains the entry, as Delete does.
// A purge of 1,000 versions writes 1,000 small delete records and one entry of about 150 KB to the
// oplog, well within MongoDB 4.0's 16 MB per transaction.
func (s *Store) Purge(ctx context.Context, p store.Purge) (store.PurgeResult, error) {
	if err := p.Check(); err != nil {
		return store.PurgeResult{}, fmt.Errorf("mongostore: purge %s: %w", p.CollectionID, err)
	}
	var res store.PurgeResult
	err := s.transact(ctx, func(ctx context.Context) error {
		res = store.PurgeResult{}
		var coll collectionDoc
		if err := s.collections.FindOne(ctx, bson.D{{Key: "_id", Value: p.CollectionID}},
			options.FindOne().SetProjection(bson.D{{Key: "api_root", Value: 1}})).Decode(&coll); err != nil {
			return fmt.Errorf("collection %s: %w", p.CollectionID, translate(err))
		}
		// The keyset index collection_id_date_added serves both the read and the delete.
		expired := bson.D{{Key: "collection_id", Value: p.CollectionID},
			{Key: "date_added", Value: bson.D{{Key: "$lt", Value: p.Before.UnixMicro()}}}}
		cur, err := s.objects.Find(ctx, expired, options.Find().
			SetSort(bson.D{{Key: "date_added", Value: 1}}).SetLimit(int64(p.Limit)+1).
			SetProjection(bson.D{{Key: "object_id", Value: 1}, {Key: "version", Value: 1},
				{Key: "date_added", Value: 1}, {Key: "sha256", Value: 1}}))
		if err != nil {
			return err
		}
		var docs []objectDoc
		if err := cur.All(ctx, &docs); err != nil {
			return err
		}
		if len(docs) > p.Limit {
			docs, res.More = docs[:p.Limit], true
		}
		if len(docs) == 0 {
			return nil
		}
		removed := make([]store.PurgedVersion, len(docs))
		for i, d := range docs {
			removed[i] = store.PurgedVersion{ID: d.ObjectID, Version: fromMicros(d.Version),
				DateAdded: fromMicros(d.DateAdded), SHA256: d.SHA256}
		}
		// Dates added are unique in a collection: the prefix up to the last one read is exactly
		// the versions read, in this transaction's snapshot.
		last := docs[len(docs)-1].DateAdded
		del, err := s.objects.DeleteMany(ctx, bson.D{{Key: "collection_id", Value: p.CollectionID},
			{Key: "date_added", Value: bson.D{{Key: "$lte", Value: last}}}})
		if err != nil {
			return err
		}
		if del.DeletedCount != int64(len(docs)) {
			return fmt.Errorf("removed %d versions where %d were read", del.DeletedCount, len(docs))
		}
		res.Purged = len(docs)
		return s.insertPending(ctx, store.PurgeEntry(p, coll.APIRoot, removed))
	})
	if err != nil {
		return store.PurgeResult{}, fmt.Errorf("mongostore: purge %s before %s: %w", p.CollectionID,
			p.Before.UTC().Format(time.RFC3339), err)
	}
	if res.Purged > 0 {
		// Not an error of the purge, which is committed: see Publish.
		_ = s.sequence(ctx, nil)
	}
	return res, nil
}

// statusIndexes serve the status sweep: the oldest statuses first.
func statusIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{{
		Keys:    bson.D{{Key: "request_timestamp", Value: 1}},
		Options: options.Index().SetName("request_timestamp"),
	}}
}

// PurgeStatuses removes up to limit statuses requested before before that are no longer pending,
// with their parts. The header goes first, so that a reader meeting the status half removed finds
// none rather than a header naming parts that are gone.
func (s *Store) PurgeStatuses(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 || limit > store.MaxLimit {
		return 0, fmt.Errorf("mongostore: purge statuses: %w",
			&store.QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", limit, store.MaxLimit)})
	}
	cur, err := s.statuses.Find(ctx, bson.D{
		{Key: "request_timestamp", Value: bson.D{{Key: "$lt", Value: before.UnixMicro()}}},
		{Key: "pending", Value: false},
	}, options.Find().SetSort(bson.D{{Key: "request_timestamp", Value: 1}}).SetLimit(int64(limit)).
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "parts", Value: 1}}))
	if err != nil {
		return 0, fmt.Errorf("mongostore: find statuses to purge: %w", err)
	}
	var docs []statusDoc
	if err := cur.All(ctx, &docs); err != nil {
		return 0, fmt.Errorf("mongostore: find statuses to purge: %w", err)
	}
	if len(docs) == 0 {
		return 0, nil
	}
	keys := make(bson.A, len(docs))
	var parts bson.A
	for i, d := range docs {
		keys[i] = d.Key
		for n := range d.Parts {
			parts = append(parts, statusPartKey{APIRoot: d.Key.APIRoot, ID: d.Key.ID, N: n})
		}
	}
	// A status saved again meanwhile (a review settling it) is still not pending and still old: the
	// filter repeats the age so that one made newer is spared.
	res, err := s.statuses.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys}}},
		{Key: "request_timestamp", Value: bson.D{{Key: "$lt", Value: before.UnixMicro()}}},
		{Key: "pending", Value: false}})
	if err != nil {
		return 0, fmt.Errorf("mongostore: purge statuses: %w", err)
	}
	if len(parts) > 0 {
		if _, err := s.statusParts.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: parts}}}}); err != nil {
			return int(res.DeletedCount), fmt.Errorf("mongostore: purge parts of statuses: %w", err)
		}
	}
	return int(res.DeletedCount), nil
}
