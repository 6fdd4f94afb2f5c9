package mongostore_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

// Withdrawals recorded before they held per partnership (keyed by the object id alone, barring it
// everywhere) are moved at Open to the partnership of their collection, and bar it there only.
func TestOpenScopesOldWithdrawals(t *testing.T) {
	db := mongod.Database(t)
	s := openStore(t, db)
	ctx := t.Context()
	for _, r := range []string{"root", "other"} {
		if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: r, Title: r}); err != nil {
			t.Fatal(err)
		}
	}
	const coll, other = "9a3c5f0e-7b1d-4e2a-8c6f-1d2e3f4a5b6c", "0b1c2d3e-4f50-4a6b-8c7d-8e9f0a1b2c3d"
	for id, root := range map[string]string{coll: "root", other: "other"} {
		if err := s.CreateCollection(ctx, store.Collection{ID: id, APIRoot: root, Title: "C"}); err != nil {
			t.Fatal(err)
		}
	}

	client, err := mongo.Connect(options.Client().ApplyURI(mongod.URI()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	old := []any{
		bson.D{{Key: "_id", Value: "indicator--1"}, {Key: "collection_id", Value: coll}, {Key: "member_id", Value: "cert-eu"}, {Key: "at", Value: int64(1)}},
		bson.D{{Key: "_id", Value: "indicator--2"}, {Key: "collection_id", Value: "a-deleted-collection"}, {Key: "member_id", Value: "cert-eu"}, {Key: "at", Value: int64(2)}},
	}
	if _, err := client.Database(db).Collection("withdrawals").InsertMany(ctx, old); err != nil {
		t.Fatal(err)
	}

	reopened := openStore(t, db)
	left, err := client.Database(db).Collection("withdrawals").CountDocuments(ctx, bson.D{{Key: "api_root", Value: bson.D{{Key: "$exists", Value: false}}}})
	if err != nil || left != 0 {
		t.Errorf("%d withdrawals left unscoped, %v", left, err)
	}
	obj := func(id string) store.Object {
		return store.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Version: time.Now(),
			Content: []byte(`{"type":"indicator","id":"` + id + `"}`)}
	}
	for _, tc := range []struct {
		collection, id string
		want           store.Result
	}{
		{coll, "indicator--1", store.Withdrawn},
		{other, "indicator--1", store.Added},
		{coll, "indicator--2", store.Added},
	} {
		out, err := reopened.Publish(ctx, store.Publication{CollectionID: tc.collection, Member: "cert-eu", Objects: []store.Object{obj(tc.id)}})
		if err != nil || out[0].Result != tc.want {
			t.Errorf("publish %s into %s: %+v, %v; want %v", tc.id, tc.collection, out, err, tc.want)
		}
	}
}
