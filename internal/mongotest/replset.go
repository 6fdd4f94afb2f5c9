//go:build unix

package mongotest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Replica set timing. MongoDB's defaults (10 s election timeout, 2 s heartbeats) make a failover take
// about 12 s; these make it take 2–3 s, so that tests can fail over several times in a minute.
const (
	electionTimeout   = 2 * time.Second
	heartbeatInterval = 500 * time.Millisecond

	// stepDownFor is how long a stepped-down primary may not stand for election again, so that
	// StepDown really moves the primary to another member.
	stepDownFor = 10 * time.Second
	// catchUpFor is how long a primary asked to step down waits for a secondary to catch up.
	catchUpFor = 5 * time.Second

	// memberTimeout bounds the wait for one member to answer, and probeTimeout one probe of it.
	memberTimeout = 60 * time.Second
	probeTimeout  = 2 * time.Second
)

// ReplicaSetOptions adjust a replica set. The zero value is a three-member set with MongoDB's
// defaults apart from the election timing above.
type ReplicaSetOptions struct {
	// Members is the number of mongod processes; zero means three.
	Members int
	// TransactionLifetimeLimit, when set, is how long a transaction may stay open before the server
	// aborts it (MongoDB's transactionLifetimeLimitSeconds, 60 s by default). A client killed
	// mid-transaction holds its locks this long, so tests that kill clients may shorten it.
	TransactionLifetimeLimit time.Duration
	// Supervise restarts a member that exits without being told to, on its port and data, as a
	// service manager or Kubernetes would; see ReplicaSet.Crashes. Kill and Stop are never undone.
	// mongod 4.0.10, the version fetched here, has been seen to abort on an invariant in
	// waitForWriteConcern during elections; without a supervisor that one crash leaves a set of three
	// with a single member, no primary, and every later test failing.
	Supervise bool
}

// maxCrashRestarts bounds how many crashes a supervised set restarts, so that a member that dies at
// every start fails the tests instead of looping.
const maxCrashRestarts = 5

// Crash is a member that exited by itself.
type Crash struct {
	Member int
	At     time.Time
	// Exit is how the process ended ("signal: aborted") and Cause the lines it logged last.
	Exit, Cause string
	// Restart is what restarting it gave: nil once it was back in the set. Unsupervised sets do
	// not restart, and say so here.
	Restart error
}

func (c Crash) String() string {
	outcome := "restarted"
	if c.Restart != nil {
		outcome = "not restarted: " + c.Restart.Error()
	}
	return fmt.Sprintf("member %d exited by itself at %s (%s), %s; it logged last:\n%s",
		c.Member, c.At.Format(time.RFC3339Nano), c.Exit, outcome, c.Cause)
}

// ReplicaSet is a MongoDB replica set of several mongod processes on loopback, started by this
// package, whose members tests may step down, kill and restart. It never uses MONGODB_URI: a test
// that kills members needs processes of its own.
type ReplicaSet struct {
	bin, version, name string
	log                io.Writer // written through logf only
	logMu              sync.Mutex
	ports              []int
	dirs               []string // each holds a member's db directory and log; removed by Stop
	extra              []string // mongod arguments beyond spawnAt's

	supervise bool
	mu        sync.Mutex // guards procs, crashes and stopping
	procs     []*mongod  // nil while a member is down
	crashes   []Crash
	stopping  bool           // set by Stop: crashes are no longer restarted
	restarts  sync.WaitGroup // crashes being handled, which Stop waits for

	client    *mongo.Client // to the whole set; drops per-test databases
	databases atomic.Uint64

	stopOnce sync.Once
	stopErr  error
}

// StartReplicaSet finds or fetches mongod (as Start does, but ignoring MONGODB_URI), starts a replica
// set of opts.Members members on free loopback ports, and returns once it has a writable primary and
// every other member is a secondary.
func StartReplicaSet(ctx context.Context, log io.Writer, opts ReplicaSetOptions) (_ *ReplicaSet, err error) {
	if log == nil {
		log = io.Discard
	}
	n := opts.Members
	if n == 0 {
		n = 3
	}
	if n < 1 || n > 7 {
		return nil, fmt.Errorf("mongotest: a replica set of %d members; want 1 to 7 (all voting)", n)
	}
	bin, version, err := findMongod(ctx, log)
	if err != nil {
		return nil, fmt.Errorf("mongotest: no usable mongod: %w\n"+
			"To fix: put mongod >= 4.0 on PATH, or make npm available so that mongod can be fetched", err)
	}
	started := time.Now()
	rs := &ReplicaSet{
		bin: bin, version: version, log: log,
		name:  fmt.Sprintf("rs%d", os.Getpid()%100000),
		ports: make([]int, n), dirs: make([]string, n), procs: make([]*mongod, n),
		supervise: opts.Supervise,
	}
	if opts.TransactionLifetimeLimit > 0 {
		secs := max(1, int(opts.TransactionLifetimeLimit/time.Second))
		rs.extra = append(rs.extra, "--setParameter", "transactionLifetimeLimitSeconds="+strconv.Itoa(secs))
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, rs.discardAll())
		}
	}()
	for i := range n {
		dir, err := os.MkdirTemp("", fmt.Sprintf("mongotest-rs-%d-", i))
		if err != nil {
			return nil, fmt.Errorf("mongotest: create temp dir: %w", err)
		}
		rs.dirs[i] = dir
		if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
			return nil, fmt.Errorf("mongotest: create dbpath: %w", err)
		}
		if err := rs.spawnMember(ctx, i); err != nil {
			return nil, err
		}
	}
	if err := rs.initiate(ctx); err != nil {
		return nil, err
	}
	client, err := connect(ctx, rs.URI())
	if err != nil {
		return nil, fmt.Errorf("mongotest: replica set %s is not usable: %w", rs.URI(), err)
	}
	rs.client = client
	fmt.Fprintf(log, "mongotest: replica set %s of %d members on %v ready in %s\n",
		rs.name, n, rs.ports, time.Since(started).Round(time.Millisecond))
	return rs, nil
}

// spawnMember starts member i on a free port and waits until it accepts connections. Before the set
// is initiated no port is fixed yet, so a port taken by another process meanwhile is replaced.
func (rs *ReplicaSet) spawnMember(ctx context.Context, i int) error {
	var err error
	for range portAttempts {
		rs.ports[i], err = freePort()
		if err != nil {
			return err
		}
		var m *mongod
		m, err = spawnAt(rs.bin, rs.version, rs.ports[i], rs.dirs[i], rs.name, rs.extra)
		if err != nil {
			return err
		}
		err = waitAccepting(ctx, m)
		if err == nil {
			rs.setProc(i, m)
			return nil
		}
		err = fmt.Errorf("mongotest: start member %d on %s: %w%s", i, m.addr(), err, m.logTail())
		_ = m.cmd.Process.Kill()
		<-m.done
		if !errors.Is(err, errPortInUse) {
			return err
		}
		rs.logf("mongotest: port %d was taken before mongod bound it; retrying\n", m.port)
	}
	return err
}

// waitAccepting waits until m answers a ping.
func waitAccepting(ctx context.Context, m *mongod) error {
	ctx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	return m.poll(ctx, "accepting connections", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		return withMember(ctx, m.addr(), func(ctx context.Context, admin *mongo.Database) error {
			return admin.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
		})
	})
}

// initiate configures the set through member 0 and waits for a primary with every other member a
// secondary.
func (rs *ReplicaSet) initiate(ctx context.Context) error {
	members := bson.A{}
	for i := range rs.ports {
		members = append(members, bson.D{{Key: "_id", Value: i}, {Key: "host", Value: rs.Addr(i)}})
	}
	config := bson.D{
		{Key: "_id", Value: rs.name},
		{Key: "members", Value: members},
		{Key: "settings", Value: bson.D{
			{Key: "electionTimeoutMillis", Value: electionTimeout.Milliseconds()},
			{Key: "heartbeatIntervalMillis", Value: heartbeatInterval.Milliseconds()},
		}},
	}
	initCtx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	err := withMember(initCtx, rs.Addr(0), func(ctx context.Context, admin *mongo.Database) error {
		return admin.RunCommand(ctx, bson.D{{Key: "replSetInitiate", Value: config}}).Err()
	})
	if err != nil {
		return fmt.Errorf("mongotest: replSetInitiate: %w%s", err, rs.proc(0).logTail())
	}
	ctx, cancel = context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	for i := range rs.ports {
		if err := rs.waitMemberReady(ctx, i); err != nil {
			return err
		}
	}
	if _, err := rs.Primary(ctx); err != nil {
		return err
	}
	return nil
}

// URI is the connection string for the whole set.
func (rs *ReplicaSet) URI() string {
	var b bytes.Buffer
	b.WriteString("mongodb://")
	for i := range rs.ports {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(rs.Addr(i))
	}
	b.WriteString("/?replicaSet=" + rs.name)
	return b.String()
}

// Members is the number of members.
func (rs *ReplicaSet) Members() int { return len(rs.ports) }

// Addr is member i's host:port.
func (rs *ReplicaSet) Addr(i int) string { return "127.0.0.1:" + strconv.Itoa(rs.ports[i]) }

// Pid is the process id of member i, or 0 while it is down.
func (rs *ReplicaSet) Pid(i int) int {
	if m := rs.proc(i); m != nil {
		return m.cmd.Process.Pid
	}
	return 0
}

// Database returns a fresh database name for t, dropped when t ends; see Server.Database.
func (rs *ReplicaSet) Database(t testing.TB) string {
	t.Helper()
	return newDatabase(t, rs.client, &rs.databases)
}

func (rs *ReplicaSet) proc(i int) *mongod {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.procs[i]
}

// setProc records m as member i's process and watches it for a crash.
func (rs *ReplicaSet) setProc(i int, m *mongod) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.procs[i] = m
	if m != nil {
		go rs.watch(i, m)
	}
}

// watch waits for member i's process m to exit and, when nobody asked it to, records the crash and
// restarts the member if the set is supervised.
func (rs *ReplicaSet) watch(i int, m *mongod) {
	<-m.done
	if m.meant.Load() {
		return
	}
	c := Crash{Member: i, At: time.Now(), Exit: fmt.Sprint(m.waitErr), Cause: m.abortCause()}
	rs.mu.Lock()
	if rs.procs[i] == m {
		rs.procs[i] = nil
	}
	if rs.stopping {
		// Stop has stopped waiting for crashes to be handled: record this one for it to report.
		c.Restart = errors.New("the set is stopping")
		rs.crashes = append(rs.crashes, c)
		rs.mu.Unlock()
		return
	}
	switch {
	case !rs.supervise:
		c.Restart = errors.New("the set is not supervised")
	case len(rs.crashes) >= maxCrashRestarts:
		c.Restart = fmt.Errorf("%d crashes already restarted", maxCrashRestarts)
	}
	rs.restarts.Add(1)
	rs.mu.Unlock()
	defer rs.restarts.Done()
	if c.Restart == nil {
		ctx, cancel := context.WithTimeout(context.Background(), memberTimeout)
		c.Restart = rs.Restart(ctx, i)
		cancel()
	}
	rs.mu.Lock()
	rs.crashes = append(rs.crashes, c)
	rs.mu.Unlock()
	rs.logf("mongotest: replica set %s: %s\n", rs.name, c)
}

// logf writes to the set's log, which the test and the goroutines watching members share.
func (rs *ReplicaSet) logf(format string, args ...any) {
	rs.logMu.Lock()
	defer rs.logMu.Unlock()
	fmt.Fprintf(rs.log, format, args...)
}

// Crashes lists the members that exited without being told to, in the order they were handled.
func (rs *ReplicaSet) Crashes() []Crash {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return slices.Clone(rs.crashes)
}

// memberState is what isMaster tells of a member.
type memberState struct {
	IsMaster   bool          `bson:"ismaster"`
	Secondary  bool          `bson:"secondary"`
	ElectionID bson.ObjectID `bson:"electionId"`
}

func (rs *ReplicaSet) state(ctx context.Context, i int) (memberState, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var st memberState
	err := withMember(ctx, rs.Addr(i), func(ctx context.Context, admin *mongo.Database) error {
		// isMaster rather than hello, which only exists from 4.0.21 on.
		return admin.RunCommand(ctx, bson.D{{Key: "isMaster", Value: 1}}).Decode(&st)
	})
	return st, err
}

// Primary waits until the set has a writable primary and returns its index. While an election
// settles, a deposed primary may still believe it leads; the member elected last wins.
func (rs *ReplicaSet) Primary(ctx context.Context) (int, error) {
	return rs.waitPrimary(ctx, -1)
}

// waitPrimary waits for a primary other than member not.
func (rs *ReplicaSet) waitPrimary(ctx context.Context, not int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	for {
		primary := -1
		var newest bson.ObjectID
		for i := range rs.ports {
			if rs.proc(i) == nil {
				continue
			}
			st, err := rs.state(ctx, i)
			if err != nil || !st.IsMaster {
				continue
			}
			if primary == -1 || bytes.Compare(st.ElectionID[:], newest[:]) > 0 {
				primary, newest = i, st.ElectionID
			}
		}
		if primary != -1 && primary != not {
			return primary, nil
		}
		select {
		case <-ctx.Done():
			if not >= 0 {
				return -1, fmt.Errorf("mongotest: replica set %s elected no primary other than member %d: %w",
					rs.name, not, ctx.Err())
			}
			return -1, fmt.Errorf("mongotest: replica set %s has no primary: %w", rs.name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// StepDown asks the primary to step down, waits until another member is primary and returns both.
// The old primary may not be elected again for 10 s.
func (rs *ReplicaSet) StepDown(ctx context.Context) (from, to int, err error) {
	from, err = rs.Primary(ctx)
	if err != nil {
		return -1, -1, err
	}
	stepCtx, cancel := context.WithTimeout(ctx, catchUpFor+memberTimeout)
	defer cancel()
	err = withMember(stepCtx, rs.Addr(from), func(ctx context.Context, admin *mongo.Database) error {
		return admin.RunCommand(ctx, bson.D{
			{Key: "replSetStepDown", Value: int(stepDownFor / time.Second)},
			{Key: "secondaryCatchUpPeriodSecs", Value: int(catchUpFor / time.Second)},
		}).Err()
	})
	// MongoDB 4.0 closes every connection when it steps down, the one asking included.
	if err != nil && !mongo.IsNetworkError(err) {
		return from, -1, fmt.Errorf("mongotest: replSetStepDown on member %d: %w", from, err)
	}
	to, err = rs.waitPrimary(ctx, from)
	return from, to, err
}

// Kill kills member i with SIGKILL, as a crash or an OOM kill would, and waits until it is gone.
// Its data stays for Restart.
func (rs *ReplicaSet) Kill(i int) error {
	m := rs.proc(i)
	if m == nil {
		return fmt.Errorf("mongotest: member %d is not running", i)
	}
	m.meant.Store(true)
	if err := m.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("mongotest: kill member %d: %w", i, err)
	}
	<-m.done
	rs.setProc(i, nil)
	rs.logf("mongotest: killed member %d (pid %d, %s)\n", i, m.cmd.Process.Pid, m.addr())
	return nil
}

// Restart starts a member that Kill stopped, on its old port and data, and waits until it is a
// secondary (or primary) again.
func (rs *ReplicaSet) Restart(ctx context.Context, i int) error {
	if rs.proc(i) != nil {
		return fmt.Errorf("mongotest: member %d is running", i)
	}
	m, err := spawnAt(rs.bin, rs.version, rs.ports[i], rs.dirs[i], rs.name, rs.extra)
	if err != nil {
		return err
	}
	rs.setProc(i, m)
	ctx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	if err := rs.waitMemberReady(ctx, i); err != nil {
		return err
	}
	rs.logf("mongotest: restarted member %d (pid %d, %s)\n", i, m.cmd.Process.Pid, m.addr())
	return nil
}

// waitMemberReady waits until member i is a primary or a secondary.
func (rs *ReplicaSet) waitMemberReady(ctx context.Context, i int) error {
	m := rs.proc(i)
	err := m.poll(ctx, "joining the replica set", func(ctx context.Context) error {
		st, err := rs.state(ctx, i)
		if err != nil {
			return err
		}
		if !st.IsMaster && !st.Secondary {
			return errors.New("neither primary nor secondary yet")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mongotest: member %d (%s): %w%s", i, m.addr(), err, m.logTail())
	}
	return nil
}

// Stop stops every running member with SIGTERM and removes all their files.
func (rs *ReplicaSet) Stop() error {
	rs.stopOnce.Do(func() {
		rs.mu.Lock()
		rs.stopping = true
		rs.mu.Unlock()
		rs.restarts.Wait()
		var errs []error
		for _, c := range rs.Crashes() {
			// A crash the set did not recover from is news to the tests that used it.
			if c.Restart != nil {
				errs = append(errs, fmt.Errorf("mongotest: replica set %s: %s", rs.name, c))
			}
		}
		if rs.client != nil {
			ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
			if err := rs.client.Disconnect(ctx); err != nil {
				errs = append(errs, fmt.Errorf("mongotest: disconnect: %w", err))
			}
			cancel()
		}
		var wg sync.WaitGroup
		stopped := make([]error, len(rs.procs))
		for i := range rs.procs {
			if m := rs.proc(i); m != nil {
				wg.Go(func() { stopped[i] = m.stop() })
			}
		}
		wg.Wait()
		errs = append(errs, stopped...)
		for _, dir := range rs.dirs {
			if dir != "" {
				if err := os.RemoveAll(dir); err != nil {
					errs = append(errs, fmt.Errorf("mongotest: remove %s: %w", dir, err))
				}
			}
		}
		rs.stopErr = errors.Join(errs...)
	})
	return rs.stopErr
}

// discardAll kills whatever StartReplicaSet had started when it fails, and removes the files.
func (rs *ReplicaSet) discardAll() error {
	var errs []error
	for i := range rs.procs {
		if m := rs.proc(i); m != nil {
			m.meant.Store(true)
			_ = m.cmd.Process.Kill()
			<-m.done
		}
		if rs.dirs[i] != "" {
			if err := os.RemoveAll(rs.dirs[i]); err != nil {
				errs = append(errs, fmt.Errorf("mongotest: remove %s: %w", rs.dirs[i], err))
			}
		}
	}
	return errors.Join(errs...)
}

// MainReplicaSet is Main for packages whose tests need a replica set of their own.
func MainReplicaSet(m *testing.M, rs **ReplicaSet, opts ReplicaSetOptions) int {
	return runTests(m, rs, func(ctx context.Context) (*ReplicaSet, error) { return StartReplicaSet(ctx, os.Stderr, opts) })
}

// withMember runs fn against the admin database of the member at addr, connected to it alone; ctx
// bounds the whole call.
func withMember(ctx context.Context, addr string, fn func(context.Context, *mongo.Database) error) error {
	client, err := mongo.Connect(options.Client().
		ApplyURI("mongodb://" + addr + "/").
		SetDirect(true).
		SetServerSelectionTimeout(probeTimeout).
		SetConnectTimeout(probeTimeout))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = client.Disconnect(context.WithoutCancel(ctx)) }()
	return fn(ctx, client.Database("admin"))
}
