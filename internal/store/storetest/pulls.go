package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var pullCases = []testCase{
	{"PullsAreCompactWithTheirIdsKeptApart", compactPulls},
}

func compactPulls(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	root := rootOf(t, s, coll)
	objs := []store.Object{tlpObject(1, "2026-01-01T00:00:00.000Z", 0), tlpObject(2, "2026-01-01T00:00:00.000Z", 0),
		tlpObject(3, "2026-01-01T00:00:00.000Z", 0)}
	out := mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: objs})
	items := make([]store.LedgerItem, len(objs))
	for i, o := range objs {
		items[i] = store.LedgerItem{ID: o.ID, Version: o.Version}
	}
	first, last := out[0].DateAdded, out[2].DateAdded
	if err := s.RecordPull(ctx, store.LedgerEntry{Member: "jpcert", TokenID: "tok-jp", APIRoot: root, Collection: coll,
		Endpoint: "objects", Items: items, Pulled: &store.PullSummary{FirstAdded: first, LastAdded: last}}); err != nil {
		t.Fatal(err)
	}
	// An empty page and a probe stay as they were: nothing to compact.
	if err := s.RecordPull(ctx, store.LedgerEntry{Member: "jpcert", APIRoot: root, Collection: coll, Endpoint: "objects"}); err != nil {
		t.Fatal(err)
	}
	all := ledgerAll(t, s)
	pull := all[len(all)-2]
	if pull.Kind != store.LedgerPull || len(pull.Items) != 0 || pull.Pulled == nil || pull.Pulled.Count != 3 ||
		!bytes.Equal(pull.Pulled.SHA256, store.PullDigest(items)) || !pull.Pulled.FirstAdded.Equal(first) || !pull.Pulled.LastAdded.Equal(last) {
		t.Fatalf("the pull entry as stored: %+v, summary %+v; want no items, 3 versions with their digest and range", pull, pull.Pulled)
	}
	if e := all[len(all)-1]; e.Pulled != nil || len(e.Items) != 0 {
		t.Errorf("an empty pull: %+v; want it as it was", e)
	}
	if v, err := store.VerifyLedger(ctx, s); err != nil || !v.OK {
		t.Fatalf("ledger with a compact pull: %+v, %v", v, err)
	}
	// Within the transparency window, "who pulled my object" lists the ids.
	page, err := store.Pulls(ctx, s, store.PullQuery{Publisher: "cert-eu", Limit: 10})
	if err != nil || len(page.Entries) != 1 || len(page.Entries[0].Items) != 3 || page.Entries[0].Items[1].ID != objs[1].ID {
		t.Fatalf("pulls of cert-eu's objects: %+v, %v; want the pull with its 3 ids", page.Entries, err)
	}
	if got, err := s.LastPulls(ctx, "jpcert", []string{root}); err != nil || !got[root].Equal(pull.At) {
		t.Errorf("last pulls of jpcert: %v, %v; want %v, the compact pull's time", got, err, pull.At)
	}

	// Past the window the ids go; the entry, its digest and what onward sharing relies on stay.
	if n, err := s.PurgePullDetails(ctx, pull.At, 10); err != nil || n != 0 {
		t.Errorf("purging details before the pull: %d, %v; want none", n, err)
	}
	if n, err := s.PurgePullDetails(ctx, pull.At.Add(time.Microsecond), 10); err != nil || n != 1 {
		t.Errorf("purging the details of the pull: %d, %v; want 1", n, err)
	}
	page, err = store.Pulls(ctx, s, store.PullQuery{Limit: 10})
	if err != nil || len(page.Entries) != 2 || len(page.Entries[0].Items) != 0 || page.Entries[0].Pulled.Count != 3 {
		t.Errorf("pulls after the window: %+v, %v; want the summary without ids", page.Entries, err)
	}
	if page, err := store.Pulls(ctx, s, store.PullQuery{Publisher: "cert-eu", Limit: 10}); err != nil || len(page.Entries) != 0 {
		t.Errorf("pulls of cert-eu's objects after the window: %+v, %v; want none that can be matched", page.Entries, err)
	}
	if got, err := s.LastPulls(ctx, "jpcert", []string{root}); err != nil || !got[root].Equal(pull.At) {
		t.Errorf("last pulls of jpcert after the window: %v, %v; want %v", got, err, pull.At)
	}
	if v, err := store.VerifyLedger(ctx, s); err != nil || !v.OK {
		t.Errorf("ledger after the window: %+v, %v", v, err)
	}
	var qe *store.QueryError
	if _, err := s.PullDetails(ctx, make([]int64, store.MaxLimit+1)); !errors.As(err, &qe) {
		t.Errorf("pull details of too many entries: %v, want a *store.QueryError", err)
	}
	if _, err := s.PurgePullDetails(ctx, time.Now(), 0); !errors.As(err, &qe) {
		t.Errorf("purge pull details with limit 0: %v, want a *store.QueryError", err)
	}
}
