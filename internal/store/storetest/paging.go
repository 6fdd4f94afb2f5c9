package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"taxiihub/internal/store"
)

var pagingCases = []testCase{
	{"CursorWalksEveryVersionOnce", cursorWalks},
	{"CursorResumesWithOrWithoutRepeatedFilters", cursorWithoutFilters},
	{"AddedAfterRepollingWalksEveryVersionOnce", repollWalks},
	{"CursorFromAnotherCollectionOrQueryIsRefused", cursorMisuse},
	{"LimitOutOfRangeIsRefused", limitOutOfRange},
	{"EmptyCollectionGivesAnEmptyPage", emptyPage},
}

// filledCollection adds n single-version indicators, in batches, and returns their ids in date-added order.
func filledCollection(t *testing.T, s store.Store, n int) (string, []string) {
	t.Helper()
	c := newCollection(t, s)
	var ids []string
	for start := 0; start < n; start += 100 {
		var objs []store.Object
		for i := start; i < min(start+100, n); i++ {
			id := fmt.Sprintf("indicator--30000000-0000-4000-8000-%012d", i)
			ids = append(ids, id)
			objs = append(objs, indicator(id, "2024-03-01T10:00:00.000Z", i))
		}
		mustAdd(t, s, c, objs...)
	}
	return c, ids
}

func ids(rs []store.Record) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func cursorWalks(t *testing.T, s store.Store) {
	c, want := filledCollection(t, s, 250)
	for _, limit := range []int{1, 7, 50, 249, 250, 251} {
		for _, manifest := range []bool{false, true} {
			got := ids(readAll(t, s, c, store.Query{Limit: limit}, manifest))
			if !slices.Equal(got, want) {
				t.Errorf("limit %d manifest %v: walked %d ids, want %d in date-added order", limit, manifest, len(got), len(want))
			}
		}
	}
	p, err := s.Objects(t.Context(), c, store.Query{Limit: 250})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if p.More || p.Next != "" {
		t.Errorf("a page holding exactly the rest says more=%v next=%q", p.More, p.Next)
	}
}

func cursorWithoutFilters(t *testing.T, s store.Store) {
	c, all := filledCollection(t, s, 30)
	mustAdd(t, s, c, object("malware", "malware--40000000-0000-4000-8000-000000000001", "2.1", "2024-01-01T00:00:00.000Z", ""))
	q := store.Query{Types: []string{"indicator"}, Limit: 4}
	first, err := s.Objects(t.Context(), c, q)
	if err != nil {
		t.Fatalf("first page: %v", err)
	}
	got := ids(first.Records)
	repeat := q
	repeat.Cursor = first.Next
	bare := store.Query{Limit: 26, Cursor: first.Next}
	for name, next := range map[string]store.Query{"filters repeated": repeat, "filters left out": bare} {
		rest := readAll(t, s, c, next, false)
		if walked := append(slices.Clone(got), ids(rest)...); !slices.Equal(walked, all) {
			t.Errorf("%s: walked %v, want the %d indicators", name, walked, len(all))
		}
	}
	narrower := store.Query{Limit: 100, Cursor: first.Next, AddedAfter: first.Records[0].DateAdded}
	if rest := readAll(t, s, c, narrower, false); len(rest) != len(all)-4 {
		t.Errorf("an added_after before the cursor moved it back: %d records, want %d", len(rest), len(all)-4)
	}
}

func repollWalks(t *testing.T, s store.Store) {
	c, want := filledCollection(t, s, 120)
	var got []string
	q := store.Query{Limit: 25}
	for range 100 {
		p, err := s.Objects(t.Context(), c, q)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		got = append(got, ids(p.Records)...)
		last, ok := p.LastAdded()
		if !ok {
			break
		}
		q.AddedAfter = last
	}
	if !slices.Equal(got, want) {
		t.Errorf("re-polling with added_after = last date added walked %d ids, want %d once each in order", len(got), len(want))
	}
}

func cursorMisuse(t *testing.T, s store.Store) {
	c, _ := filledCollection(t, s, 10)
	other := newCollection(t, s)
	mustAdd(t, s, other, indicator("indicator--50000000-0000-4000-8000-000000000001", "2024-03-01T10:00:00.000Z", 1))
	p, err := s.Objects(t.Context(), c, store.Query{Limit: 2, Types: []string{"indicator"}})
	if err != nil || p.Next == "" {
		t.Fatalf("first page: next=%q err=%v", p.Next, err)
	}
	flipped := []byte(p.Next)
	flipped[len(flipped)/2] ^= 1
	cases := []struct {
		name       string
		collection string
		q          store.Query
	}{
		{"another collection", other, store.Query{Limit: 2, Cursor: p.Next}},
		{"other types", c, store.Query{Limit: 2, Cursor: p.Next, Types: []string{"malware"}}},
		{"other versions", c, store.Query{Limit: 2, Cursor: p.Next, Types: []string{"indicator"},
			VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}}}},
		{"other ids", c, store.Query{Limit: 2, Cursor: p.Next, IDs: []string{"indicator--30000000-0000-4000-8000-000000000001"}}},
		{"other spec versions", c, store.Query{Limit: 2, Cursor: p.Next, VersionFilter: store.VersionFilter{SpecVersions: []string{"2.0"}}}},
		{"garbage", c, store.Query{Limit: 2, Cursor: "not-a-cursor"}},
		{"truncated", c, store.Query{Limit: 2, Cursor: p.Next[:len(p.Next)-3]}},
		{"altered", c, store.Query{Limit: 2, Cursor: string(flipped)}},
	}
	for _, tc := range cases {
		for _, manifest := range []bool{false, true} {
			var err error
			if manifest {
				_, err = s.Manifest(t.Context(), tc.collection, tc.q)
			} else {
				_, err = s.Objects(t.Context(), tc.collection, tc.q)
			}
			var ce *store.CursorError
			if !errors.As(err, &ce) {
				t.Errorf("%s (manifest %v): got %v, want a *store.CursorError", tc.name, manifest, err)
			}
		}
	}
	// The same filters in another order are the same query.
	same := store.Query{Limit: 2, Cursor: p.Next, Types: []string{"indicator", "indicator"}}
	if _, err := s.Objects(t.Context(), c, same); err != nil {
		t.Errorf("equal filters written differently: %v", err)
	}
}

func limitOutOfRange(t *testing.T, s store.Store) {
	c, _ := filledCollection(t, s, 1)
	for _, limit := range []int{0, -1, store.MaxLimit + 1} {
		_, err := s.Objects(t.Context(), c, store.Query{Limit: limit})
		var qe *store.QueryError
		if !errors.As(err, &qe) {
			t.Errorf("limit %d: got %v, want a *store.QueryError", limit, err)
		}
	}
}

func emptyPage(t *testing.T, s store.Store) {
	c := newCollection(t, s)
	p, err := s.Objects(t.Context(), c, store.Query{Limit: 10})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(p.Records) != 0 || p.More || p.Next != "" {
		t.Errorf("empty collection: %+v", p)
	}
	if _, ok := p.FirstAdded(); ok {
		t.Errorf("an empty page reports a first date added")
	}
}
