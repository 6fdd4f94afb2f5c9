package admin_test

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// seedOne gives the env a partnership eu-japan with collection cyber-threats and member cert-eu.
func seedOne(t *testing.T, e env) admin.Collection {
	t.Helper()
	ctx := t.Context()
	if _, err := e.svc.CreatePartnership(ctx, "alice", admin.Partnership{Slug: "eu-japan", Title: "EU–Japan"}); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.CreateCollection(ctx, "alice", admin.Collection{Partnership: "eu-japan", Alias: "cyber-threats", Title: "Cyber threats"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddMember(ctx, "alice", admin.Member{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU"}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	seedOne(t, e)
	ctx := t.Context()
	refuse := func(_ any, err error) error { return err }
	cases := []struct {
		name      string
		err       error
		kind      admin.Kind
		fragments []string
	}{
		{"reserved slug", refuse(e.svc.CreatePartnership(ctx, "alice", admin.Partnership{Slug: "taxii2", Title: "x"})),
			admin.Invalid, []string{"reserved"}},
		{"slug with capitals and no title", refuse(e.svc.CreatePartnership(ctx, "alice", admin.Partnership{Slug: "EU"})),
			admin.Invalid, []string{`slug "EU"`, "title is required"}},
		{"slug too long", refuse(e.svc.CreatePartnership(ctx, "alice", admin.Partnership{Slug: strings.Repeat("a", 64), Title: "x"})),
			admin.Invalid, []string{"1 to 63"}},
		{"partnership taken", refuse(e.svc.CreatePartnership(ctx, "alice", admin.Partnership{Slug: "eu-japan", Title: "x"})),
			admin.Conflict, []string{"already exists"}},
		{"delete a partnership with collections", refuse(e.svc.DeletePartnership(ctx, "alice", "eu-japan")),
			admin.Conflict, []string{"still has collections"}},
		{"delete a missing partnership", refuse(e.svc.DeletePartnership(ctx, "alice", "nowhere")),
			admin.NotFound, []string{"no partnership nowhere"}},
		{"collection in a missing partnership", refuse(e.svc.CreateCollection(ctx, "alice", admin.Collection{Partnership: "nowhere", Title: "x"})),
			admin.NotFound, []string{"no partnership nowhere"}},
		{"collection alias taken", refuse(e.svc.CreateCollection(ctx, "alice", admin.Collection{Partnership: "eu-japan", Alias: "cyber-threats", Title: "x"})),
			admin.Conflict, []string{"alias cyber-threats"}},
		{"collection with its own id", refuse(e.svc.CreateCollection(ctx, "alice", admin.Collection{ID: "mine", Partnership: "eu-japan", Title: "x"})),
			admin.Invalid, []string{"assigns collection ids"}},
		{"member jurisdiction", refuse(e.svc.AddMember(ctx, "alice", admin.Member{ID: "ncsc-uk", Name: "NCSC", Jurisdiction: "UK"})),
			admin.Invalid, []string{"GB"}},
		{"member taken", refuse(e.svc.AddMember(ctx, "alice", admin.Member{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU"})),
			admin.Conflict, []string{"already exists"}},
		{"remove a missing member", refuse(e.svc.RemoveMember(ctx, "alice", "nobody")),
			admin.NotFound, []string{"no member nobody"}},
		{"grant of nothing", refuse(e.svc.PutGrant(ctx, "alice", admin.Grant{Member: "cert-eu", Partnership: "eu-japan", Collection: "cyber-threats"})),
			admin.Invalid, []string{"read, write or both"}},
		{"grant to nobody", refuse(e.svc.PutGrant(ctx, "alice", admin.Grant{Member: "nobody", Partnership: "eu-japan", Collection: "cyber-threats", Read: true})),
			admin.NotFound, []string{"no member nobody"}},
		{"grant on a missing collection", refuse(e.svc.PutGrant(ctx, "alice", admin.Grant{Member: "cert-eu", Partnership: "eu-japan", Collection: "nope", Read: true})),
			admin.NotFound, []string{"no collection nope"}},
		{"remove a grant not held", refuse(e.svc.RemoveGrant(ctx, "alice", "cert-eu", "eu-japan", "cyber-threats")),
			admin.NotFound, []string{"holds no grant"}},
		{"token lifetime too long", refuse(e.svc.IssueToken(ctx, "alice", admin.TokenRequest{Subject: "cert-eu", TTL: "366d"})),
			admin.Invalid, []string{"outside 1m0s..365d"}},
		{"token lifetime too short", refuse(e.svc.IssueToken(ctx, "alice", admin.TokenRequest{Subject: "cert-eu", TTL: "30s"})),
			admin.Invalid, []string{"outside"}},
		{"token lifetime unreadable", refuse(e.svc.IssueToken(ctx, "alice", admin.TokenRequest{Subject: "cert-eu", TTL: "a while"})),
			admin.Invalid, []string{"90d"}},
		{"token kind", refuse(e.svc.IssueToken(ctx, "alice", admin.TokenRequest{Kind: "root", Subject: "cert-eu"})),
			admin.Invalid, []string{"neither partner nor operator"}},
		{"token for a missing member", refuse(e.svc.IssueToken(ctx, "alice", admin.TokenRequest{Subject: "nobody"})),
			admin.NotFound, []string{"no member nobody"}},
		{"operator name", refuse(e.svc.IssueToken(ctx, "alice", admin.TokenRequest{Kind: "operator", Subject: "Bob Smith"})),
			admin.Invalid, []string{"operator name"}},
		{"revoke a missing token", refuse(e.svc.RevokeToken(ctx, "alice", "nope")),
			admin.NotFound, []string{"no token nope"}},
		{"retire the key this node signs with", refuse(e.svc.RetireKey(ctx, "alice", e.keys.SigningKeyID())),
			admin.Conflict, []string{"rotate it first"}},
		{"retire a missing key", refuse(e.svc.RetireKey(ctx, "alice", "nope")),
			admin.NotFound, []string{"no key nope"}},
		{"audit page too large", refuse(e.svc.Audit(ctx, 0, admin.MaxAuditPage+1)),
			admin.Invalid, []string{"limit"}},
	}
	for _, tc := range cases {
		wantKind(t, tc.name, tc.err, tc.kind, tc.fragments...)
	}
	// Only the three creations of seedOne were recorded: a refusal changes nothing.
	if got := auditActions(t, e.store); len(got) != 3 {
		t.Errorf("audit trail after refusals:\n  %s", strings.Join(got, "\n  "))
	}
}

func TestRotationRefusedForAnOperatorManagedKey(t *testing.T) {
	e := newEnv(t)
	svc := admin.New(admin.Config{Store: e.store, Signer: e.tokens, Keys: unmanagedKeys{e.keys}})
	_, err := svc.RotateKey(t.Context(), "alice")
	wantKind(t, "rotate", err, admin.Conflict, "--signing-key-file")
	if !errors.Is(err, admin.ErrKeyNotManaged) {
		t.Errorf("the cause is lost: %v", err)
	}
}

func TestGrantsTakeEffectAndAreRecorded(t *testing.T) {
	e := newEnv(t)
	c := seedOne(t, e)
	ctx := t.Context()
	g := admin.Grant{Member: "cert-eu", Partnership: "eu-japan", Collection: "cyber-threats", Read: true}
	res, err := e.svc.PutGrant(ctx, "alice", g)
	if err != nil || !res.Changed || res.Grant.Collection != c.ID || res.Grant.CollectionAlias != "cyber-threats" {
		t.Fatalf("put grant: %+v, %v", res, err)
	}
	if res, err := e.svc.PutGrant(ctx, "alice", g); err != nil || res.Changed {
		t.Errorf("granting the same again: %+v, %v; want unchanged", res, err)
	}
	g.Write = true
	if res, err := e.svc.PutGrant(ctx, "bob", g); err != nil || !res.Changed {
		t.Errorf("widening: %+v, %v", res, err)
	}
	d, err := e.svc.Partnership(ctx, "eu-japan")
	if err != nil || len(d.Collections) != 1 || len(d.Grants) != 1 || !d.Grants[0].Write {
		t.Errorf("show: %+v, %v", d, err)
	}
	if _, err := e.svc.RemoveGrant(ctx, "alice", "cert-eu", "eu-japan", c.ID); err != nil {
		t.Errorf("remove by id: %v", err)
	}
	if grants, _ := e.store.Grants(ctx, "cert-eu"); len(grants) != 0 {
		t.Errorf("grants after removal: %+v", grants)
	}
	want := []string{
		"alice partnership.create partnership eu-japan",
		"alice collection.create collection eu-japan/cyber-threats",
		"alice member.create member cert-eu",
		"alice grant.create grant cert-eu on eu-japan/cyber-threats",
		"bob grant.update grant cert-eu on eu-japan/cyber-threats",
		"alice grant.delete grant cert-eu on eu-japan/cyber-threats",
	}
	if got := auditActions(t, e.store); !sameLines(got, want) {
		t.Errorf("audit trail:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestTokensIssueListRevoke(t *testing.T) {
	e := newEnv(t)
	seedOne(t, e)
	ctx := t.Context()
	issued, err := e.svc.IssueToken(ctx, "alice", admin.TokenRequest{Subject: "cert-eu", TTL: "30d", Note: "for the SOC"})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := e.tokens.VerifyContext(ctx, issued.JWT, auth.PartnerAudience)
	if err != nil {
		t.Fatalf("the issued token does not verify: %v", err)
	}
	if claims.ID != issued.Token.ID || claims.Subject != "cert-eu" || !claims.ExpiresAt.Equal(issued.Token.ExpiresAt) {
		t.Errorf("claims %+v do not match the record %+v", claims, issued.Token)
	}
	if ttl := issued.Token.ExpiresAt.Sub(issued.Token.IssuedAt); ttl != 30*24*time.Hour {
		t.Errorf("lifetime %v, want 30 days", ttl)
	}
	op, err := e.svc.IssueToken(ctx, "alice", admin.TokenRequest{Kind: "operator", Subject: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if ttl := op.Token.ExpiresAt.Sub(op.Token.IssuedAt); ttl != admin.DefaultTokenTTL {
		t.Errorf("default lifetime %v, want %v", ttl, admin.DefaultTokenTTL)
	}
	if _, err := e.tokens.VerifyContext(ctx, op.JWT, auth.OperatorAudience); err != nil {
		t.Errorf("operator token: %v", err)
	}
	if active, err := e.svc.HasActiveOperatorToken(ctx); err != nil || !active {
		t.Errorf("active operator token: %v, %v", active, err)
	}

	partners, err := e.svc.Tokens(ctx, admin.TokenFilter{Subject: "cert-eu"})
	if err != nil || len(partners) != 1 || partners[0].Status != admin.TokenActive || partners[0].Note != "for the SOC" {
		t.Errorf("list: %+v, %v", partners, err)
	}
	revoked, err := e.svc.RevokeToken(ctx, "alice", issued.Token.ID)
	if err != nil || revoked.Status != admin.TokenRevoked || revoked.RevokedAt == nil {
		t.Fatalf("revoke: %+v, %v", revoked, err)
	}
	if again, err := e.svc.RevokeToken(ctx, "bob", issued.Token.ID); err != nil || !again.RevokedAt.Equal(*revoked.RevokedAt) {
		t.Errorf("revoking again: %+v, %v; want the first revocation kept", again, err)
	}
	rec, _ := e.store.Token(ctx, issued.Token.ID)
	if !rec.Revoked() {
		t.Errorf("the store does not have the token revoked")
	}
	for _, line := range auditDetails(t, e.store) {
		if strings.Contains(line, issued.JWT) || strings.Contains(line, op.JWT) {
			t.Errorf("the audit trail holds a token: %s", line)
		}
	}
	// Removing a member revokes its tokens.
	second, _ := e.svc.IssueToken(ctx, "alice", admin.TokenRequest{Subject: "cert-eu"})
	if _, err := e.svc.RemoveMember(ctx, "alice", "cert-eu"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := e.svc.Token(ctx, second.Token.ID); tok.Status != admin.TokenRevoked {
		t.Errorf("a removed member's token is %s", tok.Status)
	}
}

func auditDetails(t *testing.T, st store.Store) []string {
	entries, err := st.Audit(t.Context(), 0, store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Target+" "+e.Detail)
	}
	return out
}

// Time in the bubble moves only when every goroutine in it waits, so the keyring's maximum age
// passes at once.
func TestKeysRotateAndRetire(t *testing.T) { synctest.Test(t, keysRotateAndRetire) }

func keysRotateAndRetire(t *testing.T) {
	e := newEnv(t)
	seedOne(t, e)
	ctx := t.Context()
	before, _ := e.svc.IssueToken(ctx, "alice", admin.TokenRequest{Subject: "cert-eu"})
	old := e.keys.SigningKeyID()
	time.Sleep(time.Second) // a rotation comes later than the key it replaces, as keys are listed by age
	k, err := e.svc.RotateKey(ctx, "alice")
	if err != nil || k.KID == old || !k.Signing {
		t.Fatalf("rotate: %+v, %v", k, err)
	}
	after, _ := e.svc.IssueToken(ctx, "alice", admin.TokenRequest{Subject: "cert-eu"})
	for name, tok := range map[string]string{"before": before.JWT, "after": after.JWT} {
		if _, err := e.tokens.VerifyContext(ctx, tok, auth.PartnerAudience); err != nil {
			t.Errorf("token signed %s rotation: %v", name, err)
		}
	}
	keys, err := e.svc.Keys(ctx)
	if err != nil || len(keys) != 2 || keys[0].KID != old || keys[0].Signing || !keys[1].Signing {
		t.Errorf("keys: %+v, %v", keys, err)
	}
	retired, err := e.svc.RetireKey(ctx, "alice", old)
	if err != nil || retired.RetiredAt == nil {
		t.Fatalf("retire: %+v, %v", retired, err)
	}
	// Retirement reaches verification within the keyring's maximum age.
	time.Sleep(auth.DefaultKeyMaxAge + time.Millisecond)
	if _, err := e.tokens.VerifyContext(ctx, before.JWT, auth.PartnerAudience); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("a token signed with a retired key still verifies after %v: %v", auth.DefaultKeyMaxAge, err)
	}
	if _, err := e.tokens.VerifyContext(ctx, after.JWT, auth.PartnerAudience); err != nil {
		t.Errorf("a token signed with the current key: %v", err)
	}
}

func TestParseTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "1d": 24 * time.Hour, "720h": 720 * time.Hour, "30m": 30 * time.Minute} {
		if got, err := admin.ParseTTL(in); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "1.5d", "-1d", "soon", "99999d"} {
		if _, err := admin.ParseTTL(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if got := admin.FormatTTL(365 * 24 * time.Hour); got != "365d" {
		t.Errorf("FormatTTL: %s", got)
	}
}
