//go:build unix

package mongostore_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/mongotest"
	"taxiihub/internal/policy"
	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/storetest"
)

var mongod *mongotest.Server

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m, &mongod)) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openIndexed(t, mongod.Database(t), policy.IndexValues)
	})
}

func TestValueIndexFill(t *testing.T) {
	database := mongod.Database(t)
	storetest.RunValueIndexFill(t, func(t *testing.T, ix store.ValueIndexer) store.Store {
		return openIndexed(t, database, ix)
	})
}

// openIndexed opens a store on the database with the value indexer given (nil for none), closed
// when the test or benchmark ends.
func openIndexed(tb testing.TB, database string, ix store.ValueIndexer) *mongostore.Store {
	tb.Helper()
	s, err := mongostore.Open(tb.Context(), mongostore.Config{URI: mongod.URI(), Database: database, ValueIndexer: ix})
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

func TestFingerprintUpgrade(t *testing.T) {
	database := mongod.Database(t)
	storetest.RunFingerprintUpgrade(t, func(t *testing.T, upgrade store.FingerprintUpgrade) store.Store {
		s, err := mongostore.Open(t.Context(), mongostore.Config{URI: mongod.URI(), Database: database, FingerprintUpgrade: upgrade})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(context.Background()); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return s
	})
}

// openStore opens a store on the database and closes it when the test ends. Two calls with one
// database stand for two hub processes sharing it.
func openStore(t *testing.T, database string) *mongostore.Store {
	t.Helper()
	return openStoreWithClock(t, database, nil)
}

func openStoreWithClock(t *testing.T, database string, now func() time.Time) *mongostore.Store {
	t.Helper()
	s, err := mongostore.Open(t.Context(), mongostore.Config{URI: mongod.URI(), Database: database, Now: now})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func newCollection(t *testing.T, s store.Store) string {
	t.Helper()
	if err := s.CreateAPIRoot(t.Context(), store.APIRoot{Slug: "root", Title: "Root"}); err != nil {
		t.Fatalf("create API root: %v", err)
	}
	const id = "9a0e3c27-4b4f-4d8e-a1a4-2a4b1f5d6c70"
	if err := s.CreateCollection(t.Context(), store.Collection{ID: id, APIRoot: "root", Title: "C"}); err != nil {
		t.Fatalf("create collection: %v", err)
	}
	return id
}

// obj is a small object; a zero version makes it versionless.
func obj(typ string, n int, version time.Time) store.Object {
	id := fmt.Sprintf("%s--00000000-0000-4000-8000-%012d", typ, n)
	return store.Object{
		ID: id, Type: typ, SpecVersion: "2.1", Version: version,
		Content: fmt.Appendf(nil, `{"type":"%s","id":"%s","x_n":%d}`, typ, id, n),
	}
}

var modified = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func TestOpenTwiceCreatesIndexesOnce(t *testing.T) {
	db := mongod.Database(t)
	a := openStore(t, db)
	c := newCollection(t, a)
	if _, err := a.AddObjects(t.Context(), c, []store.Object{obj("indicator", 1, modified)}); err != nil {
		t.Fatalf("add: %v", err)
	}
	b := openStore(t, db) // a second process, or a restart, on a database already set up
	p, err := b.Objects(t.Context(), c, store.Query{Limit: 10})
	if err != nil || len(p.Records) != 1 {
		t.Fatalf("read through the second store: %d records, %v", len(p.Records), err)
	}

	client, err := mongo.Connect(options.Client().ApplyURI(mongod.URI()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	type index struct {
		Name    string `bson:"name"`
		Key     bson.D `bson:"key"`
		Unique  bool   `bson:"unique"`
		Partial bson.D `bson:"partialFilterExpression"`
	}
	want := map[string][]string{
		"objects": {
			"_id_:_id",
			"collection_object_version:collection_id,object_id,version:unique",
			"collection_date_added:collection_id,date_added:unique",
			"collection_type_date_added:collection_id,type,date_added",
			"collection_object_date_added:collection_id,object_id,date_added",
			"values_collection_date_added:values.v,collection_id,date_added,tlp:partial",
		},
		"collections": {
			"_id_:_id",
			"api_root_alias:api_root,alias:unique:partial",
			"api_root_members:api_root:unique:partial",
			"api_root_title:api_root,title,_id",
		},
		"api_roots":    {"_id_:_id"},
		"statuses":     {"_id_:_id", "request_timestamp:request_timestamp"},
		"status_parts": {"_id_:_id"},
		"members":      {"_id_:_id"},
		"grants": {
			"_id_:_id",
			"collection_member:collection_id,member_id:unique",
			"member_root_collection:member_id,api_root,collection_id",
		},
		"tokens": {
			"_id_:_id",
			"issued_at_id:issued_at,_id",
			"subject_kind:subject,kind",
		},
		"verification_keys": {
			"_id_:_id",
			"created_at_kid:created_at,_id",
		},
		"audit":    {"_id_:_id"}, // _id is the sequence number
		"counters": {"_id_:_id"},
		"memberships": {
			"_id_:_id",
			"api_root_member:api_root,member_id:unique",
			"member:member_id",
		},
		"origins": {
			"_id_:_id",
			"key_api_root:key,api_root:unique",
		},
		"withdrawals": {"_id_:_id"}, // _id is the partnership and the object id
		"ledger": { // _id is the sequence number
			"_id_:_id",
			"member_root_pull_at:member_id,api_root,at:partial",
		},
		"seeds": {"_id_:_id"}, // _id is the seed file's digest; a hub lists its one or two seeds whole
		"ledger_pending": {
			"_id_:_id",
			"at_id:at,_id",
		},
		"pull_details": { // _id is the pull's sequence number; at finds those past the window
			"_id_:_id",
			"at:at",
		},
		"review_queue": { // objects held for review: by request, by expiry, by partnership and age
			"_id_:_id",
			"api_root_submitted_at:api_root,submitted_at",
			"collection_status:collection_id,status_id",
			"expires:expires",
		},
	}
	// Every collection Open creates is checked here.
	names, err := client.Database(db).ListCollectionNames(t.Context(), bson.D{})
	if err != nil {
		t.Fatalf("list collections: %v", err)
	}
	slices.Sort(names)
	if wantNames := slices.Sorted(maps.Keys(want)); !slices.Equal(names, wantNames) {
		t.Errorf("collections:\n got %v\nwant %v", names, wantNames)
	}
	for coll, wantIdx := range want {
		cur, err := client.Database(db).Collection(coll).Indexes().List(t.Context())
		if err != nil {
			t.Fatalf("list indexes of %s: %v", coll, err)
		}
		var idx []index
		if err := cur.All(t.Context(), &idx); err != nil {
			t.Fatalf("list indexes of %s: %v", coll, err)
		}
		var got []string
		for _, ix := range idx {
			var keys []string
			for _, k := range ix.Key {
				keys = append(keys, k.Key)
			}
			s := ix.Name + ":" + strings.Join(keys, ",")
			if ix.Unique {
				s += ":unique"
			}
			if len(ix.Partial) > 0 {
				s += ":partial"
			}
			got = append(got, s)
		}
		slices.Sort(got)
		slices.Sort(wantIdx)
		if !slices.Equal(got, wantIdx) {
			t.Errorf("indexes of %s:\n got %v\nwant %v", coll, got, wantIdx)
		}
	}
}

// TestDatesAddedAcrossProcesses runs writers in two stores on one database, as two hub processes
// behind a load balancer, while a poller in one of them follows the collection. The processes' clocks
// disagree, and one of them is stuck, so that dates added can only be right if every writer builds on
// the dates committed before it.
func TestDatesAddedAcrossProcesses(t *testing.T) {
	const stores, writersPerStore, batches, perBatch = 2, 4, 10, 20
	db := mongod.Database(t)
	stuck := time.Now()
	procs := []*mongostore.Store{
		openStoreWithClock(t, db, func() time.Time { return time.Now().Add(-time.Second) }),
		openStoreWithClock(t, db, func() time.Time { return stuck }),
	}
	c := newCollection(t, procs[0])

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		outcomes []store.Outcome
	)
	for p := range stores {
		for w := range writersPerStore {
			wg.Go(func() {
				for b := range batches {
					var objs []store.Object
					for i := range perBatch {
						n := ((p*writersPerStore+w)*batches+b)*perBatch + i
						version := modified
						if i%4 == 0 {
							version = time.Time{} // versionless objects take their date added as version
						}
						objs = append(objs, obj("indicator", n, version))
					}
					out, err := procs[p].AddObjects(t.Context(), c, objs)
					if err != nil {
						t.Errorf("store %d writer %d batch %d: %v", p, w, b, err)
						return
					}
					for i, o := range out {
						if o.Result != store.Added {
							t.Errorf("%s: %v, want added", objs[i].ID, o.Result)
						}
						if i > 0 && !o.DateAdded.After(out[i-1].DateAdded) {
							t.Errorf("dates added within one call do not increase: %v then %v", out[i-1].DateAdded, o.DateAdded)
						}
					}
					mu.Lock()
					outcomes = append(outcomes, out...)
					mu.Unlock()
				}
			})
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	all := store.VersionFilter{Versions: store.VersionMatch{All: true}}
	seen := map[string]int{}
	var last time.Time
	poll := func() {
		q := store.Query{Limit: 17, VersionFilter: all, AddedAfter: last}
		for {
			p, err := procs[1].Manifest(t.Context(), c, q)
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			for _, r := range p.Records {
				seen[r.ID]++
				if !r.DateAdded.After(last) {
					t.Errorf("%s added %v arrived after a version added %v", r.ID, r.DateAdded, last)
				}
				last = r.DateAdded
			}
			if !p.More {
				return
			}
			q.Cursor = p.Next
		}
	}
	for writing := true; writing; {
		select {
		case <-done:
			writing = false
		default:
		}
		poll()
	}
	poll()

	total := stores * writersPerStore * batches * perBatch
	if len(seen) != total || len(outcomes) != total {
		t.Errorf("poller saw %d objects and writers got %d outcomes, want %d", len(seen), len(outcomes), total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("poller saw %s %d times", id, n)
		}
	}
	dates := map[int64]bool{}
	for _, o := range outcomes {
		us := o.DateAdded.UnixMicro()
		if dates[us] {
			t.Errorf("date added %v given twice", o.DateAdded)
		}
		dates[us] = true
	}
}

// TestLargeAddTakesFewRoundTrips checks that AddObjects reads and writes in bulk per chunk.
func TestLargeAddTakesFewRoundTrips(t *testing.T) {
	s, commands := openCounting(t)
	c := newCollection(t, s)

	const n = 2*mongostore.MaxChunkObjects + 500 // three chunks
	var objs []store.Object
	for i := range n {
		version := modified
		if i%10 == 0 {
			version = time.Time{}
		}
		objs = append(objs, obj("indicator", i, version))
	}
	commands.reset()
	out, err := s.AddObjects(t.Context(), c, objs)
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	ran := commands.take()
	got := summary(ran)
	// Per chunk: findAndModify (lock), find (stored versions), insert, update (last added), commit.
	const perChunk, chunks = 5, 3
	total := 0
	for _, k := range ran {
		total += k
	}
	t.Logf("adding %d objects: %s", n, got)
	if total > perChunk*chunks {
		t.Errorf("adding %d objects took %d commands (%s), want at most %d", n, total, got, perChunk*chunks)
	}
	for i, o := range out {
		if o.Result != store.Added {
			t.Fatalf("object %d: %v", i, o.Result)
		}
		if i > 0 && !o.DateAdded.After(out[i-1].DateAdded) {
			t.Fatalf("object %d: date added %v not after %v", i, o.DateAdded, out[i-1].DateAdded)
		}
	}

	// Adding them all again changes nothing and writes no object.
	again, err := s.AddObjects(t.Context(), c, objs)
	if err != nil {
		t.Fatalf("add again: %v", err)
	}
	for i, o := range again {
		if o.Result != store.Unchanged || !o.DateAdded.Equal(out[i].DateAdded) || !o.Version.Equal(out[i].Version) {
			t.Fatalf("object %d added again: %+v, first %+v", i, o, out[i])
		}
	}
}

// commandCounter counts, by name, the commands a store sends to MongoDB.
type commandCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

// openCounting opens a store on a fresh database whose commands are counted.
func openCounting(t *testing.T) (*mongostore.Store, *commandCounter) {
	t.Helper()
	c := &commandCounter{counts: map[string]int{}}
	monitor := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		c.mu.Lock()
		c.counts[e.CommandName]++
		c.mu.Unlock()
	}}
	s, err := mongostore.OpenWithMonitor(t.Context(),
		mongostore.Config{URI: mongod.URI(), Database: mongod.Database(t)}, monitor)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s, c
}

// reset forgets the commands counted so far.
func (c *commandCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.counts)
}

// take returns the counts since the last reset.
func (c *commandCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

func summary(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// TestVersionlessDateSkipsAVersionHeld covers the rare case where the date added a versionless object
// would get, and so its version, equals a version its id already has.
func TestVersionlessDateSkipsAVersionHeld(t *testing.T) {
	stopped := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openStoreWithClock(t, mongod.Database(t), func() time.Time { return stopped })
	c := newCollection(t, s)
	first := obj("ipv4-addr", 1, stopped.Add(time.Microsecond)) // added at stopped, next date is +1µs
	versionless := obj("ipv4-addr", 1, time.Time{})
	versionless.Content = append(versionless.Content, ' ')
	out, err := s.AddObjects(t.Context(), c, []store.Object{first, versionless})
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	want := []store.Outcome{
		{Result: store.Added, Version: stopped.Add(time.Microsecond), DateAdded: stopped},
		{Result: store.Added, Version: stopped.Add(2 * time.Microsecond), DateAdded: stopped.Add(2 * time.Microsecond)},
	}
	if !slices.Equal(out, want) {
		t.Errorf("outcomes:\n got %+v\nwant %+v", out, want)
	}
}

// TestFailedChunkKeepsEarlierChunks makes the second of three chunks fail: an object over MongoDB's
// 16 MB document limit gets a chunk of its own, which cannot be written.
func TestFailedChunkKeepsEarlierChunks(t *testing.T) {
	s := openStore(t, mongod.Database(t))
	c := newCollection(t, s)
	huge := obj("indicator", 99, modified)
	huge.Content = append(bytes.Repeat([]byte(" "), 17<<20), huge.Content...)
	objs := []store.Object{
		obj("indicator", 1, modified), obj("indicator", 2, time.Time{}), obj("indicator", 3, modified),
		huge,
		obj("indicator", 4, modified),
	}
	out, err := s.AddObjects(t.Context(), c, objs)
	if err == nil {
		t.Fatalf("adding a 17 MB object succeeded")
	}
	want := []store.Result{store.Added, store.Added, store.Added, store.NotStored, store.NotStored}
	for i, o := range out {
		if o.Result != want[i] {
			t.Errorf("object %d: %v, want %v", i, o.Result, want[i])
		}
	}
	p, err := s.Manifest(t.Context(), c, store.Query{Limit: 10})
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	var ids []string
	for _, r := range p.Records {
		ids = append(ids, r.ID)
	}
	if wantIDs := []string{objs[0].ID, objs[1].ID, objs[2].ID}; !slices.Equal(ids, wantIDs) {
		t.Errorf("collection holds %v, want %v", ids, wantIDs)
	}
}

// TestScanReadsInDateOrderFromAnIndex explains the finds ScanVersions runs: each must read an index
// that ends in date_added, with no in-memory sort, and stop at the limit.
func TestScanReadsInDateOrderFromAnIndex(t *testing.T) {
	s := openStore(t, mongod.Database(t))
	c := newCollection(t, s)
	types := []string{"indicator", "malware", "campaign", "tool"}
	var objs []store.Object
	for i := range 400 {
		objs = append(objs, obj(types[i%len(types)], i, modified))
	}
	if _, err := s.AddObjects(t.Context(), c, objs); err != nil {
		t.Fatalf("add: %v", err)
	}
	var manyIDs []string
	for i := range 250 {
		manyIDs = append(manyIDs, objs[i].ID)
	}
	const limit = 20
	cases := []struct {
		name  string
		scan  store.Scan
		index string
		// keys bounds the index keys examined: the limit plus one per merged range.
		keys int
	}{
		{"everything", store.Scan{After: -1, Limit: limit}, "collection_date_added", limit},
		{"after a date", store.Scan{After: 0, Limit: limit, WithContent: true}, "collection_date_added", limit},
		{"spec versions", store.Scan{After: -1, SpecVersions: []string{"2.1"}, Limit: limit}, "collection_date_added", limit},
		{"types", store.Scan{After: -1, Types: []string{"malware", "tool"}, Limit: limit}, "collection_type_date_added", limit + 2},
		{"ids", store.Scan{After: -1, IDs: []string{objs[1].ID, objs[5].ID, objs[9].ID}, Limit: 2}, "collection_object_date_added", 2 + 3},
		{"ids and types", store.Scan{After: -1, IDs: []string{objs[1].ID}, Types: []string{"malware"}, Limit: 1}, "collection_object_date_added", 1 + 1},
		{"more ids than the planner merges", store.Scan{After: -1, IDs: manyIDs, Limit: limit}, "collection_date_added", limit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ex, stages, indexes := readExplain(t)(s.ExplainScan(t.Context(), c, tc.scan))
			if slices.Contains(stages, "SORT") || !slices.Contains(stages, "IXSCAN") {
				t.Errorf("plan stages %v: want an index scan and no sort", stages)
			}
			if len(indexes) == 0 || slices.ContainsFunc(indexes, func(n string) bool { return n != tc.index }) {
				t.Errorf("plan reads indexes %v, want %s", indexes, tc.index)
			}
			if ex.ExecutionStats.NReturned != int64(tc.scan.Limit) {
				t.Errorf("returned %d, want %d", ex.ExecutionStats.NReturned, tc.scan.Limit)
			}
			if ex.ExecutionStats.TotalKeysExamined > int64(tc.keys) {
				t.Errorf("examined %d index keys for %d results, want at most %d",
					ex.ExecutionStats.TotalKeysExamined, tc.scan.Limit, tc.keys)
			}
		})
	}
}

// planStages lists the stages of an explained plan tree and the indexes its scans read.
// explanation is what the tests read of an explain answer.
type explanation struct {
	QueryPlanner struct {
		WinningPlan bson.Raw `bson:"winningPlan"`
	} `bson:"queryPlanner"`
	ExecutionStats struct {
		NReturned         int64 `bson:"nReturned"`
		TotalKeysExamined int64 `bson:"totalKeysExamined"`
		TotalDocsExamined int64 `bson:"totalDocsExamined"`
	} `bson:"executionStats"`
}

// readExplain decodes an explain answer, given with its error, and names the stages and indexes of
// the winning plan.
func readExplain(t *testing.T) func(bson.Raw, error) (explanation, []string, []string) {
	return func(raw bson.Raw, err error) (explanation, []string, []string) {
		t.Helper()
		if err != nil {
			t.Fatalf("explain: %v", err)
		}
		var ex explanation
		if err := bson.Unmarshal(raw, &ex); err != nil {
			t.Fatalf("decode explain: %v", err)
		}
		stages, indexes := planStages(t, ex.QueryPlanner.WinningPlan)
		return ex, stages, indexes
	}
}

func planStages(t *testing.T, plan bson.Raw) (stages, indexes []string) {
	t.Helper()
	var node struct {
		Stage       string     `bson:"stage"`
		IndexName   string     `bson:"indexName"`
		InputStage  bson.Raw   `bson:"inputStage"`
		InputStages []bson.Raw `bson:"inputStages"`
	}
	if err := bson.Unmarshal(plan, &node); err != nil {
		t.Fatalf("decode plan: %v", err)
	}
	stages = append(stages, node.Stage)
	if node.IndexName != "" {
		indexes = append(indexes, node.IndexName)
	}
	children := node.InputStages
	if node.InputStage != nil {
		children = append(children, node.InputStage)
	}
	for _, c := range children {
		s, i := planStages(t, c)
		stages, indexes = append(stages, s...), append(indexes, i...)
	}
	return stages, indexes
}

// TestReopenCreatesNothing: a hub that restarts must not issue create commands, which take a
// database-wide lock that would queue behind a crashed peer's open transaction and stall every node.
func TestReopenCreatesNothing(t *testing.T) {
	db := mongod.Database(t)
	openStore(t, db)
	var mu sync.Mutex
	var creates []string
	monitor := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "create" || e.CommandName == "createIndexes" {
			mu.Lock()
			creates = append(creates, e.CommandName)
			mu.Unlock()
		}
	}}
	s, err := mongostore.OpenWithMonitor(t.Context(), mongostore.Config{URI: mongod.URI(), Database: db}, monitor)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	mu.Lock()
	defer mu.Unlock()
	if len(creates) != 0 {
		t.Errorf("reopening an existing database sent %v", creates)
	}
}
