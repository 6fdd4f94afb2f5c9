package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var sharingCases = []testCase{
	{"PoliciesRoundTrip", policiesRoundTrip},
	{"MembershipsPutReplaceListDelete", membershipsLifecycle},
	{"JurisdictionsAreEnforcedOnEveryWrite", jurisdictionsEnforced},
	{"ClearanceHidesVersionsAndPagesStayExact", clearancePages},
	{"ClearanceAppliesBeforeVersionFilters", clearanceBeforeVersionFilters},
}

func policiesRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	root := store.APIRoot{Slug: "eu-china-cyber", Title: "EU–China", Policy: store.PartnershipPolicy{
		PersonalData: store.PersonalDataReject, NoOnwardSharing: true, Jurisdictions: []string{"CN", "EU"},
		Reviewers: []string{"cert-eu", "cncert-cc"}}}
	if err := s.CreateAPIRoot(ctx, root); err != nil {
		t.Fatalf("create root: %v", err)
	}
	got, err := s.APIRoot(ctx, root.Slug)
	if err != nil || !reflect.DeepEqual(got, root) {
		t.Errorf("root: %+v, %v; want %+v", got, err, root)
	}
	root.Policy = store.PartnershipPolicy{PersonalData: store.PersonalDataStrip, Reviewers: []string{"cncert-cc"}}
	if err := s.UpdateAPIRoot(ctx, root); err != nil {
		t.Fatalf("update root: %v", err)
	}
	list, err := s.APIRoots(ctx)
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], root) {
		t.Errorf("roots after update: %+v, %v; want [%+v]", list, err, root)
	}

	c := store.Collection{ID: newUUID(), APIRoot: root.Slug, Title: "Records", Policy: store.CollectionPolicy{
		AllowedTypes: []string{"identity", "location"}, DeniedProperties: []string{"x_grounds"}, MaxTLP: store.TLPAmber,
		Unmarked: store.UnmarkedRefuse, Review: store.ReviewOwnMember, ReviewTimeout: 36 * time.Hour,
		AllowedProperties: map[string][]string{
			"identity": {"identity_class", "name", "x_legal_status"}, "location": {"country"}, "relationship": nil}}}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatalf("create collection: %v", err)
	}
	if got, err := s.Collection(ctx, root.Slug, c.ID); err != nil || !sameCollection(got, c) {
		t.Errorf("collection: %+v, %v; want %+v", got, err, c)
	}
	c.Policy = store.CollectionPolicy{MaxTLP: store.TLPRed, Review: store.ReviewPartnership, Retention: 180 * 24 * time.Hour}
	if err := s.UpdateCollection(ctx, c); err != nil {
		t.Fatalf("update collection: %v", err)
	}
	cs, err := s.Collections(ctx, root.Slug)
	if err != nil || len(cs) != 1 || !sameCollection(cs[0], c) {
		t.Errorf("collections after update: %+v, %v; want [%+v]", cs, err, c)
	}
}

func membershipsLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	rootA, _, rootB, _ := grantFixture(t, s)
	eu := store.Membership{MemberID: "cert-eu", APIRoot: rootA, Role: store.RolePublisher, Clearance: store.TLPAmber}
	jp := store.Membership{MemberID: "jpcert", APIRoot: rootA, Role: store.RoleReader}
	for _, m := range []store.Membership{jp, eu, {MemberID: "cert-eu", APIRoot: rootB, Role: store.RoleBoth}} {
		if err := s.PutMembership(ctx, m); err != nil {
			t.Fatalf("put %+v: %v", m, err)
		}
	}
	wantErrIs(t, "membership of a missing member",
		s.PutMembership(ctx, store.Membership{MemberID: "nobody", APIRoot: rootA, Role: store.RoleBoth}), store.ErrNotFound)
	wantErrIs(t, "membership of a missing root",
		s.PutMembership(ctx, store.Membership{MemberID: "cert-eu", APIRoot: "nowhere", Role: store.RoleBoth}), store.ErrNotFound)

	eu.Role, eu.Clearance = store.RoleBoth, store.TLPRed
	if err := s.PutMembership(ctx, eu); err != nil {
		t.Fatalf("replace: %v", err)
	}
	got, err := s.Membership(ctx, "cert-eu", rootA)
	if err != nil || got != eu {
		t.Errorf("membership after replacing: %+v, %v; want %+v", got, err, eu)
	}
	list, err := s.Memberships(ctx, rootA)
	if want := []store.Membership{eu, jp}; err != nil || !slices.Equal(list, want) {
		t.Errorf("memberships of %s: %+v, %v; want %+v (ordered by member)", rootA, list, err, want)
	}
	if err := s.DeleteMembership(ctx, "jpcert", rootA); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = s.Membership(ctx, "jpcert", rootA)
	wantErrIs(t, "deleted membership", err, store.ErrNotFound)
	wantErrIs(t, "delete it again", s.DeleteMembership(ctx, "jpcert", rootA), store.ErrNotFound)

	if err := s.DeleteMember(ctx, "cert-eu", time.Now()); err != nil {
		t.Fatalf("delete member: %v", err)
	}
	for _, root := range []string{rootA, rootB} {
		if list, err := s.Memberships(ctx, root); err != nil || len(list) != 0 {
			t.Errorf("memberships of %s after deleting the member: %+v, %v", root, list, err)
		}
	}
}

func jurisdictionsEnforced(t *testing.T, s store.Store) {
	ctx := t.Context()
	eu := []string{"EU", "NL"}
	root := store.APIRoot{Slug: "eu-immigration-ct", Title: "Immigration", Policy: store.PartnershipPolicy{Jurisdictions: eu}}
	if err := s.CreateAPIRoot(ctx, root); err != nil {
		t.Fatal(err)
	}
	coll := newCollectionIn(t, s, root.Slug)
	frontex := store.Member{ID: "frontex", Name: "Frontex", Jurisdiction: "EU"}
	cn := store.Member{ID: "cncert", Name: "CNCERT", Jurisdiction: "CN"}
	for _, m := range []store.Member{frontex, cn} {
		if err := s.CreateMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	wantErrIs(t, "membership from outside", s.PutMembership(ctx,
		store.Membership{MemberID: "cncert", APIRoot: root.Slug, Role: store.RoleReader}), store.ErrJurisdiction)
	wantErrIs(t, "grant to a member from outside", s.PutGrant(ctx,
		store.Grant{MemberID: "cncert", APIRoot: root.Slug, CollectionID: coll, Read: true}), store.ErrJurisdiction)
	if err := s.PutMembership(ctx, store.Membership{MemberID: "frontex", APIRoot: root.Slug, Role: store.RolePublisher}); err != nil {
		t.Fatalf("membership from inside: %v", err)
	}
	if err := s.PutGrant(ctx, store.Grant{MemberID: "frontex", APIRoot: root.Slug, CollectionID: coll, Write: true}); err != nil {
		t.Fatalf("grant from inside: %v", err)
	}
	if ms, _ := s.Memberships(ctx, root.Slug); len(ms) != 1 {
		t.Errorf("memberships: %+v, want frontex's alone", ms)
	}
	if gs, _ := s.CollectionGrants(ctx, coll); len(gs) != 1 {
		t.Errorf("grants: %+v, want frontex's alone", gs)
	}

	moved := frontex
	moved.Jurisdiction = "US"
	wantErrIs(t, "a member moving outside", s.UpdateMember(ctx, moved), store.ErrJurisdiction)
	if got, _ := s.Member(ctx, "frontex"); got != frontex {
		t.Errorf("member after a refused update: %+v, want %+v", got, frontex)
	}
	tighter := root
	tighter.Policy.Jurisdictions = []string{"NL"}
	wantErrIs(t, "a policy excluding a member", s.UpdateAPIRoot(ctx, tighter), store.ErrJurisdiction)
	if got, _ := s.APIRoot(ctx, root.Slug); !reflect.DeepEqual(got, root) {
		t.Errorf("root after a refused update: %+v, want %+v", got, root)
	}
	looser := root
	looser.Policy.Jurisdictions = []string{"EU", "NL", "US"}
	if err := s.UpdateAPIRoot(ctx, looser); err != nil {
		t.Fatalf("widen the policy: %v", err)
	}
	if err := s.UpdateMember(ctx, moved); err != nil {
		t.Errorf("move within the widened policy: %v", err)
	}
	// A member in no restricted partnership may move anywhere.
	cn.Jurisdiction = "JP"
	if err := s.UpdateMember(ctx, cn); err != nil {
		t.Errorf("move a member outside every restricted partnership: %v", err)
	}
}

func indicatorID(n int) string { return fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", n) }

// tlpObject is an indicator marked at level tlp, as Publish callers pass it.
func tlpObject(n int, modified string, tlp store.TLP) store.Object {
	o := indicator(indicatorID(n), modified, n)
	o.TLP = tlp
	return o
}

func clearancePages(t *testing.T, s store.Store) {
	coll := newCollection(t, s)
	levels := []store.TLP{store.TLPNone, store.TLPClear, store.TLPGreen, store.TLPAmber, store.TLPAmberStrict, store.TLPRed}
	// Objects also come at the level of a marking the hub could not classify, which only readers
	// without a clearance see.
	marked := append(slices.Clone(levels), store.TLPUnknown)
	var objs []store.Object
	for i := range 35 {
		objs = append(objs, tlpObject(i, "2026-01-01T00:00:00.000Z", marked[i%len(marked)]))
	}
	mustAdd(t, s, coll, objs...)
	for _, clearance := range levels {
		var want []string
		for _, o := range objs {
			if clearance.Admits(o.TLP) {
				want = append(want, o.ID)
			}
		}
		for _, manifest := range []bool{false, true} {
			for _, limit := range []int{1, 2, 7, 100} {
				got := readAll(t, s, coll, store.Query{Limit: limit, MaxTLP: clearance}, manifest)
				if !slices.Equal(ids(got), want) {
					t.Errorf("clearance %q, limit %d, manifest %v: got %d records %v, want %d %v",
						clearance, limit, manifest, len(got), ids(got), len(want), want)
				}
				for _, r := range got {
					if !clearance.Admits(r.TLP) || (r.TLP == store.TLPUnknown && clearance != store.TLPNone) {
						t.Errorf("clearance %q: served %s at %q", clearance, r.ID, r.TLP)
					}
				}
			}
		}
		// The last page that holds a visible version says there is no more, even with hidden ones
		// after it.
		if len(want) > 0 {
			p, err := s.Objects(t.Context(), coll, store.Query{Limit: len(want), MaxTLP: clearance})
			if err != nil || len(p.Records) != len(want) || p.More {
				t.Errorf("clearance %q: one page of exactly the visible versions: %d records, more %v, %v",
					clearance, len(p.Records), p.More, err)
			}
		}
	}
}

// clearanceBeforeVersionFilters: a reader sees the collection as if it held only what it may read,
// so match[version]=last picks the newest version it may read.
func clearanceBeforeVersionFilters(t *testing.T, s store.Store) {
	coll := newCollection(t, s)
	v1 := tlpObject(1, "2026-01-01T00:00:00.000Z", store.TLPGreen)
	v2 := tlpObject(1, "2026-02-01T00:00:00.000Z", store.TLPRed)
	mustAdd(t, s, coll, v1, v2)
	for _, tc := range []struct {
		clearance store.TLP
		versions  store.VersionMatch
		want      []time.Time
	}{
		{store.TLPGreen, store.VersionMatch{}, []time.Time{v1.Version}},
		{store.TLPGreen, store.VersionMatch{All: true}, []time.Time{v1.Version}},
		{store.TLPRed, store.VersionMatch{}, []time.Time{v2.Version}},
		{store.TLPNone, store.VersionMatch{First: true}, []time.Time{v1.Version}},
		{store.TLPClear, store.VersionMatch{All: true}, nil},
	} {
		q := store.Query{Limit: 10, MaxTLP: tc.clearance, IDs: []string{v1.ID},
			VersionFilter: store.VersionFilter{Versions: tc.versions}}
		got := readAll(t, s, coll, q, true)
		var versions []time.Time
		for _, r := range got {
			versions = append(versions, r.Version)
		}
		if !slices.EqualFunc(versions, tc.want, time.Time.Equal) {
			t.Errorf("clearance %q, versions %+v: got %v, want %v", tc.clearance, tc.versions, versions, tc.want)
		}
	}
}
