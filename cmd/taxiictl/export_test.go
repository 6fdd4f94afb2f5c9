package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taxiihub/internal/store"
)

// TestExportImportCommands exports a hub on the embedded database and imports it into one on
// MongoDB: the file is whole and never overwritten, a damaged file is refused before anything is
// sent (exit 2), and the new hub, once it holds the import, refuses another (exit 1).
func TestExportImportCommands(t *testing.T) {
	h := startHub(t)
	h.must(t, "partnership", "create", "move-test", "--title", "Move test")
	file := filepath.Join(t.TempDir(), "hub.export")
	var res exportResult
	h.mustJSON(t, &res, "export", file)
	if res.Manifest.Counts[store.KindAPIRoot] != 1 || res.Bytes == 0 {
		t.Errorf("export: %+v", res)
	}
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	h.fails(t, exitUsage, []string{"exists; an export never overwrites a file"}, "export", file)
	if after, err := os.ReadFile(file); err != nil || string(after) != string(before) {
		t.Errorf("a refused export changed the file (%v)", err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".hub.export.part-*")); len(leftovers) > 0 {
		t.Errorf("parts left behind: %v", leftovers)
	}

	m := startHub(t, "--mongo-uri", mongod.URI(), "--mongo-database", mongod.Database(t))
	damaged := filepath.Join(t.TempDir(), "damaged.export")
	if err := os.WriteFile(damaged, before[:len(before)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	m.fails(t, exitUsage, []string{"invalid export file"}, "import", damaged)
	if out := m.must(t, "partnership", "list"); strings.Contains(out, "move-test") {
		t.Errorf("a refused import wrote partnerships:\n%s", out)
	}
	m.must(t, "import", file)
	if out := m.must(t, "partnership", "list"); !strings.Contains(out, "move-test") {
		t.Errorf("the import did not bring the partnership:\n%s", out)
	}
	m.fails(t, exitFailed, []string{"not empty"}, "import", file)
}
