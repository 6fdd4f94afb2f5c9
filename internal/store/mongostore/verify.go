package mongostore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

// The reads deep verification makes: every stored version with its recorded digest, every origin
// and every withdrawal, each in pages along a unique index, hinted so that no plan sorts.

// limitError refuses a page size outside 1..store.MaxLimit, as every paged read does.
func limitError(limit int) error {
	if limit < 1 || limit > store.MaxLimit {
		return &store.QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", limit, store.MaxLimit)}
	}
	return nil
}

// StoredVersions returns up to limit versions of a collection added after after, in date-added
// order, with their recorded digests: one range read of the date-added index.
func (s *Store) StoredVersions(ctx context.Context, collectionID string, after time.Time, limit int, withContent bool) ([]store.StoredVersion, error) {
	if err := limitError(limit); err != nil {
		return nil, fmt.Errorf("mongostore: stored versions of %s: %w", collectionID, err)
	}
	if err := s.collectionExists(ctx, collectionID); err != nil {
		return nil, fmt.Errorf("mongostore: stored versions: %w", err)
	}
	from := int64(math.MinInt64)
	if !after.IsZero() {
		from = after.UnixMicro()
	}
	cur, err := s.objects.Find(ctx,
		bson.D{{Key: "collection_id", Value: collectionID}, {Key: "date_added", Value: bson.D{{Key: "$gt", Value: from}}}},
		options.Find().SetSort(bson.D{{Key: "date_added", Value: 1}}).SetHint(indexDateAdded).
			SetLimit(int64(limit)).SetBatchSize(int32(min(limit, readBatchSize))).
			SetProjection(append(versionProjection(withContent), bson.E{Key: "sha256", Value: 1})))
	if err != nil {
		return nil, fmt.Errorf("mongostore: stored versions of %s: %w", collectionID, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	out := make([]store.StoredVersion, 0, limit)
	for cur.Next(ctx) {
		// Decoded twice rather than into one struct embedding versionDoc, which, unexported, the
		// decoder would leave empty.
		var d versionDoc
		var digest struct {
			SHA256 []byte `bson:"sha256"`
		}
		if err := errors.Join(cur.Decode(&d), cur.Decode(&digest)); err != nil {
			return nil, fmt.Errorf("mongostore: decode a stored version of %s: %w", collectionID, err)
		}
		out = append(out, store.StoredVersion{Record: d.record(), SHA256: digest.SHA256})
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("mongostore: stored versions of %s: %w", collectionID, err)
	}
	return out, nil
}

// OriginsAfter returns up to limit origins after after's key and root, in the order of the unique
// (key, api_root) index.
func (s *Store) OriginsAfter(ctx context.Context, after store.Origin, limit int) ([]store.Origin, error) {
	if err := limitError(limit); err != nil {
		return nil, fmt.Errorf("mongostore: origins: %w", err)
	}
	// The bound on key alone is what the index scan starts from; the $or then only drops the
	// origins of after's key up to after's root.
	filter := bson.D{
		{Key: "key", Value: bson.D{{Key: "$gte", Value: after.Key}}},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "key", Value: bson.D{{Key: "$gt", Value: after.Key}}}},
			bson.D{{Key: "api_root", Value: bson.D{{Key: "$gt", Value: after.APIRoot}}}},
		}},
	}
	var docs []originDoc
	q := findQuery{coll: s.origins, filter: filter, sort: bson.D{{Key: "key", Value: 1}, {Key: "api_root", Value: 1}},
		hint: indexKeyRoot, limit: int64(limit)}
	if err := findAll(ctx, q, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: origins after %s in %s: %w", after.Key, after.APIRoot, err)
	}
	out := make([]store.Origin, len(docs))
	for i, d := range docs {
		out[i] = d.origin()
	}
	return out, nil
}

// WithdrawalsAfter returns up to limit withdrawals after the object id, in _id order.
func (s *Store) WithdrawalsAfter(ctx context.Context, after store.WithdrawnObject, limit int) ([]store.WithdrawnObject, error) {
	if err := limitError(limit); err != nil {
		return nil, fmt.Errorf("mongostore: withdrawals: %w", err)
	}
	var docs []withdrawalDoc
	// Ordered by _id, which is the partnership and the object id (see withdrawalKey).
	afterKey := ""
	if after.APIRoot != "" || after.ObjectID != "" {
		afterKey = withdrawalKey(after.APIRoot, after.ObjectID)
	}
	q := findQuery{coll: s.withdrawals, filter: bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: afterKey}}}},
		sort: bson.D{{Key: "_id", Value: 1}}, limit: int64(limit)}
	if err := findAll(ctx, q, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: withdrawals after %s %q: %w", after.APIRoot, after.ObjectID, err)
	}
	out := make([]store.WithdrawnObject, len(docs))
	for i, d := range docs {
		out[i] = store.WithdrawnObject{APIRoot: d.APIRoot, ObjectID: d.ObjectID, CollectionID: d.CollectionID, Member: d.MemberID, At: fromMicros(d.At)}
	}
	return out, nil
}
