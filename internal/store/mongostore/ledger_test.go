//go:build unix

package mongostore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"taxiihub/internal/store"
	"taxiihub/internal/store/storetest"
)

// TestLedgerTampering edits the ledger collection directly, as someone with write access to the
// database could.
func TestLedgerTampering(t *testing.T) {
	// Majority writes, so that the store's majority reads see the tampering at once.
	client, err := mongo.Connect(options.Client().ApplyURI(mongod.URI()).SetWriteConcern(writeconcern.Majority()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	storetest.RunLedgerTampering(t, func(t *testing.T) (store.Store, storetest.Tamper) {
		db := mongod.Database(t)
		s := openStore(t, db)
		ledger := client.Database(db).Collection("ledger")
		byID := func(seq int64) bson.D { return bson.D{{Key: "_id", Value: seq}} }
		check := func(t *testing.T, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("tamper: %v", err)
			}
		}
		return s, storetest.Tamper{
			Alter: func(t *testing.T, seq int64) {
				_, err := ledger.UpdateOne(t.Context(), byID(seq),
					bson.D{{Key: "$set", Value: bson.D{{Key: "member_id", Value: "someone-else"}}}})
				check(t, err)
			},
			Delete: func(t *testing.T, seq int64) {
				_, err := ledger.DeleteOne(t.Context(), byID(seq))
				check(t, err)
			},
			Swap: func(t *testing.T, a, b int64) {
				var da, db bson.D
				check(t, ledger.FindOneAndDelete(t.Context(), byID(a)).Decode(&da))
				check(t, ledger.FindOneAndDelete(t.Context(), byID(b)).Decode(&db))
				_, err := ledger.InsertOne(t.Context(), withID(db, a))
				check(t, err)
				_, err = ledger.InsertOne(t.Context(), withID(da, b))
				check(t, err)
			},
		}
	})
}

// TestDeepTampering edits objects, origins, withdrawals and the audit trail directly, as someone
// with write access to the database could.
func TestDeepTampering(t *testing.T) {
	// Majority writes, so that the store's majority reads see the tampering at once.
	client, err := mongo.Connect(options.Client().ApplyURI(mongod.URI()).SetWriteConcern(writeconcern.Majority()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	storetest.RunDeepTampering(t, func(t *testing.T) (store.Store, storetest.DeepTamper) {
		name := mongod.Database(t)
		s := openStore(t, name)
		db := client.Database(name)
		changed := func(t *testing.T, res *mongo.UpdateResult, err error) {
			t.Helper()
			if err != nil || res.MatchedCount+res.UpsertedCount != 1 {
				t.Fatalf("tamper: %+v, %v; want one document changed", res, err)
			}
		}
		deleted := func(t *testing.T, res *mongo.DeleteResult, err error) {
			t.Helper()
			if err != nil || res.DeletedCount != 1 {
				t.Fatalf("tamper: %+v, %v; want one document removed", res, err)
			}
		}
		version := func(collection, id string, v time.Time) bson.D {
			return bson.D{{Key: "collection_id", Value: collection}, {Key: "object_id", Value: id}, {Key: "version", Value: v.UnixMicro()}}
		}
		set := func(fields bson.D) bson.D { return bson.D{{Key: "$set", Value: fields}} }
		upsert := options.UpdateOne().SetUpsert(true)
		return s, storetest.DeepTamper{
			SetContent: func(t *testing.T, collection, id string, v time.Time, content, digest []byte) {
				fields := bson.D{{Key: "content", Value: content}}
				if digest != nil {
					fields = append(fields, bson.E{Key: "sha256", Value: digest})
				}
				res, err := db.Collection("objects").UpdateOne(t.Context(), version(collection, id, v), set(fields))
				changed(t, res, err)
			},
			DeleteVersion: func(t *testing.T, collection, id string, v time.Time) {
				res, err := db.Collection("objects").DeleteOne(t.Context(), version(collection, id, v))
				deleted(t, res, err)
			},
			SetOrigin: func(t *testing.T, o store.Origin) {
				res, err := db.Collection("origins").UpdateOne(t.Context(),
					bson.D{{Key: "key", Value: o.Key}, {Key: "api_root", Value: o.APIRoot}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "member_id", Value: o.Member}}},
						{Key: "$setOnInsert", Value: bson.D{{Key: "at", Value: int64(1)}}}}, upsert)
				changed(t, res, err)
			},
			DeleteOrigin: func(t *testing.T, root, key string) {
				res, err := db.Collection("origins").DeleteOne(t.Context(), bson.D{{Key: "key", Value: key}, {Key: "api_root", Value: root}})
				deleted(t, res, err)
			},
			SetWithdrawal: func(t *testing.T, w store.WithdrawnObject) {
				res, err := db.Collection("withdrawals").UpdateOne(t.Context(), bson.D{{Key: "_id", Value: w.APIRoot + "|" + w.ObjectID}},
					set(bson.D{{Key: "api_root", Value: w.APIRoot}, {Key: "object_id", Value: w.ObjectID},
						{Key: "collection_id", Value: w.CollectionID}, {Key: "member_id", Value: w.Member},
						{Key: "at", Value: w.At.UnixMicro()}}), upsert)
				changed(t, res, err)
			},
			DeleteWithdrawal: func(t *testing.T, root, objectID string) {
				res, err := db.Collection("withdrawals").DeleteOne(t.Context(), bson.D{{Key: "_id", Value: root + "|" + objectID}})
				deleted(t, res, err)
			},
			AlterAudit: func(t *testing.T, seq int64) {
				res, err := db.Collection("audit").UpdateOne(t.Context(), bson.D{{Key: "_id", Value: seq}},
					set(bson.D{{Key: "actor", Value: "mallory"}}))
				changed(t, res, err)
			},
			DeleteAudit: func(t *testing.T, seq int64) {
				res, err := db.Collection("audit").DeleteOne(t.Context(), bson.D{{Key: "_id", Value: seq}})
				deleted(t, res, err)
			},
		}
	})
}

// withID is the document d under another _id.
func withID(d bson.D, id int64) bson.D {
	out := bson.D{{Key: "_id", Value: id}}
	for _, e := range d {
		if e.Key != "_id" {
			out = append(out, e)
		}
	}
	return out
}

// TestVersionsWithoutALevelAreSeenByAll: documents written before TLP levels were recorded lack the
// field, and count as unmarked: every clearance reads them.
func TestVersionsWithoutALevelAreSeenByAll(t *testing.T) {
	client, err := mongo.Connect(options.Client().ApplyURI(mongod.URI()).SetWriteConcern(writeconcern.Majority()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db := mongod.Database(t)
	s := openStore(t, db)
	coll := newCollection(t, s)
	_, err = client.Database(db).Collection("objects").InsertOne(t.Context(), bson.D{
		{Key: "collection_id", Value: coll}, {Key: "object_id", Value: "indicator--1"}, {Key: "version", Value: int64(1)},
		{Key: "spec_version", Value: "2.1"}, {Key: "type", Value: "indicator"}, {Key: "date_added", Value: int64(1)},
		{Key: "sha256", Value: []byte{0}}, {Key: "content", Value: []byte(`{}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Objects(t.Context(), coll, store.Query{Limit: 10, MaxTLP: store.TLPClear})
	if err != nil || len(p.Records) != 1 || p.Records[0].TLP != store.TLPNone {
		t.Errorf("a version without a level at the lowest clearance: %+v, %v", p.Records, err)
	}
}

// TestAuditTrailWrittenUnchainedIsChainedOnce: entries an older build wrote, without hashes, are
// chained in order when this build opens the database, and new entries follow them. Opening it
// again chains nothing more, so an entry changed since still shows.
func TestAuditTrailWrittenUnchainedIsChainedOnce(t *testing.T) {
	client, err := mongo.Connect(options.Client().ApplyURI(mongod.URI()).SetWriteConcern(writeconcern.Majority()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db := mongod.Database(t)
	audit := client.Database(db).Collection("audit")
	at := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC).UnixMicro()
	for seq, target := range []string{"partnership eu-japan", "member cert-eu", "grant cert-eu"} {
		if _, err := audit.InsertOne(t.Context(), bson.D{{Key: "_id", Value: int64(seq + 1)}, {Key: "at", Value: at},
			{Key: "actor", Value: "alice"}, {Key: "action", Value: "thing.create"}, {Key: "target", Value: target},
			{Key: "detail", Value: ""}}); err != nil {
			t.Fatal(err)
		}
	}
	s := openStore(t, db)
	storetest.RequireAuditVerifies(t, s, 3)
	if err := s.AppendAudit(t.Context(), store.AuditEntry{At: time.Now(), Actor: "bob", Action: "member.remove", Target: "member x"}); err != nil {
		t.Fatalf("append: %v", err)
	}
	storetest.RequireAuditVerifies(t, s, 4)

	if _, err := audit.UpdateOne(t.Context(), bson.D{{Key: "_id", Value: int64(2)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "actor", Value: "mallory"}}}}); err != nil {
		t.Fatal(err)
	}
	again := openStore(t, db)
	v, err := store.VerifyAudit(t.Context(), again)
	if err != nil || v.OK || v.BrokenAt != 2 || !strings.Contains(v.Problem, "altered") {
		t.Errorf("verify after changing an entry and opening again: %+v, %v; want entry 2 altered", v, err)
	}
}
