package storetest

import (
	"slices"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var accessCases = []testCase{
	{"MembersCreateFindListDelete", membersLifecycle},
	{"GrantsPutReplaceListDelete", grantsLifecycle},
	{"DeletingAMemberRemovesGrantsAndRevokesTokens", deleteMemberCascades},
	{"DeletingACollectionRemovesItsGrants", deleteCollectionRemovesGrants},
	{"TokensSaveListRevoke", tokensLifecycle},
}

var (
	certEU = store.Member{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU", Contact: "services@cert.europa.eu"}
	certJP = store.Member{ID: "jpcert", Name: "JPCERT/CC", Jurisdiction: "JP", Contact: "office@jpcert.or.jp"}
)

func membersLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, m := range []store.Member{certJP, certEU} {
		if err := s.CreateMember(ctx, m); err != nil {
			t.Fatalf("create %s: %v", m.ID, err)
		}
	}
	wantErrIs(t, "create a taken id", s.CreateMember(ctx, store.Member{ID: "cert-eu", Name: "again"}), store.ErrConflict)
	got, err := s.Member(ctx, "jpcert")
	if err != nil || got != certJP {
		t.Errorf("get: %+v, %v; want %+v", got, err, certJP)
	}
	_, err = s.Member(ctx, "nobody")
	wantErrIs(t, "get a missing member", err, store.ErrNotFound)
	list, err := s.Members(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if want := []store.Member{certEU, certJP}; !slices.Equal(list, want) {
		t.Errorf("list: got %+v, want %+v (ordered by id)", list, want)
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if err := s.DeleteMember(ctx, "jpcert", at); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = s.Member(ctx, "jpcert")
	wantErrIs(t, "get a deleted member", err, store.ErrNotFound)
	wantErrIs(t, "delete a missing member", s.DeleteMember(ctx, "jpcert", at), store.ErrNotFound)
}

// grantFixture makes two roots, a collection in each, and two members.
func grantFixture(t *testing.T, s store.Store) (rootA, collA, rootB, collB string) {
	t.Helper()
	collA = newCollection(t, s)
	rootA = rootOf(t, s, collA)
	collB = newCollection(t, s)
	rootB = rootOf(t, s, collB)
	for _, m := range []store.Member{certEU, certJP} {
		if err := s.CreateMember(t.Context(), m); err != nil {
			t.Fatalf("create member: %v", err)
		}
	}
	return rootA, collA, rootB, collB
}

func grantsLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	rootA, collA, rootB, collB := grantFixture(t, s)
	readA := store.Grant{MemberID: "cert-eu", APIRoot: rootA, CollectionID: collA, Read: true}
	writeB := store.Grant{MemberID: "cert-eu", APIRoot: rootB, CollectionID: collB, Write: true}
	jpA := store.Grant{MemberID: "jpcert", APIRoot: rootA, CollectionID: collA, Read: true, Write: true}
	for _, g := range []store.Grant{readA, writeB, jpA} {
		if err := s.PutGrant(ctx, g); err != nil {
			t.Fatalf("put %+v: %v", g, err)
		}
	}
	wantErrIs(t, "grant to a missing member",
		s.PutGrant(ctx, store.Grant{MemberID: "nobody", APIRoot: rootA, CollectionID: collA, Read: true}), store.ErrNotFound)
	wantErrIs(t, "grant on a missing collection",
		s.PutGrant(ctx, store.Grant{MemberID: "cert-eu", APIRoot: rootA, CollectionID: newUUID(), Read: true}), store.ErrNotFound)
	wantErrIs(t, "grant on a collection through another root",
		s.PutGrant(ctx, store.Grant{MemberID: "cert-eu", APIRoot: rootB, CollectionID: collA, Read: true}), store.ErrNotFound)

	want := []store.Grant{readA, writeB}
	slices.SortFunc(want, func(a, b store.Grant) int {
		if a.APIRoot != b.APIRoot {
			return compareStrings(a.APIRoot, b.APIRoot)
		}
		return compareStrings(a.CollectionID, b.CollectionID)
	})
	if got, err := s.Grants(ctx, "cert-eu"); err != nil || !slices.Equal(got, want) {
		t.Errorf("grants of cert-eu: %+v, %v; want %+v", got, err, want)
	}
	if got, err := s.CollectionGrants(ctx, collA); err != nil || !slices.Equal(got, []store.Grant{readA, jpA}) {
		t.Errorf("grants on collection a: %+v, %v; want %+v", got, err, []store.Grant{readA, jpA})
	}

	readWriteA := readA
	readWriteA.Write = true
	if err := s.PutGrant(ctx, readWriteA); err != nil {
		t.Fatalf("replace: %v", err)
	}
	got, err := s.Grants(ctx, "cert-eu")
	if err != nil || !slices.Contains(got, readWriteA) || slices.Contains(got, readA) || len(got) != 2 {
		t.Errorf("after replacing: %+v, %v", got, err)
	}

	if err := s.DeleteGrant(ctx, "cert-eu", collB); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if got, err := s.Grants(ctx, "cert-eu"); err != nil || !slices.Equal(got, []store.Grant{readWriteA}) {
		t.Errorf("after deleting: %+v, %v", got, err)
	}
	wantErrIs(t, "delete a missing grant", s.DeleteGrant(ctx, "cert-eu", collB), store.ErrNotFound)
	if got, err := s.Grants(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("grants of an unknown member: %+v, %v; want none", got, err)
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func deleteMemberCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	rootA, collA, _, _ := grantFixture(t, s)
	if err := s.PutGrant(ctx, store.Grant{MemberID: "jpcert", APIRoot: rootA, CollectionID: collA, Read: true}); err != nil {
		t.Fatal(err)
	}
	issued := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tok := store.Token{ID: "jti-jp", Kind: store.PartnerToken, Subject: "jpcert", IssuedAt: issued, ExpiresAt: issued.AddDate(0, 3, 0)}
	other := store.Token{ID: "jti-eu", Kind: store.PartnerToken, Subject: "cert-eu", IssuedAt: issued, ExpiresAt: issued.AddDate(0, 3, 0),
		Reviewer: true}
	for _, tk := range []store.Token{tok, other} {
		if err := s.SaveToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if err := s.DeleteMember(ctx, "jpcert", at); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if got, err := s.CollectionGrants(ctx, collA); err != nil || len(got) != 0 {
		t.Errorf("grants left on the collection: %+v, %v", got, err)
	}
	got, err := s.Token(ctx, "jti-jp")
	if err != nil || !got.RevokedAt.Equal(at) {
		t.Errorf("the deleted member's token: %+v, %v; want revoked at %v", got, err, at)
	}
	if got, err := s.Token(ctx, "jti-eu"); err != nil || got.Revoked() || !got.Reviewer {
		t.Errorf("another member's token was touched: %+v, %v", got, err)
	}
}

func deleteCollectionRemovesGrants(t *testing.T, s store.Store) {
	ctx := t.Context()
	rootA, collA, rootB, collB := grantFixture(t, s)
	for _, g := range []store.Grant{
		{MemberID: "cert-eu", APIRoot: rootA, CollectionID: collA, Read: true},
		{MemberID: "cert-eu", APIRoot: rootB, CollectionID: collB, Read: true},
	} {
		if err := s.PutGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteCollection(ctx, rootA, collA); err != nil {
		t.Fatal(err)
	}
	got, err := s.Grants(ctx, "cert-eu")
	if err != nil || len(got) != 1 || got[0].CollectionID != collB {
		t.Errorf("grants after deleting a collection: %+v, %v; want only the one on the other collection", got, err)
	}
}

func tokensLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := time.Date(2026, 11, 1, 8, 30, 0, 123456000, time.UTC)
	later := store.Token{ID: "b-jti", Kind: store.OperatorToken, Subject: "ops", IssuedAt: base.Add(time.Hour),
		ExpiresAt: base.AddDate(0, 0, 90), Note: "bootstrap"}
	earlier := store.Token{ID: "a-jti", Kind: store.PartnerToken, Subject: "cert-eu", IssuedAt: base,
		ExpiresAt: base.AddDate(0, 0, 90)}
	for _, tk := range []store.Token{later, earlier} {
		if err := s.SaveToken(ctx, tk); err != nil {
			t.Fatalf("save %s: %v", tk.ID, err)
		}
	}
	wantErrIs(t, "save a taken id", s.SaveToken(ctx, earlier), store.ErrConflict)
	got, err := s.Token(ctx, "b-jti")
	if err != nil || !sameToken(got, later) {
		t.Errorf("get: %+v, %v; want %+v", got, err, later)
	}
	_, err = s.Token(ctx, "nope")
	wantErrIs(t, "get a missing token", err, store.ErrNotFound)
	list, err := s.Tokens(ctx)
	if err != nil || !slices.EqualFunc(list, []store.Token{earlier, later}, sameToken) {
		t.Errorf("list: %+v, %v; want earlier then later", list, err)
	}

	first := base.AddDate(0, 0, 1)
	if err := s.RevokeToken(ctx, "a-jti", first); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if err := s.RevokeToken(ctx, "a-jti", first.Add(time.Hour)); err != nil {
		t.Fatalf("revoke again: %v", err)
	}
	got, err = s.Token(ctx, "a-jti")
	if err != nil || !got.RevokedAt.Equal(first) {
		t.Errorf("revoked token: %+v, %v; want revoked at the first revocation %v", got, err, first)
	}
	wantErrIs(t, "revoke a missing token", s.RevokeToken(ctx, "nope", first), store.ErrNotFound)
}

func sameToken(a, b store.Token) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.Subject == b.Subject && a.Note == b.Note &&
		a.IssuedAt.Equal(b.IssuedAt) && a.ExpiresAt.Equal(b.ExpiresAt) && a.RevokedAt.Equal(b.RevokedAt)
}
