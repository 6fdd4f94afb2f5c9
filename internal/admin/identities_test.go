package admin_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/identity"
	"taxiihub/internal/sharing"
	"taxiihub/internal/stix"
	"taxiihub/internal/store"
)

// served reads every version of the member's identity in the partnership's members collection,
// oldest first.
func served(t *testing.T, st store.Store, slug, memberID string) []store.Record {
	t.Helper()
	colls, err := st.Collections(t.Context(), slug)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(colls, func(c store.Collection) bool { return c.Members })
	if i < 0 {
		t.Fatalf("partnership %s has no members collection among %+v", slug, colls)
	}
	page, err := st.Objects(t.Context(), colls[i].ID, store.Query{IDs: []string{identity.OfMember(memberID)},
		VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return page.Records
}

type identityJSON struct {
	Type               string `json:"type"`
	SpecVersion        string `json:"spec_version"`
	ID                 string `json:"id"`
	Created            string `json:"created"`
	Modified           string `json:"modified"`
	Name               string `json:"name"`
	Description        string `json:"description"`
	IdentityClass      string `json:"identity_class"`
	ContactInformation string `json:"contact_information"`
}

// checkIdentity checks that raw is a valid STIX 2.1 identity of the member, as the hub's own
// validator judges what partners post.
func checkIdentity(t *testing.T, raw []byte, m admin.Member) identityJSON {
	t.Helper()
	v, err := stix.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	// Its one finding is a SHOULD, and the design's: the id is a UUIDv5 derived from the member id,
	// where STIX recommends a random UUIDv4.
	verdict := v.Object(raw)
	if !verdict.Valid() || len(verdict.Warnings) != 1 || verdict.Warnings[0].Code != "uuid-version" {
		t.Errorf("the identity of %s is not valid STIX 2.1: %+v\n%s", m.ID, verdict, raw)
	}
	var got identityJSON
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := identityJSON{Type: "identity", SpecVersion: "2.1", ID: identity.OfMember(m.ID), Name: m.Name,
		IdentityClass: "organization", ContactInformation: m.Contact, Created: got.Created, Modified: got.Modified,
		Description: "Member " + m.ID + " of the hub, established in " + m.Jurisdiction + "."}
	if got != want {
		t.Errorf("identity of %s:\n got %+v\nwant %+v", m.ID, got, want)
	}
	for _, ts := range []string{got.Created, got.Modified} {
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", ts); err != nil {
			t.Errorf("timestamp %q is not UTC with milliseconds: %v", ts, err)
		}
	}
	return got
}

func TestAMemberJoiningAPartnershipIsServedItsIdentity(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, p := range []string{"eu-japan", "eu-china-cyber"} {
		if _, err := e.svc.CreatePartnership(ctx, "alice", admin.Partnership{Slug: p, Title: p}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateCollection(ctx, "alice", admin.Collection{Partnership: p, Alias: "indicators", Title: "Indicators"}); err != nil {
			t.Fatal(err)
		}
	}
	certEU := admin.Member{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU", Contact: "liaison@cert-eu.example"}
	jpcert := admin.Member{ID: "jpcert-cc", Name: "JPCERT/CC", Jurisdiction: "JP"}
	cncert := admin.Member{ID: "cncert-cc", Name: "CNCERT/CC", Jurisdiction: "CN"}
	for _, m := range []admin.Member{certEU, jpcert, cncert} {
		if _, err := e.svc.AddMember(ctx, "alice", m); err != nil {
			t.Fatal(err)
		}
	}
	// A new partnership has its members collection at once, listed apart from the operators'.
	d, err := e.svc.Partnership(ctx, "eu-japan")
	if err != nil {
		t.Fatal(err)
	}
	if d.MembersCollection == nil || d.MembersCollection.Alias != "members" || len(d.Collections) != 1 {
		t.Fatalf("eu-japan: members collection %+v beside collections %+v", d.MembersCollection, d.Collections)
	}
	if got := served(t, e.store, "eu-japan", "cert-eu"); len(got) != 0 {
		t.Errorf("an identity served before its member joined: %d versions", len(got))
	}
	auditBefore := len(auditActions(t, e.store))

	// A grant, or a membership alone, makes a member join.
	if _, err := e.svc.PutGrant(ctx, "alice", admin.Grant{Member: "cert-eu", Partnership: "eu-japan", Collection: "indicators", Read: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PutGrant(ctx, "alice", admin.Grant{Member: "jpcert-cc", Partnership: "eu-japan", Collection: "indicators", Write: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PutMembership(ctx, "alice", admin.Membership{Member: "cert-eu", Partnership: "eu-china-cyber", Role: "reader"}, false); err != nil {
		t.Fatal(err)
	}
	var first []byte
	for _, slug := range []string{"eu-japan", "eu-china-cyber"} {
		got := served(t, e.store, slug, "cert-eu")
		if len(got) != 1 {
			t.Fatalf("cert-eu's identity in %s: %d versions, want 1", slug, len(got))
		}
		id := checkIdentity(t, got[0].Content, certEU)
		if id.Created != id.Modified {
			t.Errorf("a first version with created %s and modified %s", id.Created, id.Modified)
		}
		if first != nil && string(got[0].Content) != string(first) {
			t.Errorf("the partnerships serve different identities of cert-eu:\n%s\n%s", first, got[0].Content)
		}
		first = got[0].Content
	}
	if got := served(t, e.store, "eu-japan", "jpcert-cc"); len(got) != 1 {
		t.Errorf("jpcert-cc's identity in eu-japan: %d versions, want 1", len(got))
	}
	for _, who := range []string{"jpcert-cc", "cncert-cc"} {
		if got := served(t, e.store, "eu-china-cyber", who); len(got) != 0 {
			t.Errorf("%s's identity is served in a partnership it is not in", who)
		}
	}
	// The hub's upkeep follows from the operator's actions, which alone are recorded.
	if got := auditActions(t, e.store)[auditBefore:]; len(got) != 3 {
		t.Errorf("audit trail after two grants and a membership:\n  %s", strings.Join(got, "\n  "))
	}

	// Every member holding a grant in eu-japan reads the members collection, and writes nothing
	// into it; a member of another partnership does not even see it.
	v, err := stix.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	partners, err := sharing.New(sharing.Config{Store: e.store, Checker: v})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PutGrant(ctx, "alice", admin.Grant{Member: "cncert-cc", Partnership: "eu-china-cyber", Collection: "indicators", Read: true}); err != nil {
		t.Fatal(err)
	}
	caller := func(id string) auth.Principal {
		grants, err := e.store.Grants(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return auth.NewPrincipal(id, "token-"+id, grants)
	}
	for _, who := range []string{"cert-eu", "jpcert-cc"} {
		acc, err := partners.Access(ctx, caller(who), "eu-japan", "members")
		if err != nil || !acc.CanRead() || acc.CanWrite() {
			t.Errorf("%s on eu-japan/members: %+v, %v; want read only", who, acc, err)
		}
	}
	acc, err := partners.Access(ctx, caller("cert-eu"), "eu-japan", "members")
	if err != nil {
		t.Fatal(err)
	}
	page, err := partners.Objects(ctx, acc, store.Query{Limit: 10})
	if err != nil || len(page.Records) != 2 {
		t.Errorf("cert-eu reads eu-japan/members: %d records, %v; want the identities of cert-eu and jpcert-cc", len(page.Records), err)
	}
	_, err = partners.Access(ctx, caller("cncert-cc"), "eu-japan", "members")
	if se := (*sharing.Error)(nil); !errors.As(err, &se) || se.Kind != sharing.NotFound {
		t.Errorf("cncert-cc, in another partnership, on eu-japan/members: %v; want not found", err)
	}
}

func TestARenamedMemberGetsANewVersionEverywhere(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	spec := parse(t, `
partnerships:
  - slug: eu-japan
    title: EU–Japan
    collections: [{alias: cyber-threats, title: Cyber threats}]
  - slug: eu-china-cyber
    title: EU–China
members:
  - {id: cert-eu, name: CERT-EU, jurisdiction: EU, contact: liaison@cert-eu.example}
memberships:
  - {member: cert-eu, partnership: eu-china-cyber, role: both}
grants:
  - {member: cert-eu, partnership: eu-japan, collection: cyber-threats, read: true, write: true}
`)
	if _, err := e.svc.Apply(ctx, "alice", spec, false, false); err != nil {
		t.Fatal(err)
	}
	before := served(t, e.store, "eu-japan", "cert-eu")
	if len(before) != 1 {
		t.Fatalf("after the first apply: %d versions, want 1", len(before))
	}
	old := checkIdentity(t, before[0].Content, spec.Members[0])

	for _, change := range []func(*admin.Member){
		func(m *admin.Member) { m.Name = "CERT-EU, the Union's cybersecurity service" },
		func(m *admin.Member) { m.Contact = "" },
		func(m *admin.Member) { m.Jurisdiction = "BE" },
	} {
		change(&spec.Members[0])
		res, err := e.svc.Apply(ctx, "alice", spec, false, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := changeLines(res.Changes); !slices.Equal(got, []string{"update member cert-eu"}) {
			t.Errorf("changes: %v; want only the member's update (the identity is the hub's upkeep)", got)
		}
		var newest []byte
		for _, slug := range []string{"eu-japan", "eu-china-cyber"} {
			got := served(t, e.store, slug, "cert-eu")
			last := got[len(got)-1]
			id := checkIdentity(t, last.Content, spec.Members[0])
			if id.Created != old.Created || id.Modified <= old.Modified {
				t.Errorf("%s: new version created %s modified %s after created %s modified %s; want the same created and a later modified",
					slug, id.Created, id.Modified, old.Created, old.Modified)
			}
			if newest != nil && string(newest) != string(last.Content) {
				t.Errorf("the partnerships serve different versions:\n%s\n%s", newest, last.Content)
			}
			newest = last.Content
		}
		if err := json.Unmarshal(newest, &old); err != nil {
			t.Fatal(err)
		}
	}
	if got := served(t, e.store, "eu-japan", "cert-eu"); len(got) != 4 {
		t.Errorf("after three changes: %d versions, want 4", len(got))
	}

	// Applying the same file again changes nothing, identities included.
	res, err := e.svc.Apply(ctx, "alice", spec, false, false)
	if err != nil || len(res.Changes) != 0 {
		t.Errorf("applying again: %v, %v; want no changes", res.Changes, err)
	}
	if got := served(t, e.store, "eu-japan", "cert-eu"); len(got) != 4 {
		t.Errorf("applying again made a version: %d versions, want 4", len(got))
	}
}

// A hub from before members collections gets them, and its members their identities, when it
// starts (KeepIdentities); doing it again changes nothing.
func TestKeepIdentitiesServesPartnershipsOlderThanMembersCollections(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	st := e.store
	if err := st.CreateAPIRoot(ctx, store.APIRoot{Slug: "eu-japan", Title: "EU–Japan"}); err != nil {
		t.Fatal(err)
	}
	// An operator's collection that took the alias before the hub needed it.
	for _, c := range []store.Collection{
		{ID: "5d0f2f84-8a8f-4a43-9f6e-2f6a2e1b7c01", APIRoot: "eu-japan", Title: "Indicators", Alias: "indicators"},
		{ID: "5d0f2f84-8a8f-4a43-9f6e-2f6a2e1b7c02", APIRoot: "eu-japan", Title: "Member notes", Alias: "members"},
	} {
		if err := st.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	m := store.Member{ID: "jpcert-cc", Name: "JPCERT/CC", Jurisdiction: "JP"}
	if err := st.CreateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := st.PutGrant(ctx, store.Grant{MemberID: m.ID, APIRoot: "eu-japan", CollectionID: "5d0f2f84-8a8f-4a43-9f6e-2f6a2e1b7c01", Read: true}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.svc.KeepIdentities(ctx); err != nil {
			t.Fatal(err)
		}
	}
	d, err := e.svc.Partnership(ctx, "eu-japan")
	if err != nil {
		t.Fatal(err)
	}
	if d.MembersCollection == nil || d.MembersCollection.Alias != "" || len(d.Collections) != 2 {
		t.Errorf("members collection %+v beside %+v; want one without alias, the operator's keeping it", d.MembersCollection, d.Collections)
	}
	if got := served(t, st, "eu-japan", m.ID); len(got) != 1 {
		t.Errorf("%d versions of the identity, want 1", len(got))
	} else {
		checkIdentity(t, got[0].Content, admin.Member{ID: m.ID, Name: m.Name, Jurisdiction: m.Jurisdiction})
	}
	if got := auditActions(t, st); len(got) != 0 {
		t.Errorf("the hub's upkeep is in the operators' audit trail: %v", got)
	}
}

// The members collection is the hub's: operators neither grant on it, change its rules, delete it
// nor name it in a spec; it goes with its partnership.
func TestTheMembersCollectionIsTheHubs(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	refuse := func(_ any, err error) error { return err }
	if _, err := e.svc.CreatePartnership(ctx, "alice", admin.Partnership{Slug: "eu-japan", Title: "EU–Japan"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddMember(ctx, "alice", admin.Member{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU"}); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "a grant on it", refuse(e.svc.PutGrant(ctx, "alice",
		admin.Grant{Member: "cert-eu", Partnership: "eu-japan", Collection: "members", Read: true})), admin.Conflict, "members collection")
	wantKind(t, "its rules", refuse(e.svc.SetCollectionPolicy(ctx, "alice", "eu-japan", "members", admin.CollectionPolicy{}, false)),
		admin.Conflict, "members collection")
	wantKind(t, "a collection taking its alias", refuse(e.svc.CreateCollection(ctx, "alice",
		admin.Collection{Partnership: "eu-japan", Alias: "members", Title: "Ours"})), admin.Invalid, `alias "members"`)
	wantKind(t, "a spec naming it", refuse(e.svc.Apply(ctx, "alice", parse(t, `
partnerships:
  - slug: eu-japan
    title: EU–Japan
    collections: [{alias: members, title: Ours}]
  - slug: eu-china-cyber
    title: EU–China
    collections: [{alias: members, title: Ours}]
grants:
  - {member: cert-eu, partnership: eu-japan, collection: members, read: true}
`), false, false)), admin.Invalid, "collection eu-japan/members", "collection eu-china-cyber/members", "grant of cert-eu on eu-japan/members")
	wantKind(t, "deleting it", refuse(e.svc.DeleteCollection(ctx, "alice", "eu-japan", "members")), admin.Conflict, "members collection")
	if cs, err := e.svc.Collections(ctx, "eu-japan"); err != nil || len(cs) != 0 {
		t.Errorf("collection list: %+v, %v; want none of the operators'", cs, err)
	}

	// It does not keep its partnership alive, nor does it let one with collections go.
	if _, err := e.svc.CreateCollection(ctx, "alice", admin.Collection{Partnership: "eu-japan", Alias: "indicators", Title: "Indicators"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PutGrant(ctx, "alice", admin.Grant{Member: "cert-eu", Partnership: "eu-japan", Collection: "indicators", Read: true}); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "deleting a partnership with a collection", refuse(e.svc.DeletePartnership(ctx, "alice", "eu-japan")), admin.Conflict, "still has collections")
	if _, err := e.svc.DeleteCollection(ctx, "alice", "eu-japan", "indicators"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DeletePartnership(ctx, "alice", "eu-japan"); err != nil {
		t.Errorf("deleting a partnership left with its members collection only: %v", err)
	}
}

func TestLedgerEntriesNameTheMembersIdentity(t *testing.T) {
	e := admin.LedgerEntryOf(store.LedgerEntry{Seq: 1, Kind: store.LedgerPull, Member: "cert-eu"})
	if e.MemberIdentity != "identity--e12073d7-cd06-5e1c-b3ad-93922c0d080d" {
		t.Errorf("member_identity %q", e.MemberIdentity)
	}
	if e := admin.LedgerEntryOf(store.LedgerEntry{Seq: 2, Kind: store.LedgerPull}); e.MemberIdentity != "" {
		t.Errorf("an entry without member names identity %q", e.MemberIdentity)
	}
}
