package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
)

var onwardCases = []testCase{
	{"LastPullsCountOnlyContentReceived", lastPullsCountContent},
	{"OriginsCarryTheTimeTheyWereRecorded", originsCarryTheirTime},
	{"AttestationsShowAmongTheFirstPublishersPulls", attestationsShowToPublisher},
}

// onwardFixture is a closed partnership (no onward sharing) with a collection, and the members
// cncert and cert-eu.
func onwardFixture(t *testing.T, s store.Store) (root, coll string) {
	t.Helper()
	root = "closed-" + randomHex(4)
	if err := s.CreateAPIRoot(t.Context(), store.APIRoot{Slug: root, Title: "Closed",
		Policy: store.PartnershipPolicy{NoOnwardSharing: true}}); err != nil {
		t.Fatalf("create root: %v", err)
	}
	coll = newCollectionIn(t, s, root)
	for _, m := range []string{"cncert", "cert-eu"} {
		if err := s.CreateMember(t.Context(), store.Member{ID: m, Name: m, Jurisdiction: "EU"}); err != nil && !errors.Is(err, store.ErrConflict) {
			t.Fatalf("create member: %v", err)
		}
	}
	return root, coll
}

// withoutTimes returns origins with their times cleared, for comparing with origins written out.
func withoutTimes(origins []store.Origin) []store.Origin {
	out := slices.Clone(origins)
	for i := range out {
		out[i].At = time.Time{}
	}
	return out
}

func pull(t *testing.T, s store.Store, member, root, coll, endpoint string, ids ...string) {
	t.Helper()
	e := store.LedgerEntry{Kind: store.LedgerPull, Member: member, TokenID: "tok-" + member, APIRoot: root,
		Collection: coll, Endpoint: endpoint, Items: []store.LedgerItem{}}
	for _, id := range ids {
		e.Items = append(e.Items, store.LedgerItem{ID: id, Version: ts("2026-01-01T00:00:00Z")})
	}
	if err := s.RecordPull(t.Context(), e); err != nil {
		t.Fatalf("record pull: %v", err)
	}
}

// lastPullTime is the time of the ledger's last entry.
func lastEntryAt(t *testing.T, s store.Store) time.Time {
	t.Helper()
	head, err := s.LedgerHead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.Ledger(t.Context(), head.Seq-1, 1)
	if err != nil || len(es) != 1 {
		t.Fatalf("last entry: %v %v", es, err)
	}
	return es[0].At
}

func lastPullsCountContent(t *testing.T, s store.Store) {
	ctx := t.Context()
	root, coll := onwardFixture(t, s)
	other, otherColl := onwardFixture(t, s)
	never, _ := onwardFixture(t, s)

	got, err := s.LastPulls(ctx, "cert-eu", []string{root, other, never})
	if err != nil || len(got) != 0 {
		t.Fatalf("before any pull: %v, %v; want none", got, err)
	}
	pull(t, s, "cert-eu", root, coll, "objects", "indicator--1")
	first := lastEntryAt(t, s)
	pull(t, s, "cert-eu", other, otherColl, "object", "indicator--2")
	inOther := lastEntryAt(t, s)
	// None of these served content: a manifest, a versions list, an empty page, a dry run's probe,
	// another member's pull.
	pull(t, s, "cert-eu", root, coll, "manifest", "indicator--3")
	pull(t, s, "cert-eu", root, coll, "versions", "indicator--3")
	pull(t, s, "cert-eu", root, coll, "objects")
	probe := store.LedgerEntry{Kind: store.LedgerProbe, Member: "cert-eu", APIRoot: root, Collection: coll,
		Items: []store.LedgerItem{{ID: "indicator--4"}}}
	if err := s.RecordPull(ctx, probe); err != nil {
		t.Fatal(err)
	}
	pull(t, s, "cncert", root, coll, "objects", "indicator--5")

	got, err = s.LastPulls(ctx, "cert-eu", []string{root, other, never})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{root: first, other: inOther}
	if len(got) != len(want) || !got[root].Equal(first) || !got[other].Equal(inOther) {
		t.Errorf("last pulls %v, want %v", got, want)
	}
	pull(t, s, "cert-eu", root, coll, "objects", "indicator--6")
	later := lastEntryAt(t, s)
	if got, err := s.LastPulls(ctx, "cert-eu", []string{root}); err != nil || !got[root].Equal(later) || len(got) != 1 {
		t.Errorf("after a later pull: %v, %v; want %s", got, err, later)
	}
}

func originsCarryTheirTime(t *testing.T, s store.Store) {
	ctx := t.Context()
	root, coll := onwardFixture(t, s)
	o := indicator("indicator--"+newUUID(), "2026-01-01T00:00:00.000Z", 1)
	o.Fingerprint = policy.Fingerprint(o.Content)
	out, err := s.Publish(ctx, store.Publication{CollectionID: coll, Member: "cncert", TokenID: "t", Objects: []store.Object{o}})
	if err != nil || len(out) != 1 || out[0].Result != store.Added {
		t.Fatalf("publish: %v %v", out, err)
	}
	origins, err := s.Origins(ctx, []string{store.OriginKeyID(o.ID), store.OriginKeyFingerprint(o.Fingerprint)})
	if err != nil || len(origins) != 2 {
		t.Fatalf("origins: %v %v", origins, err)
	}
	for _, got := range origins {
		if got.APIRoot != root || got.Member != "cncert" || !got.At.Equal(out[0].DateAdded) || got.DerivedFrom != "" {
			t.Errorf("origin %+v, want cncert's in %s at %s", got, root, out[0].DateAdded)
		}
	}
}

func attestationsShowToPublisher(t *testing.T, s store.Store) {
	ctx := t.Context()
	root, coll := onwardFixture(t, s)
	o := indicator("indicator--"+newUUID(), "2026-01-01T00:00:00.000Z", 1)
	o.Fingerprint = policy.Fingerprint(o.Content)
	if _, err := s.Publish(ctx, store.Publication{CollectionID: coll, Member: "cncert", TokenID: "t", Objects: []store.Object{o}}); err != nil {
		t.Fatal(err)
	}
	a := store.Attestation{APIRoot: root, Target: "elsewhere", CollectionID: newUUID(), Member: "cert-eu", TokenID: "tok",
		Items: []store.AttestedItem{{ID: "indicator--mine", Version: ts("2026-02-01T00:00:00Z"), OriginKey: store.OriginKeyFingerprint(o.Fingerprint)}}}
	if err := s.RecordPull(ctx, store.AttestEntry(a)); err != nil {
		t.Fatal(err)
	}
	page, err := store.Pulls(ctx, s, store.PullQuery{Publisher: "cncert", APIRoot: root, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].Kind != store.LedgerAttest || page.Entries[0].Member != "cert-eu" ||
		len(page.Entries[0].Items) != 1 || page.Entries[0].Items[0].Fingerprint != o.Fingerprint {
		t.Errorf("cncert's pulls: %+v, want cert-eu's attestation", page.Entries)
	}
	if page, err := store.Pulls(ctx, s, store.PullQuery{Publisher: "cert-eu", APIRoot: root, Limit: 10}); err != nil || len(page.Entries) != 0 {
		t.Errorf("another publisher sees %+v, %v", page.Entries, err)
	}
	if v, err := store.VerifyLedger(ctx, s); err != nil || !v.OK {
		t.Errorf("ledger with an attestation: %+v, %v", v, err)
	}
}

// Reopen opens a store over one database of the test each time it is called, passing the
// fingerprint upgrade (nil for none) as the hub passes it; stores opened earlier stay open.
type Reopen func(t *testing.T, upgrade store.FingerprintUpgrade) store.Store

// RunFingerprintUpgrade checks that content whose origins were recorded under the first fingerprint
// scheme stays protected once the store is opened with the current one: its origins are re-keyed,
// once, for the same member and time, and deep verification accounts for them.
func RunFingerprintUpgrade(t *testing.T, reopen Reopen) {
	ctx := t.Context()
	old := reopen(t, nil)
	root, coll := onwardFixture(t, old)
	// A hub of the first scheme recorded the legacy fingerprint as the object's.
	received := indicator("indicator--"+newUUID(), "2026-01-01T00:00:00.000Z", 7)
	received.Fingerprint = policy.LegacyFingerprint(received.Content)
	out, err := old.Publish(ctx, store.Publication{CollectionID: coll, Member: "cncert", TokenID: "t", Objects: []store.Object{received}})
	if err != nil || out[0].Result != store.Added {
		t.Fatalf("publish: %v %v", out, err)
	}
	// Withdrawn before the upgrade: only its tombstone, which says the same, is left to re-key.
	gone := indicator("indicator--"+newUUID(), "2026-01-01T00:00:00.000Z", 9)
	gone.Fingerprint = policy.LegacyFingerprint(gone.Content)
	goneOut, err := old.Publish(ctx, store.Publication{CollectionID: coll, Member: "cncert", TokenID: "t", Objects: []store.Object{gone}})
	if err != nil || goneOut[0].Result != store.Added {
		t.Fatalf("publish: %v %v", goneOut, err)
	}
	if _, err := old.Withdraw(ctx, store.Withdrawal{CollectionID: coll, ObjectID: gone.ID, Member: "cncert", TokenID: "t",
		Tombstone: revokedTombstone}); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	// Loaded on nobody's behalf: it has no origin to re-key.
	loaded := indicator("indicator--"+newUUID(), "2026-01-01T00:00:00.000Z", 8)
	mustAdd(t, old, coll, loaded)

	current := policy.Fingerprint(received.Content)
	// A re-post of the received content with a trivial edit: another id, name and labels.
	variant := policy.Fingerprint([]byte(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%s",`+
		`"created":"2026-02-01T00:00:00.000Z","modified":"2026-02-01T00:00:00.000Z","name":"MALICIOUS DOMAIN",`+
		`"pattern":"[domain-name:value='BAD7.example.']","pattern_type":"stix","valid_from":"2026-02-01T00:00:00Z","labels":["x"]}`, newUUID())))
	if variant != current {
		t.Fatalf("the variant's fingerprint %s is not the received content's %s", variant, current)
	}
	if got, err := old.Origins(ctx, []string{store.OriginKeyFingerprint(current)}); err != nil || len(got) != 0 {
		t.Fatalf("before the upgrade: %v, %v", got, err)
	}
	for run := range 2 {
		s := reopen(t, policy.UpgradeFingerprint)
		got, err := s.Origins(ctx, []string{store.OriginKeyFingerprint(variant), store.OriginKeyFingerprint(policy.Fingerprint(loaded.Content))})
		want := store.Origin{Key: store.OriginKeyFingerprint(current), APIRoot: root, Member: "cncert", At: out[0].DateAdded,
			DerivedFrom: store.OriginKeyFingerprint(received.Fingerprint)}
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("opening %d with the upgrade: origins %+v, %v; want [%+v]", run+1, got, err, want)
		}
		got, err = s.Origins(ctx, []string{store.OriginKeyFingerprint(policy.Fingerprint(gone.Content))})
		if err != nil || len(got) != 1 || got[0].Member != "cncert" || !got[0].At.Equal(goneOut[0].DateAdded) {
			t.Errorf("opening %d with the upgrade: origins of withdrawn content %+v, %v", run+1, got, err)
		}
		v, err := store.VerifyDeep(ctx, s, store.DeepOptions{})
		if err != nil || v.ProblemCount != 0 || v.DerivedOrigins != 2 {
			t.Errorf("deep verification after the upgrade: %d problems %+v, %d derived, %v", v.ProblemCount, v.Problems, v.DerivedOrigins, err)
		}
	}
}

// revokedTombstone builds a tombstone as the hub does: the newest version revoked, modified at the
// withdrawal, marked as the hub's.
func revokedTombstone(newest []byte, at time.Time) ([]byte, time.Time, error) {
	var obj map[string]any
	if err := json.Unmarshal(newest, &obj); err != nil {
		return nil, time.Time{}, err
	}
	v := at.UTC().Truncate(time.Millisecond)
	obj["modified"], obj["revoked"], obj["x_taxiihub_withdrawn"] = v.Format("2006-01-02T15:04:05.000Z"), true, true
	b, err := json.Marshal(obj)
	return b, v, err
}
