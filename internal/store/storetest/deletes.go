package storetest

import (
	"slices"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var deleteCases = []testCase{
	{"DeleteSelectedVersions", deleteSelectedVersions},
	{"DeleteTouchesOneCollectionOnly", deleteOneCollectionOnly},
	{"DeletedVersionCanBeAddedAgain", deletedVersionAddedAgain},
}

func deleteSelectedVersions(t *testing.T, s store.Store) {
	all := store.VersionMatch{All: true}
	cases := []struct {
		name    string
		id      string
		filter  store.VersionFilter
		removed int
		remain  []string // every version left in the collection, in date-added order
	}{
		{"last (the default)", ind1, store.VersionFilter{}, 1,
			[]string{"m3a", "i2v1", "i1v1", "m4v1", "sco1", "m3b", "m4v2", "r7v1", "mk6", "i1v2", "m3c", "sco2", "r7v2"}},
		{"first", ind1, store.VersionFilter{Versions: store.VersionMatch{First: true}}, 1,
			[]string{"i1v3", "m3a", "i2v1", "m4v1", "sco1", "m3b", "m4v2", "r7v1", "mk6", "i1v2", "m3c", "sco2", "r7v2"}},
		{"one explicit version", ind1, store.VersionFilter{Versions: store.VersionMatch{At: []time.Time{ts("2024-01-02T00:00:00Z")}}}, 1,
			[]string{"i1v3", "m3a", "i2v1", "i1v1", "m4v1", "sco1", "m3b", "m4v2", "r7v1", "mk6", "m3c", "sco2", "r7v2"}},
		{"all", ind1, store.VersionFilter{Versions: all}, 3,
			[]string{"m3a", "i2v1", "m4v1", "sco1", "m3b", "m4v2", "r7v1", "mk6", "m3c", "sco2", "r7v2"}},
		{"all of one spec version", mal3, store.VersionFilter{Versions: all, SpecVersions: []string{"2.0"}}, 2,
			[]string{"i1v3", "i2v1", "i1v1", "m4v1", "sco1", "m4v2", "r7v1", "mk6", "i1v2", "m3c", "sco2", "r7v2"}},
		{"all in the newest spec version", mal3, store.VersionFilter{Versions: all}, 1,
			[]string{"i1v3", "m3a", "i2v1", "i1v1", "m4v1", "sco1", "m3b", "m4v2", "r7v1", "mk6", "i1v2", "sco2", "r7v2"}},
		{"a version not held", ind1, store.VersionFilter{Versions: store.VersionMatch{At: []time.Time{ts("2030-01-01T00:00:00Z")}}}, 0,
			[]string{"i1v3", "m3a", "i2v1", "i1v1", "m4v1", "sco1", "m3b", "m4v2", "r7v1", "mk6", "i1v2", "m3c", "sco2", "r7v2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newVersionFixture(t, s)
			n, err := s.DeleteVersions(t.Context(), f.collection, tc.id, tc.filter)
			if err != nil {
				t.Fatalf("delete: %v", err)
			}
			if n != tc.removed {
				t.Errorf("removed %d versions, want %d", n, tc.removed)
			}
			everything := store.Query{Limit: 100, VersionFilter: store.VersionFilter{Versions: all, SpecVersions: []string{"2.0", "2.1"}}}
			if got := f.labelsOf(readAll(t, s, f.collection, everything, true)); !slices.Equal(got, tc.remain) {
				t.Errorf("left %v, want %v", got, tc.remain)
			}
		})
	}

	t.Run("everything, then nothing is left to delete", func(t *testing.T) {
		f := newVersionFixture(t, s)
		filter := store.VersionFilter{Versions: all, SpecVersions: []string{"2.0", "2.1"}}
		if n, err := s.DeleteVersions(t.Context(), f.collection, mal3, filter); err != nil || n != 3 {
			t.Fatalf("delete: %d, %v; want 3 removed", n, err)
		}
		_, err := s.DeleteVersions(t.Context(), f.collection, mal3, filter)
		wantErrIs(t, "delete an object no longer held", err, store.ErrNotFound)
		_, err = s.DeleteVersions(t.Context(), f.collection, "malware--99999999-9999-4999-8999-999999999999", filter)
		wantErrIs(t, "delete an unknown object", err, store.ErrNotFound)
		_, err = s.DeleteVersions(t.Context(), newUUID(), mal3, filter)
		wantErrIs(t, "delete in a missing collection", err, store.ErrNotFound)
	})
}

func deleteOneCollectionOnly(t *testing.T, s store.Store) {
	a := newCollection(t, s)
	b := newCollection(t, s)
	obj := indicator("indicator--60000000-0000-4000-8000-000000000001", "2024-03-01T10:00:00.000Z", 1)
	mustAdd(t, s, a, obj)
	mustAdd(t, s, b, obj)
	if n, err := s.DeleteVersions(t.Context(), a, obj.ID, store.VersionFilter{}); err != nil || n != 1 {
		t.Fatalf("delete: %d, %v", n, err)
	}
	if got := readAll(t, s, a, store.Query{Limit: 10}, false); len(got) != 0 {
		t.Errorf("collection a still holds %d records", len(got))
	}
	if got := readAll(t, s, b, store.Query{Limit: 10}, false); len(got) != 1 {
		t.Errorf("collection b holds %d records, want 1", len(got))
	}
}

func deletedVersionAddedAgain(t *testing.T, s store.Store) {
	c := newCollection(t, s)
	obj := indicator("indicator--60000000-0000-4000-8000-000000000002", "2024-03-01T10:00:00.000Z", 1)
	first := mustAdd(t, s, c, obj)[0]
	if _, err := s.DeleteVersions(t.Context(), c, obj.ID, store.VersionFilter{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	again := mustAdd(t, s, c, obj)[0]
	if again.Result != store.Added || !again.DateAdded.After(first.DateAdded) {
		t.Errorf("re-added after delete: %v at %v, want added after %v", again.Result, again.DateAdded, first.DateAdded)
	}
}
