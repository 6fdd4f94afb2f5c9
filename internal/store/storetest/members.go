package storetest

import (
	"testing"

	"taxiihub/internal/store"
)

var membersCases = []testCase{
	{"MembersCollectionIsMarkedAndOnePerRoot", membersCollectionMarked},
	{"DeleteAPIRootTakesTheMembersCollectionAlong", deleteRootWithMembersCollection},
}

func membersCollectionMarked(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, slug := range []string{"a", "b"} {
		if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: slug, Title: slug}); err != nil {
			t.Fatalf("create root: %v", err)
		}
	}
	members := store.Collection{ID: newUUID(), APIRoot: "a", Title: "Members", Alias: "members", Members: true,
		Policy: store.CollectionPolicy{AllowedTypes: []string{"identity"}}}
	if err := s.CreateCollection(ctx, members); err != nil {
		t.Fatalf("create the members collection: %v", err)
	}
	plain := newCollectionIn(t, s, "a")
	wantErrIs(t, "a second members collection in the root",
		s.CreateCollection(ctx, store.Collection{ID: newUUID(), APIRoot: "a", Title: "Members again", Members: true}), store.ErrConflict)
	if err := s.CreateCollection(ctx, store.Collection{ID: newUUID(), APIRoot: "b", Title: "Members", Members: true}); err != nil {
		t.Errorf("the members collection of another root: %v", err)
	}

	for _, ref := range []string{members.ID, "members"} {
		got, err := s.Collection(ctx, "a", ref)
		if err != nil || !got.Members || !sameCollection(got, members) {
			t.Errorf("find by %q: %+v, %v; want %+v", ref, got, err, members)
		}
	}
	list, err := s.Collections(ctx, "a")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, c := range list {
		if c.Members != (c.ID == members.ID) {
			t.Errorf("listed %s (%s) with Members %v", c.ID, c.Title, c.Members)
		}
	}
	if got, err := s.Collection(ctx, "a", plain); err != nil || got.Members {
		t.Errorf("an ordinary collection: %+v, %v; want Members false", got, err)
	}

	// Members never changes, whatever an update carries.
	renamed := members
	renamed.Title, renamed.Members = "Who is who", false
	if err := s.UpdateCollection(ctx, renamed); err != nil {
		t.Fatalf("update: %v", err)
	}
	if got, err := s.Collection(ctx, "a", members.ID); err != nil || !got.Members || got.Title != "Who is who" {
		t.Errorf("after an update carrying Members false: %+v, %v; want it still the members collection", got, err)
	}
	promoted, err := s.Collection(ctx, "a", plain)
	if err != nil {
		t.Fatal(err)
	}
	promoted.Members = true
	if err := s.UpdateCollection(ctx, promoted); err != nil {
		t.Fatalf("update: %v", err)
	}
	if got, err := s.Collection(ctx, "a", plain); err != nil || got.Members {
		t.Errorf("after an update carrying Members true: %+v, %v; want an ordinary collection still", got, err)
	}
}

func deleteRootWithMembersCollection(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: "eu-japan", Title: "EU–Japan"}); err != nil {
		t.Fatalf("create root: %v", err)
	}
	members := store.Collection{ID: newUUID(), APIRoot: "eu-japan", Title: "Members", Members: true}
	if err := s.CreateCollection(ctx, members); err != nil {
		t.Fatalf("create the members collection: %v", err)
	}
	other := newCollectionIn(t, s, "eu-japan")
	if err := s.CreateMember(ctx, certEU); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{members.ID, other} {
		if err := s.PutGrant(ctx, store.Grant{MemberID: certEU.ID, APIRoot: "eu-japan", CollectionID: c, Read: true}); err != nil {
			t.Fatalf("grant: %v", err)
		}
	}
	identity := object("identity", "identity--e12073d7-cd06-5e1c-b3ad-93922c0d080d", "2.1", "2026-01-01T00:00:00.000Z", "CERT-EU")
	mustAdd(t, s, members.ID, identity)

	wantErrIs(t, "delete a root holding a collection besides its members collection", s.DeleteAPIRoot(ctx, "eu-japan"), store.ErrConflict)
	if got := readAll(t, s, members.ID, store.Query{Limit: 10}, false); len(got) != 1 {
		t.Errorf("the refused delete touched the members collection: %d records", len(got))
	}
	if err := s.DeleteCollection(ctx, "eu-japan", other); err != nil {
		t.Fatalf("delete collection: %v", err)
	}
	if err := s.DeleteAPIRoot(ctx, "eu-japan"); err != nil {
		t.Fatalf("delete a root holding only its members collection: %v", err)
	}
	_, err := s.Collection(ctx, "eu-japan", members.ID)
	wantErrIs(t, "find the members collection of a deleted root", err, store.ErrNotFound)
	_, err = s.Objects(ctx, members.ID, store.Query{Limit: 10})
	wantErrIs(t, "read the members collection of a deleted root", err, store.ErrNotFound)
	if grants, err := s.Grants(ctx, certEU.ID); err != nil || len(grants) != 0 {
		t.Errorf("grants after the root was deleted: %+v, %v; want none", grants, err)
	}

	// A root of the same slug starts empty, and may have a members collection of its own.
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: "eu-japan", Title: "EU–Japan"}); err != nil {
		t.Fatalf("create the root again: %v", err)
	}
	if list, err := s.Collections(ctx, "eu-japan"); err != nil || len(list) != 0 {
		t.Errorf("collections of the new root: %+v, %v; want none", list, err)
	}
	if err := s.CreateCollection(ctx, store.Collection{ID: newUUID(), APIRoot: "eu-japan", Title: "Members", Members: true}); err != nil {
		t.Errorf("a members collection for the new root: %v", err)
	}
}
