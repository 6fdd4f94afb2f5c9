package admin_test

import (
	"slices"
	"testing"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/store"
)

// An operator passes a renamed organisation's objects to its new member record: the new member then
// versions them and the old one may not, and the audit trail records the transfer.
func TestTransferOwnership(t *testing.T) {
	e := newEnv(t)
	c := seedOne(t, e)
	ctx := t.Context()
	if _, err := e.svc.AddMember(ctx, "alice", admin.Member{ID: "cert-eu-2", Name: "CERT-EU (renamed)", Jurisdiction: "EU"}); err != nil {
		t.Fatal(err)
	}
	object := func(modified string) store.Object {
		v, _ := time.Parse(time.RFC3339, modified)
		return store.Object{ID: "indicator--00000000-0000-4000-8000-000000000001", Type: "indicator", SpecVersion: "2.1",
			Version: v, Content: []byte(`{"modified":"` + modified + `"}`)}
	}
	if _, err := e.store.Publish(ctx, store.Publication{CollectionID: c.ID, Member: "cert-eu",
		Objects: []store.Object{object("2026-01-01T00:00:00Z")}}); err != nil {
		t.Fatal(err)
	}

	for _, bad := range []admin.OwnershipTransfer{
		{Partnership: "eu-japan", From: "cert-eu", To: "cert-eu"},
		{Partnership: "eu-japan", From: "cert-eu", To: "nobody"},
		{Partnership: "no-such", From: "cert-eu", To: "cert-eu-2"},
	} {
		if _, err := e.svc.TransferOwnership(ctx, "alice", bad); err == nil {
			t.Errorf("transfer %+v succeeded", bad)
		}
	}
	res, err := e.svc.TransferOwnership(ctx, "alice", admin.OwnershipTransfer{Partnership: "eu-japan", From: "cert-eu", To: "cert-eu-2"})
	if err != nil || res.Moved != 1 {
		t.Fatalf("transfer: %+v, %v", res, err)
	}
	for member, want := range map[string]store.Result{"cert-eu": store.NotOwner, "cert-eu-2": store.Added} {
		out, err := e.store.Publish(ctx, store.Publication{CollectionID: c.ID, Member: member,
			Objects: []store.Object{object("2026-02-01T00:00:00Z")}, DryRun: true})
		if err != nil || out[0].Result != want {
			t.Errorf("%s versioning after the transfer: %+v, %v; want %v", member, out, err, want)
		}
	}
	if got := auditActions(t, e.store); !slices.Contains(got, "alice ownership.transfer ownership eu-japan") {
		t.Errorf("audit trail %v lacks the transfer", got)
	}
}

// Only an operator removes a withdrawal's tombstone; the ledger and the audit trail record it.
func TestOperatorDeletesATombstone(t *testing.T) {
	e := newEnv(t)
	c := seedOne(t, e)
	ctx := t.Context()
	id := "indicator--00000000-0000-4000-8000-000000000002"
	obj := store.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Version: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Content: []byte(`{"modified":"2026-01-01T00:00:00.000Z"}`)}
	if _, err := e.store.Publish(ctx, store.Publication{CollectionID: c.ID, Member: "cert-eu", Objects: []store.Object{obj}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Withdraw(ctx, store.Withdrawal{CollectionID: c.ID, ObjectID: id, Member: "cert-eu",
		Tombstone: func(newest []byte, at time.Time) ([]byte, time.Time, error) {
			return []byte(`{"gone":true}`), time.Time{}, nil
		}}); err != nil {
		t.Fatal(err)
	}
	ch, err := e.svc.DeleteObject(ctx, "alice", "eu-japan", "cyber-threats", id)
	if err != nil || ch.Detail != "1 versions" {
		t.Fatalf("delete the tombstone: %+v, %v", ch, err)
	}
	if _, err := e.svc.DeleteObject(ctx, "alice", "eu-japan", "cyber-threats", id); err == nil {
		t.Error("deleting it again succeeded")
	}
	if got := auditActions(t, e.store); !slices.Contains(got, "alice object.delete object eu-japan/cyber-threats/"+id) {
		t.Errorf("audit trail %v lacks the deletion", got)
	}
	entries, err := e.store.Ledger(ctx, 0, store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	if last := entries[len(entries)-1]; last.Kind != store.LedgerDelete || last.TokenID != "alice" || len(last.Items) != 1 {
		t.Errorf("the last ledger entry is %+v; want alice's deletion", last)
	}
}

// The identities the hub writes into members collections are its own, not content a member
// published: deep verification does not count them as unrecorded.
func TestDeepVerificationLeavesMembersCollectionsAside(t *testing.T) {
	e := newEnv(t)
	seedOne(t, e)
	ctx := t.Context()
	if _, err := e.svc.PutGrant(ctx, "alice", admin.Grant{Member: "cert-eu", Partnership: "eu-japan", Collection: "cyber-threats", Read: true}); err != nil {
		t.Fatal(err)
	}
	detail, err := e.svc.Partnership(ctx, "eu-japan")
	if err != nil || detail.MembersCollection == nil {
		t.Fatalf("partnership: %+v, %v", detail, err)
	}
	page, err := e.store.Objects(ctx, detail.MembersCollection.ID, store.Query{Limit: 10})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("the members collection holds %d objects, %v; want cert-eu's identity", len(page.Records), err)
	}
	v, err := store.VerifyDeep(ctx, e.store, store.DeepOptions{})
	if err != nil || !v.OK || v.UnrecordedCount != 0 {
		t.Errorf("deep verification: %+v, %v", v, err)
	}
}
