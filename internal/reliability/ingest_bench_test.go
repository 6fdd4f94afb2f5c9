//go:build linux

package reliability

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"taxiihub/internal/load"
	"taxiihub/internal/mongotest"
	"taxiihub/internal/store/sqlitestore"
)

// The database's own limit is the yardstick of the hub's write and read paths. Each figure below
// comes from one run against one database process, the hub's and the plain one measured side by
// side, so that the ratio holds on whatever machine runs it:
//
//	go test -run '^$' -bench 'IngestVersusRaw|IngestFlat' -benchtime 1x -timeout 2h ./internal/reliability/

// Shapes of the ingest: about 720-byte indicators in envelopes of 500, one publisher each for four
// members that may write, as in the measurements the targets were set from.
const (
	ingestBatch      = 500
	ingestObjectSize = 720
	tailPage         = 1000
	tailSamples      = 60
)

// ingestWriters are the example members whose publishers run: between them they write to every
// example partnership, so each collection's rules are judged.
var ingestWriters = []string{"cert-eu", "cncert-cc", "jpcert-cc", "frontex"}

// BenchmarkIngestVersusRaw measures, per database (SQLite; MongoDB as a single-node replica set and
// as a three-member set):
//
//   - ingest: objects/s accepted through a hub process (TAXII, STIX validation, every sharing rule of
//     the example partnerships, ownership, origins and fingerprints, the ledger), against inserting
//     the very object documents (rows) the hub stored into a fresh database of the same server (a
//     fresh file opened with the store's pragmas), with the same batch and concurrency and nothing
//     but the primary key: what the database itself can take;
//   - tail page: a page of the last 1,000 objects of a collection read through the hub (p50 of
//     repeated reads), against a plain query of the same documents (rows) from the hub's database
//     whose contents are written to a socket.
//
// Reported: both rates and ingest-ratio (hub/raw; targets ≥ 0.3 on MongoDB, ≥ 0.5 on SQLite), both
// tail times and tail-ratio (hub/raw; target ≤ 2).
func BenchmarkIngestVersusRaw(b *testing.B) {
	const objects = 100_000
	for _, target := range []struct {
		name    string
		members int // replica set members; 0 is SQLite
	}{{"sqlite", 0}, {"mongodb-single", 1}, {"mongodb-three", 3}} {
		b.Run("db="+target.name, func(b *testing.B) {
			for b.Loop() {
				opts := hubOptions{seed: true}
				var set *mongotest.ReplicaSet
				switch target.members {
				case 1:
					set = startBenchSet(b, 1)
					opts.set, opts.mongoDB = set, set.Database(b)
				case 3:
					set = rs
					opts.mongoDB = rs.Database(b)
				}
				h := startHub(b, "ingest", opts)
				rep := ingest(b, h, objects, nil)
				hubRate := rep.ObjectsPerSecond()

				reader := memberOf(b, h, "jpcert-cc")
				coll := collectionIDs(b, h, reader, "eu-japan")["cyber-threats"]
				var db rawDB
				if set != nil {
					db = openRawMongo(b, set, opts.mongoDB)
				} else {
					db = openRawSQLite(b, filepath.Join(h.dataDir, "taxiihub.db"))
				}
				after := db.tailStart(b, coll)
				hubTail := median(b, func() time.Duration {
					return timedGet(b, h.URL()+"/eu-japan/collections/"+coll+"/objects/?limit=1000&added_after="+after.UTC().Format("2006-01-02T15:04:05.000000Z"), reader.Token)
				})
				if err := h.terminate(); err != nil {
					b.Fatal(err)
				}
				rawTail := median(b, func() time.Duration { return db.tail(b, coll, after) })
				rawRate := db.insertCopy(b)

				b.Logf("%s: hub %.0f obj/s, raw %.0f obj/s; tail page hub %s, raw %s", target.name, hubRate, rawRate, hubTail, rawTail)
				b.ReportMetric(hubRate, "hub-obj/s")
				b.ReportMetric(rawRate, "raw-obj/s")
				b.ReportMetric(hubRate/rawRate, "ingest-ratio")
				b.ReportMetric(float64(hubTail)/1e6, "hub-tail-ms")
				b.ReportMetric(float64(rawTail)/1e6, "raw-tail-ms")
				b.ReportMetric(float64(hubTail)/float64(rawTail), "tail-ratio")
			}
		})
	}
}

// BenchmarkIngestFlatAsCollectionGrows loads 1,000,000 objects through a hub on a single-node
// replica set whose cache (256 MB) is far smaller than the data, and compares the rate at which
// the last 100,000 were accepted with the rate of the first 100,000 (target ≥ 0.7).
func BenchmarkIngestFlatAsCollectionGrows(b *testing.B) {
	const (
		objects = 1_000_000
		window  = 100_000
	)
	for b.Loop() {
		set := startBenchSet(b, 1)
		h := startHub(b, "flat", hubOptions{seed: true, set: set, mongoDB: set.Database(b)})
		var mu sync.Mutex
		var ends []time.Time
		ingest(b, h, objects, func(ev load.RequestEvent) {
			if ev.Method == "POST" && ev.Status == 202 {
				mu.Lock()
				ends = append(ends, ev.End)
				mu.Unlock()
			}
		})
		slices.SortFunc(ends, func(x, y time.Time) int { return x.Compare(y) })
		perWindow := window / ingestBatch
		if len(ends) < 2*perWindow+1 {
			b.Fatalf("only %d envelopes accepted", len(ends))
		}
		rate := func(from, to time.Time) float64 { return float64(window) / to.Sub(from).Seconds() }
		first := rate(ends[0], ends[perWindow])
		last := rate(ends[len(ends)-1-perWindow], ends[len(ends)-1])
		b.Logf("first %d objects at %.0f obj/s, last %d at %.0f obj/s", window, first, window, last)
		b.ReportMetric(first, "first-obj/s")
		b.ReportMetric(last, "last-obj/s")
		b.ReportMetric(last/first, "last/first")
	}
}

// ingest publishes objects through the hub as the four writers and fails the benchmark unless every
// one was accepted and nothing was refused.
func ingest(b *testing.B, h *hub, objects int, onRequest func(load.RequestEvent)) *load.Report {
	b.Helper()
	members := slices.DeleteFunc(h.members(), func(m load.Member) bool { return !slices.Contains(ingestWriters, m.ID) })
	rep, err := load.Run(b.Context(), load.Config{Hubs: []string{h.URL()}, Members: members, Collections: exampleCollections,
		Objects: objects, Batch: ingestBatch, ObjectSize: ingestObjectSize, Publishers: 1,
		Drain: time.Minute, GiveUpAfter: 2 * time.Minute, OnRequest: onRequest})
	if err != nil {
		b.Fatal(err)
	}
	if ps := rep.Problems(); len(ps) > 0 {
		b.Fatalf("load: %q", ps)
	}
	return rep
}

func memberOf(b *testing.B, h *hub, id string) load.Member {
	b.Helper()
	for _, m := range h.members() {
		if m.ID == id {
			return m
		}
	}
	b.Fatalf("no member %s", id)
	return load.Member{}
}

// startBenchSet starts a replica set of its own for one benchmark.
func startBenchSet(b *testing.B, members int) *mongotest.ReplicaSet {
	b.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), 3*time.Minute)
	defer cancel()
	var log strings.Builder
	set, err := mongotest.StartReplicaSet(ctx, &log, mongotest.ReplicaSetOptions{Members: members})
	if err != nil {
		b.Fatalf("%v\n%s", err, log.String())
	}
	b.Cleanup(func() {
		if err := set.Stop(); err != nil {
			b.Errorf("stop replica set: %v", err)
		}
	})
	return set
}

// median runs measure tailSamples times after a few unmeasured runs and returns the median.
func median(b *testing.B, measure func() time.Duration) time.Duration {
	b.Helper()
	for range 5 {
		measure()
	}
	ds := make([]time.Duration, tailSamples)
	for i := range ds {
		ds[i] = measure()
	}
	return percentile(ds, 0.5)
}

// rawDB is the database under a hub, seen without it.
type rawDB interface {
	// tailStart is the date added after which the collection holds its last tailPage objects.
	tailStart(b *testing.B, coll string) time.Time
	// tail reads the contents of the objects added after the date, oldest first, writes them to a
	// socket and returns how long it took.
	tail(b *testing.B, coll string, after time.Time) time.Duration
	// insertCopy inserts every object document (row) the hub stored into a fresh database of the
	// same server, with the ingest's batch and concurrency, and returns the rate.
	insertCopy(b *testing.B) float64
}

// sink is a loopback socket whose far end discards what it reads: the plain reads write to it what
// the hub would write to its client.
func sink(b *testing.B) net.Conn {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		c, err := ln.Accept()
		ln.Close()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// inParallel splits n items among the ingest's writers, each taking batches of ingestBatch, and
// returns the rate at which insert took them all.
func inParallel(b *testing.B, n int, insert func(from, to int) error) float64 {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, len(ingestWriters))
	started := time.Now()
	for w := range ingestWriters {
		wg.Go(func() {
			for {
				from := int(next.Add(ingestBatch)) - ingestBatch
				if from >= n {
					return
				}
				if err := insert(from, min(from+ingestBatch, n)); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(started)
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / elapsed.Seconds()
}

// rawMongo is a hub's MongoDB database.
type rawMongo struct {
	client *mongo.Client
	db     *mongo.Database
}

func openRawMongo(b *testing.B, set *mongotest.ReplicaSet, database string) *rawMongo {
	b.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(set.URI()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { client.Disconnect(context.Background()) })
	return &rawMongo{client: client, db: client.Database(database)}
}

func (m *rawMongo) tailStart(b *testing.B, coll string) time.Time {
	b.Helper()
	var doc struct {
		DateAdded int64 `bson:"date_added"`
	}
	err := m.db.Collection("objects").FindOne(b.Context(), bson.D{{Key: "collection_id", Value: coll}},
		options.FindOne().SetSort(bson.D{{Key: "date_added", Value: -1}}).SetSkip(tailPage).SetProjection(bson.D{{Key: "date_added", Value: 1}})).Decode(&doc)
	if err != nil {
		b.Fatalf("tail start: %v", err)
	}
	return time.UnixMicro(doc.DateAdded)
}

func (m *rawMongo) tail(b *testing.B, coll string, after time.Time) time.Duration {
	b.Helper()
	conn := sink(b)
	started := time.Now()
	cur, err := m.db.Collection("objects").Find(b.Context(),
		bson.D{{Key: "collection_id", Value: coll}, {Key: "date_added", Value: bson.D{{Key: "$gt", Value: after.UnixMicro()}}}},
		options.Find().SetSort(bson.D{{Key: "date_added", Value: 1}}).SetLimit(tailPage).SetProjection(bson.D{{Key: "content", Value: 1}}))
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for cur.Next(b.Context()) {
		_, content, ok := cur.Current.Lookup("content").BinaryOK()
		if !ok {
			b.Fatal("an object document without content")
		}
		if _, err := conn.Write(content); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := cur.Err(); err != nil || n != tailPage {
		b.Fatalf("tail: %d documents, %v", n, err)
	}
	cur.Close(b.Context())
	return time.Since(started)
}

func (m *rawMongo) insertCopy(b *testing.B) float64 {
	b.Helper()
	cur, err := m.db.Collection("objects").Find(b.Context(), bson.D{})
	if err != nil {
		b.Fatal(err)
	}
	var docs []any
	for cur.Next(b.Context()) {
		docs = append(docs, slices.Clone(cur.Current))
	}
	if err := cur.Err(); err != nil {
		b.Fatal(err)
	}
	raw := m.client.Database(m.db.Name()+"_raw").Collection("objects", options.Collection().SetWriteConcern(writeconcern.Majority()))
	b.Cleanup(func() { raw.Database().Drop(context.Background()) })
	return inParallel(b, len(docs), func(from, to int) error {
		_, err := raw.InsertMany(b.Context(), docs[from:to])
		return err
	})
}

// rawSQLite is a hub's embedded database file.
type rawSQLite struct {
	path string
	db   *sql.DB
}

func openRawSQLite(b *testing.B, path string) *rawSQLite {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return &rawSQLite{path: path, db: db}
}

func (s *rawSQLite) tailStart(b *testing.B, coll string) time.Time {
	b.Helper()
	var added int64
	if err := s.db.QueryRowContext(b.Context(), `SELECT date_added FROM objects WHERE collection_id = ? ORDER BY date_added DESC LIMIT 1 OFFSET ?`,
		coll, tailPage).Scan(&added); err != nil {
		b.Fatalf("tail start: %v", err)
	}
	return time.UnixMicro(added)
}

func (s *rawSQLite) tail(b *testing.B, coll string, after time.Time) time.Duration {
	b.Helper()
	conn := sink(b)
	started := time.Now()
	rows, err := s.db.QueryContext(b.Context(), `SELECT content FROM objects WHERE collection_id = ? AND date_added > ? ORDER BY date_added LIMIT ?`,
		coll, after.UnixMicro(), tailPage)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	var content []byte
	for rows.Next() {
		if err := rows.Scan(&content); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Write(content); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != tailPage {
		b.Fatalf("tail: %d rows, %v", n, err)
	}
	rows.Close()
	return time.Since(started)
}

func (s *rawSQLite) insertCopy(b *testing.B) float64 {
	b.Helper()
	// The table as the hub has it, column for column, with nothing but its primary key.
	cols, err := s.db.QueryContext(b.Context(), `SELECT name, type, pk FROM pragma_table_info('objects') ORDER BY cid`)
	if err != nil {
		b.Fatal(err)
	}
	var names, defs, keys []string
	for cols.Next() {
		var name, typ string
		var pk int
		if err := cols.Scan(&name, &typ, &pk); err != nil {
			b.Fatal(err)
		}
		names, defs = append(names, name), append(defs, name+" "+typ)
		if pk > 0 {
			keys = append(keys, name)
		}
	}
	cols.Close()
	rows, err := s.db.QueryContext(b.Context(), `SELECT `+strings.Join(names, ", ")+` FROM objects`)
	if err != nil {
		b.Fatal(err)
	}
	var copied [][]any
	for rows.Next() {
		row := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
		copied = append(copied, row)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	rows.Close()

	dsn, err := sqlitestore.WriterDSN(filepath.Join(b.TempDir(), "raw.db"))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := sql.Open("sqlite", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1) // as the store's writer
	if _, err := raw.ExecContext(b.Context(), `CREATE TABLE objects (`+strings.Join(defs, ", ")+`, PRIMARY KEY (`+strings.Join(keys, ", ")+`))`); err != nil {
		b.Fatal(err)
	}
	insert := `INSERT INTO objects (` + strings.Join(names, ", ") + `) VALUES (?` + strings.Repeat(", ?", len(names)-1) + `)`
	return inParallel(b, len(copied), func(from, to int) error {
		tx, err := raw.BeginTx(b.Context(), nil)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(b.Context(), insert)
		if err != nil {
			return fmt.Errorf("%w (rollback: %v)", err, tx.Rollback())
		}
		for _, row := range copied[from:to] {
			if _, err := stmt.ExecContext(b.Context(), row...); err != nil {
				return fmt.Errorf("%w (rollback: %v)", err, tx.Rollback())
			}
		}
		return tx.Commit()
	})
}
