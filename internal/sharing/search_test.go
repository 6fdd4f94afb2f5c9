package sharing

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
	"taxiihub/internal/store/sqlitestore"
)

// searchFixture is a hub with two partnerships: "eu" (collections a and b) and "asia" (collection
// c). cert-eu publishes in a and c; reader reads a (at clearance green) and c, holds a write-only
// grant on b; outsider reads b alone.
type searchFixture struct {
	fixture
	a, b, c string
}

func newSearchFixture(t *testing.T) searchFixture {
	t.Helper()
	ctx := t.Context()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "hub.db"), sqlitestore.WithValueIndexer(policy.IndexValues))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	f := searchFixture{a: "00000000-0000-4000-8000-0000000000a1", b: "00000000-0000-4000-8000-0000000000b1",
		c: "00000000-0000-4000-8000-0000000000c1"}
	for _, r := range []string{"eu", "asia"} {
		if err := st.CreateAPIRoot(ctx, store.APIRoot{Slug: r, Title: r}); err != nil {
			t.Fatal(err)
		}
	}
	for coll, root := range map[string]string{f.a: "eu", f.b: "eu", f.c: "asia"} {
		if err := st.CreateCollection(ctx, store.Collection{ID: coll, APIRoot: root, Title: coll}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []string{"cert-eu", "reader", "outsider"} {
		if err := st.CreateMember(ctx, store.Member{ID: m, Name: m, Jurisdiction: "EU"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []store.Grant{
		{MemberID: "cert-eu", APIRoot: "eu", CollectionID: f.a, Read: true, Write: true},
		{MemberID: "cert-eu", APIRoot: "eu", CollectionID: f.b, Read: true, Write: true},
		{MemberID: "cert-eu", APIRoot: "asia", CollectionID: f.c, Read: true, Write: true},
		{MemberID: "reader", APIRoot: "eu", CollectionID: f.a, Read: true},
		{MemberID: "reader", APIRoot: "eu", CollectionID: f.b, Write: true},
		{MemberID: "reader", APIRoot: "asia", CollectionID: f.c, Read: true},
		{MemberID: "outsider", APIRoot: "eu", CollectionID: f.b, Read: true},
	} {
		if err := st.PutGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutMembership(ctx, store.Membership{MemberID: "reader", APIRoot: "eu", Role: store.RoleBoth, Clearance: store.TLPGreen}); err != nil {
		t.Fatal(err)
	}
	svc, err := New(Config{Store: st, Checker: mustValidator(t)})
	if err != nil {
		t.Fatal(err)
	}
	f.fixture = fixture{svc: svc, store: st}
	return f
}

// ipIndicator is a valid indicator numbered n naming pattern, marked with marking (a marking
// definition id, or none).
func ipIndicator(n int, modified, pattern, marking string) json.RawMessage {
	markings := ""
	if marking != "" {
		markings = fmt.Sprintf(`,"object_marking_refs":[%q]`, marking)
	}
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d",`+
		`"created":"2026-01-01T00:00:00.000Z","modified":%q,"name":"n","pattern":%q,"pattern_type":"stix",`+
		`"valid_from":"2026-01-01T00:00:00Z"%s}`, n, modified, pattern, markings))
}

const (
	tlpGreen = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	tlpRed   = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
)

func (f searchFixture) publish(t *testing.T, coll string, raws ...json.RawMessage) {
	t.Helper()
	caller := f.caller(t, "cert-eu")
	root := map[string]string{f.a: "eu", f.b: "eu", f.c: "asia"}[coll]
	acc, err := f.svc.Access(t.Context(), caller, root, coll)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.svc.Publish(t.Context(), acc, raws, false)
	if err != nil || len(st.Failures) > 0 {
		t.Fatalf("publish to %s: %v %+v", coll, err, st.Failures)
	}
}

func resultIDs(a SearchAnswer) []string {
	out := []string{}
	for _, r := range a.Results {
		out = append(out, r.APIRoot+"/"+r.ObjectID[len(r.ObjectID)-3:])
	}
	return out
}

func TestSearchCoversWhatTheCallerReadsAndNothingElse(t *testing.T) {
	f := newSearchFixture(t)
	ctx := t.Context()
	f.publish(t, f.a, ipIndicator(1, "2026-01-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.7']", tlpGreen),
		ipIndicator(2, "2026-01-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.7']", tlpRed))
	f.publish(t, f.b, ipIndicator(3, "2026-01-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.7']", ""))
	f.publish(t, f.c, ipIndicator(4, "2026-01-01T00:00:00.000Z", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']", ""))

	for _, tc := range []struct {
		member, value string
		want          []string
	}{
		// Newest first: c's, then a's green one; a's red one is above the reader's clearance in eu,
		// and b is write-only for it.
		{"reader", "198.51.100.7", []string{"asia/004", "eu/001"}},
		{"reader", "198[.]51.100.7", []string{"asia/004", "eu/001"}},
		{"cert-eu", "198.51.100.7", []string{"asia/004", "eu/003", "eu/002", "eu/001"}},
		{"outsider", "198.51.100.7", []string{"eu/003"}},
		{"reader", "198.51.100.99", []string{"asia/004"}},
		{"reader", "203.0.113.1", []string{}},
	} {
		got, err := f.svc.Search(ctx, f.caller(t, tc.member), tc.value, 0)
		if err != nil {
			t.Errorf("%s searches %q: %v", tc.member, tc.value, err)
			continue
		}
		if fmt.Sprint(resultIDs(got)) != fmt.Sprint(tc.want) {
			t.Errorf("%s searches %q: %v; want %v", tc.member, tc.value, resultIDs(got), tc.want)
		}
		for _, r := range got.Results {
			if r.Type != "indicator" || r.Version.IsZero() || r.DateAdded.IsZero() || r.CollectionID == "" {
				t.Errorf("%s searches %q: incomplete result %+v", tc.member, tc.value, r)
			}
		}
	}
	if got, err := f.svc.Search(ctx, f.caller(t, "cert-eu"), "198.51.100.7", 2); err != nil || len(got.Results) != 2 || !got.More {
		t.Errorf("limit 2: %v, more %v, %v", resultIDs(got), got.More, err)
	}
}

func TestSearchRefusesBadInputBeforeReading(t *testing.T) {
	f := newSearchFixture(t)
	caller := f.caller(t, "reader")
	for _, tc := range []struct {
		value string
		limit int
	}{
		{"", 0}, {"   ", 0}, {string(make([]byte, MaxSearchValueBytes+1)), 0}, {"\xff\xfe", 0},
		{"198.51.100.7", -1}, {"198.51.100.7", MaxSearchLimit + 1},
	} {
		_, err := f.svc.Search(t.Context(), caller, tc.value, tc.limit)
		if kindOf(err) != Invalid {
			t.Errorf("search %.20q limit %d: %v; want Invalid", tc.value, tc.limit, err)
		}
	}
}

// A search that answers with objects records, per collection, a pull of what it answered with, so
// that the publisher sees who learnt which of its objects hold the value.
func TestSearchRecordsWhatItAnsweredAsAPull(t *testing.T) {
	f := newSearchFixture(t)
	ctx := t.Context()
	f.publish(t, f.a, ipIndicator(1, "2026-01-01T00:00:00.000Z", "[domain-name:value = 'evil.example']", ""))
	if _, err := f.svc.Search(ctx, f.caller(t, "reader"), "EVIL.example", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Search(ctx, f.caller(t, "reader"), "nothing.example", 0); err != nil {
		t.Fatal(err)
	}
	pulls, err := f.svc.Pulls(ctx, f.caller(t, "cert-eu"), "eu", store.PullQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var searches []store.LedgerEntry
	for _, p := range pulls.Entries {
		if p.Endpoint == "search" {
			searches = append(searches, p)
		}
	}
	if len(searches) != 1 || searches[0].Member != "reader" || len(searches[0].Items) != 1 ||
		searches[0].Items[0].ID != "indicator--00000000-0000-4000-8000-000000000001" {
		t.Errorf("search pulls: %+v; want one by reader of indicator 1", searches)
	}
}

func TestBrowseNewestFirstAtTheCallersClearance(t *testing.T) {
	f := newSearchFixture(t)
	ctx := t.Context()
	var raws []json.RawMessage
	for i := range 5 {
		marking := tlpGreen
		if i == 2 {
			marking = tlpRed
		}
		raws = append(raws, ipIndicator(i, "2026-01-01T00:00:00.000Z", fmt.Sprintf("[ipv4-addr:value = '198.51.100.%d']", i), marking))
	}
	f.publish(t, f.a, raws...)
	acc, err := f.svc.Access(ctx, f.caller(t, "reader"), "eu", f.a)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	before := time.Time{}
	for {
		p, err := f.svc.Browse(ctx, acc, "indicator", before, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			got = append(got, r.ID[len(r.ID)-1:])
		}
		if !p.More {
			break
		}
		before, _ = p.LastAdded()
	}
	if fmt.Sprint(got) != "[4 3 1 0]" {
		t.Errorf("browse: %v; want [4 3 1 0]", got)
	}
	writeOnly, err := f.svc.Access(ctx, f.caller(t, "reader"), "eu", f.b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Browse(ctx, writeOnly, "indicator", time.Time{}, 0); kindOf(err) != Forbidden {
		t.Errorf("browse of a write-only collection: %v; want Forbidden", err)
	}
	if _, err := f.svc.Browse(ctx, acc, "", time.Time{}, 0); kindOf(err) != Invalid {
		t.Errorf("browse without a type: %v; want Invalid", err)
	}
}
