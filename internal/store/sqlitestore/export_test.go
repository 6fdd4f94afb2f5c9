package sqlitestore

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
	"taxiihub/internal/store/storetest"
)

func TestPort(t *testing.T) {
	open := func(t *testing.T) storetest.Porter {
		return openTest(t, filepath.Join(t.TempDir(), "hub.db"), WithValueIndexer(policy.IndexValues))
	}
	storetest.RunPort(t, open, open)
}

// TestEveryTableIsExported fails when a migration adds a table that TablesExported does not map:
// an export that silently left it out would lose it in a move to another backend.
func TestEveryTableIsExported(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	// sqlite_sequence appears with the first AUTOINCREMENT table, which the schema has.
	rows, err := s.read.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	mapped := slices.Sorted(maps.Keys(TablesExported))
	if !slices.Equal(tables, mapped) {
		t.Errorf("the schema's tables %v differ from those the export maps %v: map every new table to the "+
			"export kinds that carry it (and export it), or say why it needs none", tables, mapped)
	}
	for table, kinds := range TablesExported {
		for _, k := range kinds {
			if !slices.Contains(store.ExportKinds, k) {
				t.Errorf("table %s maps to kind %q, which the export does not write", table, k)
			}
		}
	}
}
