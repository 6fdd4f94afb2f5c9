//go:build unix

package mongotest_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/mongotest"
)

var mongod *mongotest.Server

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m, &mongod)) }

func connect(t *testing.T) *mongo.Client {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(mongod.URI()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

func TestTransactionCommitsAcrossCollections(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	db := connect(t).Database(mongod.Database(t))
	orders, audit := db.Collection("orders"), db.Collection("audit")
	// MongoDB 4.0 cannot create collections inside a transaction.
	for _, name := range []string{"orders", "audit"} {
		if err := db.CreateCollection(ctx, name); err != nil {
			t.Fatalf("create collection %s: %v", name, err)
		}
	}

	session, err := db.Client().StartSession()
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	defer session.EndSession(context.Background())
	_, err = session.WithTransaction(ctx, func(ctx context.Context) (any, error) {
		if _, err := orders.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
			return nil, err
		}
		return audit.InsertOne(ctx, bson.D{{Key: "order", Value: 1}})
	})
	if err != nil {
		t.Fatalf("transaction: %v", err)
	}

	for _, coll := range []*mongo.Collection{orders, audit} {
		n, err := coll.CountDocuments(ctx, bson.D{})
		if err != nil {
			t.Fatalf("count %s: %v", coll.Name(), err)
		}
		if n != 1 {
			t.Errorf("%s has %d documents after commit, want 1", coll.Name(), n)
		}
	}
}

func TestDatabaseNamesAreDistinct(t *testing.T) {
	var names []string
	for _, sub := range []string{"same name", "same name"} { // t.Run dedups these as "same_name" and "same_name#01"
		t.Run(sub, func(t *testing.T) {
			name := mongod.Database(t)
			if len(name) > 38 {
				t.Errorf("Database() = %q, %d bytes; want at most 38", name, len(name))
			}
			if strings.ContainsAny(name, `/\. "$*<>:|?#`) {
				t.Errorf("Database() = %q contains a character MongoDB does not allow", name)
			}
			names = append(names, name)
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Errorf("Database() names = %q, want two distinct names", names)
	}
}

func TestDatabaseNameLongTest_________________________________________________________(t *testing.T) {
	name := mongod.Database(t)
	if len(name) > 38 {
		t.Errorf("Database() = %q, %d bytes; want at most 38", name, len(name))
	}
	if !strings.HasPrefix(name, "TestDatabaseNameLongTest") {
		t.Errorf("Database() = %q, want it to start with the test name", name)
	}
}

func TestDatabaseIsDroppedAfterTest(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client := connect(t)

	var name string
	t.Run("uses database", func(t *testing.T) {
		name = mongod.Database(t)
		if _, err := client.Database(name).Collection("c").InsertOne(ctx, bson.D{}); err != nil {
			t.Fatalf("insert: %v", err)
		}
	})

	names, err := client.ListDatabaseNames(ctx, bson.D{{Key: "name", Value: name}})
	if err != nil {
		t.Fatalf("list databases: %v", err)
	}
	if len(names) != 0 {
		t.Errorf("database %q still exists after its test finished", name)
	}
}
