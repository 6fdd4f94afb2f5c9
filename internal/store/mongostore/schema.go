package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MongoDB has no schema to migrate: Open creates what is missing (collections, indexes) and
// backfills documents written before a field existed (see setUp), and documents read without a
// newer field take its default. What it cannot do is know that a newer build set the database up
// in a way this one would misread or undo. So each build that changes what Open sets up raises
// SchemaVersion, Open records the highest version that has opened the database (in counters, as
// {_id: "schema", version}), and a build older than that refuses to open it.
//
// Builds before the record existed do not read it: during a rolling upgrade from one of them, the
// older nodes keep running on the database the newer ones set up (see the README's "Upgrades").

// SchemaVersion is what this build sets up: 1 is the first build that records it (statuses
// indexed by request time, collections with a retention).
const SchemaVersion = 1

const schemaID = "schema"

// ErrNewerSchema reports a database that a newer build of the hub has set up.
var ErrNewerSchema = errors.New("the database was set up by a newer build of the hub")

type schemaDoc struct {
	ID      string `bson:"_id"`
	Version int    `bson:"version"`
}

// checkSchema refuses a database whose recorded schema version is above SchemaVersion.
func (s *Store) checkSchema(ctx context.Context) error {
	var d schemaDoc
	err := s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: schemaID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mongostore: read the schema version: %w", err)
	}
	if d.Version > SchemaVersion {
		return fmt.Errorf("mongostore: schema version %d, this build knows up to %d; run the newer build "+
			"(or restore a backup taken before the upgrade): %w", d.Version, SchemaVersion, ErrNewerSchema)
	}
	return nil
}

// recordSchema records that this build's schema is set up; it never lowers the version.
func (s *Store) recordSchema(ctx context.Context) error {
	_, err := s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: schemaID}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "version", Value: SchemaVersion}}}}, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) { // two nodes opening at once: the other inserted it
		_, err = s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: schemaID}},
			bson.D{{Key: "$max", Value: bson.D{{Key: "version", Value: SchemaVersion}}}})
	}
	if err != nil {
		return fmt.Errorf("mongostore: record the schema version: %w", err)
	}
	return nil
}
