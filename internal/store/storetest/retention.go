package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var retentionCases = []testCase{
	{"PurgeRemovesExpiredVersionsFromEveryRead", purgeFromEveryRead},
	{"PagingOverAPurgeStaysExact", pagingOverPurge},
	{"PurgeRefusesBadRequests", purgeRefusals},
	{"PurgeStatusesKeepsRecentAndPending", purgeStatuses},
}

// publishNumbered publishes n indicators numbered from first, one request each, so that each has a
// date added of its own.
func publishNumbered(t *testing.T, s store.Store, coll string, first, n int) {
	t.Helper()
	for i := range n {
		mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", TokenID: "tok-1",
			Objects: []store.Object{fingerprinted(tlpObject(first+i, "2026-01-01T00:00:00.000Z", 0), fmt.Sprintf("fp-%d", first+i))}})
	}
}

var everyVersion = store.VersionFilter{Versions: store.VersionMatch{All: true}, SpecVersions: []string{"2.0", "2.1"}}

func purgeAll(t *testing.T, s store.Store, p store.Purge) (purged, calls int) {
	t.Helper()
	for {
		res, err := s.Purge(t.Context(), p)
		if err != nil {
			t.Fatalf("purge: %v", err)
		}
		calls++
		purged += res.Purged
		if !res.More {
			return purged, calls
		}
		if calls > 1000 {
			t.Fatalf("purge does not end")
		}
	}
}

func purgeFromEveryRead(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	root := rootOf(t, s, coll)
	publishNumbered(t, s, coll, 1, 6)
	// A second version of object 1, added after the cut: the object stays, its old version goes.
	newer := tlpObject(1, "2026-03-01T00:00:00.000Z", 0)
	publishNumbered(t, s, coll, 7, 1)
	all := readAll(t, s, coll, store.Query{Limit: 100, VersionFilter: everyVersion}, true)
	cut := all[5].DateAdded // versions 1..5 expire; 6 and 7 stay
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", TokenID: "tok-1", Objects: []store.Object{newer}})
	stored := map[string][]byte{}
	for _, r := range readAll(t, s, coll, store.Query{Limit: 100, VersionFilter: everyVersion}, false) {
		stored[r.ID+"@"+store.FormatVersion(r.Version)] = r.Content
	}
	headBefore, err := s.LedgerHead(ctx)
	if err != nil {
		t.Fatal(err)
	}

	purged, calls := purgeAll(t, s, store.Purge{CollectionID: coll, Before: cut, Limit: 2, By: "ops-alice"})
	if purged != 5 || calls != 3 {
		t.Errorf("purged %d versions in %d calls, want 5 in 3 (limit 2)", purged, calls)
	}

	kept := readAll(t, s, coll, store.Query{Limit: 100, VersionFilter: everyVersion}, false)
	var keptIDs []string
	for _, r := range kept {
		keptIDs = append(keptIDs, r.ID)
	}
	if want := []string{indicatorID(6), indicatorID(7), indicatorID(1)}; !slices.Equal(keptIDs, want) {
		t.Errorf("objects after the purge: %v, want %v (the newest version of 1 kept)", keptIDs, want)
	}
	if m := readAll(t, s, coll, store.Query{Limit: 100, VersionFilter: everyVersion}, true); len(m) != 3 {
		t.Errorf("manifest after the purge holds %d versions, want 3", len(m))
	}
	for _, id := range []string{indicatorID(2), indicatorID(5)} {
		if p, err := s.Objects(ctx, coll, store.Query{Limit: 10, IDs: []string{id}, VersionFilter: everyVersion}); err != nil || len(p.Records) != 0 {
			t.Errorf("object %s after the purge: %d records, %v; want none", id, len(p.Records), err)
		}
	}
	if p, err := s.Objects(ctx, coll, store.Query{Limit: 10, IDs: []string{indicatorID(1)}, VersionFilter: everyVersion}); err != nil ||
		len(p.Records) != 1 || !p.Records[0].Version.Equal(newer.Version) {
		t.Errorf("versions of object 1 after the purge: %+v, %v; want the newer one alone", p.Records, err)
	}
	if sv, err := s.StoredVersions(ctx, coll, time.Time{}, 100, false); err != nil || len(sv) != 3 {
		t.Errorf("stored versions after the purge: %d, %v; want 3", len(sv), err)
	}

	// The ledger: three purge entries naming five versions with the digest of what they held.
	entries, err := s.Ledger(ctx, headBefore.Seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	var items []store.LedgerItem
	for _, e := range entries {
		if e.Kind != store.LedgerPurge || e.TokenID != "ops-alice" || e.APIRoot != root || e.Collection != coll || e.Member != "" {
			t.Errorf("entry %d: %s by %q in %s/%s; want a purge by ops-alice in %s/%s", e.Seq, e.Kind, e.TokenID, e.APIRoot, e.Collection, root, coll)
		}
		items = append(items, e.Items...)
	}
	if len(entries) != 3 || len(items) != 5 {
		t.Fatalf("%d entries with %d items after the purge, want 3 with 5", len(entries), len(items))
	}
	for _, it := range items {
		content, ok := stored[it.ID+"@"+store.FormatVersion(it.Version)]
		if !ok || it.Verdict != store.VerdictPurged || !bytes.Equal(it.SHA256, digestOf(content)) {
			t.Errorf("purge item %+v: want a version that was stored, verdict purged, with its digest", it)
		}
	}
	if v, err := store.VerifyLedger(ctx, s); err != nil || !v.OK {
		t.Errorf("ledger after the purge: %+v, %v", v, err)
	}
	deep, err := store.VerifyDeep(ctx, s, store.DeepOptions{})
	if err != nil || !deep.OK {
		t.Errorf("deep verification after the purge: %+v, %v", deep, err)
	}
	// Origins survive, so that onward sharing and ownership still hold for what expired here.
	origins, err := s.Origins(ctx, []string{store.OriginKeyID(indicatorID(2)), store.OriginKeyFingerprint("fp-2")})
	if err != nil || len(origins) != 2 {
		t.Errorf("origins of a purged object: %+v, %v; want its id and fingerprint", origins, err)
	}
	if res, err := s.Purge(ctx, store.Purge{CollectionID: coll, Before: cut, Limit: 10, By: "ops-alice"}); err != nil || res.Purged != 0 || res.More {
		t.Errorf("purging again: %+v, %v; want nothing", res, err)
	}
	if head, _ := s.LedgerHead(ctx); head.Seq != headBefore.Seq+3 {
		t.Errorf("ledger head %d after purging nothing, want %d: an empty purge appends no entry", head.Seq, headBefore.Seq+3)
	}
}

func pagingOverPurge(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	publishNumbered(t, s, coll, 1, 20)
	q := store.Query{Limit: 3, VersionFilter: everyVersion}
	all := readAll(t, s, coll, store.Query{Limit: 100, VersionFilter: everyVersion}, true)

	// One reader is inside what will be purged, another past it.
	inside, err := s.Manifest(ctx, coll, q)
	if err != nil {
		t.Fatal(err)
	}
	pastQ := q
	pastQ.AddedAfter = all[11].DateAdded
	past, err := s.Manifest(ctx, coll, pastQ)
	if err != nil {
		t.Fatal(err)
	}
	if purged, _ := purgeAll(t, s, store.Purge{CollectionID: coll, Before: all[10].DateAdded, Limit: 4, By: store.RetentionSweeper}); purged != 10 {
		t.Fatalf("purged %d, want 10", purged)
	}
	resume := func(name string, first store.Page, q store.Query, want []store.Record) {
		got := slices.Clone(first.Records)
		q.Cursor = first.Next
		got = append(got, readAll(t, s, coll, q, true)...)
		if len(got) != len(want) {
			t.Fatalf("%s: read %d versions, want %d", name, len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID || !got[i].DateAdded.Equal(want[i].DateAdded) {
				t.Errorf("%s: version %d is %s added %v, want %s added %v", name, i, got[i].ID, got[i].DateAdded, want[i].ID, want[i].DateAdded)
			}
		}
	}
	// The reader inside the purged prefix resumes at the first version kept, nothing twice.
	resume("reader inside the purge", inside, q, append(slices.Clone(all[:3]), all[10:]...))
	// The reader past it reads on exactly as if nothing had happened.
	resume("reader past the purge", past, pastQ, all[12:])
	if v, err := store.VerifyLedger(ctx, s); err != nil || !v.OK {
		t.Errorf("ledger after the purge: %+v, %v", v, err)
	}
}

func purgeRefusals(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	now := time.Now()
	_, err := s.Purge(ctx, store.Purge{CollectionID: newUUID(), Before: now, Limit: 10})
	wantErrIs(t, "purge of a missing collection", err, store.ErrNotFound)
	for _, p := range []store.Purge{
		{CollectionID: coll, Before: now, Limit: 0},
		{CollectionID: coll, Before: now, Limit: store.MaxLimit + 1},
		{CollectionID: coll, Limit: 10},
	} {
		var qe *store.QueryError
		if _, err := s.Purge(ctx, p); !errors.As(err, &qe) {
			t.Errorf("purge %+v: %v, want a *store.QueryError", p, err)
		}
	}
	if _, err := s.PurgeStatuses(ctx, now, 0); err == nil {
		t.Errorf("purging statuses with limit 0 was accepted")
	}
	if res, err := s.Purge(ctx, store.Purge{CollectionID: coll, Before: now, Limit: 10}); err != nil || res.Purged != 0 {
		t.Errorf("purge of an empty collection: %+v, %v", res, err)
	}
}

func purgeStatuses(t *testing.T, s store.Store) {
	ctx := t.Context()
	root := "root-" + randomHex(4)
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: root, Title: "Statuses"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	old := now.Add(-40 * 24 * time.Hour)
	statuses := map[string]store.Status{
		"old-1":       {RequestTimestamp: old, Successes: []store.StatusDetail{{ID: indicatorID(1), Version: "v", Message: "added"}}},
		"old-2":       {RequestTimestamp: old.Add(time.Second)},
		"old-3":       {RequestTimestamp: old.Add(2 * time.Second)},
		"old-pending": {RequestTimestamp: old, Pending: true, Pendings: []store.StatusDetail{{ID: indicatorID(2)}}},
		"recent":      {RequestTimestamp: now},
	}
	for id, st := range statuses {
		st.ID, st.APIRoot, st.Submitter = id, root, "cert-eu"
		if err := s.SaveStatus(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	cut := now.Add(-30 * 24 * time.Hour)
	n1, err := s.PurgeStatuses(ctx, cut, 2)
	if err != nil || n1 != 2 {
		t.Fatalf("first purge of statuses: %d, %v; want 2 (the limit)", n1, err)
	}
	n2, err := s.PurgeStatuses(ctx, cut, 10)
	if err != nil || n2 != 1 {
		t.Fatalf("second purge of statuses: %d, %v; want the last old one", n2, err)
	}
	for id := range statuses {
		_, err := s.Status(ctx, root, id)
		gone := id == "old-1" || id == "old-2" || id == "old-3"
		if gone && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("status %s after the purge: %v, want not found", id, err)
		}
		if !gone && err != nil {
			t.Errorf("status %s after the purge: %v, want it kept", id, err)
		}
	}
}
