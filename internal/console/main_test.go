//go:build linux

package console_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	binDir   string
	hubBuild = sync.OnceValues(func() (string, error) {
		bin := filepath.Join(binDir, "taxiihub")
		if out, err := exec.Command("go", "build", "-o", bin, "taxiihub/cmd/taxiihub").CombinedOutput(); err != nil {
			return "", fmt.Errorf("build the hub: %v\n%s", err, out)
		}
		return bin, nil
	})
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "console-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// hubBinary is the hub built from this tree, once for every test of the package.
func hubBinary(t *testing.T) string {
	t.Helper()
	bin, err := hubBuild()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
