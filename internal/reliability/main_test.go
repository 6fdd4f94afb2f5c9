//go:build linux

package reliability

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/mongotest"
)

var (
	// rs is the replica set every test of the package shares; each test has a database of its own.
	rs *mongotest.ReplicaSet
	// hubBin is the taxiihub binary built from this tree.
	hubBin string
)

// transactionLifetime shortens how long MongoDB lets an abandoned transaction hold its locks
// (60 s by default): a hub killed mid-write leaves one behind, and the other hubs cannot write to
// that collection until the server aborts it. See TestHubKilledMidIngest.
const transactionLifetime = 10 * time.Second

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "reliability-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	hubBin = filepath.Join(dir, "taxiihub")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", hubBin, "taxiihub/cmd/taxiihub").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "reliability: go build taxiihub: %v\n%s", err, out)
		return 1
	}
	return mongotest.MainReplicaSet(m, &rs, replicaSetOptions)
}

// replicaSetOptions are those of every set the tests start. Supervised, because the mongod these
// tests fetch (4.0.10) has been seen to abort during an election: a service manager would restart
// it, and a set left with one member of three has no primary for any later test.
var replicaSetOptions = mongotest.ReplicaSetOptions{TransactionLifetimeLimit: transactionLifetime, Supervise: true}

// startReplicaSet starts a replica set for t alone, for tests that kill and step down members, so
// that what they break never reaches the other tests. Members that crashed by themselves are logged.
func startReplicaSet(t *testing.T) *mongotest.ReplicaSet {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var log strings.Builder
	set, err := mongotest.StartReplicaSet(ctx, &log, replicaSetOptions)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		for _, c := range set.Crashes() {
			t.Logf("mongod crashed during the test (not one the test killed): %s", c)
		}
		if err := set.Stop(); err != nil {
			t.Errorf("stop replica set: %v", err)
		}
	})
	return set
}
