package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

// upgradeID is the counters document recording that the origins of the first fingerprint scheme
// were re-keyed.
const upgradeID = "fingerprints-v2"

// currentSchemePrefix starts the current scheme's fingerprints (policy.FingerprintScheme); the
// store knows it only to tell which origins are older.
const currentSchemePrefix = "v2-"

// upgradePage is how many stored versions upgradeFingerprints fingerprints between lookups.
const upgradePage = 500

// indexContentPulls answers LastPulls.
const indexContentPulls = "member_root_pull_at"

// ledgerIndexes index the member's pulls per partnership, newest first, for LastPulls: one entry
// per pull, about 60 bytes each.
func ledgerIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{{
		Keys: bson.D{{Key: "member_id", Value: 1}, {Key: "api_root", Value: 1}, {Key: "at", Value: -1}},
		Options: options.Index().SetName(indexContentPulls).
			SetPartialFilterExpression(bson.D{{Key: "kind", Value: string(store.LedgerPull)}}),
	}}
}

// upgradeFingerprints gives every origin of a first-scheme fingerprint whose content a collection
// still holds an origin under the current scheme's key, in the same partnership, for the same
// member and time, naming the origin it derives from; then records that it did, so that it runs
// once. Each origin is inserted only where none exists, so processes opening the database at once,
// or a run interrupted and started again, derive each origin once.
func (s *Store) upgradeFingerprints(ctx context.Context, upgrade store.FingerprintUpgrade) error {
	err := s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: upgradeID}}).Err()
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("mongostore: upgrade fingerprints: %w", err)
	}
	legacy := bson.D{{Key: "key", Value: bson.D{{Key: "$regex", Value: "^fp:"},
		{Key: "$not", Value: bson.Regex{Pattern: "^fp:" + currentSchemePrefix}}}}}
	n, err := s.origins.CountDocuments(ctx, legacy, options.Count().SetLimit(1))
	if err != nil {
		return fmt.Errorf("mongostore: upgrade fingerprints: %w", err)
	}
	if n > 0 {
		if err := s.rekeyOrigins(ctx, upgrade); err != nil {
			return fmt.Errorf("mongostore: upgrade fingerprints: %w", err)
		}
	}
	_, err = s.counters.InsertOne(ctx, bson.D{{Key: "_id", Value: upgradeID}, {Key: "at", Value: s.now().UnixMicro()}})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mongostore: upgrade fingerprints: %w", err)
	}
	return nil
}

func (s *Store) rekeyOrigins(ctx context.Context, upgrade store.FingerprintUpgrade) error {
	var colls []struct {
		ID      string `bson:"_id"`
		APIRoot string `bson:"api_root"`
	}
	if err := findAll(ctx, findQuery{coll: s.collections, filter: bson.D{}, sort: bson.D{{Key: "_id", Value: 1}}}, &colls); err != nil {
		return err
	}
	rootOf := map[string]string{}
	for _, c := range colls {
		rootOf[c.ID] = c.APIRoot
	}
	cur, err := s.objects.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "collection_id", Value: 1}, {Key: "content", Value: 1}}).
		SetBatchSize(upgradePage))
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	page := map[string]map[string]string{} // root → legacy key → current key
	n := 0
	flush := func() error {
		for root, keys := range page {
			if err := s.deriveOrigins(ctx, root, keys); err != nil {
				return err
			}
		}
		clear(page)
		n = 0
		return nil
	}
	for cur.Next(ctx) {
		var d struct {
			CollectionID string `bson:"collection_id"`
			Content      []byte `bson:"content"`
		}
		if err := cur.Decode(&d); err != nil {
			return err
		}
		root, ok := rootOf[d.CollectionID]
		legacyFP, current := upgrade(d.Content)
		if !ok || legacyFP == "" || current == "" {
			continue
		}
		if page[root] == nil {
			page[root] = map[string]string{}
		}
		page[root][store.OriginKeyFingerprint(legacyFP)] = store.OriginKeyFingerprint(current)
		if n++; n == upgradePage {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := cur.Err(); err != nil {
		return err
	}
	return flush()
}

// deriveOrigins adds, for each legacy key with an origin in root, an origin of its current key
// where there is none.
func (s *Store) deriveOrigins(ctx context.Context, root string, keys map[string]string) error {
	legacy := make([]string, 0, len(keys))
	for k := range keys {
		legacy = append(legacy, k)
	}
	var found []originDoc
	q := findQuery{coll: s.origins, filter: bson.D{{Key: "key", Value: bson.D{{Key: "$in", Value: legacy}}}, {Key: "api_root", Value: root}},
		sort: bson.D{{Key: "key", Value: 1}, {Key: "api_root", Value: 1}}, hint: indexKeyRoot}
	if err := findAll(ctx, q, &found); err != nil {
		return err
	}
	for _, o := range found {
		_, err := s.origins.UpdateOne(ctx, bson.D{{Key: "key", Value: keys[o.Key]}, {Key: "api_root", Value: root}},
			bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "member_id", Value: o.MemberID}, {Key: "at", Value: o.At},
				{Key: "derived_from", Value: o.Key}}}}, options.UpdateOne().SetUpsert(true))
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return err
		}
	}
	return nil
}

// LastPulls returns when member last received content from each of roots: per root, the newest of
// its pulls there through the index, skipping those that served no content.
func (s *Store) LastPulls(ctx context.Context, member string, roots []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, root := range roots {
		var d struct {
			At int64 `bson:"at"`
		}
		err := s.ledger.FindOne(ctx, bson.D{{Key: "member_id", Value: member}, {Key: "api_root", Value: root},
			{Key: "kind", Value: string(store.LedgerPull)},
			{Key: "endpoint", Value: bson.D{{Key: "$in", Value: store.ContentEndpoints()}}},
			// Older pulls list their items; compact ones have a summary instead.
			{Key: "$or", Value: bson.A{
				bson.D{{Key: "items.0", Value: bson.D{{Key: "$exists", Value: true}}}},
				bson.D{{Key: "pulled", Value: bson.D{{Key: "$exists", Value: true}}}},
			}}},
			options.FindOne().SetSort(bson.D{{Key: "at", Value: -1}}).SetHint(indexContentPulls).
				SetProjection(bson.D{{Key: "at", Value: 1}})).Decode(&d)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			continue
		case err != nil:
			return nil, fmt.Errorf("mongostore: last pulls of %s in %s: %w", member, root, err)
		}
		out[root] = fromMicros(d.At)
	}
	return out, nil
}
