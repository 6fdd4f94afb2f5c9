package mongostore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

type seedDoc struct {
	Digest string `bson:"_id"`
	Path   string `bson:"path"`
	// AppliedAt is in Unix microseconds.
	AppliedAt int64 `bson:"applied_at"`
}

// RecordSeed records that a seed file was applied; recording a digest again keeps the first record.
func (s *Store) RecordSeed(ctx context.Context, sd store.Seed) error {
	if sd.Digest == "" {
		return errors.New("mongostore: record seed: empty digest")
	}
	_, err := s.seeds.UpdateOne(ctx, bson.D{{Key: "_id", Value: sd.Digest}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{
			{Key: "path", Value: sd.Path},
			{Key: "applied_at", Value: sd.AppliedAt.UnixMicro()},
		}}}, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// Another hub recorded the same file at the same moment; the first record is kept, as asked.
		err = nil
	}
	if err != nil {
		return fmt.Errorf("mongostore: record seed %s: %w", sd.Digest, err)
	}
	return nil
}

// Seeds lists the seed files applied, oldest first. A hub records one or two in its life, so they
// are sorted here rather than through an index of their own.
func (s *Store) Seeds(ctx context.Context) ([]store.Seed, error) {
	var docs []seedDoc
	cur, err := s.seeds.Find(ctx, bson.D{})
	if err == nil {
		err = cur.All(ctx, &docs)
	}
	if err != nil {
		return nil, fmt.Errorf("mongostore: list seeds: %w", err)
	}
	out := make([]store.Seed, 0, len(docs))
	for _, d := range docs {
		out = append(out, store.Seed{Digest: d.Digest, Path: d.Path, AppliedAt: fromMicros(d.AppliedAt)})
	}
	slices.SortFunc(out, func(a, b store.Seed) int {
		return cmp.Or(a.AppliedAt.Compare(b.AppliedAt), cmp.Compare(a.Digest, b.Digest))
	})
	return out, nil
}
