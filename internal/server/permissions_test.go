package server

import (
	"os"
	"path/filepath"
	"testing"
)

// A data directory and database left readable by others (made by hand, or by an older build) are
// restricted to the hub's user when it starts, journal files included.
func TestDataDirectoryAndDatabaseAreOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, DatabaseFile)
	s, _, _ := start(t, dir)
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, db} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	start(t, dir)
	for path, want := range map[string]os.FileMode{dir: 0o700, db: 0o600, db + "-wal": 0o600} {
		info, err := os.Stat(path)
		if err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: %v, mode %v; want %v", path, err, info.Mode().Perm(), want)
		}
	}
}
