package admin_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/store"
)

// Every kind of weakening is named, and its strengthening counterpart is not.
func TestWeakeningsNameEveryLooseningAndNothingElse(t *testing.T) {
	eu := []string{"EU"}
	partnership := []struct {
		name          string
		before, after store.PartnershipPolicy
		want          []string
	}{
		{"reject to strip", store.PartnershipPolicy{PersonalData: store.PersonalDataReject}, store.PartnershipPolicy{PersonalData: store.PersonalDataStrip},
			[]string{"personal data reject → strip"}},
		{"strip to allow", store.PartnershipPolicy{PersonalData: store.PersonalDataStrip}, store.PartnershipPolicy{},
			[]string{"personal data strip → allow"}},
		{"allow to reject", store.PartnershipPolicy{}, store.PartnershipPolicy{PersonalData: store.PersonalDataReject}, nil},
		{"jurisdictions widened", store.PartnershipPolicy{Jurisdictions: eu}, store.PartnershipPolicy{Jurisdictions: []string{"EU", "JP"}},
			[]string{"jurisdictions widened: JP added"}},
		{"jurisdictions removed", store.PartnershipPolicy{Jurisdictions: eu}, store.PartnershipPolicy{},
			[]string{"jurisdiction rule removed"}},
		{"jurisdictions narrowed", store.PartnershipPolicy{Jurisdictions: []string{"EU", "JP"}}, store.PartnershipPolicy{Jurisdictions: eu}, nil},
		{"jurisdictions set", store.PartnershipPolicy{}, store.PartnershipPolicy{Jurisdictions: eu}, nil},
		{"onward sharing allowed", store.PartnershipPolicy{NoOnwardSharing: true}, store.PartnershipPolicy{}, []string{"onward sharing allowed"}},
		{"onward sharing forbidden", store.PartnershipPolicy{}, store.PartnershipPolicy{NoOnwardSharing: true}, nil},
		{"a reviewer named", store.PartnershipPolicy{}, store.PartnershipPolicy{Reviewers: []string{"cert-eu"}},
			[]string{"reviewers added: cert-eu may release"}},
		{"a reviewer added", store.PartnershipPolicy{Reviewers: []string{"cert-eu"}}, store.PartnershipPolicy{Reviewers: []string{"cert-eu", "cncert-cc"}},
			[]string{"reviewers added: cncert-cc may release"}},
		{"a reviewer removed", store.PartnershipPolicy{Reviewers: []string{"cert-eu", "cncert-cc"}}, store.PartnershipPolicy{Reviewers: []string{"cert-eu"}}, nil},
	}
	for _, tc := range partnership {
		checkWeakenings(t, tc.name, admin.PartnershipWeakenings(tc.before, tc.after), tc.want)
	}

	collection := []struct {
		name          string
		before, after store.CollectionPolicy
		want          []string
	}{
		{"TLP ceiling raised", store.CollectionPolicy{MaxTLP: store.TLPAmber}, store.CollectionPolicy{MaxTLP: store.TLPRed},
			[]string{"TLP ceiling raised TLP:AMBER → TLP:RED"}},
		{"TLP ceiling removed", store.CollectionPolicy{MaxTLP: store.TLPAmber}, store.CollectionPolicy{}, []string{"TLP ceiling removed (was TLP:AMBER)"}},
		{"TLP ceiling lowered", store.CollectionPolicy{MaxTLP: store.TLPAmber}, store.CollectionPolicy{MaxTLP: store.TLPGreen}, nil},
		{"TLP ceiling set", store.CollectionPolicy{}, store.CollectionPolicy{MaxTLP: store.TLPGreen}, nil},
		{"a type allowed", store.CollectionPolicy{AllowedTypes: []string{"identity"}}, store.CollectionPolicy{AllowedTypes: []string{"identity", "indicator"}},
			[]string{"types allowed: indicator"}},
		{"types list removed", store.CollectionPolicy{AllowedTypes: []string{"identity"}}, store.CollectionPolicy{},
			[]string{"allowed_types removed: any type accepted"}},
		{"a type dropped", store.CollectionPolicy{AllowedTypes: []string{"identity", "indicator"}}, store.CollectionPolicy{AllowedTypes: []string{"identity"}}, nil},
		{"a denied property removed", store.CollectionPolicy{DeniedProperties: []string{"x_notes", "x_ssn"}}, store.CollectionPolicy{DeniedProperties: []string{"x_notes"}},
			[]string{"denied properties no longer refused: x_ssn"}},
		{"a denied property added", store.CollectionPolicy{}, store.CollectionPolicy{DeniedProperties: []string{"x_notes"}}, nil},
		{"unmarked accepted", store.CollectionPolicy{Unmarked: store.UnmarkedRefuse}, store.CollectionPolicy{},
			[]string{"unmarked objects accepted as TLP:CLEAR"}},
		{"unmarked refused", store.CollectionPolicy{}, store.CollectionPolicy{Unmarked: store.UnmarkedRefuse}, nil},
		{"retention removed", store.CollectionPolicy{Retention: 180 * 24 * time.Hour}, store.CollectionPolicy{},
			[]string{"retention removed: objects kept for good (was 180d)"}},
		{"retention lengthened", store.CollectionPolicy{Retention: 180 * 24 * time.Hour}, store.CollectionPolicy{Retention: 365 * 24 * time.Hour},
			[]string{"retention lengthened 180d → 365d"}},
		{"retention shortened", store.CollectionPolicy{Retention: 180 * 24 * time.Hour}, store.CollectionPolicy{Retention: 30 * 24 * time.Hour}, nil},
		{"retention set", store.CollectionPolicy{}, store.CollectionPolicy{Retention: 30 * 24 * time.Hour}, nil},
		{"review removed", store.CollectionPolicy{Review: store.ReviewOwnMember}, store.CollectionPolicy{},
			[]string{"review removed: posted objects released without review (was own-member)"}},
		{"review set", store.CollectionPolicy{}, store.CollectionPolicy{Review: store.ReviewPartnership}, nil},
		{"reviewer changed", store.CollectionPolicy{Review: store.ReviewOwnMember},
			store.CollectionPolicy{Review: store.ReviewPartnership, ReviewTimeout: 48 * time.Hour}, nil},
		{"allow-list removed", store.CollectionPolicy{AllowedProperties: map[string][]string{"identity": {"name"}}}, store.CollectionPolicy{},
			[]string{"allowed_properties removed: any property accepted"}},
		{"a property allowed", store.CollectionPolicy{AllowedProperties: map[string][]string{"identity": {"name"}}},
			store.CollectionPolicy{AllowedProperties: map[string][]string{"identity": {"description", "name"}, "location": {"country"}}},
			[]string{"properties allowed on identity: description", "properties allowed on location: country"}},
		{"a property dropped", store.CollectionPolicy{AllowedProperties: map[string][]string{"identity": {"description", "name"}}},
			store.CollectionPolicy{AllowedProperties: map[string][]string{"identity": {"name"}}}, nil},
		{"an allow-list set", store.CollectionPolicy{}, store.CollectionPolicy{AllowedProperties: map[string][]string{"identity": {"name"}}}, nil},
		{"two at once", store.CollectionPolicy{MaxTLP: store.TLPGreen, DeniedProperties: []string{"x_notes"}}, store.CollectionPolicy{},
			[]string{"denied properties no longer refused: x_notes", "TLP ceiling removed"}},
	}
	for _, tc := range collection {
		checkWeakenings(t, tc.name, admin.CollectionWeakenings(tc.before, tc.after), tc.want)
	}

	m := func(role store.Role, clearance store.TLP) store.Membership {
		return store.Membership{MemberID: "m", APIRoot: "p", Role: role, Clearance: clearance}
	}
	membership := []struct {
		name          string
		before, after store.Membership
		want          []string
	}{
		{"clearance raised", m(store.RoleReader, store.TLPGreen), m(store.RoleReader, store.TLPAmber), []string{"clearance of m in p raised TLP:GREEN → TLP:AMBER"}},
		{"clearance removed", m(store.RoleReader, store.TLPGreen), m(store.RoleReader, store.TLPNone), []string{"clearance of m in p removed"}},
		{"clearance lowered", m(store.RoleReader, store.TLPAmber), m(store.RoleReader, store.TLPGreen), nil},
		{"reader to both", m(store.RoleReader, store.TLPNone), m(store.RoleBoth, store.TLPNone), []string{"role of m in p widened reader → both (may now publish)"}},
		{"publisher to reader", m(store.RolePublisher, store.TLPNone), m(store.RoleReader, store.TLPNone), []string{"may now read"}},
		{"both to reader", m(store.RoleBoth, store.TLPNone), m(store.RoleReader, store.TLPNone), nil},
		{"removed", m(store.RolePublisher, store.TLPAmber), store.DefaultMembership("m", "p"), []string{"may now read", "clearance of m in p removed"}},
	}
	for _, tc := range membership {
		checkWeakenings(t, tc.name, admin.MembershipWeakenings(tc.before, tc.after), tc.want)
	}
}

func checkWeakenings(t *testing.T, name string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: weakenings %q, want %d like %q", name, got, len(want), want)
		return
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("%s: weakening %q does not say %q", name, got[i], want[i])
		}
	}
}

func patch(t *testing.T, js string) admin.Patch {
	t.Helper()
	var p admin.Patch
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// The two reports: changing the jurisdictions turned personal data from strip to allow, and
// naming the types dropped tlp_max. As patches, each changes only what it names; clearing a rule
// takes null; and a weakening patch is refused until confirmed. The audit trail keeps both states.
func TestPatchesChangeOnlyWhatTheyName(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.svc.Apply(ctx, "alice", parse(t, `
partnerships:
  - slug: eu-ukraine
    title: EU–Ukraine
    policy: {personal_data: strip, jurisdictions: [EU], no_onward_sharing: true}
    collections:
      - {alias: indicators, title: Indicators, policy: {allowed_types: [indicator, identity], denied_properties: [x_source], tlp_max: amber}}
members:
  - {id: cert-ua, name: CERT-UA, jurisdiction: UA}
  - {id: cert-eu, name: CERT-EU, jurisdiction: EU}
memberships:
  - {member: cert-eu, partnership: eu-ukraine, role: reader, clearance: green}
`), false, false); err != nil {
		t.Fatal(err)
	}

	wantKind(t, "add a jurisdiction unconfirmed", refuse(e.svc.PatchPartnershipPolicy(ctx, "alice", "eu-ukraine",
		patch(t, `{"jurisdictions":["EU","UA"]}`), false)), admin.Weakens, "jurisdictions widened: UA added", "--confirm-weaken")
	p, err := e.svc.PatchPartnershipPolicy(ctx, "alice", "eu-ukraine", patch(t, `{"jurisdictions":["EU","UA"]}`), true)
	if err != nil {
		t.Fatal(err)
	}
	if want := (admin.PartnershipPolicy{PersonalData: "strip", Jurisdictions: []string{"EU", "UA"}, NoOnwardSharing: true}); !equalPolicy(p.Policy, want) {
		t.Errorf("after patching jurisdictions: %+v, want %+v", p.Policy, want)
	}

	c, err := e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators", patch(t, `{"allowed_types":["indicator"]}`), false)
	if err != nil {
		t.Fatalf("narrowing the types needs no confirmation: %v", err)
	}
	if c.Policy.TLPMax != "amber" || !slices.Equal(c.Policy.DeniedProperties, []string{"x_source"}) {
		t.Errorf("naming the types changed other rules: %+v", c.Policy)
	}
	wantKind(t, "clear tlp_max unconfirmed", refuse(e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators",
		patch(t, `{"tlp_max":null,"denied_properties":null}`), false)), admin.Weakens, "TLP ceiling removed", "denied properties no longer refused: x_source")
	c, err = e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators", patch(t, `{"tlp_max":null}`), true)
	if err != nil || c.Policy.TLPMax != "" || !slices.Equal(c.Policy.AllowedTypes, []string{"indicator"}) {
		t.Errorf("clear tlp_max: %+v, %v", c.Policy, err)
	}
	wantKind(t, "a rule that does not exist", refuse(e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators",
		patch(t, `{"tlp_maximum":"red"}`), true)), admin.Invalid, `names no rule "tlp_maximum"`)
	// encoding/json would match TLP_MAX to tlp_max; a patch must name rules exactly.
	wantKind(t, "a rule named in capitals", refuse(e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators",
		patch(t, `{"TLP_MAX":"red"}`), true)), admin.Invalid, `names no rule "TLP_MAX"`, "tlp_max")

	// Review is set by a patch without confirmation, shows its default timeout, and is dropped only
	// when confirmed.
	c, err = e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators", patch(t, `{"review":"own-member"}`), false)
	if err != nil || c.Policy.Review != "own-member" || c.Policy.ReviewTimeout != "7d" || !slices.Equal(c.Policy.AllowedTypes, []string{"indicator"}) {
		t.Errorf("set review: %+v, %v; want own-member with the 7d default, other rules kept", c.Policy, err)
	}
	c, err = e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators", patch(t, `{"review_timeout":"36h"}`), false)
	if err != nil || c.Policy.Review != "own-member" || c.Policy.ReviewTimeout != "36h0m0s" {
		t.Errorf("set the review timeout: %+v, %v", c.Policy, err)
	}
	wantKind(t, "drop review unconfirmed", refuse(e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators",
		patch(t, `{"review":"none","review_timeout":null}`), false)), admin.Weakens, "review removed")
	c, err = e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators", patch(t, `{"review":null,"review_timeout":null}`), true)
	if err != nil || c.Policy.Review != "" || c.Policy.ReviewTimeout != "" {
		t.Errorf("drop review confirmed: %+v, %v", c.Policy, err)
	}

	// Retention is set and shortened without confirmation; lengthened or removed only confirmed.
	c, err = e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators", patch(t, `{"retention":"180d"}`), false)
	if err != nil || c.Policy.Retention != "180d" {
		t.Errorf("set retention: %+v, %v", c.Policy, err)
	}
	if c, err = e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators", patch(t, `{"retention":"90d"}`), false); err != nil || c.Policy.Retention != "90d" {
		t.Errorf("shorten retention: %+v, %v", c.Policy, err)
	}
	wantKind(t, "lengthen retention unconfirmed", refuse(e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators",
		patch(t, `{"retention":"365d"}`), false)), admin.Weakens, "retention lengthened 90d → 365d")
	wantKind(t, "remove retention unconfirmed", refuse(e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators",
		patch(t, `{"retention":null}`), false)), admin.Weakens, "retention removed")
	if c, err = e.svc.PatchCollectionPolicy(ctx, "alice", "eu-ukraine", "indicators", patch(t, `{"retention":null}`), true); err != nil || c.Policy.Retention != "" {
		t.Errorf("remove retention confirmed: %+v, %v", c.Policy, err)
	}

	// A membership patch keeps the clearance when it names the role only.
	wantKind(t, "reader to both unconfirmed", refuse(e.svc.PatchMembership(ctx, "alice", "cert-eu", "eu-ukraine",
		patch(t, `{"role":"both"}`), false)), admin.Weakens, "may now publish")
	res, err := e.svc.PatchMembership(ctx, "alice", "cert-eu", "eu-ukraine", patch(t, `{"role":"both"}`), true)
	if err != nil || res.Membership.Clearance != "green" || res.Membership.Role != "both" {
		t.Errorf("patch the role: %+v, %v", res, err)
	}
	res, err = e.svc.PatchMembership(ctx, "alice", "cert-eu", "eu-ukraine", patch(t, `{"clearance":"clear"}`), false)
	if err != nil || res.Membership.Clearance != "clear" || res.Membership.Role != "both" {
		t.Errorf("lower the clearance: %+v, %v", res, err)
	}

	entries, err := e.svc.Audit(ctx, 0, admin.MaxAuditPage)
	if err != nil {
		t.Fatal(err)
	}
	var policyUpdate *admin.AuditEntry
	for i, en := range entries {
		if en.Action == "partnership.update" {
			policyUpdate = &entries[i]
		}
		if en.Action == "collection.update" || en.Action == "membership.update" || en.Action == "partnership.update" {
			if en.Before == "" || en.After == "" || en.Before == en.After {
				t.Errorf("audit entry %s %s lacks its before and after: %q → %q", en.Action, en.Target, en.Before, en.After)
			}
		}
	}
	if policyUpdate == nil {
		t.Fatal("no partnership.update in the audit trail")
	}
	if want := `{"personal_data":"strip","jurisdictions":["EU"],"no_onward_sharing":true}`; policyUpdate.Before != want {
		t.Errorf("before = %s, want %s", policyUpdate.Before, want)
	}
	if want := `{"personal_data":"strip","jurisdictions":["EU","UA"],"no_onward_sharing":true}`; policyUpdate.After != want {
		t.Errorf("after = %s, want %s", policyUpdate.After, want)
	}
}

func equalPolicy(a, b admin.PartnershipPolicy) bool {
	return a.PersonalData == b.PersonalData && a.NoOnwardSharing == b.NoOnwardSharing && slices.Equal(a.Jurisdictions, b.Jurisdictions)
}

// An apply that weakens a rule is refused, naming each weakening and changing nothing, unless
// confirmed; its dry run lists the weakenings.
func TestApplyThatWeakensNeedsConfirmation(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	strict := `
partnerships:
  - slug: p
    title: P
    policy: {personal_data: reject}
    collections: [{alias: c, title: C, policy: {tlp_max: green}}]
`
	if _, err := e.svc.Apply(ctx, "alice", parse(t, strict), false, false); err != nil {
		t.Fatal(err)
	}
	loose := strings.NewReplacer("reject", "strip", "green", "red").Replace(strict)
	dry, err := e.svc.Apply(ctx, "alice", parse(t, loose), true, false)
	if err != nil || len(dry.Weakenings) != 2 {
		t.Errorf("dry run: %+v, %v; want the two weakenings listed", dry, err)
	}
	wantKind(t, "apply unconfirmed", refuse(e.svc.Apply(ctx, "alice", parse(t, loose), false, false)), admin.Weakens,
		"partnership p: personal data reject → strip", "collection p/c: TLP ceiling raised TLP:GREEN → TLP:RED")
	if d, err := e.svc.Partnership(ctx, "p"); err != nil || d.Policy.PersonalData != "reject" || d.Collections[0].Policy.TLPMax != "green" {
		t.Errorf("a refused apply changed the hub: %+v, %v", d, err)
	}
	if _, err := e.svc.Apply(ctx, "alice", parse(t, loose), false, true); err != nil {
		t.Fatalf("confirmed: %v", err)
	}
	if d, err := e.svc.Partnership(ctx, "p"); err != nil || d.Policy.PersonalData != "strip" || d.Collections[0].Policy.TLPMax != "red" {
		t.Errorf("the confirmed apply did not change the rules: %+v, %v", d, err)
	}
	entries, err := e.svc.Audit(ctx, 0, admin.MaxAuditPage)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string][2]string{}
	for _, en := range entries {
		if strings.HasSuffix(en.Action, ".update") {
			states[en.Action] = [2]string{en.Before, en.After}
		}
	}
	if got := states["collection.update"]; got != [2]string{`{"tlp_max":"green","unmarked":"clear"}`, `{"tlp_max":"red","unmarked":"clear"}`} {
		t.Errorf("apply's collection update recorded %q; want the ceiling before and after", got)
	}
	if got := states["partnership.update"]; got != [2]string{`{"personal_data":"reject"}`, `{"personal_data":"strip"}`} {
		t.Errorf("apply's partnership update recorded %q; want personal data before and after", got)
	}

	// A spec naming the partnership's moderators: one more is a weakening, dropping one is not.
	moderated := strings.Replace(loose, "policy: {personal_data: strip}", "policy: {personal_data: strip, reviewers: [cert-eu]}", 1)
	wantKind(t, "a moderator named unconfirmed", refuse(e.svc.Apply(ctx, "alice", parse(t, moderated), false, false)), admin.Weakens,
		"partnership p: reviewers added: cert-eu")
	if _, err := e.svc.Apply(ctx, "alice", parse(t, moderated), false, true); err != nil {
		t.Fatalf("moderator confirmed: %v", err)
	}
	if d, err := e.svc.Partnership(ctx, "p"); err != nil || !slices.Equal(d.Policy.Reviewers, []string{"cert-eu"}) {
		t.Errorf("the spec's reviewers: %+v, %v", d.Policy, err)
	}
	if _, err := e.svc.Apply(ctx, "alice", parse(t, loose), false, false); err != nil {
		t.Errorf("a spec dropping the moderator was refused: %v", err)
	}

	// A membership patch for a member without one must say what a new one needs.
	if _, err := e.svc.AddMember(ctx, "alice", admin.Member{ID: "m", Name: "M", Jurisdiction: "FR"}); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "a new membership without a role", refuse(e.svc.PatchMembership(ctx, "alice", "m", "p", patch(t, `{"clearance":"green"}`), false)),
		admin.Invalid, "a new one needs a role")
}

// refuse keeps the error of a call, for wantKind.
func refuse[T any](_ T, err error) error { return err }

// A grant's rights are recorded before and after each change, and a removed grant keeps them.
func TestAuditKeepsGrantsBeforeAndAfter(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.svc.Apply(ctx, "alice", parse(t, `
partnerships:
  - {slug: p, title: P, collections: [{alias: c, title: C}]}
members:
  - {id: m, name: M, jurisdiction: FR}
`), false, false); err != nil {
		t.Fatal(err)
	}
	for _, g := range []admin.Grant{{Read: true}, {Read: true, Write: true}} {
		g.Member, g.Partnership, g.Collection = "m", "p", "c"
		if _, err := e.svc.PutGrant(ctx, "alice", g); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.RemoveGrant(ctx, "alice", "m", "p", "c"); err != nil {
		t.Fatal(err)
	}
	entries, err := e.svc.Audit(ctx, 0, admin.MaxAuditPage)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range entries {
		if strings.HasPrefix(en.Action, "grant.") {
			got = append(got, en.Action+" "+rightsOf(t, en.Before)+" → "+rightsOf(t, en.After))
		}
	}
	if want := []string{"grant.create - → read", "grant.update read → read+write", "grant.delete read+write → -"}; !slices.Equal(got, want) {
		t.Errorf("grant entries %q, want %q", got, want)
	}
}

// rightsOf reads the rights of a grant's recorded state, "-" when there is none.
func rightsOf(t *testing.T, state string) string {
	t.Helper()
	if state == "" {
		return "-"
	}
	var g admin.Grant
	if err := json.Unmarshal([]byte(state), &g); err != nil {
		t.Fatalf("state %q: %v", state, err)
	}
	switch {
	case g.Read && g.Write:
		return "read+write"
	case g.Read:
		return "read"
	case g.Write:
		return "write"
	}
	return "none"
}
