package admin_test

import (
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/store"
)

// TestVerifyDeep: a hub whose writes all went through the store verifies, also against the heads
// copied out of it; a version removed without a ledger entry is named; checkpoints that do not
// parse are the caller's mistake.
func TestVerifyDeep(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.svc.CreatePartnership(ctx, "alice", admin.Partnership{Slug: "eu-japan", Title: "EU–Japan"}); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.CreateCollection(ctx, "alice", admin.Collection{Partnership: "eu-japan", Alias: "cyber-threats", Title: "Cyber threats"})
	if err != nil {
		t.Fatal(err)
	}
	version := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	obj := store.Object{ID: "indicator--1", Type: "indicator", SpecVersion: "2.1", Version: version, Content: []byte(`{"id":"indicator--1"}`)}
	if _, err := e.store.Publish(ctx, store.Publication{CollectionID: c.ID, Member: "cert-eu", Objects: []store.Object{obj}}); err != nil {
		t.Fatal(err)
	}

	heads, err := e.svc.Heads(ctx)
	if err != nil {
		t.Fatalf("heads: %v", err)
	}
	if heads.Ledger.Seq != 1 || heads.Audit.Seq != 2 || !strings.HasPrefix(heads.Audit.Checkpoint, "2:") || len(heads.Audit.Hash) != 64 {
		t.Errorf("heads: %+v; want the ledger at 1 and the audit trail at 2, with checkpoints", heads)
	}
	v, err := e.svc.VerifyDeep(ctx, admin.DeepQuery{Ledger: heads.Ledger.Checkpoint, Audit: heads.Audit.Checkpoint})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !v.OK || v.Versions != 1 || v.Origins != 1 || v.Ledger.Entries != 1 || v.Audit.Entries != 2 || v.Problems == nil ||
		v.DeletedCollections == nil {
		t.Errorf("a hub written through the store: %+v", v)
	}

	if _, err := e.store.DeleteVersions(ctx, c.ID, obj.ID, store.VersionFilter{}); err != nil {
		t.Fatal(err)
	}
	v, err = e.svc.VerifyDeep(ctx, admin.DeepQuery{})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	want := admin.Finding{Kind: "missing", Partnership: "eu-japan", Collection: c.ID, ObjectID: obj.ID, LedgerSeq: 1}
	if v.OK || v.ProblemCount != 1 || len(v.Problems) != 1 {
		t.Fatalf("after a version was removed without a ledger entry: %+v", v)
	}
	got := v.Problems[0]
	if got.Version == nil || !got.Version.Equal(version) || got.Detail == "" {
		t.Errorf("finding %+v; want version %v and a detail", got, version)
	}
	got.Version, got.Detail = nil, ""
	if got != want {
		t.Errorf("finding %+v, want %+v", got, want)
	}

	_, err = e.svc.VerifyDeep(ctx, admin.DeepQuery{Audit: "2:nothex"})
	wantKind(t, "a checkpoint that does not parse", err, admin.Invalid, "audit checkpoint")
}
