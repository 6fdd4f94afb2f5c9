package storetest

import (
	"testing"

	"taxiihub/internal/store"
)

var peopleCases = []testCase{
	{"LedgerAttributesWritesAndPullsToThePerson", ledgerAttributesPerson},
	{"MembersKeepTheirIdentityProvider", membersKeepProvider},
}

// membersKeepProvider: a member's identity provider is kept as given, replaced by an update and
// removed by one without it; a member without one has none.
func membersKeepProvider(t *testing.T, s store.Store) {
	ctx := t.Context()
	idp := &store.IdentityProvider{Issuer: "https://idp.cert.example", ClientID: "taxiihub", ClientSecretEnv: "CERT_OIDC",
		RolesClaim: "roles"}
	if err := s.CreateMember(ctx, store.Member{ID: "cert-x", Name: "CERT X", Jurisdiction: "FR", IdentityProvider: idp}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMember(ctx, store.Member{ID: "cert-y", Name: "CERT Y", Jurisdiction: "FR"}); err != nil {
		t.Fatal(err)
	}
	check := func(when string, want *store.IdentityProvider) {
		t.Helper()
		m, err := s.Member(ctx, "cert-x")
		if err != nil {
			t.Fatal(err)
		}
		if (m.IdentityProvider == nil) != (want == nil) || want != nil && *m.IdentityProvider != *want {
			t.Errorf("%s: member's provider %+v, want %+v", when, m.IdentityProvider, want)
		}
		all, err := s.Members(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range all {
			switch {
			case m.ID == "cert-y" && m.IdentityProvider != nil:
				t.Errorf("%s: a member without a provider lists %+v", when, m.IdentityProvider)
			case m.ID == "cert-x" && ((m.IdentityProvider == nil) != (want == nil) || want != nil && *m.IdentityProvider != *want):
				t.Errorf("%s: listed provider %+v, want %+v", when, m.IdentityProvider, want)
			}
		}
	}
	check("created", idp)
	other := &store.IdentityProvider{Issuer: "https://login.cert.example", ClientID: "hub", ClientSecretFile: "/run/secrets/x",
		RolesClaim: "groups"}
	if err := s.UpdateMember(ctx, store.Member{ID: "cert-x", Name: "CERT X", Jurisdiction: "FR", IdentityProvider: other}); err != nil {
		t.Fatal(err)
	}
	check("updated", other)
	if err := s.UpdateMember(ctx, store.Member{ID: "cert-x", Name: "CERT X", Jurisdiction: "FR"}); err != nil {
		t.Fatal(err)
	}
	check("removed", nil)
}

// ledgerAttributesPerson: a publication, a pull, a withdrawal and a deletion made by a person for a
// member come back from the ledger naming that person, an entry no person made names none, and the
// chain still verifies, so the person is covered by the hash like every other field.
func ledgerAttributesPerson(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	alice := store.Person{Issuer: "https://idp.cert.example", Subject: "u-17", Name: "alice@cert.example"}
	v1 := tlpObject(1, "2026-01-01T00:00:00.000Z", store.TLPGreen)
	v2 := tlpObject(2, "2026-01-01T00:00:00.000Z", store.TLPGreen)
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Person: alice, Objects: []store.Object{v1, v2}})
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", TokenID: "machine",
		Objects: []store.Object{tlpObject(3, "2026-01-01T00:00:00.000Z", store.TLPGreen)}})
	root := ledgerAll(t, s)[0].APIRoot
	if err := s.RecordPull(ctx, store.LedgerEntry{Kind: store.LedgerPull, Member: "jpcert", Person: alice, APIRoot: root,
		Collection: coll, Endpoint: "objects", Items: []store.LedgerItem{{ID: v1.ID, Version: v1.Version}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Withdraw(ctx, store.Withdrawal{CollectionID: coll, ObjectID: v1.ID, Member: "cert-eu", Person: alice,
		Tombstone: tombstone}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, store.Deletion{CollectionID: coll, ObjectID: v2.ID, Member: "cert-eu", Person: alice,
		Filter: store.VersionFilter{Versions: store.VersionMatch{All: true}}}); err != nil {
		t.Fatal(err)
	}
	entries := ledgerAll(t, s)
	want := []struct {
		kind   store.LedgerKind
		person store.Person
	}{
		{store.LedgerPublish, alice}, {store.LedgerPublish, store.Person{}}, {store.LedgerPull, alice},
		{store.LedgerWithdraw, alice}, {store.LedgerDelete, alice},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d ledger entries, want %d: %+v", len(entries), len(want), entries)
	}
	for i, w := range want {
		if entries[i].Kind != w.kind || entries[i].Person != w.person {
			t.Errorf("entry %d: %s by %+v, want %s by %+v", i+1, entries[i].Kind, entries[i].Person, w.kind, w.person)
		}
	}
	RequireLedgerVerifies(t, s, int64(len(want)))
}
