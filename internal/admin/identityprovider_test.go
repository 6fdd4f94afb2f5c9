package admin_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
)

// A spec file gives a member its identity provider; the hub keeps it, lists it for the console,
// records its change in the audit trail, and removes it when the spec no longer names one.
func TestMemberIdentityProviderFromASpecFile(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	spec := func(provider string) admin.Spec {
		t.Helper()
		s, err := admin.ParseSpecFile("members.yaml", []byte("members:\n  - id: cert-x\n    name: CERT X\n    jurisdiction: FR\n"+provider))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	withIDP := spec("    identity_provider:\n      issuer: https://login.cert-x.example/realms/cert\n      client_id: taxiihub\n" +
		"      client_secret_env: CERT_X_OIDC\n      roles_claim: taxiihub_roles\n")
	if _, err := e.svc.Apply(ctx, "alice", withIDP, false, false); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.IdentityProviders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := admin.IdentityProvider{Issuer: "https://login.cert-x.example/realms/cert", ClientID: "taxiihub",
		ClientSecretEnv: "CERT_X_OIDC", RolesClaim: "taxiihub_roles"}
	if len(got) != 1 || got[0].Member != "cert-x" || got[0].IdentityProvider != want {
		t.Fatalf("identity providers: %+v", got)
	}
	if _, err := e.svc.Apply(ctx, "alice", spec(""), false, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.IdentityProviders(ctx); len(got) != 0 {
		t.Errorf("identity providers after the spec dropped it: %+v", got)
	}
	audit, err := e.svc.RecentAudit(ctx, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) == 0 || audit[0].Action != "member.update" || !strings.Contains(audit[0].Detail, "identity provider") {
		t.Errorf("newest audit entry: %+v, want the identity provider's change", audit)
	}
}

func TestMemberIdentityProviderIsChecked(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.AddMember(t.Context(), "alice", admin.Member{ID: "cert-x", Name: "CERT X", Jurisdiction: "FR",
		IdentityProvider: &admin.IdentityProvider{Issuer: "http://idp.example", ClientSecretFile: "secret", ClientSecretEnv: "X"}})
	var ae *admin.Error
	if !errors.As(err, &ae) || ae.Kind != admin.Invalid {
		t.Fatalf("a bad identity provider: %v", err)
	}
	for _, want := range []string{"must be https", "client_id", "roles_claim", "exactly one of client_secret_file and client_secret_env"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not mention %q", err, want)
		}
	}
	if _, err := e.svc.AddMember(t.Context(), "alice", admin.Member{ID: "cert-y", Name: "CERT Y", Jurisdiction: "FR",
		IdentityProvider: &admin.IdentityProvider{Issuer: "http://127.0.0.1:9000", ClientID: "hub", ClientSecretFile: "relative/secret",
			RolesClaim: "roles"}}); err == nil || !strings.Contains(err.Error(), "absolute path") {
		t.Errorf("a relative secret file: %v", err)
	}
}

// The console is served under /console/ beside the API roots, so no partnership may take the name.
func TestNoPartnershipIsNamedConsole(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.CreatePartnership(t.Context(), "alice", admin.Partnership{Slug: "console", Title: "Console"})
	if err == nil || !strings.Contains(err.Error(), "reserved for the hub's own paths") {
		t.Errorf("a partnership named console: %v", err)
	}
}
