// Package sqlitestore is the embedded default backend of the hub: a store.Store kept in one SQLite
// database file, in WAL mode, through the pure Go driver modernc.org/sqlite.
//
// Writes go through a pool of a single connection whose transactions begin IMMEDIATE, so that they
// are serialized in the process (no SQLITE_BUSY storms) and, through SQLite's write lock, across
// processes sharing the file. Reads go through a separate pool of read-only connections and never
// wait behind a writer, since WAL readers see the last committed snapshot.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"taxiihub/internal/store"
)

var _ store.Store = (*Store)(nil)

// BusyTimeout is how long a connection waits for a lock another process holds before failing with
// SQLITE_BUSY. Within one process writers queue on the writer pool instead, so this bounds only
// waits on other processes sharing the file (and on checkpoints).
const BusyTimeout = 10 * time.Second

// DefaultReaders is the smallest reader pool Open makes; it grows to GOMAXPROCS on larger machines.
const DefaultReaders = 4

// Store is a store.Store kept in an SQLite database file. It is safe for concurrent use.
type Store struct {
	write *sql.DB // one connection: SQLite has one writer at a time
	read  *sql.DB // read-only connections
	now   func() time.Time
	// path is the database file's absolute path; Backup reads it, and writes its copies beside it.
	path string
	// indexer derives the value-search index entries of each version stored; nil keeps none.
	indexer store.ValueIndexer
}

// Option changes how Open sets up a Store.
type Option func(*options)

type options struct {
	now     func() time.Time
	readers int
	upgrade store.FingerprintUpgrade
	indexer store.ValueIndexer
}

// WithValueIndexer gives the store what each object version names, so that it keeps the
// value-search index (see store.ValueIndexer) and Open fills it for versions stored before. The hub
// always opens its store with it. Without it the store keeps no entries and forgets that the index
// was complete, so that the next Open with it fills the index again.
func WithValueIndexer(ix store.ValueIndexer) Option {
	return func(o *options) { o.indexer = ix }
}

// WithFingerprintUpgrade gives Open the hub's fingerprint schemes, so that it re-keys, once, the
// origins of content fingerprinted under the first scheme (see store.FingerprintUpgrade). Without
// it Open leaves them, and does so again until opened with it.
func WithFingerprintUpgrade(f store.FingerprintUpgrade) Option {
	return func(o *options) { o.upgrade = f }
}

// WithClock makes the store take dates added from now instead of time.Now. Dates added still
// strictly increase per collection whatever now returns.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithReaders sets how many connections serve reads at once (at least 1).
func WithReaders(n int) Option {
	return func(o *options) { o.readers = max(n, 1) }
}

// Open opens (creating if needed) the database file at path and migrates its schema.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, readers: max(DefaultReaders, runtime.GOMAXPROCS(0))}
	for _, opt := range opts {
		opt(&o)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}

	write, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	// The first connection converts the file to WAL (a persistent setting) before any reader opens.
	if err := migrate(ctx, write); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlitestore: open %s: %w", path, err), write.Close())
	}

	read, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqlitestore: open %s: %w", path, err), write.Close())
	}
	read.SetMaxOpenConns(o.readers)
	read.SetMaxIdleConns(o.readers)
	if err := read.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlitestore: open %s for reading: %w", path, err), read.Close(), write.Close())
	}
	s := &Store{write: write, read: read, now: o.now, path: abs, indexer: o.indexer}
	if err := s.chainAudit(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlitestore: open %s: %w", path, err), read.Close(), write.Close())
	}
	if o.upgrade != nil {
		if err := s.upgradeFingerprints(ctx, o.upgrade); err != nil {
			return nil, errors.Join(fmt.Errorf("sqlitestore: open %s: %w", path, err), read.Close(), write.Close())
		}
	}
	if err := s.indexValues(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlitestore: open %s: %w", path, err), read.Close(), write.Close())
	}
	return s, nil
}

// Close closes both connection pools. When they hold the last connections to the file, SQLite
// checkpoints the WAL into the database as they close.
func (s *Store) Close(_ context.Context) error {
	if err := errors.Join(s.read.Close(), s.write.Close()); err != nil {
		return fmt.Errorf("sqlitestore: close: %w", err)
	}
	return nil
}

// basePragmas are the pragmas every pooled connection gets, through the DSN so that database/sql
// cannot hand out a connection without them. The driver runs busy_timeout first, then the rest in
// lexicographic order.
//
// synchronous=FULL: in WAL mode it syncs the WAL on every commit, so a write the hub has acknowledged
// to a partner survives a power cut. NORMAL would sync only at checkpoints, keeping the database
// consistent but able to lose the last commits after the hub said they were stored. The cost is one
// fsync per write transaction (one per AddObjects call, not per object).
var basePragmas = []string{
	fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()),
	"foreign_keys(1)",
	"journal_mode(WAL)",
	"synchronous(FULL)",
}

// dsn builds a modernc.org/sqlite data source name for the file at abs. A "file:" URI with an escaped
// path keeps a '?', '#' or '%' in the path from being read as parameters.
//
// Writer connections get _txlock=immediate: their transactions take the write lock at BEGIN, before
// reading what they base a write on (last_added above all), so that two writers, even in two
// processes, cannot interleave. Reader connections get query_only, so that a write sent to the
// reader pool by mistake fails loudly instead of competing with the writer.
func dsn(abs string, reader bool) string {
	q := url.Values{"_pragma": slices.Clone(basePragmas)}
	if reader {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Path: filepath.ToSlash(abs)}
	return "file:" + u.EscapedPath() + "?" + q.Encode()
}

// WriterDSN is the data source name of the store's writer connection to the database file at path:
// the pragmas and locking the store writes with, for benchmarks that must compare the store with
// plain inserts into a file opened the same way.
func WriterDSN(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sqlitestore: %s: %w", path, err)
	}
	return dsn(abs, false), nil
}

// isConstraint reports whether err is an SQLite constraint violation with one of the extended codes.
func isConstraint(err error, codes ...int) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return slices.Contains(codes, se.Code())
}

// isTaken reports a violated primary key or unique index.
func isTaken(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE)
}

// updated turns the result of an UPDATE of one row by its key into ErrNotFound when no row
// matched. SQLite counts a row the WHERE matched as changed even when the new values equal the old,
// so no row changed means no such row.
func updated(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	switch {
	case err != nil:
		return err
	case n == 0:
		return store.ErrNotFound
	}
	return nil
}

// inWrite runs fn in a write transaction (BEGIN IMMEDIATE on the single writer connection) and
// commits if fn succeeds.
func (s *Store) inWrite(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// inRead runs fn in a read transaction on the reader pool: all its statements see one snapshot.
func (s *Store) inRead(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer rollback(tx)
	return fn(tx)
}

// rollback ends tx after a failure; the failure, not the rollback's own error, is what the caller
// reports, and a transaction already ended (committed, or rolled back for a done context) is fine.
func rollback(tx *sql.Tx) {
	_ = tx.Rollback()
}

func fromMicros(x int64) time.Time { return time.UnixMicro(x).UTC() }
