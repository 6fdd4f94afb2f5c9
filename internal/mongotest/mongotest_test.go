//go:build unix

package mongotest_test

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

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

// TestReplicaSetFailsOver starts a three-member set and moves its primary twice, once by stepping it
// down and once by killing it, checking each time that a client of the whole set keeps writing with
// majority write concern and that a killed member comes back with the data it missed.
func TestReplicaSetFailsOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	rs := startReplicaSet(ctx, t, mongotest.ReplicaSetOptions{})
	if rs.Members() != 3 || !strings.Contains(rs.URI(), "replicaSet=") || strings.Count(rs.URI(), ",") != 2 {
		t.Fatalf("Members() = %d, URI() = %q; want three members in a replicaSet URI", rs.Members(), rs.URI())
	}
	client, err := mongo.Connect(options.Client().ApplyURI(rs.URI()).SetWriteConcern(writeconcern.Majority()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	coll := client.Database(rs.Database(t)).Collection("c")
	write := func(id int) {
		t.Helper()
		// The driver retries a write once, so one in flight when the primary goes still succeeds.
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			t.Fatalf("insert %d: %v", id, err)
		}
	}

	first, err := rs.Primary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	write(1)
	from, to, err := rs.StepDown(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if from != first || to == from {
		t.Fatalf("StepDown() = %d → %d; want %d → another member", from, to, first)
	}
	write(2)

	started := time.Now()
	if err := rs.Kill(to); err != nil {
		t.Fatal(err)
	}
	if rs.Pid(to) != 0 {
		t.Errorf("Pid(%d) = %d after Kill; want 0", to, rs.Pid(to))
	}
	next, err := rs.Primary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("member %d killed; member %d primary after %s", to, next, time.Since(started).Round(time.Millisecond))
	if next == to {
		t.Fatalf("Primary() = %d, the killed member", next)
	}
	write(3)

	if err := rs.Restart(ctx, to); err != nil {
		t.Fatal(err)
	}
	// The restarted member catches up: a read from it alone finds the write it missed.
	direct, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + rs.Addr(to) + "/").SetDirect(true).
		SetReadPreference(readpref.SecondaryPreferred()))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Disconnect(context.Background())
	for {
		n, err := direct.Database(coll.Database().Name()).Collection("c").CountDocuments(ctx, bson.D{})
		if err == nil && n == 3 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("restarted member %d holds %d documents (%v); want 3", to, n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if crashes := rs.Crashes(); len(crashes) != 0 {
		t.Errorf("Kill was recorded as a crash: %v", crashes)
	}
}

// TestSupervisedReplicaSetRestartsACrashedMember kills a member from outside the package, as an
// abort would, and expects the set to bring it back by itself and to say so.
func TestSupervisedReplicaSetRestartsACrashedMember(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	rs := startReplicaSet(ctx, t, mongotest.ReplicaSetOptions{Members: 1, Supervise: true})
	crashed := rs.Pid(0)
	if err := syscall.Kill(crashed, syscall.SIGABRT); err != nil {
		t.Fatal(err)
	}
	for len(rs.Crashes()) == 0 {
		if ctx.Err() != nil {
			t.Fatal("the crash was never handled")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c := rs.Crashes()[0]
	if c.Member != 0 || c.Restart != nil || !strings.Contains(c.Exit, "abort") {
		t.Fatalf("crash = %+v; want member 0, restarted, exit by abort", c)
	}
	if pid := rs.Pid(0); pid == 0 || pid == crashed {
		t.Fatalf("Pid(0) = %d after the restart; want a new process (the crashed one was %d)", pid, crashed)
	}
	if _, err := rs.Primary(ctx); err != nil {
		t.Fatalf("no primary after the restart: %v", err)
	}
}

// startReplicaSet starts a set for t, stopped when t ends, and logs what it reported.
func startReplicaSet(ctx context.Context, t *testing.T, opts mongotest.ReplicaSetOptions) *mongotest.ReplicaSet {
	t.Helper()
	var log strings.Builder
	rs, err := mongotest.StartReplicaSet(ctx, &log, opts)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		if err := rs.Stop(); err != nil {
			t.Error(err)
		}
		t.Log(log.String())
	})
	return rs
}
