//go:build linux

package hostile

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
	// mongod is the MongoDB every test of the package shares; each test has a database of its own.
	mongod *mongotest.Server
	// hubBin is the taxiihub binary built from this tree.
	hubBin string
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hostile-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	hubBin = filepath.Join(dir, "taxiihub")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", hubBin, "taxiihub/cmd/taxiihub").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "hostile: go build taxiihub: %v\n%s", err, out)
		return 1
	}
	return mongotest.Main(m, &mongod)
}
