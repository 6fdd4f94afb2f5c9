package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var queryCases = []testCase{
	{"FiltersSelectTheTAXIIVersions", filtersSelect},
	{"EveryFilterCombinationAgreesWithTheModel", filterCombinations},
	{"ManifestSelectsLikeObjects", manifestSelectsLikeObjects},
	{"LongIDListsWork", longIDLists},
}

const (
	ind1  = "indicator--11111111-1111-4111-8111-111111111111"
	ind2  = "indicator--22222222-2222-4222-8222-222222222222"
	mal3  = "malware--33333333-3333-4333-8333-333333333333"
	mal4  = "malware--44444444-4444-4444-8444-444444444444"
	ip5   = "ipv4-addr--55555555-5555-5555-8555-555555555555"
	mark6 = "marking-definition--66666666-6666-4666-8666-666666666666"
	rel7  = "relationship--77777777-7777-4777-8777-777777777777"
)

// versionFixture is a collection whose objects have several versions and spec versions, added out of
// version order so that "first" and "last" cannot be confused with date-added order.
type versionFixture struct {
	collection string
	labels     []string // in date-added order
	records    map[string]store.Record
}

func newVersionFixture(t *testing.T, s store.Store) versionFixture {
	t.Helper()
	type entry struct {
		label string
		obj   store.Object
	}
	calls := [][]entry{
		{{"i1v3", object("indicator", ind1, "2.1", "2024-01-03T00:00:00.000Z", "")},
			{"m3a", object("malware", mal3, "2.0", "2024-01-01T00:00:00.000Z", "")},
			{"i2v1", object("indicator", ind2, "2.1", "2024-02-01T00:00:00.000Z", "")}},
		{{"i1v1", object("indicator", ind1, "2.1", "2024-01-01T00:00:00.000Z", "")},
			{"m4v1", object("malware", mal4, "2.1", "2024-01-01T00:00:00.000Z", "")},
			{"sco1", object("ipv4-addr", ip5, "2.1", "", "198.51.100.1")}},
		{{"m3b", object("malware", mal3, "2.0", "2024-01-02T00:00:00.000Z", "")},
			{"m4v2", object("malware", mal4, "2.0", "2024-01-05T00:00:00.000Z", "")},
			{"r7v1", object("relationship", rel7, "2.1", "2024-01-01T00:00:00.000Z", "")},
			{"mk6", object("marking-definition", mark6, "2.1", "2024-01-01T00:00:00.000Z", "")}},
		{{"i1v2", object("indicator", ind1, "2.1", "2024-01-02T00:00:00.000Z", "")},
			{"m3c", object("malware", mal3, "2.1", "2024-01-03T00:00:00.000Z", "")},
			{"sco2", object("ipv4-addr", ip5, "2.1", "", "198.51.100.2")},
			{"r7v2", object("relationship", rel7, "2.1", "2024-01-02T00:00:00.000Z", "")}},
	}
	f := versionFixture{collection: newCollection(t, s), records: map[string]store.Record{}}
	for _, call := range calls {
		var objs []store.Object
		for _, e := range call {
			objs = append(objs, e.obj)
		}
		for i, o := range mustAdd(t, s, f.collection, objs...) {
			if o.Result != store.Added {
				t.Fatalf("fixture %s: %v", call[i].label, o.Result)
			}
			obj := call[i].obj
			f.labels = append(f.labels, call[i].label)
			f.records[call[i].label] = store.Record{ID: obj.ID, Type: obj.Type, SpecVersion: obj.SpecVersion,
				Version: o.Version, DateAdded: o.DateAdded}
		}
	}
	return f
}

func (f versionFixture) label(r store.Record) string {
	for l, want := range f.records {
		if want.ID == r.ID && want.Version.Equal(r.Version) {
			return l
		}
	}
	return fmt.Sprintf("unknown(%s@%v)", r.ID, r.Version)
}

func (f versionFixture) labelsOf(rs []store.Record) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, f.label(r))
	}
	return out
}

func filtersSelect(t *testing.T, s store.Store) {
	f := newVersionFixture(t, s)
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	all := store.VersionMatch{All: true}
	cases := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"default is the last version in the newest spec version", store.Query{},
			[]string{"i1v3", "i2v1", "m4v1", "mk6", "m3c", "sco2", "r7v2"}},
		{"all", store.Query{VersionFilter: store.VersionFilter{Versions: all}},
			[]string{"i1v3", "i2v1", "i1v1", "m4v1", "sco1", "r7v1", "mk6", "i1v2", "m3c", "sco2", "r7v2"}},
		{"first", store.Query{VersionFilter: store.VersionFilter{Versions: store.VersionMatch{First: true}}},
			[]string{"i2v1", "i1v1", "m4v1", "sco1", "r7v1", "mk6", "m3c"}},
		{"first and last of one id", store.Query{IDs: []string{ind1}, VersionFilter: store.VersionFilter{Versions: store.VersionMatch{First: true, Last: true}}},
			[]string{"i1v3", "i1v1"}},
		{"explicit version", store.Query{VersionFilter: store.VersionFilter{Versions: store.VersionMatch{At: []time.Time{day(2)}}}},
			[]string{"i1v2", "r7v2"}},
		{"explicit version and last", store.Query{IDs: []string{ind1, rel7}, VersionFilter: store.VersionFilter{Versions: store.VersionMatch{At: []time.Time{day(1)}, Last: true}}},
			[]string{"i1v3", "i1v1", "r7v1", "r7v2"}},
		{"explicit version in spec 2.0", store.Query{VersionFilter: store.VersionFilter{Versions: store.VersionMatch{At: []time.Time{day(2)}}, SpecVersions: []string{"2.0"}}},
			[]string{"m3b"}},
		{"spec 2.0 last", store.Query{VersionFilter: store.VersionFilter{SpecVersions: []string{"2.0"}}},
			[]string{"m3b", "m4v2"}},
		{"spec 2.0 and 2.1 last spans both", store.Query{VersionFilter: store.VersionFilter{SpecVersions: []string{"2.1", "2.0"}}},
			[]string{"i1v3", "i2v1", "m4v2", "mk6", "m3c", "sco2", "r7v2"}},
		{"type", store.Query{Types: []string{"malware"}},
			[]string{"m4v1", "m3c"}},
		{"type, spec 2.0, all", store.Query{Types: []string{"malware"}, VersionFilter: store.VersionFilter{Versions: all, SpecVersions: []string{"2.0"}}},
			[]string{"m3a", "m3b", "m4v2"}},
		{"two ids, all", store.Query{IDs: []string{ind2, ip5}, VersionFilter: store.VersionFilter{Versions: all}},
			[]string{"i2v1", "sco1", "sco2"}},
		{"added after is strictly later; last is still judged on every version", store.Query{AddedAfter: f.records["m4v2"].DateAdded},
			[]string{"mk6", "m3c", "sco2", "r7v2"}},
		{"added after, type, all", store.Query{AddedAfter: f.records["i1v1"].DateAdded, Types: []string{"indicator"}, VersionFilter: store.VersionFilter{Versions: all}},
			[]string{"i1v2"}},
		{"a versionless object's version is its date added", store.Query{VersionFilter: store.VersionFilter{Versions: store.VersionMatch{At: []time.Time{f.records["sco1"].Version}}}},
			[]string{"sco1"}},
		{"unknown id", store.Query{IDs: []string{"indicator--99999999-9999-4999-8999-999999999999"}},
			[]string{}},
		{"unknown type", store.Query{Types: []string{"campaign"}},
			[]string{}},
		{"added after the last", store.Query{AddedAfter: f.records["r7v2"].DateAdded},
			[]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 3, store.MaxLimit} {
				q := tc.q
				q.Limit = limit
				got := f.labelsOf(readAll(t, s, f.collection, q, false))
				if !slices.Equal(got, tc.want) {
					t.Errorf("limit %d: got %v, want %v", limit, got, tc.want)
				}
			}
		})
	}
}

// filterCombinations runs every combination of filters, paged, and compares with a plain model of the
// TAXII rules written independently of the store package.
func filterCombinations(t *testing.T, s store.Store) {
	f := newVersionFixture(t, s)
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	ids := [][]string{nil, {ind1, mal4}}
	types := [][]string{nil, {"malware"}, {"indicator", "ipv4-addr"}}
	versions := []store.VersionMatch{{}, {First: true}, {Last: true}, {All: true}, {First: true, Last: true},
		{At: []time.Time{day(1)}}, {At: []time.Time{day(2), day(5)}, Last: true}, {All: true, First: true}}
	specs := [][]string{nil, {"2.0"}, {"2.1"}, {"2.0", "2.1"}}
	after := []time.Time{{}, f.records["m4v1"].DateAdded}
	n := 0
	for _, id := range ids {
		for _, typ := range types {
			for _, v := range versions {
				for _, sv := range specs {
					for _, aa := range after {
						q := store.Query{AddedAfter: aa, IDs: id, Types: typ, Limit: 2,
							VersionFilter: store.VersionFilter{Versions: v, SpecVersions: sv}}
						want := f.model(q)
						got := f.labelsOf(readAll(t, s, f.collection, q, false))
						if !slices.Equal(got, want) {
							t.Errorf("%s: got %v, want %v", describe(q), got, want)
						}
						n++
					}
				}
			}
		}
	}
	t.Logf("%d filter combinations checked", n)
}

// model applies the TAXII selection rules to the fixture by brute force.
func (f versionFixture) model(q store.Query) []string {
	out := []string{}
	for _, l := range f.labels {
		r := f.records[l]
		if !q.AddedAfter.IsZero() && !r.DateAdded.After(q.AddedAfter) {
			continue
		}
		if len(q.IDs) > 0 && !slices.Contains(q.IDs, r.ID) || len(q.Types) > 0 && !slices.Contains(q.Types, r.Type) {
			continue
		}
		var pool []store.Record
		for _, other := range f.records {
			if other.ID == r.ID {
				pool = append(pool, other)
			}
		}
		specOK := func(x store.Record) bool { return slices.Contains(q.SpecVersions, x.SpecVersion) }
		if len(q.SpecVersions) == 0 {
			newest := ""
			for _, x := range pool {
				newest = max(newest, x.SpecVersion) // "2.0" < "2.1" as strings too
			}
			specOK = func(x store.Record) bool { return x.SpecVersion == newest }
		}
		if !specOK(r) {
			continue
		}
		isFirst, isLast := true, true
		for _, x := range pool {
			if specOK(x) && x.Version.Before(r.Version) {
				isFirst = false
			}
			if specOK(x) && x.Version.After(r.Version) {
				isLast = false
			}
		}
		v := q.Versions
		at := slices.ContainsFunc(v.At, r.Version.Equal)
		zero := !v.First && !v.Last && !v.All && len(v.At) == 0
		if v.All || at || v.First && isFirst || (v.Last || zero) && isLast {
			out = append(out, l)
		}
	}
	return out
}

func describe(q store.Query) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ids=%v types=%v versions=%+v specs=%v", q.IDs, q.Types, q.Versions, q.SpecVersions)
	if !q.AddedAfter.IsZero() {
		fmt.Fprintf(&b, " added_after=%v", q.AddedAfter.Format(time.RFC3339Nano))
	}
	return b.String()
}

func manifestSelectsLikeObjects(t *testing.T, s store.Store) {
	f := newVersionFixture(t, s)
	for _, q := range []store.Query{
		{Limit: 4},
		{Limit: 4, VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}}},
		{Limit: 1, IDs: []string{ind1}, VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}}},
	} {
		objects := readAll(t, s, f.collection, q, false)
		manifest := readAll(t, s, f.collection, q, true)
		if !slices.Equal(f.labelsOf(manifest), f.labelsOf(objects)) {
			t.Errorf("%s: manifest %v, objects %v", describe(q), f.labelsOf(manifest), f.labelsOf(objects))
		}
		for i := range min(len(objects), len(manifest)) {
			o, m := objects[i], manifest[i]
			if o.Type != m.Type || o.SpecVersion != m.SpecVersion || !o.DateAdded.Equal(m.DateAdded) {
				t.Errorf("manifest record %d differs: %+v vs %+v", i, m, o)
			}
		}
	}
}

func longIDLists(t *testing.T, s store.Store) {
	c := newCollection(t, s)
	var objs []store.Object
	var ids []string
	for i := range 40_000 {
		id := fmt.Sprintf("indicator--20000000-0000-4000-8000-%012d", i)
		ids = append(ids, id)
		if i%10 == 0 {
			objs = append(objs, indicator(id, "2024-03-01T10:00:00.000Z", i))
		}
	}
	mustAdd(t, s, c, objs...)
	got := readAll(t, s, c, store.Query{IDs: ids, Limit: 1000}, true)
	if len(got) != len(objs) {
		t.Errorf("a query naming %d ids found %d of the %d stored", len(ids), len(got), len(objs))
	}
}
