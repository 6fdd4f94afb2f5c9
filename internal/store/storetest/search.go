package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
)

// The value-search cases need a store opened with the hub's value indexer (policy.IndexValues), as
// the hub opens it; Run's open function must give it.
var searchCases = []testCase{
	{"SearchFindsNormalisedValues", searchFindsNormalisedValues},
	{"SearchSupersededShowsLatestVisible", searchSupersededShowsLatestVisible},
	{"SearchNeverFindsWhatIsGoneOrHeld", searchNeverFindsGoneOrHeld},
	{"SearchReadsOnlyItsScopesNewestFirst", searchReadsOnlyItsScopes},
	{"SearchBoundsWhatItReads", searchBoundsWhatItReads},
	{"BrowseByTypeNewestFirst", browseByTypeNewestFirst},
}

// stixObject is an object of typ with the given properties after its common ones; an empty
// modified makes it versionless, as an SCO is.
func stixObject(typ, id, modified, props string) store.Object {
	o := store.Object{ID: id, Type: typ, SpecVersion: "2.1"}
	common := fmt.Sprintf(`"type":%q,"spec_version":"2.1","id":%q`, typ, id)
	if modified != "" {
		o.Version = ts(modified)
		common += fmt.Sprintf(`,"created":"2026-01-01T00:00:00.000Z","modified":%q`, modified)
	}
	o.Content = []byte("{" + common + "," + props + "}")
	return o
}

// patternIndicator is an indicator whose STIX pattern is pattern.
func patternIndicator(n int, modified, pattern string) store.Object {
	return stixObject("indicator", indicatorID(n), modified,
		fmt.Sprintf(`"pattern":%q,"pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"`, pattern))
}

// search looks value up as the hub does (every normalised form policy.SearchForms gives) in the
// scopes, at most limit objects.
func search(t *testing.T, s store.Store, value string, limit int, scopes ...store.SearchScope) store.ValueHits {
	t.Helper()
	hits, err := s.SearchValues(t.Context(), store.ValueSearch{Values: policy.SearchForms(value), Scopes: scopes, Limit: limit})
	if err != nil {
		t.Fatalf("search %q: %v", value, err)
	}
	return hits
}

func hitIDs(h store.ValueHits) []string {
	out := []string{}
	for _, x := range h.Hits {
		out = append(out, x.ObjectID)
	}
	return out
}

func scope(coll string) store.SearchScope { return store.SearchScope{CollectionID: coll} }

func searchFindsNormalisedValues(t *testing.T, s store.Store) {
	coll := newCollection(t, s)
	const sha = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
	ind := patternIndicator(1, "2026-01-01T00:00:00.000Z",
		`[ipv4-addr:value = '198.51.100.7'] OR [file:hashes.'SHA-256' = '`+sha+`'] OR [domain-name:value = 'Bücher.Example.']`+
			` OR [url:value = 'HTTP://Evil.Example:80/a?b=1'] OR [email-message:from_ref.value = 'boss@Corp.Example']`)
	cidr := patternIndicator(2, "2026-01-01T00:00:00.000Z", `[ipv4-addr:value ISSUBSET '203.0.113.0/24']`)
	negated := patternIndicator(3, "2026-01-01T00:00:00.000Z", `[ipv4-addr:value != '192.0.2.1']`)
	ipv6 := stixObject("ipv6-addr", "ipv6-addr--"+newUUID(), "", `"value":"2001:DB8:0:0::1"`)
	as := stixObject("autonomous-system", "autonomous-system--"+newUUID(), "", `"number":64500`)
	file := stixObject("file", "file--"+newUUID(), "", `"name":"Invoice.pdf.exe","hashes":{"MD5":"D41D8CD98F00B204E9800998ECF8427E"}`)
	vuln := stixObject("vulnerability", "vulnerability--"+newUUID(), "2026-01-01T00:00:00.000Z",
		`"name":"Log4Shell","external_references":[{"source_name":"cve","external_id":"CVE-2021-44228"}]`)
	note := stixObject("note", "note--"+newUUID(), "2026-01-01T00:00:00.000Z", `"content":"198.51.100.7 was seen","object_refs":["`+ind.ID+`"]`)
	out := mustAdd(t, s, coll, ind, cidr, negated, ipv6, as, file, vuln, note)

	for _, tc := range []struct {
		value, want, kind string
	}{
		{"198.51.100.7", ind.ID, "ipv4-addr"},
		{" 198.51.100.7 ", ind.ID, "ipv4-addr"},
		{strings.ToLower(sha), ind.ID, "file:hashes.SHA256"},
		{"bücher.example", ind.ID, "domain-name"},
		{"XN--BCHER-KVA.EXAMPLE", ind.ID, "domain-name"},
		{"http://evil.example/a?b=1", ind.ID, "url"},
		{"boss@corp.example", ind.ID, "email-addr"},
		{"203.0.113.9", cidr.ID, "ipv4-addr"},
		{"203.0.113.0/24", cidr.ID, "ipv4-addr"},
		{"2001:db8::1", ipv6.ID, "ipv6-addr"},
		{"AS64500", as.ID, "autonomous-system"},
		{"Invoice.pdf.exe", file.ID, "file:name"},
		{"d41d8cd98f00b204e9800998ecf8427e", file.ID, "file:hashes.MD5"},
		{"cve-2021-44228", vuln.ID, "vulnerability:cve"},
	} {
		hits := search(t, s, tc.value, 10, scope(coll))
		if len(hits.Hits) != 1 || hits.Hits[0].ObjectID != tc.want || hits.Hits[0].Kind != tc.kind {
			t.Errorf("search %q: %+v; want %s by %s", tc.value, hits.Hits, tc.want, tc.kind)
			continue
		}
		h := hits.Hits[0]
		i := map[string]int{ind.ID: 0, cidr.ID: 1, ipv6.ID: 3, as.ID: 4, file.ID: 5, vuln.ID: 6}[tc.want]
		if h.CollectionID != coll || !h.Version.Equal(out[i].Version) || !h.DateAdded.Equal(out[i].DateAdded) || h.Type == "" {
			t.Errorf("search %q: hit %+v; want collection %s, version %v, added %v", tc.value, h, coll, out[i].Version, out[i].DateAdded)
		}
	}
	// Neither a negated comparison, nor free text, nor an address outside a network names a value.
	for _, miss := range []string{"192.0.2.1", "203.0.114.9", "invoice.pdf.exe", "Log4Shell", "seen"} {
		if hits := search(t, s, miss, 10, scope(coll)); len(hits.Hits) != 0 {
			t.Errorf("search %q: %v; want nothing", miss, hitIDs(hits))
		}
	}
}

func searchSupersededShowsLatestVisible(t *testing.T, s store.Store) {
	coll := newCollection(t, s)
	v1 := patternIndicator(1, "2026-01-01T00:00:00.000Z", `[ipv4-addr:value = '198.51.100.7']`)
	v1.TLP = store.TLPClear
	v2 := patternIndicator(1, "2026-02-01T00:00:00.000Z", `[ipv4-addr:value = '198.51.100.8']`)
	v2.TLP = store.TLPGreen
	v3 := patternIndicator(1, "2026-03-01T00:00:00.000Z", `[ipv4-addr:value = '198.51.100.7']`)
	v3.TLP = store.TLPRed
	out := mustAdd(t, s, coll, v1, v2, v3)

	// Found through v1 and v3, once, with the newest version the reader may see.
	for _, tc := range []struct {
		clearance store.TLP
		want      int
	}{{store.TLPNone, 2}, {store.TLPRed, 2}, {store.TLPAmber, 1}, {store.TLPGreen, 1}} {
		hits := search(t, s, "198.51.100.7", 10, store.SearchScope{CollectionID: coll, MaxTLP: tc.clearance})
		if len(hits.Hits) != 1 || !hits.Hits[0].Version.Equal(out[tc.want].Version) || !hits.Hits[0].DateAdded.Equal(out[tc.want].DateAdded) {
			t.Errorf("clearance %v: %+v; want one hit at version %v", tc.clearance, hits.Hits, out[tc.want].Version)
		}
	}
	// At clear, only v1 is visible, and it is what is shown.
	hits := search(t, s, "198.51.100.7", 10, store.SearchScope{CollectionID: coll, MaxTLP: store.TLPClear})
	if len(hits.Hits) != 1 || !hits.Hits[0].Version.Equal(out[0].Version) {
		t.Errorf("clearance clear: %+v; want v1", hits.Hits)
	}
	// .8 is named by v2 alone: a clearance below it finds nothing.
	if hits := search(t, s, "198.51.100.8", 10, store.SearchScope{CollectionID: coll, MaxTLP: store.TLPClear}); len(hits.Hits) != 0 {
		t.Errorf("clearance clear, a value only a green version names: %+v", hits.Hits)
	}
	if hits := search(t, s, "198.51.100.8", 10, store.SearchScope{CollectionID: coll, MaxTLP: store.TLPGreen}); len(hits.Hits) != 1 ||
		!hits.Hits[0].Version.Equal(out[1].Version) {
		t.Errorf("clearance green, found by v2: %+v; want v2 shown", hits.Hits)
	}
}

func searchNeverFindsGoneOrHeld(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	withdrawn := patternIndicator(1, "2026-01-01T00:00:00.000Z", `[domain-name:value = 'withdrawn.example']`)
	deleted := patternIndicator(2, "2026-01-01T00:00:00.000Z", `[domain-name:value = 'deleted.example']`)
	kept := patternIndicator(3, "2026-01-01T00:00:00.000Z", `[domain-name:value = 'kept.example']`)
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", TokenID: "t", Objects: []store.Object{withdrawn, deleted, kept}})
	if _, err := s.Withdraw(ctx, store.Withdrawal{CollectionID: coll, ObjectID: withdrawn.ID, Member: "cert-eu", TokenID: "t",
		Tombstone: tombstone}); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	if _, err := s.DeleteVersions(ctx, coll, deleted.ID, store.VersionFilter{Versions: store.VersionMatch{All: true}}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	held := patternIndicator(4, "2026-01-01T00:00:00.000Z", `[domain-name:value = 'held.example']`)
	submit(t, s, coll, "cert-eu", "status-held", time.Hour, held)

	for _, v := range []string{"withdrawn.example", "deleted.example", "held.example"} {
		if hits := search(t, s, v, 10, scope(coll)); len(hits.Hits) != 0 {
			t.Errorf("search %q: %v; want nothing", v, hitIDs(hits))
		}
	}
	if hits := search(t, s, "kept.example", 10, scope(coll)); len(hits.Hits) != 1 {
		t.Errorf("search kept.example: %v; want it", hitIDs(hits))
	}
	decide(t, s, store.ReviewDecision{CollectionID: coll, StatusID: "status-held", Approve: true, Reviewer: "cert-eu"})
	if hits := search(t, s, "held.example", 10, scope(coll)); len(hits.Hits) != 1 || hits.Hits[0].ObjectID != held.ID {
		t.Errorf("search held.example once released: %v; want it", hitIDs(hits))
	}
	// A deleted collection takes its entries with it: a collection created later with the same
	// scope finds nothing (ids are never reused, but the entries must be gone, not just unread).
	other := newCollection(t, s)
	mustAdd(t, s, other, patternIndicator(5, "2026-01-01T00:00:00.000Z", `[domain-name:value = 'kept.example']`))
	if err := s.DeleteCollection(ctx, rootOf(t, s, other), other); err != nil {
		t.Fatalf("delete collection: %v", err)
	}
	if hits := search(t, s, "kept.example", 10, scope(coll), scope(other)); len(hits.Hits) != 1 || hits.Hits[0].CollectionID != coll {
		t.Errorf("search after deleting a collection: %+v", hits.Hits)
	}
}

func searchReadsOnlyItsScopes(t *testing.T, s store.Store) {
	a, b := newCollection(t, s), newCollection(t, s)
	var inA []store.Object
	for i := range 5 {
		inA = append(inA, patternIndicator(10+i, "2026-01-01T00:00:00.000Z", `[ipv4-addr:value = '192.0.2.0/24']`))
	}
	mustAdd(t, s, a, inA...)
	mustAdd(t, s, b, patternIndicator(20, "2026-01-01T00:00:00.000Z", `[ipv4-addr:value = '192.0.2.5']`))

	if hits := search(t, s, "192.0.2.5", 10, scope(a)); len(hits.Hits) != 5 || hits.More {
		t.Errorf("search in a: %v, more %v; want the 5 networks of a", hitIDs(hits), hits.More)
	} else {
		for i, h := range hits.Hits {
			if want := inA[4-i].ID; h.ObjectID != want {
				t.Errorf("hit %d: %s; want %s (newest first)", i, h.ObjectID, want)
			}
		}
	}
	if hits := search(t, s, "192.0.2.5", 10, scope(b)); len(hits.Hits) != 1 || hits.Hits[0].CollectionID != b {
		t.Errorf("search in b: %+v", hits.Hits)
	}
	hits := search(t, s, "192.0.2.5", 3, scope(a), scope(b))
	if len(hits.Hits) != 3 || !hits.More || hits.Hits[0].CollectionID != b {
		t.Errorf("search in both, limit 3: %+v, more %v; want b's first, then a's, and more", hits.Hits, hits.More)
	}
	for _, q := range []store.ValueSearch{
		{Values: nil, Scopes: []store.SearchScope{scope(a)}, Limit: 1},
		{Values: []string{"x"}, Limit: 1},
		{Values: []string{"x"}, Scopes: []store.SearchScope{scope(a)}, Limit: 0},
		{Values: []string{"x"}, Scopes: []store.SearchScope{scope(a)}, Limit: store.MaxSearchLimit + 1},
		{Values: make([]string, store.MaxSearchValues+1), Scopes: []store.SearchScope{scope(a)}, Limit: 1},
	} {
		var qe *store.QueryError
		if _, err := s.SearchValues(t.Context(), q); !errors.As(err, &qe) {
			t.Errorf("search %d values, %d scopes, limit %d: %v; want a QueryError", len(q.Values), len(q.Scopes), q.Limit, err)
		}
	}
}

// An object whose many versions all name the value takes an index entry per version: a search
// reads at most store.SearchScanFactor × limit entries per collection and value, and says when it
// stopped there.
func searchBoundsWhatItReads(t *testing.T, s store.Store) {
	coll := newCollection(t, s)
	older := patternIndicator(1, "2026-01-01T00:00:00.000Z", `[domain-name:value = 'popular.example']`)
	var versions []store.Object
	for i := range store.SearchScanFactor + 1 {
		versions = append(versions, patternIndicator(2, fmt.Sprintf("2026-02-0%dT00:00:00.000Z", i+1), `[domain-name:value = 'popular.example']`))
	}
	mustAdd(t, s, coll, append([]store.Object{older}, versions...)...)

	hits := search(t, s, "popular.example", 1, scope(coll))
	if len(hits.Hits) != 1 || hits.Hits[0].ObjectID != versions[0].ID || !hits.More {
		t.Errorf("limit 1: %v, more %v; want the revised object and more", hitIDs(hits), hits.More)
	}
	if !hits.Hits[0].Version.Equal(versions[len(versions)-1].Version) {
		t.Errorf("limit 1: version %v; want the newest", hits.Hits[0].Version)
	}
	hits = search(t, s, "popular.example", 2, scope(coll))
	if len(hits.Hits) != 2 || hits.Hits[1].ObjectID != older.ID || hits.More {
		t.Errorf("limit 2: %v, more %v; want both objects and no more", hitIDs(hits), hits.More)
	}
}

func browseByTypeNewestFirst(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	var objs []store.Object
	for i := range 7 {
		o := indicator(indicatorID(i), "2026-01-01T00:00:00.000Z", i)
		if i == 3 {
			o.TLP = store.TLPRed
		}
		objs = append(objs, o, object("malware", fmt.Sprintf("malware--%08d-0000-4000-8000-000000000000", i), "2.1", "2026-01-01T00:00:00.000Z", "m"))
	}
	mustAdd(t, s, coll, objs...)

	var got []string
	q := store.BrowseQuery{Type: "indicator", Limit: 2, MaxTLP: store.TLPAmber}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("browse does not end")
		}
		p, err := s.Browse(ctx, coll, q)
		if err != nil {
			t.Fatalf("browse: %v", err)
		}
		for _, r := range p.Records {
			if r.Type != "indicator" || r.Content != nil {
				t.Errorf("browse gave %s with %d bytes of content", r.Type, len(r.Content))
			}
			got = append(got, r.ID)
		}
		if !p.More {
			break
		}
		q.Before = p.Records[len(p.Records)-1].DateAdded
	}
	want := []string{indicatorID(6), indicatorID(5), indicatorID(4), indicatorID(2), indicatorID(1), indicatorID(0)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("browse at amber: %v; want %v", got, want)
	}
	if _, err := s.Browse(ctx, newUUID(), store.BrowseQuery{Type: "indicator", Limit: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("browse of no collection: %v; want ErrNotFound", err)
	}
	var qe *store.QueryError
	if _, err := s.Browse(ctx, coll, store.BrowseQuery{Type: "indicator", Limit: store.MaxLimit + 1}); !errors.As(err, &qe) {
		t.Errorf("browse over the limit: %v; want a QueryError", err)
	}
}

// ReopenIndexed opens a store over one database of the test each time it is called, with the
// value indexer given (nil for none); stores opened earlier stay open.
type ReopenIndexed func(t *testing.T, ix store.ValueIndexer) store.Store

// RunValueIndexFill checks that Open fills the value-search index for versions stored without it
// (before the index existed, or by a store opened without an indexer), once, and that what a store
// without an indexer stores is indexed by the next Open with one.
func RunValueIndexFill(t *testing.T, reopen ReopenIndexed) {
	plain := reopen(t, nil)
	coll := newCollection(t, plain)
	before := patternIndicator(1, "2026-01-01T00:00:00.000Z", `[domain-name:value = 'before.example']`)
	gone := patternIndicator(2, "2026-01-01T00:00:00.000Z", `[domain-name:value = 'gone.example']`)
	mustPublish(t, plain, store.Publication{CollectionID: coll, Member: "cert-eu", TokenID: "t", Objects: []store.Object{before, gone}})
	if _, err := plain.Withdraw(t.Context(), store.Withdrawal{CollectionID: coll, ObjectID: gone.ID, Member: "cert-eu", TokenID: "t",
		Tombstone: tombstone}); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	if hits := search(t, plain, "before.example", 10, scope(coll)); len(hits.Hits) != 0 {
		t.Fatalf("a store without an indexer found %v", hitIDs(hits))
	}
	for run := range 2 {
		s := reopen(t, policy.IndexValues)
		if hits := search(t, s, "before.example", 10, scope(coll)); len(hits.Hits) != 1 || hits.Hits[0].ObjectID != before.ID {
			t.Errorf("open %d with the indexer: %v; want the version stored before", run+1, hitIDs(hits))
		}
		if hits := search(t, s, "gone.example", 10, scope(coll)); len(hits.Hits) != 0 {
			t.Errorf("open %d with the indexer: the withdrawn object is found: %v", run+1, hitIDs(hits))
		}
	}
	// A store opened without the indexer stores versions without entries; the next Open with it
	// indexes them.
	plain = reopen(t, nil)
	later := patternIndicator(3, "2026-01-01T00:00:00.000Z", `[domain-name:value = 'later.example']`)
	mustAdd(t, plain, coll, later)
	s := reopen(t, policy.IndexValues)
	if hits := search(t, s, "later.example", 10, scope(coll)); len(hits.Hits) != 1 || hits.Hits[0].ObjectID != later.ID {
		t.Errorf("after a store without the indexer wrote: %v; want the version it stored", hitIDs(hits))
	}
}
