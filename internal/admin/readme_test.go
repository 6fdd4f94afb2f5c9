package admin_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"taxiihub/internal/admin"
)

// TestReadmeSharingRulesExample: the spec the README's "Sharing rules" section shows parses, and
// its immigration collection's content rules are those of the example file, which the other tests
// apply to a hub and post against.
func TestReadmeSharingRulesExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Sharing rules\n")
	if !ok {
		t.Fatal("the README has no Sharing rules section")
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	block, _, closed := strings.Cut(block, "```")
	if !ok || !closed {
		t.Fatal("the Sharing rules section has no YAML example")
	}
	shown, err := admin.ParseSpec([]byte(block))
	if err != nil {
		t.Fatalf("the README's example does not parse: %v", err)
	}
	records := func(s admin.Spec) admin.CollectionPolicy {
		for _, p := range s.Partnerships {
			for _, c := range p.Collections {
				if p.Slug == "eu-immigration-ct" && c.Alias == "administrative-records" {
					return c.Policy
				}
			}
		}
		t.Fatal("no eu-immigration-ct/administrative-records collection")
		return admin.CollectionPolicy{}
	}
	got, want := records(shown), records(readExample(t))
	if !reflect.DeepEqual(got.AllowedProperties, want.AllowedProperties) || !reflect.DeepEqual(got.AllowedTypes, want.AllowedTypes) ||
		!reflect.DeepEqual(got.DeniedProperties, want.DeniedProperties) {
		t.Errorf("the README's immigration collection allows\n  %+v\nthe example file\n  %+v", got, want)
	}
	if len(got.AllowedProperties["identity"]) == 0 {
		t.Error("the README's example shows no allowed properties")
	}
}

// TestReadmeMemberIdentityProviderExample: the member the README's "Console" section shows parses
// with its identity provider.
func TestReadmeMemberIdentityProviderExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Console\n")
	if !ok {
		t.Fatal("the README has no Console section")
	}
	_, block, ok := strings.Cut(section, "```yaml\nmembers:")
	block, _, closed := strings.Cut(block, "```")
	if !ok || !closed {
		t.Fatal("the Console section shows no member with an identity provider")
	}
	spec, err := admin.ParseSpec([]byte("members:" + block))
	if err != nil {
		t.Fatalf("the README's member does not parse: %v", err)
	}
	want := admin.IdentityProvider{Issuer: "https://login.cert.europa.eu/realms/cert-eu", ClientID: "taxiihub",
		ClientSecretEnv: "CERT_EU_OIDC_SECRET", RolesClaim: "taxiihub_roles"}
	if len(spec.Members) != 1 || spec.Members[0].IdentityProvider == nil || *spec.Members[0].IdentityProvider != want {
		t.Fatalf("the README's member: %+v", spec.Members)
	}
	if _, err := newEnv(t).svc.Apply(t.Context(), "readme", spec, true, false); err != nil {
		t.Errorf("the README's member is not valid: %v", err)
	}
}
