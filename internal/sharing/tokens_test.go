package sharing

import (
	"testing"
	"time"

	"taxiihub/internal/store"
)

// TestMemberTokensAreTheMembersOwnForItsAdmins checks the member admin's view of its tokens: only
// its member's partner tokens (not another member's, not an operator's), newest first, each with
// its status now and the one expiring within TokenExpiringSoon marked; a caller that is not a member
// admin is refused.
func TestMemberTokensAreTheMembersOwnForItsAdmins(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "cert-fr", read: true}, member{id: "cert-de", read: true})
	now := time.Now()
	for _, tok := range []store.Token{
		{ID: "fr-old", Kind: store.PartnerToken, Subject: "cert-fr", IssuedAt: now.Add(-100 * 24 * time.Hour), ExpiresAt: now.Add(-time.Hour)},
		{ID: "fr-soon", Kind: store.PartnerToken, Subject: "cert-fr", IssuedAt: now.Add(-80 * 24 * time.Hour), ExpiresAt: now.Add(3 * 24 * time.Hour), Reviewer: true},
		{ID: "fr-revoked", Kind: store.PartnerToken, Subject: "cert-fr", IssuedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(90 * 24 * time.Hour), RevokedAt: now.Add(-time.Hour)},
		{ID: "fr-new", Kind: store.PartnerToken, Subject: "cert-fr", IssuedAt: now.Add(-time.Hour), ExpiresAt: now.Add(90 * 24 * time.Hour)},
		{ID: "de-token", Kind: store.PartnerToken, Subject: "cert-de", IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
		{ID: "op-token", Kind: store.OperatorToken, Subject: "cert-fr", IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
	} {
		if err := f.store.SaveToken(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	}
	caller := f.caller(t, "cert-fr")
	if _, err := f.svc.MemberTokens(t.Context(), caller); kindOf(err) != Forbidden {
		t.Fatalf("a caller that is not a member admin: %v, want Forbidden", err)
	}
	caller.MemberAdmin = true
	got, err := f.svc.MemberTokens(t.Context(), caller)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id, status string
		soon       bool
	}{{"fr-new", "active", false}, {"fr-revoked", "revoked", false}, {"fr-soon", "active", true}, {"fr-old", "expired", false}}
	if len(got) != len(want) {
		t.Fatalf("got %d tokens %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].ID != w.id || got[i].Status != w.status || got[i].ExpiringSoon != w.soon {
			t.Errorf("token %d: %s %s soon=%v, want %s %s soon=%v", i, got[i].ID, got[i].Status, got[i].ExpiringSoon, w.id, w.status, w.soon)
		}
	}
	if !got[2].Reviewer {
		t.Errorf("fr-soon is a reviewer token")
	}
}
