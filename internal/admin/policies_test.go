package admin_test

import (
	"fmt"
	"slices"
	"testing"

	"taxiihub/internal/admin"
	"taxiihub/internal/store"
)

func TestPoliciesAndMemberships(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	refuse := func(_ any, err error) error { return err }

	p, err := e.svc.CreatePartnership(ctx, "alice", admin.Partnership{Slug: "eu-immigration-ct", Title: "Immigration",
		Policy: admin.PartnershipPolicy{Jurisdictions: []string{"NL", "EU", "NL"}}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if want := []string{"EU", "NL"}; !slices.Equal(p.Policy.Jurisdictions, want) || p.Policy.PersonalData != admin.PersonalDataAllow {
		t.Errorf("created policy %+v, want jurisdictions %v and personal data allowed", p.Policy, want)
	}
	c, err := e.svc.CreateCollection(ctx, "alice", admin.Collection{Partnership: p.Slug, Alias: "records", Title: "Records",
		Policy: admin.CollectionPolicy{AllowedTypes: []string{"identity"}, DeniedProperties: []string{"x_interview_notes"}, TLPMax: "TLP:AMBER"}})
	if err != nil {
		t.Fatalf("create collection: %v", err)
	}
	if c.Policy.TLPMax != "amber" {
		t.Errorf("collection policy %+v, want tlp_max amber", c.Policy)
	}
	for _, m := range []admin.Member{
		{ID: "frontex", Name: "Frontex", Jurisdiction: "EU"},
		{ID: "cncert-cc", Name: "CNCERT/CC", Jurisdiction: "CN"},
	} {
		if _, err := e.svc.AddMember(ctx, "alice", m); err != nil {
			t.Fatal(err)
		}
	}

	cases := []struct {
		name      string
		err       error
		kind      admin.Kind
		fragments []string
	}{
		{"bad policy values", refuse(e.svc.CreatePartnership(ctx, "alice", admin.Partnership{Slug: "x", Title: "x",
			Policy: admin.PartnershipPolicy{PersonalData: "maybe", Jurisdictions: []string{"UK"}}})),
			admin.Invalid, []string{`personal_data "maybe"`, `jurisdiction "UK"`}},
		{"bad collection policy", refuse(e.svc.SetCollectionPolicy(ctx, "alice", p.Slug, "records", admin.CollectionPolicy{AllowedTypes: []string{"Identity"}, DeniedProperties: []string{"id"}, TLPMax: "purple"}, false)),
			admin.Invalid, []string{`allowed type "Identity"`, `denied property "id"`, `"purple" is not a TLP level`}},
		{"bad unmarked rule and allowed properties", refuse(e.svc.SetCollectionPolicy(ctx, "alice", p.Slug, "records",
			admin.CollectionPolicy{Unmarked: "ignore", AllowedProperties: map[string][]string{
				"Identity": {"name"}, "identity": {"x_legal_status..status", "address street", ""}}}, false)),
			admin.Invalid, []string{`unmarked "ignore" must be clear or refuse`, `"Identity" is not a STIX object type name`,
				`"x_legal_status..status" is not a property name`, `"address street" is not a property name`, `"" is not a property name`}},
		{"bad review rule and timeouts", refuse(e.svc.SetCollectionPolicy(ctx, "alice", p.Slug, "records",
			admin.CollectionPolicy{Review: "moderator", ReviewTimeout: "a week"}, false)),
			admin.Invalid, []string{`review "moderator" must be none, own-member or partnership`, `"a week" is not a number of days`}},
		{"review timeout out of bounds", refuse(e.svc.SetCollectionPolicy(ctx, "alice", p.Slug, "records",
			admin.CollectionPolicy{Review: "own-member", ReviewTimeout: "400d"}, false)),
			admin.Invalid, []string{`"400d" is outside 1m0s to 365d`}},
		{"review timeout without review", refuse(e.svc.SetCollectionPolicy(ctx, "alice", p.Slug, "records",
			admin.CollectionPolicy{ReviewTimeout: "2d"}, false)),
			admin.Invalid, []string{`review_timeout "2d" needs a review rule`}},
		{"retention out of bounds", refuse(e.svc.SetCollectionPolicy(ctx, "alice", p.Slug, "records",
			admin.CollectionPolicy{Retention: "30m"}, false)),
			admin.Invalid, []string{`retention: "30m" is outside 1h0m0s to 3650d`}},
		{"retention not a time", refuse(e.svc.SetCollectionPolicy(ctx, "alice", p.Slug, "records",
			admin.CollectionPolicy{Retention: "half a year"}, false)),
			admin.Invalid, []string{`retention: "half a year" is not a number of days`}},
		{"too many allowed properties", refuse(e.svc.SetCollectionPolicy(ctx, "alice", p.Slug, "records",
			admin.CollectionPolicy{AllowedProperties: map[string][]string{"identity": manyPaths(1001)}}, false)),
			admin.Invalid, []string{"1001 paths; a collection allows at most 1000"}},
		{"bad membership", refuse(e.svc.PutMembership(ctx, "alice", admin.Membership{Member: "frontex", Partnership: p.Slug, Role: "writer"}, false)),
			admin.Invalid, []string{`role "writer"`}},
		{"membership from outside", refuse(e.svc.PutMembership(ctx, "alice", admin.Membership{Member: "cncert-cc", Partnership: p.Slug, Role: "reader"}, false)),
			admin.Conflict, []string{"cncert-cc is established in CN", "EU, NL only"}},
		{"grant from outside", refuse(e.svc.PutGrant(ctx, "alice",
			admin.Grant{Member: "cncert-cc", Partnership: p.Slug, Collection: "records", Read: true})),
			admin.Conflict, []string{"cncert-cc is established in CN"}},
		{"membership of a missing member", refuse(e.svc.PutMembership(ctx, "alice", admin.Membership{Member: "nobody", Partnership: p.Slug, Role: "reader"}, false)),
			admin.NotFound, []string{"no member nobody"}},
		{"remove a missing membership", refuse(e.svc.RemoveMembership(ctx, "alice", "frontex", p.Slug, false)),
			admin.NotFound, []string{"no membership"}},
	}
	for _, tc := range cases {
		wantKind(t, tc.name, tc.err, tc.kind, tc.fragments...)
	}

	res, err := e.svc.PutMembership(ctx, "alice", admin.Membership{Member: "frontex", Partnership: p.Slug, Role: "publisher", Clearance: "amber"}, false)
	if err != nil || !res.Changed {
		t.Fatalf("membership: %+v, %v", res, err)
	}
	if again, err := e.svc.PutMembership(ctx, "alice", res.Membership, false); err != nil || again.Changed {
		t.Errorf("the same membership again: %+v, %v; want no change", again, err)
	}
	// Narrowing the rule to exclude a member that is in is refused, naming it.
	wantKind(t, "narrow the rule past a member", refuse(e.svc.SetPartnershipPolicy(ctx, "alice", p.Slug, admin.PartnershipPolicy{Jurisdictions: []string{"NL"}}, false)), admin.Conflict, "frontex (EU)", "outside NL")
	widened := admin.PartnershipPolicy{PersonalData: "strip", Jurisdictions: []string{"EU", "NL", "BE"}}
	wantKind(t, "widen the rule unconfirmed", refuse(e.svc.SetPartnershipPolicy(ctx, "alice", p.Slug, widened, false)),
		admin.Weakens, "jurisdictions widened: BE added")
	if _, err := e.svc.SetPartnershipPolicy(ctx, "alice", p.Slug, widened, true); err != nil {
		t.Fatalf("widen the rule: %v", err)
	}
	d, err := e.svc.Partnership(ctx, p.Slug)
	if err != nil {
		t.Fatal(err)
	}
	if want := []admin.Membership{{Member: "frontex", Partnership: p.Slug, Role: "publisher", Clearance: "amber"}}; !slices.Equal(d.Memberships, want) {
		t.Errorf("memberships %+v, want %+v", d.Memberships, want)
	}
	if d.Policy.PersonalData != "strip" || len(d.Policy.Jurisdictions) != 3 || d.Collections[0].Policy.TLPMax != "amber" {
		t.Errorf("detail %+v", d)
	}
	// Without its membership frontex would read, with no TLP limit.
	wantKind(t, "remove the membership unconfirmed", refuse(e.svc.RemoveMembership(ctx, "alice", "frontex", p.Slug, false)),
		admin.Weakens, "role of frontex in eu-immigration-ct widened publisher → both (may now read)",
		"clearance of frontex in eu-immigration-ct removed (was TLP:AMBER)")
	if _, err := e.svc.RemoveMembership(ctx, "alice", "frontex", p.Slug, true); err != nil {
		t.Fatalf("remove membership: %v", err)
	}
	want := []string{
		"alice partnership.create partnership eu-immigration-ct",
		"alice collection.create collection eu-immigration-ct/records",
		"alice member.create member frontex",
		"alice member.create member cncert-cc",
		"alice membership.create membership frontex in eu-immigration-ct",
		"alice partnership.update partnership eu-immigration-ct",
		"alice membership.delete membership frontex in eu-immigration-ct",
	}
	if got := auditActions(t, e.store); !slices.Equal(got, want) {
		t.Errorf("audit trail %v, want %v", got, want)
	}
}

// TestApplyNarrowsJurisdictionsLast: a spec that moves a member and narrows a partnership's rule to
// the member's new jurisdiction in one go applies, because the rule is narrowed after the move; and a
// spec whose end state breaks the rule is refused before anything changes.
func TestApplyNarrowsJurisdictionsLast(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	apply := func(yaml string) (admin.ApplyResult, error) {
		return e.svc.Apply(ctx, "alice", parse(t, yaml), false, false)
	}
	if _, err := apply(`
partnerships:
  - {slug: p, title: P, policy: {jurisdictions: [EU, FR]}, collections: [{alias: c, title: C}]}
members:
  - {id: m, name: M, jurisdiction: FR}
memberships:
  - {member: m, partnership: p, role: both}
`); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	res, err := apply(`
partnerships:
  - {slug: p, title: P, policy: {jurisdictions: [EU]}, collections: [{alias: c, title: C}]}
members:
  - {id: m, name: M, jurisdiction: EU}
`)
	if err != nil {
		t.Fatalf("move and narrow: %v", err)
	}
	if got := changeLines(res.Changes); !slices.Equal(got, []string{"update member m", "update partnership p"}) {
		t.Errorf("changes %v", got)
	}
	root, _ := e.store.APIRoot(ctx, "p")
	if !slices.Equal(root.Policy.Jurisdictions, []string{"EU"}) {
		t.Errorf("jurisdictions %v, want [EU]", root.Policy.Jurisdictions)
	}

	_, err = apply(`
partnerships:
  - {slug: p, title: P, policy: {jurisdictions: [EU]}, collections: [{alias: c, title: C}]}
members:
  - {id: m, name: M, jurisdiction: JP}
  - {id: n, name: N, jurisdiction: US}
grants:
  - {member: n, partnership: p, collection: c, read: true}
`)
	wantKind(t, "an end state breaking the rule", err, admin.Invalid,
		"member m (JP) would take part in partnership p", "member n (US) would take part in partnership p")
	if m, _ := e.store.Member(ctx, "m"); m.Jurisdiction != "EU" {
		t.Errorf("a refused spec changed member m: %+v", m)
	}
	if _, err := e.store.Member(ctx, "n"); err == nil {
		t.Errorf("a refused spec created member n")
	}
}

// TestApplyExampleCarriesTheRules checks that the example partnerships carry the rules of their
// arrangements.
func TestApplyExampleCarriesTheRules(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	spec := readExample(t)
	if _, err := e.svc.Apply(ctx, "alice", spec, false, false); err != nil {
		t.Fatalf("apply: %v", err)
	}
	china, _ := e.store.APIRoot(ctx, "eu-china-cyber")
	if china.Policy.PersonalData != store.PersonalDataReject || !china.Policy.NoOnwardSharing {
		t.Errorf("eu-china-cyber policy %+v, want no personal data and no onward sharing", china.Policy)
	}
	for _, alias := range []string{"cyber-threats", "critical-infrastructure"} {
		c, _ := e.store.Collection(ctx, "eu-japan", alias)
		if c.Policy.MaxTLP != store.TLPAmber {
			t.Errorf("eu-japan/%s ceiling %q, want amber", alias, c.Policy.MaxTLP)
		}
	}
	imm, _ := e.store.APIRoot(ctx, "eu-immigration-ct")
	if !imm.Policy.AllowsJurisdiction("NL") || !imm.Policy.AllowsJurisdiction("EU") || imm.Policy.AllowsJurisdiction("CN") ||
		imm.Policy.AllowsJurisdiction("GB") || len(imm.Policy.Jurisdictions) != 28 {
		t.Errorf("eu-immigration-ct jurisdictions %v, want the EU and its 27 member states", imm.Policy.Jurisdictions)
	}
	records, _ := e.store.Collection(ctx, "eu-immigration-ct", "administrative-records")
	if !slices.Contains(records.Policy.AllowedTypes, "identity") || slices.Contains(records.Policy.AllowedTypes, "note") ||
		!slices.Contains(records.Policy.DeniedProperties, "x_interview_notes") ||
		!slices.Contains(records.Policy.DeniedProperties, "x_grounds_of_protection") {
		t.Errorf("administrative-records policy %+v", records.Policy)
	}
	roles := map[string]store.Role{}
	for _, slug := range []string{"eu-china-cyber", "eu-japan", "eu-immigration-ct"} {
		ms, _ := e.store.Memberships(ctx, slug)
		for _, m := range ms {
			roles[m.MemberID+"@"+slug] = m.Role
		}
	}
	for key, want := range map[string]store.Role{
		"cert-eu@eu-china-cyber": store.RoleBoth, "cncert-cc@eu-china-cyber": store.RoleBoth,
		"frontex@eu-immigration-ct": store.RolePublisher, "nl-ind@eu-immigration-ct": store.RolePublisher,
		"europol-ectc@eu-immigration-ct": store.RoleReader, "nl-nctv@eu-immigration-ct": store.RoleReader,
	} {
		if roles[key] != want {
			t.Errorf("role of %s: %q, want %q", key, roles[key], want)
		}
	}
	// The file keeps the hub within its own rules: a Chinese member cannot join the EU-only exchange.
	_, err := e.svc.PutMembership(ctx, "alice", admin.Membership{Member: "cncert-cc", Partnership: "eu-immigration-ct", Role: "reader"}, false)
	wantKind(t, "cncert-cc joining eu-immigration-ct", err, admin.Conflict, "established in CN")
}

// manyPaths returns n distinct property names.
func manyPaths(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("x_field_%d", i)
	}
	return out
}
