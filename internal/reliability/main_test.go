//go:build linux

package reliability

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	return mongotest.MainReplicaSet(m, &rs, mongotest.ReplicaSetOptions{TransactionLifetimeLimit: transactionLifetime})
}
