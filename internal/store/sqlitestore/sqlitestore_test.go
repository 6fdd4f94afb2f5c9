package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
	"taxiihub/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, filepath.Join(t.TempDir(), "hub.db"), WithValueIndexer(policy.IndexValues))
	})
}

func TestValueIndexFill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	storetest.RunValueIndexFill(t, func(t *testing.T, ix store.ValueIndexer) store.Store {
		if ix == nil {
			return openTest(t, path)
		}
		return openTest(t, path, WithValueIndexer(ix))
	})
}

// openTest opens a store at path, closed when the test or benchmark ends.
func openTest(tb testing.TB, path string, opts ...Option) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), path, opts...)
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

func newCollection(t *testing.T, s *Store) string {
	t.Helper()
	ctx := t.Context()
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: "root", Title: "Root"}); err != nil {
		t.Fatalf("create root: %v", err)
	}
	const id = "9a3c5f0e-7b1d-4e2a-8c6f-1d2e3f4a5b6c"
	if err := s.CreateCollection(ctx, store.Collection{ID: id, APIRoot: "root", Title: "C"}); err != nil {
		t.Fatalf("create collection: %v", err)
	}
	return id
}

func obj(id string, n int) store.Object {
	return store.Object{
		ID: id, Type: "indicator", SpecVersion: "2.1",
		Version: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC),
		Content: fmt.Appendf(nil, `{"type":"indicator","id":%q,"n":%d}`, id, n),
	}
}

// A clock stuck in the past (or going backwards) must not stop dates added from increasing.
func TestFingerprintUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	storetest.RunFingerprintUpgrade(t, func(t *testing.T, upgrade store.FingerprintUpgrade) store.Store {
		if upgrade == nil {
			return openTest(t, path)
		}
		return openTest(t, path, WithFingerprintUpgrade(upgrade))
	})
}

func TestDatesAddedIncreaseWhateverTheClock(t *testing.T) {
	stuck := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var calls atomic.Int64
	clock := func() time.Time { return stuck.Add(-time.Duration(calls.Add(1)) * time.Second) }
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"), WithClock(clock))
	c := newCollection(t, s)
	var objs []store.Object
	for i := range 10 {
		objs = append(objs, obj(fmt.Sprintf("indicator--%d", i), i))
	}
	out, err := s.AddObjects(t.Context(), c, objs)
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	// The first takes the clock (already 1 s behind); every later one is the previous plus 1 µs.
	want := stuck.Add(-time.Second)
	for i, o := range out {
		if !o.DateAdded.Equal(want) {
			t.Errorf("object %d: date added %v, want %v", i, o.DateAdded, want)
		}
		want = want.Add(time.Microsecond)
	}
}

// Eight goroutines write to one collection through two stores opened on the same file, which is
// what two hub processes sharing it look like to SQLite. Every date added is distinct, and read in
// date-added order each writer's versions come in the order it wrote them.
func TestConcurrentWritersGetStrictlyIncreasingDates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	stores := []*Store{openTest(t, path), openTest(t, path)}
	c := newCollection(t, stores[0])
	const writers, batches, perBatch = 8, 25, 20
	var wg sync.WaitGroup
	for w := range writers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for b := range batches {
				var objs []store.Object
				for i := range perBatch {
					objs = append(objs, obj(fmt.Sprintf("indicator--w%d-%04d", w, b*perBatch+i), i))
				}
				if _, err := s.AddObjects(t.Context(), c, objs); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()

	var recs []store.Record
	q := store.Query{Limit: 1000}
	for {
		p, err := stores[1].Manifest(t.Context(), c, q)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		recs = append(recs, p.Records...)
		if !p.More {
			break
		}
		q.Cursor = p.Next
	}
	if len(recs) != writers*batches*perBatch {
		t.Fatalf("read %d versions, want %d", len(recs), writers*batches*perBatch)
	}
	lastOf := map[string]string{}
	for i, r := range recs {
		if i > 0 && !r.DateAdded.After(recs[i-1].DateAdded) {
			t.Errorf("record %d: date added %v not after %v", i, r.DateAdded, recs[i-1].DateAdded)
		}
		w := strings.Split(r.ID, "-")[2]
		if prev, ok := lastOf[w]; ok && r.ID < prev {
			t.Errorf("writer %s: %s added after %s", w, r.ID, prev)
		}
		lastOf[w] = r.ID
	}
}

// A reader never waits for the writer: with a write transaction open (and the writer pool's only
// connection taken), pages are still served, from the last committed snapshot.
func TestReadsDoNotWaitForTheWriter(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	c := newCollection(t, s)
	if _, err := s.AddObjects(t.Context(), c, []store.Object{obj("indicator--1", 1)}); err != nil {
		t.Fatalf("add: %v", err)
	}
	tx, err := s.write.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(t.Context(), `DELETE FROM objects`); err != nil {
		t.Fatalf("delete: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	p, err := s.Objects(ctx, c, store.Query{Limit: 10})
	if err != nil || len(p.Records) != 1 {
		t.Fatalf("read during a write: %d records, %v; want the committed one", len(p.Records), err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir with ?#% chars", "hub.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	c := newCollection(t, s)
	added, err := s.AddObjects(ctx, c, []store.Object{obj("indicator--1", 1)})
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}

	s = openTest(t, path)
	p, err := s.Objects(ctx, c, store.Query{Limit: 10})
	if err != nil {
		t.Fatalf("read after reopen: %v", err)
	}
	if len(p.Records) != 1 || string(p.Records[0].Content) != `{"type":"indicator","id":"indicator--1","n":1}` {
		t.Fatalf("after reopen: %+v", p.Records)
	}
	// last_added survived too: a new version lands after the old one even with a clock behind it.
	s.now = func() time.Time { return time.Unix(0, 0) }
	again, err := s.AddObjects(ctx, c, []store.Object{obj("indicator--2", 2)})
	if err != nil {
		t.Fatalf("add after reopen: %v", err)
	}
	if !again[0].DateAdded.After(added[0].DateAdded) {
		t.Errorf("date added %v after reopen is not after %v", again[0].DateAdded, added[0].DateAdded)
	}
	requireLatestSchema(t, s)
}

// Every connection of both pools carries the pragmas, not just the first one opened.
func TestPragmasOnEveryConnection(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"), WithReaders(3))
	ctx := t.Context()
	check := func(name string, db *sql.DB, n int, queryOnly int) {
		// Hold n connections at once so that the pool must open distinct ones.
		var conns []*sql.Conn
		for range n {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatalf("%s: conn: %v", name, err)
			}
			conns = append(conns, c)
		}
		for i, c := range conns {
			var (
				journal                string
				busy, fk, syncMode, qo int
			)
			for _, p := range []struct {
				pragma string
				dest   any
			}{{"journal_mode", &journal}, {"busy_timeout", &busy}, {"foreign_keys", &fk}, {"synchronous", &syncMode}, {"query_only", &qo}} {
				if err := c.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.dest); err != nil {
					t.Fatalf("%s conn %d: %s: %v", name, i, p.pragma, err)
				}
			}
			if journal != "wal" || busy != 10000 || fk != 1 || syncMode != 2 || qo != queryOnly {
				t.Errorf("%s conn %d: journal_mode=%s busy_timeout=%d foreign_keys=%d synchronous=%d query_only=%d",
					name, i, journal, busy, fk, syncMode, qo)
			}
		}
		for _, c := range conns {
			c.Close()
		}
	}
	check("reader", s.read, 3, 1)
	check("writer", s.write, 1, 0)

	if _, err := s.read.ExecContext(ctx, "INSERT INTO api_roots VALUES ('x', '', '')"); err == nil {
		t.Errorf("a write through the reader pool succeeded")
	}
}

// Every read a page or a write runs is an indexed search: no full scan of a collection and, in
// date-added order without an id filter, no sort. The planner has no statistics here, as in
// production, where the hub never runs ANALYZE.
func TestQueryPlans(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := t.Context()
	c := newCollection(t, s)
	var objs []store.Object
	for i := range 200 {
		o := obj(fmt.Sprintf("indicator--%d", i), i)
		if i%3 == 0 {
			o.Type = "malware"
		}
		objs = append(objs, o)
	}
	if _, err := s.AddObjects(ctx, c, objs); err != nil {
		t.Fatalf("add: %v", err)
	}
	const (
		byDate = "SEARCH objects USING INDEX objects_added (collection_id=? AND date_added>?)"
		byType = "SEARCH objects USING INDEX objects_type_added (collection_id=? AND type=? AND date_added>?)"
		byID   = "SEARCH objects USING INDEX sqlite_autoindex_objects_1 (collection_id=? AND object_id=?"
		byKey  = "SEARCH objects USING INDEX sqlite_autoindex_objects_1 (collection_id=? AND object_id=? AND version=?)"
	)
	ids := []string{"indicator--1", "indicator--2", "indicator--3"}
	for _, tc := range []struct {
		name     string
		run      func(q querier) error
		want     string
		sortedOK bool // a sort of one object's versions, not of the collection
	}{
		{name: "scan", want: byDate, run: func(q querier) error {
			_, err := versions{q, c}.ScanVersions(ctx, store.Scan{After: -1, Limit: 10, WithContent: true})
			return err
		}},
		{name: "scan one type", want: byType, run: func(q querier) error {
			_, err := versions{q, c}.ScanVersions(ctx, store.Scan{After: 5, Types: []string{"malware"}, Limit: 10})
			return err
		}},
		{name: "scan two types and spec versions", want: byDate, run: func(q querier) error {
			_, err := versions{q, c}.ScanVersions(ctx, store.Scan{After: 5, Types: []string{"malware", "indicator"},
				SpecVersions: []string{"2.0", "2.1"}, Limit: 10})
			return err
		}},
		{name: "scan one id", want: byID, sortedOK: true, run: func(q querier) error {
			_, err := versions{q, c}.ScanVersions(ctx, store.Scan{After: -1, IDs: ids[:1], Limit: 10})
			return err
		}},
		{name: "scan ids and a type", want: byID, sortedOK: true, run: func(q querier) error {
			_, err := versions{q, c}.ScanVersions(ctx, store.Scan{After: -1, IDs: ids, Types: []string{"malware"}, Limit: 10})
			return err
		}},
		{name: "versions of ids", want: byID, run: func(q querier) error {
			_, err := versions{q, c}.VersionsOf(ctx, ids, store.TLPNone)
			return err
		}},
		{name: "stored version", want: byKey, run: func(q querier) error {
			_, err := q.QueryContext(ctx, sqlObjectByVersion, c, "indicator--1", 1)
			return err
		}},
		{name: "stored content", want: byID, sortedOK: true, run: func(q querier) error {
			_, err := q.QueryContext(ctx, sqlObjectByContent, c, "indicator--1", []byte{1})
			return err
		}},
		{name: "browse", want: "SEARCH objects USING INDEX objects_type_added (collection_id=? AND type=?)", run: func(q querier) error {
			return closed(q.QueryContext(ctx, browseQuery(false, store.TLPAmber), c, "malware", 10))
		}},
		{name: "browse before", want: "SEARCH objects USING INDEX objects_type_added (collection_id=? AND type=? AND date_added<?)", run: func(q querier) error {
			return closed(q.QueryContext(ctx, browseQuery(true, store.TLPNone), c, "malware", 5, 10))
		}},
		{name: "search probe", want: "SEARCH object_values USING COVERING INDEX object_values_search (value=? AND collection_id=?)", run: func(q querier) error {
			return closed(q.QueryContext(ctx, probeQuery(store.TLPGreen), "198.51.100.7", c, 10))
		}},
		{name: "latest visible versions", want: byID, run: func(q querier) error {
			return closed(q.QueryContext(ctx, latestQuery(store.TLPGreen), c, `["indicator--1","indicator--2"]`))
		}},
	} {
		rec := &planRecorder{db: s.read}
		if err := tc.run(rec); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !strings.Contains(rec.plan, tc.want) || strings.Contains(rec.plan, "SCAN objects") ||
			!tc.sortedOK && strings.Contains(rec.plan, "TEMP B-TREE") {
			t.Errorf("%s: plan\n%s\nwant %q, no full scan, sort only of one object's versions", tc.name, rec.plan, tc.want)
		}
	}
}

// closed closes the rows of a query whose plan alone matters, so that the reader pool's
// connections are not all held by rows nobody reads.
func closed(rows *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	return rows.Close()
}

// planRecorder runs EXPLAIN QUERY PLAN for the query it is given and then the query itself.
type planRecorder struct {
	db   *sql.DB
	plan string
}

func (p *planRecorder) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := p.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return nil, err
	}
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			rows.Close()
			return nil, err
		}
		lines = append(lines, detail)
	}
	rows.Close()
	p.plan = strings.Join(lines, "\n")
	return p.db.QueryContext(ctx, query, args...)
}

func TestInvalidObjectsAreRefusedWithoutWriting(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	c := newCollection(t, s)
	good := obj("indicator--1", 1)
	for name, bad := range map[string]func(*store.Object){
		"no id":           func(o *store.Object) { o.ID = "" },
		"no type":         func(o *store.Object) { o.Type = "" },
		"no spec version": func(o *store.Object) { o.SpecVersion = "" },
		"no content":      func(o *store.Object) { o.Content = nil },
	} {
		o := obj("indicator--2", 2)
		bad(&o)
		out, err := s.AddObjects(t.Context(), c, []store.Object{good, o})
		if err == nil || !strings.HasPrefix(err.Error(), "sqlitestore: ") {
			t.Errorf("%s: err %v", name, err)
		}
		if len(out) != 2 || slices.ContainsFunc(out, func(o store.Outcome) bool { return o.Result.Stored() }) {
			t.Errorf("%s: outcomes %+v", name, out)
		}
	}
	p, err := s.Manifest(t.Context(), c, store.Query{Limit: 10})
	if err != nil || len(p.Records) != 0 {
		t.Errorf("collection holds %d records after refused writes (%v)", len(p.Records), err)
	}
}

// An object carrying its own version on the very microsecond a versionless object of the same id
// would take as its date added does not make the write fail.
func TestVersionlessObjectSkipsATakenVersion(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"), WithClock(func() time.Time { return at }))
	c := newCollection(t, s)
	withVersion := store.Object{ID: "x--1", Type: "x", SpecVersion: "2.1", Version: at.Add(time.Microsecond), Content: []byte(`{"v":1}`)}
	versionless := store.Object{ID: "x--1", Type: "x", SpecVersion: "2.1", Content: []byte(`{"v":2}`)}
	out, err := s.AddObjects(t.Context(), c, []store.Object{withVersion, versionless})
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	// withVersion was added at `at`; the versionless one would take at+1µs, which is withVersion's
	// version, and moves on to at+2µs.
	if out[1].Result != store.Added || !out[1].Version.Equal(at.Add(2*time.Microsecond)) || !out[1].DateAdded.Equal(out[1].Version) {
		t.Errorf("versionless outcome %+v", out[1])
	}
}
