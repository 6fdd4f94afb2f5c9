//go:build unix

package mongotest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

const (
	replicaSet = "rs0"

	// readyTimeout bounds the wait from spawning mongod to a writable primary; it is usually ~2 s.
	readyTimeout = 60 * time.Second
	// shutdownTimeout is how long mongod gets to exit after SIGTERM before it is killed.
	shutdownTimeout = 30 * time.Second

	// portAttempts covers the race between closing the probe listener and mongod binding the port.
	portAttempts = 3
	// logTailBytes is read from the end of the log: a crash's backtrace alone runs to several KiB,
	// and the line that says why mongod aborted comes before it.
	logTailBytes = 32 << 10
	logTailLines = 25
)

// errPortInUse means another process took the chosen port first; trying a new port may help.
var errPortInUse = errors.New("port already in use")

// mongod is a mongod process started by this package.
type mongod struct {
	cmd     *exec.Cmd
	port    int
	dir     string // holds dbpath and log; removed by stop
	logPath string
	done    chan struct{} // closed once cmd.Wait has returned
	waitErr error         // result of cmd.Wait; read only after done is closed
	// meant is set before this package signals the process, so that an exit it did not ask for
	// can be told apart: a crash.
	meant atomic.Bool
}

// startMongod starts bin, a mongod of the given version, as a single-node replica set and waits until
// it has a writable primary. On failure nothing is left running and its temporary directory is gone.
func startMongod(ctx context.Context, bin, version string, log io.Writer) (*mongod, error) {
	started := time.Now()
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()

	var err error
	for range portAttempts {
		var m *mongod
		m, err = spawn(bin, version)
		if err != nil {
			return nil, err
		}
		err = m.initiate(ctx)
		if err == nil {
			fmt.Fprintf(log, "mongotest: mongod pid %d serving replica set %s on %s (ready in %s)\n",
				m.cmd.Process.Pid, replicaSet, m.addr(), time.Since(started).Round(time.Millisecond))
			return m, nil
		}
		err = fmt.Errorf("mongotest: start mongod on %s: %w%s", m.addr(), err, m.logTail())
		if discardErr := m.discard(); discardErr != nil {
			return nil, errors.Join(err, discardErr)
		}
		if !errors.Is(err, errPortInUse) {
			return nil, err
		}
		fmt.Fprintf(log, "mongotest: port %d was taken before mongod bound it; retrying\n", m.port)
	}
	return nil, err
}

// spawn starts mongod on a free loopback port in a fresh temporary directory, as a member of a
// replica set of its own.
func spawn(bin, version string) (_ *mongod, err error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mongotest-")
	if err != nil {
		return nil, fmt.Errorf("mongotest: create temp dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, fmt.Errorf("mongotest: create dbpath: %w", err)
	}
	return spawnAt(bin, version, port, dir, replicaSet, nil)
}

// spawnAt starts mongod on port with its data in dir/db (which must exist) and its log in
// dir/mongod.log, appending to the log of an earlier run. extra is added to the command line.
func spawnAt(bin, version string, port int, dir, replSet string, extra []string) (*mongod, error) {
	dbPath := filepath.Join(dir, "db")
	logPath := filepath.Join(dir, "mongod.log")
	// mongod's stdout and stderr rather than --logpath, so that failures before logging is set up
	// (bad flags, missing shared libraries) are captured too.
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("mongotest: create mongod log: %w", err)
	}
	defer logFile.Close() // the child has its own copy of the descriptor

	args := []string{
		"--port", strconv.Itoa(port),
		"--bind_ip", "127.0.0.1",
		"--dbpath", dbPath,
		"--replSet", replSet,
		"--nounixsocket",
		// Several test binaries run their own mongod at once under go test ./...; keep each small.
		"--wiredTigerCacheSizeGB", "0.25",
		"--oplogSize", "64",
		// Without this WiredTiger preallocates ~300 MB of journal files per instance.
		"--wiredTigerEngineConfigString", "log=(file_max=20MB,prealloc=false)",
		"--setParameter", "diagnosticDataCollectionEnabled=false",
		// --nojournal is not an option: mongod 4.0 refuses to run a replica set without a journal.
	}
	if strings.HasPrefix(version, "v4.0.") {
		// On SIGTERM a 4.0 primary waits 10 s for a secondary to catch up so it can step down; a
		// single-node set has none. Other versions name this differently or not at all, and mongod
		// refuses to start with an unknown parameter, so it is only passed to the version verified.
		args = append(args, "--setParameter", "waitForStepDownOnNonCommandShutdown=false")
	}
	args = append(args, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir // mongod needs a working directory, and the test's may not outlive it
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("mongotest: start %s: %w", bin, err)
	}

	m := &mongod{cmd: cmd, port: port, dir: dir, logPath: logPath, done: make(chan struct{})}
	go func() {
		m.waitErr = cmd.Wait()
		close(m.done)
	}()
	return m, nil
}

// freePort returns a loopback TCP port that was free a moment ago. Another process may take it before
// mongod binds it; startMongod retries when that happens.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("mongotest: find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (m *mongod) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.port)) }

func (m *mongod) uri() string { return "mongodb://" + m.addr() + "/?replicaSet=" + replicaSet }

// initiate waits for mongod to accept connections, initiates the replica set and waits until this
// member is a writable primary. It talks to the member directly: before replSetInitiate there is no
// replica set for a replicaSet URI to discover.
func (m *mongod) initiate(ctx context.Context) error {
	client, err := mongo.Connect(options.Client().
		ApplyURI("mongodb://" + m.addr() + "/").
		SetDirect(true).
		SetServerSelectionTimeout(time.Second))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	admin := client.Database("admin")

	if err := m.poll(ctx, "accepting connections", func(ctx context.Context) error {
		return admin.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
	}); err != nil {
		return err
	}

	config := bson.D{
		{Key: "_id", Value: replicaSet},
		{Key: "members", Value: bson.A{bson.D{{Key: "_id", Value: 0}, {Key: "host", Value: m.addr()}}}},
	}
	if err := admin.RunCommand(ctx, bson.D{{Key: "replSetInitiate", Value: config}}).Err(); err != nil {
		return fmt.Errorf("replSetInitiate: %w", err)
	}

	return m.poll(ctx, "becoming writable primary", func(ctx context.Context) error {
		// isMaster rather than hello: hello only exists from 4.0.21 on, and isMaster is still served by
		// current releases. Its ismaster field means "writable primary", not merely "elected".
		var reply struct {
			IsMaster bool `bson:"ismaster"`
		}
		if err := admin.RunCommand(ctx, bson.D{{Key: "isMaster", Value: 1}}).Decode(&reply); err != nil {
			return err
		}
		if !reply.IsMaster {
			return errors.New("not primary yet")
		}
		return nil
	})
}

// poll calls check until it succeeds, mongod exits or ctx ends.
func (m *mongod) poll(ctx context.Context, what string, check func(context.Context) error) error {
	const interval = 100 * time.Millisecond
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-m.done:
			if bytes.Contains(m.readLogTail(), []byte("Address already in use")) {
				return errPortInUse
			}
			return fmt.Errorf("mongod exited while %s: %v", what, m.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("waiting for mongod %s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}

// checkWritable proves that client reaches a deployment that can run transactions: a majority write
// to create the collection (transactions in 4.0 cannot create one), then the same write in a transaction.
func checkWritable(ctx context.Context, client *mongo.Client) error {
	if err := client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	coll := client.Database("mongotest").Collection("ready",
		options.Collection().SetWriteConcern(writeconcern.Majority()))
	touch := func(ctx context.Context) (any, error) {
		return coll.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: "ready"}},
			bson.D{{Key: "$currentDate", Value: bson.D{{Key: "at", Value: true}}}},
			options.UpdateOne().SetUpsert(true))
	}
	if _, err := touch(ctx); err != nil {
		return fmt.Errorf("majority write: %w", err)
	}

	session, err := client.StartSession()
	if err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	defer session.EndSession(context.Background())
	if _, err := session.WithTransaction(ctx, touch); err != nil {
		return fmt.Errorf("transaction (needs a replica set or mongos, MongoDB >= 4.0): %w", err)
	}
	return nil
}

// stop shuts mongod down with SIGTERM, kills it if that takes too long, and removes its directory.
func (m *mongod) stop() error {
	var errs []error
	select {
	case <-m.done:
		// It died on its own, which the tests using it should hear about.
		if m.waitErr != nil {
			errs = append(errs, fmt.Errorf("mongotest: mongod exited unexpectedly: %w%s", m.waitErr, m.logTail()))
		}
	default:
		m.meant.Store(true)
		if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, fmt.Errorf("mongotest: signal mongod: %w", err))
		}
		select {
		case <-m.done:
			if m.waitErr != nil {
				errs = append(errs, fmt.Errorf("mongotest: mongod shutdown: %w%s", m.waitErr, m.logTail()))
			}
		case <-time.After(shutdownTimeout):
			_ = m.cmd.Process.Kill()
			<-m.done
			errs = append(errs, fmt.Errorf("mongotest: mongod did not exit within %s of SIGTERM; killed it%s",
				shutdownTimeout, m.logTail()))
		}
	}
	errs = append(errs, m.removeDir())
	return errors.Join(errs...)
}

// discard kills a mongod that failed to start and removes its directory. Unlike stop it neither
// waits for a clean shutdown nor reports how mongod exited: the caller already has a better error.
func (m *mongod) discard() error {
	m.meant.Store(true)
	_ = m.cmd.Process.Kill()
	<-m.done
	return m.removeDir()
}

func (m *mongod) removeDir() error {
	if err := os.RemoveAll(m.dir); err != nil {
		return fmt.Errorf("mongotest: remove %s: %w", m.dir, err)
	}
	return nil
}

// logTail formats the end of mongod's log for appending to an error message.
func (m *mongod) logTail() string {
	tail := m.readLogTail()
	if len(tail) == 0 {
		return ""
	}
	return "\nmongod log (" + m.logPath + "), last lines:\n" + string(tail)
}

func (m *mongod) readLogTail() []byte {
	f, err := os.Open(m.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > logTailBytes {
		if _, err := f.Seek(-logTailBytes, io.SeekEnd); err != nil {
			return nil
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil
	}
	lines := withoutBacktraces(strings.Split(strings.TrimRight(string(b), "\n"), "\n"))
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return []byte(strings.Join(lines, "\n"))
}

// abortCause is the last few lines mongod logged before it died, backtrace left out: where an
// abort is explained ("Invariant failure ...", "Fatal assertion ...").
func (m *mongod) abortCause() string {
	const lines = 4
	all := strings.Split(string(m.readLogTail()), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// withoutBacktraces drops the stack dumps mongod writes when it aborts (between its BEGIN BACKTRACE
// and END BACKTRACE lines, plus the frame lines after them): they fill a log tail, while the reason
// for the abort ("Invariant failure ...", "Fatal assertion ...") is logged just before.
func withoutBacktraces(lines []string) []string {
	kept := lines[:0:0]
	inTrace := false
	for _, line := range lines {
		switch {
		case strings.Contains(line, "BEGIN BACKTRACE"):
			inTrace = true
			kept = append(kept, "[backtrace omitted]")
		case strings.Contains(line, "END BACKTRACE"):
			inTrace = false
		case inTrace, strings.HasPrefix(line, " ") && strings.Contains(line, "(") && strings.Contains(line, ") [0x"):
			// a frame: inside the block, or the symbolised lines mongod prints after it
		default:
			kept = append(kept, line)
		}
	}
	return kept
}
