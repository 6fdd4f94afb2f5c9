package sqlitestore

import (
	"reflect"
	"testing"
	"time"

	"taxiihub/internal/store"
)

// A file of schema version 3, as the build before the sharing rules wrote it, upgrades in place: its
// partnerships and collections have no rules, its objects no TLP level (every reader sees them),
// and the rules, memberships, withdrawals and the ledger work on it.
func TestMigrateFromV3(t *testing.T) {
	ctx := t.Context()
	db, path := fileAtSchema(t, 3)
	const collection = "9a3c5f0e-7b1d-4e2a-8c6f-1d2e3f4a5b6c"
	content := []byte(`{"type":"indicator","id":"indicator--1"}`)
	added := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC).UnixMicro()
	fillFile(t, db, 3, []sqlStatement{
		{`INSERT INTO api_roots VALUES ('root', 'Root', '')`, nil},
		{`INSERT INTO collections (id, api_root, title, alias, description, media_types, last_added)
			VALUES (?, 'root', 'C', 'c', '', '[]', ?)`, []any{collection, added}},
		{`INSERT INTO objects VALUES (?, 'indicator--1', 1, '2.1', 'indicator', ?, ?, ?)`,
			[]any{collection, added, []byte{0}, content}},
		{`INSERT INTO members VALUES ('cert-eu', 'CERT-EU', 'EU', '')`, nil},
		{`INSERT INTO grants VALUES ('cert-eu', ?, 1, 1)`, []any{collection}},
	})
	db.Close()

	s := openTest(t, path)
	root, err := s.APIRoot(ctx, "root")
	if err != nil || !reflect.DeepEqual(root.Policy, store.PartnershipPolicy{}) {
		t.Errorf("root after upgrade: %+v, %v; want no rules", root, err)
	}
	c, err := s.Collection(ctx, "root", "c")
	if err != nil || !c.Policy.Equal(store.CollectionPolicy{}) {
		t.Errorf("collection after upgrade: %+v, %v; want no rules", c, err)
	}
	p, err := s.Objects(ctx, collection, store.Query{Limit: 10, MaxTLP: store.TLPClear})
	if err != nil || len(p.Records) != 1 || p.Records[0].TLP != store.TLPNone || p.Records[0].Withdrawn {
		t.Errorf("old object at the lowest clearance: %+v, %v", p.Records, err)
	}
	root.Policy = store.PartnershipPolicy{Jurisdictions: []string{"EU"}, NoOnwardSharing: true}
	if err := s.UpdateAPIRoot(ctx, root); err != nil {
		t.Fatalf("set rules: %v", err)
	}
	if err := s.PutMembership(ctx, store.Membership{MemberID: "cert-eu", APIRoot: "root", Role: store.RoleReader}); err != nil {
		t.Fatalf("membership: %v", err)
	}
	out, err := s.Publish(ctx, store.Publication{CollectionID: collection, Member: "cert-eu",
		Objects: []store.Object{{ID: "indicator--2", Type: "indicator", SpecVersion: "2.1", Version: time.Now(), Content: content}}})
	if err != nil || out[0].Result != store.Added {
		t.Fatalf("publish: %+v, %v", out, err)
	}
	if v, err := store.VerifyLedger(ctx, s); err != nil || !v.OK || v.Entries != 1 {
		t.Errorf("ledger: %+v, %v", v, err)
	}
}

// A file of schema version 4, where a withdrawal barred its id in every partnership, upgrades to
// withdrawals that hold in their own partnership only.
func TestMigrateFromV4ScopesWithdrawals(t *testing.T) {
	ctx := t.Context()
	db, path := fileAtSchema(t, 4)
	const collection = "9a3c5f0e-7b1d-4e2a-8c6f-1d2e3f4a5b6c"
	added := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC).UnixMicro()
	fillFile(t, db, 4, []sqlStatement{
		{`INSERT INTO api_roots (slug, title, description) VALUES ('root', 'Root', '')`, nil},
		{`INSERT INTO api_roots (slug, title, description) VALUES ('other', 'Other', '')`, nil},
		{`INSERT INTO collections (id, api_root, title, alias, description, media_types, last_added)
			VALUES (?, 'root', 'C', 'c', '', '[]', ?)`, []any{collection, added}},
		{`INSERT INTO withdrawals VALUES ('indicator--1', ?, 'cert-eu', ?)`, []any{collection, added}},
		{`INSERT INTO withdrawals VALUES ('indicator--2', 'a-deleted-collection', 'cert-eu', ?)`, []any{added}},
	})
	db.Close()

	s := openTest(t, path)
	requireLatestSchema(t, s)
	other := "0b1c2d3e-4f50-4a6b-8c7d-8e9f0a1b2c3d"
	if err := s.CreateCollection(ctx, store.Collection{ID: other, APIRoot: "other", Title: "O"}); err != nil {
		t.Fatal(err)
	}
	obj := func(id string) store.Object {
		return store.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Version: time.Now(),
			Content: []byte(`{"type":"indicator","id":"` + id + `"}`)}
	}
	for _, tc := range []struct {
		collection, id string
		want           store.Result
	}{
		{collection, "indicator--1", store.Withdrawn},
		{other, "indicator--1", store.Added},
		{collection, "indicator--2", store.Added},
	} {
		out, err := s.Publish(ctx, store.Publication{CollectionID: tc.collection, Member: "cert-eu", Objects: []store.Object{obj(tc.id)}})
		if err != nil || out[0].Result != tc.want {
			t.Errorf("publish %s into %s: %+v, %v; want %v", tc.id, tc.collection, out, err, tc.want)
		}
	}
}
