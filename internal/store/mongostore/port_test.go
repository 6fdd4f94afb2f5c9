//go:build unix

package mongostore_test

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/sqlitestore"
	"taxiihub/internal/store/storetest"
)

// The port's stores index values as the hub's do, so that a search after the move is checked.
func openMongoPorter(t *testing.T) storetest.Porter {
	return openIndexed(t, mongod.Database(t), policy.IndexValues)
}

func openSQLitePorter(t *testing.T) storetest.Porter {
	s, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "hub.db"), sqlitestore.WithValueIndexer(policy.IndexValues))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	return s
}

func TestPort(t *testing.T) {
	t.Run("MongoToMongo", func(t *testing.T) { storetest.RunPort(t, openMongoPorter, openMongoPorter) })
	t.Run("SQLiteToMongo", func(t *testing.T) { storetest.RunPort(t, openSQLitePorter, openMongoPorter) })
	t.Run("MongoToSQLite", func(t *testing.T) { storetest.RunPort(t, openMongoPorter, openSQLitePorter) })
}

// TestEveryCollectionIsExported fails when Open creates a collection that CollectionsExported does
// not map: an export that silently left it out would lose it in a move to another backend.
func TestEveryCollectionIsExported(t *testing.T) {
	database := mongod.Database(t)
	openStore(t, database)
	client, err := mongo.Connect(options.Client().ApplyURI(mongod.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(t.Context())
	names, err := client.Database(database).ListCollectionNames(t.Context(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	mapped := slices.Sorted(maps.Keys(mongostore.CollectionsExported))
	if !slices.Equal(names, mapped) {
		t.Errorf("the database's collections %v differ from those the export maps %v: map every new collection "+
			"to the export kinds that carry it (and export it), or say why it needs none", names, mapped)
	}
	for name, kinds := range mongostore.CollectionsExported {
		for _, k := range kinds {
			if !slices.Contains(store.ExportKinds, k) {
				t.Errorf("collection %s maps to kind %q, which the export does not write", name, k)
			}
		}
	}
}
