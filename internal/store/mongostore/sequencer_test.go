//go:build unix

package mongostore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/storetest"
)

// rawDatabase is the database seen past the store, to look at what it committed.
func rawDatabase(t *testing.T, database string) *mongo.Database {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(mongod.URI()).
		SetWriteConcern(writeconcern.Majority()).SetReadConcern(readconcern.Majority()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(database)
}

// countDocs counts the documents of a collection of db.
func countDocs(t *testing.T, db *mongo.Database, collection string) int64 {
	t.Helper()
	n, err := db.Collection(collection).CountDocuments(t.Context(), bson.D{})
	if err != nil {
		t.Fatalf("count %s: %v", collection, err)
	}
	return n
}

// wantCommitted checks how many entries are chained and how many pending, as committed, without
// going through the store, whose ledger reads chain what is pending.
func wantCommitted(t *testing.T, db *mongo.Database, chained, pending int64) {
	t.Helper()
	if got := countDocs(t, db, "ledger"); got != chained {
		t.Errorf("ledger holds %d entries, want %d", got, chained)
	}
	if got := countDocs(t, db, "ledger_pending"); got != pending {
		t.Errorf("%d entries pending, want %d", got, pending)
	}
}

// newCollections creates an API root with n collections.
func newCollections(t *testing.T, s store.Store, n int) []string {
	t.Helper()
	if err := s.CreateAPIRoot(t.Context(), store.APIRoot{Slug: "root", Title: "Root"}); err != nil {
		t.Fatalf("create API root: %v", err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
		if err := s.CreateCollection(t.Context(), store.Collection{ID: ids[i], APIRoot: "root", Title: fmt.Sprint("C", i)}); err != nil {
			t.Fatalf("create collection: %v", err)
		}
	}
	return ids
}

func allEntries(t *testing.T, s store.Store) []store.LedgerEntry {
	t.Helper()
	var all []store.LedgerEntry
	for after := int64(0); ; {
		batch, err := s.Ledger(t.Context(), after, store.MaxLimit)
		if err != nil {
			t.Fatalf("read ledger: %v", err)
		}
		all = append(all, batch...)
		if len(batch) < store.MaxLimit {
			return all
		}
		after = batch[len(batch)-1].Seq
	}
}

// TestPublishesDoNotWaitForTheLedger: while one publication's transaction is open, with its objects
// and its ledger entry written but not committed, a publication to another collection, a pull and a
// read of the ledger complete. Were the ledger chained inside the publish transaction, under a lock
// (or on a document) every publication shares, they would wait for it, here for ever: they run on the
// goroutine that holds the transaction open.
func TestPublishesDoNotWaitForTheLedger(t *testing.T) {
	db := mongod.Database(t)
	s := openStore(t, db)
	colls := newCollections(t, s, 2)
	slow, other := colls[0], colls[1]
	var ran atomic.Bool
	var meanwhile error
	s.SetPublishTxnHook(func(_ context.Context, collectionID string) {
		if collectionID != slow || ran.Swap(true) {
			return
		}
		// Not the hook's context, which carries the open transaction. The deadline only turns a
		// wait that would never end into a failure, and comes before the server aborts the open
		// transaction (after 60 s).
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		o := obj("indicator", 1_000_000, modified)
		out, err := s.Publish(ctx, store.Publication{CollectionID: other, Member: "fast", Objects: []store.Object{o}})
		if err == nil && out[0].Result != store.Added {
			err = fmt.Errorf("publication meanwhile: %v", out[0].Result)
		}
		if err == nil {
			err = s.RecordPull(ctx, store.LedgerEntry{Member: "reader", Collection: other, Endpoint: "objects",
				Items: []store.LedgerItem{{ID: o.ID, Version: o.Version}}})
		}
		if err == nil {
			var head store.LedgerHead
			if head, err = s.LedgerHead(ctx); err == nil && head.Seq != 2 {
				err = fmt.Errorf("ledger head %d meanwhile, want 2", head.Seq)
			}
		}
		meanwhile = err
	})
	objs := make([]store.Object, 500)
	for i := range objs {
		objs[i] = obj("indicator", i, modified)
	}
	if _, err := s.Publish(t.Context(), store.Publication{CollectionID: slow, Member: "slow", Objects: objs}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if !ran.Load() {
		t.Fatal("the hook did not run")
	}
	if meanwhile != nil {
		t.Fatalf("while a publication's transaction was open: %v", meanwhile)
	}
	entries := allEntries(t, s)
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%d:%s:%s", e.Seq, e.Kind, e.Member))
	}
	if want := []string{"1:publish:fast", "2:pull:reader", "3:publish:slow"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ledger: %v, want %v", got, want)
	}
	storetest.RequireLedgerVerifies(t, s, 3)
}

// TestPendingEntriesAreChainedByTheNextRun: an entry committed but left unchained, as by a process
// that crashed in between, is chained by whatever runs the sequencer next, after the entries already
// chained, and the ledger verifies.
func TestPendingEntriesAreChainedByTheNextRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		// next runs the sequencer; it returns the store to verify with and how many entries it added
		// besides the pending one.
		next func(t *testing.T, s *mongostore.Store, db, coll string) (store.Store, int64)
	}{
		{"Ledger", func(t *testing.T, s *mongostore.Store, _, _ string) (store.Store, int64) {
			if _, err := s.Ledger(t.Context(), 0, 1); err != nil {
				t.Fatalf("ledger: %v", err)
			}
			return s, 0
		}},
		{"LedgerHead", func(t *testing.T, s *mongostore.Store, _, _ string) (store.Store, int64) {
			head, err := s.LedgerHead(t.Context())
			if err != nil || head.Seq != 2 {
				t.Fatalf("ledger head: %+v, %v; want 2 entries", head, err)
			}
			return s, 0
		}},
		{"Publish", func(t *testing.T, s *mongostore.Store, _, coll string) (store.Store, int64) {
			_, err := s.Publish(t.Context(), store.Publication{CollectionID: coll, Member: "m",
				Objects: []store.Object{obj("indicator", 2, modified)}})
			if err != nil {
				t.Fatalf("publish: %v", err)
			}
			return s, 1
		}},
		{"RecordPull", func(t *testing.T, s *mongostore.Store, _, coll string) (store.Store, int64) {
			if err := s.RecordPull(t.Context(), store.LedgerEntry{Member: "r", Collection: coll, Endpoint: "objects"}); err != nil {
				t.Fatalf("record pull: %v", err)
			}
			return s, 1
		}},
		{"Open", func(t *testing.T, _ *mongostore.Store, db, _ string) (store.Store, int64) {
			return openStore(t, db), 0 // a restart
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := mongod.Database(t)
			raw := rawDatabase(t, db)
			s := openStore(t, db)
			coll := newCollections(t, s, 1)[0]
			if _, err := s.Publish(t.Context(), store.Publication{CollectionID: coll, Member: "m",
				Objects: []store.Object{obj("indicator", 1, modified)}}); err != nil {
				t.Fatalf("publish: %v", err)
			}
			crashed := store.LedgerEntry{Kind: store.LedgerPublish, Member: "crashed", APIRoot: "root", Collection: coll,
				Items: []store.LedgerItem{{ID: "indicator--x", Version: modified, Verdict: store.VerdictAdded}}}
			if err := s.LeavePending(t.Context(), crashed); err != nil {
				t.Fatalf("leave an entry pending: %v", err)
			}
			wantCommitted(t, raw, 1, 1)

			v, added := tc.next(t, s, db, coll)
			wantCommitted(t, raw, 2+added, 0)
			entries := allEntries(t, v)
			if len(entries) < 2 || entries[1].Member != "crashed" || entries[1].Seq != 2 ||
				!sameLedgerItems(entries[1].Items, crashed.Items) {
				t.Errorf("ledger: %+v; want the pending entry second", entries)
			}
			storetest.RequireLedgerVerifies(t, v, 2+added)
		})
	}
}

func sameLedgerItems(a, b []store.LedgerItem) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Verdict != b[i].Verdict || !a[i].Version.Equal(b[i].Version) {
			return false
		}
	}
	return true
}

// TestWriteStandsWhenChainingFails: a publication or withdrawal committed is reported as done even if
// chaining its entry then fails; the entry stays pending until the next run. A pull, which commits
// nothing else, fails with its entry.
func TestWriteStandsWhenChainingFails(t *testing.T) {
	db := mongod.Database(t)
	raw := rawDatabase(t, db)
	s := openStore(t, db)
	coll := newCollections(t, s, 1)[0]
	var failing atomic.Bool
	errChain := errors.New("the sequencer is down")
	s.SetBeforeSequenceHook(func(context.Context) error {
		if failing.Load() {
			return errChain
		}
		return nil
	})
	failing.Store(true)
	o := obj("indicator", 1, modified)
	out, err := s.Publish(t.Context(), store.Publication{CollectionID: coll, Member: "m", Objects: []store.Object{o}})
	if err != nil || out[0].Result != store.Added {
		t.Fatalf("publish: %+v, %v; want it added", out, err)
	}
	wantCommitted(t, raw, 0, 1)
	if _, err := s.Withdraw(t.Context(), store.Withdrawal{CollectionID: coll, ObjectID: o.ID, Member: "m",
		Tombstone: func(newest []byte, at time.Time) ([]byte, time.Time, error) {
			return []byte(`{"withdrawn":true}`), time.Time{}, nil
		}}); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	wantCommitted(t, raw, 0, 2)
	if err := s.RecordPull(t.Context(), store.LedgerEntry{Member: "r", Collection: coll, Endpoint: "objects"}); !errors.Is(err, errChain) {
		t.Errorf("record pull while the sequencer fails: %v, want %v", err, errChain)
	}
	wantCommitted(t, raw, 0, 2)

	failing.Store(false)
	storetest.RequireLedgerVerifies(t, s, 2)
	wantCommitted(t, raw, 2, 0)
	entries := allEntries(t, s)
	if len(entries) != 2 || entries[0].Kind != store.LedgerPublish || entries[1].Kind != store.LedgerWithdraw {
		t.Errorf("ledger: %+v; want the publication then the withdrawal", entries)
	}
}

// TestLedgerAcrossProcesses: two stores on one database, as two hub processes, publish and record
// pulls from several goroutines each. Every publication and pull gets exactly one entry, numbered
// without gaps, nothing is left pending once every call has returned, and the ledger verifies.
func TestLedgerAcrossProcesses(t *testing.T) {
	const stores, workers, rounds = 2, 3, 6
	db := mongod.Database(t)
	raw := rawDatabase(t, db)
	procs := make([]*mongostore.Store, stores)
	for i := range procs {
		procs[i] = openStore(t, db)
	}
	colls := newCollections(t, procs[0], 2)
	var wg sync.WaitGroup
	errs := make(chan error, stores*workers)
	for p, s := range procs {
		for w := range workers {
			wg.Go(func() {
				for r := range rounds {
					n := (p*workers+w)*rounds + r
					o := obj("indicator", n, modified)
					coll := colls[n%len(colls)]
					if _, err := s.Publish(t.Context(), store.Publication{CollectionID: coll, Member: "publisher",
						Objects: []store.Object{o}}); err != nil {
						errs <- fmt.Errorf("publish %d: %w", n, err)
						return
					}
					if err := s.RecordPull(t.Context(), store.LedgerEntry{Member: "reader", Collection: coll,
						Endpoint: "objects", Items: []store.LedgerItem{{ID: o.ID, Version: o.Version}}}); err != nil {
						errs <- fmt.Errorf("record pull %d: %w", n, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	const total = stores * workers * rounds * 2
	// Before reading through a store, which would chain what is left.
	wantCommitted(t, raw, total, 0)
	for _, s := range procs {
		storetest.RequireLedgerVerifies(t, s, total)
	}
	seen := map[string]int{}
	entries := allEntries(t, procs[1])
	// Pulls are compact: their ids come back from the pull details.
	for start := 0; start < len(entries); start += store.MaxLimit {
		if _, err := store.WithPullDetails(t.Context(), procs[1], entries[start:min(start+store.MaxLimit, len(entries))]); err != nil {
			t.Fatal(err)
		}
	}
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d is numbered %d", i+1, e.Seq)
		}
		if len(e.Items) != 1 {
			t.Fatalf("entry %d has %d items", e.Seq, len(e.Items))
		}
		seen[string(e.Kind)+" "+e.Items[0].ID]++
	}
	for n := range stores * workers * rounds {
		id := obj("indicator", n, modified).ID
		for _, kind := range []store.LedgerKind{store.LedgerPublish, store.LedgerPull} {
			if k := string(kind) + " " + id; seen[k] != 1 {
				t.Errorf("%s: %d entries, want 1", k, seen[k])
			}
		}
	}
}

// TestOriginsOfRacingPublications: two processes publishing the same objects at once, to two
// collections of one API root, both succeed, and each id and fingerprint gets exactly one origin, one
// of the two members.
func TestOriginsOfRacingPublications(t *testing.T) {
	const rounds, perRound = 8, 50
	db := mongod.Database(t)
	procs := []*mongostore.Store{openStore(t, db), openStore(t, db)}
	colls := newCollections(t, procs[0], 2)
	members := []string{"a", "b"}
	for r := range rounds {
		objs := make([]store.Object, perRound)
		for i := range objs {
			objs[i] = obj("indicator", r*perRound+i, modified)
			objs[i].Fingerprint = "fp-" + objs[i].ID
		}
		var wg sync.WaitGroup
		errs := make([]error, len(procs))
		for p, s := range procs {
			wg.Go(func() {
				_, errs[p] = s.Publish(t.Context(), store.Publication{CollectionID: colls[p], Member: members[p], Objects: objs})
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: publish: %v", r, err)
			}
		}
	}
	var keys []string
	for n := range rounds * perRound {
		id := obj("indicator", n, modified).ID
		keys = append(keys, store.OriginKeyID(id), store.OriginKeyFingerprint("fp-"+id))
	}
	origins, err := procs[0].Origins(t.Context(), keys)
	if err != nil {
		t.Fatalf("origins: %v", err)
	}
	byKey := map[string][]string{}
	for _, o := range origins {
		byKey[o.Key] = append(byKey[o.Key], o.Member)
	}
	for _, k := range keys {
		if ms := byKey[k]; len(ms) != 1 || (ms[0] != "a" && ms[0] != "b") {
			t.Errorf("origins of %s: %v, want one of a and b", k, ms)
		}
	}
	storetest.RequireLedgerVerifies(t, procs[1], rounds*2)
}

// TestManyPendingEntriesAreChainedInOrder: more entries pending than one sequencer transaction takes
// are all chained by one run, in the order they were committed.
func TestManyPendingEntriesAreChainedInOrder(t *testing.T) {
	const n = 300 // above the bound of one transaction
	db := mongod.Database(t)
	raw := rawDatabase(t, db)
	s := openStore(t, db)
	for i := range n {
		e := store.LedgerEntry{Kind: store.LedgerPublish, Member: fmt.Sprint("member-", i), APIRoot: "root", Collection: "c"}
		if err := s.LeavePending(t.Context(), e); err != nil {
			t.Fatalf("leave entry %d pending: %v", i, err)
		}
	}
	head, err := s.LedgerHead(t.Context())
	if err != nil || head.Seq != n {
		t.Fatalf("ledger head: %+v, %v; want %d entries", head, err, n)
	}
	wantCommitted(t, raw, n, 0)
	for i, e := range allEntries(t, s) {
		if want := fmt.Sprint("member-", i); e.Member != want {
			t.Fatalf("entry %d is %s's, want %s's", e.Seq, e.Member, want)
		}
	}
	storetest.RequireLedgerVerifies(t, s, n)
}
