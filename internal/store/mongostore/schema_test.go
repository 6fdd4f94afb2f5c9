package mongostore_test

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store/mongostore"
)

// TestOlderBuildRefusesANewerSchema: Open records the schema version it set up, opening again is
// fine, and a database a newer build has set up is refused before anything in it changes.
func TestOlderBuildRefusesANewerSchema(t *testing.T) {
	ctx := t.Context()
	db := mongod.Database(t)
	openStore(t, db)
	openStore(t, db) // the same version again

	client, err := mongo.Connect(options.Client().ApplyURI(mongod.URI()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	counters := client.Database(db).Collection("counters")
	var recorded struct {
		Version int `bson:"version"`
	}
	if err := counters.FindOne(ctx, bson.D{{Key: "_id", Value: "schema"}}).Decode(&recorded); err != nil || recorded.Version != mongostore.SchemaVersion {
		t.Fatalf("recorded schema version %d, %v; want %d", recorded.Version, err, mongostore.SchemaVersion)
	}
	if _, err := counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: "schema"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: mongostore.SchemaVersion + 1}}}}); err != nil {
		t.Fatal(err)
	}
	s, err := mongostore.Open(ctx, mongostore.Config{URI: mongod.URI(), Database: db})
	if err == nil {
		s.Close(ctx)
		t.Fatal("a build opened a database a newer build set up")
	}
	if !errors.Is(err, mongostore.ErrNewerSchema) {
		t.Errorf("open a newer schema: %v, want ErrNewerSchema", err)
	}
	if err := counters.FindOne(ctx, bson.D{{Key: "_id", Value: "schema"}}).Decode(&recorded); err != nil || recorded.Version != mongostore.SchemaVersion+1 {
		t.Errorf("the refused open changed the schema version to %d, %v", recorded.Version, err)
	}
}
