package console_test

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// axePackage is the axe-core release the console's pages are checked with, fetched once with npm
// into the user cache directory, as internal/mongotest fetches mongod.
const axePackage = "axe-core@4.14.1"

// axeSource returns axe.min.js. Without npm, or with the package unreachable, the test fails under
// CI and is skipped elsewhere with how to get it.
func axeSource(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "taxiihub", axePackage)
	path := filepath.Join(dir, "axe.min.js")
	if b, err := os.ReadFile(path); err == nil {
		return string(b)
	}
	if err := fetchAxe(t, dir, path); err != nil {
		missing(t, fmt.Sprintf("axe-core could not be fetched (%v): install npm, or put axe.min.js of %s at %s", err, axePackage, path))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fetchAxe(t *testing.T, dir, path string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return err
	}
	work := t.TempDir()
	cmd := exec.CommandContext(t.Context(), npm, "pack", axePackage)
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm pack %s: %w: %s", axePackage, err, out)
	}
	tarballs, _ := filepath.Glob(filepath.Join(work, "*.tgz"))
	if len(tarballs) != 1 {
		return fmt.Errorf("npm pack %s made %d tarballs", axePackage, len(tarballs))
	}
	f, err := os.Open(tarballs[0])
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s holds no package/axe.min.js", axePackage)
		}
		if err != nil {
			return err
		}
		if h.Name != "package/axe.min.js" {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		tmp := path + ".tmp"
		out, err := os.Create(tmp)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, io.LimitReader(tr, 16<<20)); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}
}

// missing fails the test under CI, where every dependency must be there, and skips it elsewhere.
func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}
