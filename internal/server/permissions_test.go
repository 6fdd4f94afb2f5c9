package server

import (
	"net/http"
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

// Under the default limits a member catching up a backlog page by page at full speed (1,000 pages
// of the default 100 objects: 100,000 objects) is never answered 429.
func TestDefaultsNeverThrottleACatchingUpPoller(t *testing.T) {
	dir := t.TempDir()
	_, srv, _ := start(t, dir, "--seed", examplePartnerships)
	tok := readToken(t, filepath.Join(dir, "tokens", "cert-eu.jwt"))
	for i := range 1000 {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/eu-japan/collections/cyber-threats/manifest/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d answered %d", i+1, resp.StatusCode)
		}
	}
}
