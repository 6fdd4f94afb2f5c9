package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"taxiihub/internal/identity"
	"taxiihub/internal/store"
)

// Every partnership has a members collection: the STIX identity of each of its members, kept by the
// hub so that readers can tell who authored what (created_by_ref) and whom the ledger names. Every
// member holding a grant in the partnership reads it and no member writes into it (the sharing
// layer derives that from the other grants); the hub writes each identity on nobody's behalf, as
// the member joins and whenever its details change.
const (
	membersAlias       = "members"
	membersTitle       = "Members"
	membersDescription = "The STIX identities of this partnership's members, kept by the hub, " +
		"for created_by_ref and for knowing who is who. Read-only."
	stixMediaType = "application/stix+json;version=2.1"
)

// stixTime is how STIX timestamps are written: UTC with milliseconds, the precision STIX requires
// of created and modified.
const stixTime = "2006-01-02T15:04:05.000Z"

// stixIdentity is the STIX identity of a member at one version. Its encoding is the object's: the hub
// compares it byte for byte with what it served, so the fields' order is the encoding's.
//
// It carries no x_taxiihub_ property: partners may pass the identity on as it is (as the author
// of what they forward), which the hub refuses of objects with its own properties, and the member
// is named in plain words instead.
type stixIdentity struct {
	Type               string `json:"type"`
	SpecVersion        string `json:"spec_version"`
	ID                 string `json:"id"`
	Created            string `json:"created"`
	Modified           string `json:"modified"`
	Name               string `json:"name"`
	Description        string `json:"description"`
	IdentityClass      string `json:"identity_class"`
	ContactInformation string `json:"contact_information,omitempty"`
}

// identityObject is the identity of m created and last modified at the times given.
func identityObject(m store.Member, created, modified time.Time) (store.Object, error) {
	content, err := json.Marshal(stixIdentity{
		Type: "identity", SpecVersion: "2.1", ID: identity.OfMember(m.ID),
		Created: created.UTC().Format(stixTime), Modified: modified.UTC().Format(stixTime),
		Name: m.Name, Description: fmt.Sprintf("Member %s of the hub, established in %s.", m.ID, m.Jurisdiction),
		IdentityClass: "organization", ContactInformation: m.Contact,
	})
	if err != nil {
		return store.Object{}, fmt.Errorf("encode the identity of %s: %w", m.ID, err)
	}
	return store.Object{ID: identity.OfMember(m.ID), Type: "identity", SpecVersion: "2.1",
		Version: modified.UTC(), Content: content}, nil
}

// membersCollection returns the partnership's members collection, creating it when it has none.
// Two hub processes may create it at once: the store keeps one per partnership and the other finds
// it. An operator's collection may hold the alias already, in partnerships older than members
// collections; the hub's then goes without.
func (s *Service) membersCollection(ctx context.Context, slug string) (store.Collection, error) {
	want := store.Collection{ID: uuid.NewString(), APIRoot: slug, Title: membersTitle, Alias: membersAlias,
		Description: membersDescription, MediaTypes: []string{stixMediaType}, Members: true,
		Policy: store.CollectionPolicy{AllowedTypes: []string{"identity"}}}
	for range 3 {
		colls, err := s.store.Collections(ctx, slug)
		if err != nil {
			return store.Collection{}, fmt.Errorf("admin: collections of %s: %w", slug, err)
		}
		if i := slices.IndexFunc(colls, func(c store.Collection) bool { return c.Members }); i >= 0 {
			return colls[i], nil
		}
		if slices.ContainsFunc(colls, func(c store.Collection) bool { return c.Alias == membersAlias }) {
			want.Alias = ""
		}
		err = s.store.CreateCollection(ctx, want)
		if err == nil {
			s.log.InfoContext(ctx, "created the members collection", "partnership", slug, "collection", want.ID)
			return want, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return store.Collection{}, fmt.Errorf("admin: create the members collection of %s: %w", slug, err)
		}
		// Another process created it, or an operator took the alias, meanwhile: look again.
	}
	return store.Collection{}, fmt.Errorf("admin: create the members collection of %s: %w", slug, store.ErrConflict)
}

// servedIdentity is the newest version of a member's identity that one members collection holds.
type servedIdentity struct {
	collection store.Collection
	// newest is the newest version, or nil when the collection holds none.
	newest *store.Record
}

// KeepIdentities makes the hub's members collections whole: every partnership gets its members
// collection, and every member holding a grant or membership in one has its current identity
// there. It changes nothing when all are in place, so the hub runs it at every start (which serves
// identities in partnerships older than members collections) and at the end of every apply.
func (s *Service) KeepIdentities(ctx context.Context) error {
	roots, err := s.store.APIRoots(ctx)
	if err != nil {
		return fmt.Errorf("admin: list partnerships: %w", err)
	}
	partnerships := map[string][]string{} // of each member
	for _, r := range roots {
		if _, err := s.membersCollection(ctx, r.Slug); err != nil {
			return err
		}
		ids, err := s.participants(ctx, r.Slug)
		if err != nil {
			return err
		}
		for _, id := range ids {
			partnerships[id] = append(partnerships[id], r.Slug)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(partnerships)) {
		if err := s.serveIdentity(ctx, id, partnerships[id]); err != nil {
			return err
		}
	}
	return nil
}

// keepIdentity serves the member's current identity in every partnership it holds a grant or
// membership in. Operator actions that make a member join a partnership call it once they are done.
func (s *Service) keepIdentity(ctx context.Context, memberID string) error {
	grants, err := s.store.Grants(ctx, memberID)
	if err != nil {
		return fmt.Errorf("admin: grants of %s: %w", memberID, err)
	}
	var slugs []string
	for _, g := range grants {
		slugs = append(slugs, g.APIRoot)
	}
	roots, err := s.store.APIRoots(ctx)
	if err != nil {
		return fmt.Errorf("admin: list partnerships: %w", err)
	}
	for _, r := range roots {
		_, err := s.store.Membership(ctx, memberID, r.Slug)
		switch {
		case err == nil:
			slugs = append(slugs, r.Slug)
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("admin: membership of %s in %s: %w", memberID, r.Slug, err)
		}
	}
	return s.serveIdentity(ctx, memberID, store.SortedSet(slugs))
}

// serveIdentity puts the member's current identity into the members collection of each partnership
// given. The current identity is the newest version served anywhere while it still says what the
// member's record says, so that every partnership serves the same version; otherwise a new version,
// modified now, of the same object (same id, same created).
func (s *Service) serveIdentity(ctx context.Context, memberID string, slugs []string) error {
	if len(slugs) == 0 {
		return nil
	}
	m, err := s.store.Member(ctx, memberID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // removed meanwhile: it has no identity to serve any more
	}
	if err != nil {
		return fmt.Errorf("admin: member %s: %w", memberID, err)
	}
	id := identity.OfMember(memberID)
	served := make([]servedIdentity, 0, len(slugs))
	var newest *store.Record
	for _, slug := range slugs {
		c, err := s.membersCollection(ctx, slug)
		if err != nil {
			return err
		}
		page, err := s.store.Objects(ctx, c.ID, store.Query{IDs: []string{id}, Limit: 1})
		if err != nil {
			return fmt.Errorf("admin: the identity of %s in %s: %w", memberID, slug, err)
		}
		sv := servedIdentity{collection: c}
		if len(page.Records) > 0 {
			sv.newest = &page.Records[0]
			if newest == nil || sv.newest.Version.After(newest.Version) {
				newest = sv.newest
			}
		}
		served = append(served, sv)
	}
	current, err := s.currentIdentity(m, newest)
	if err != nil {
		return err
	}
	for _, sv := range served {
		if sv.newest != nil && sv.newest.Version.Equal(current.Version) {
			continue
		}
		out, err := s.store.AddObjects(ctx, sv.collection.ID, []store.Object{current})
		if err != nil {
			return fmt.Errorf("admin: serve the identity of %s in %s: %w", memberID, sv.collection.APIRoot, err)
		}
		s.log.InfoContext(ctx, "served a member's identity", "member", memberID, "identity", id,
			"partnership", sv.collection.APIRoot, "version", store.FormatVersion(current.Version), "result", out[0].Result.String())
	}
	return nil
}

// currentIdentity is the identity to serve for m, given the newest version served anywhere (nil if
// none is).
func (s *Service) currentIdentity(m store.Member, newest *store.Record) (store.Object, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	if newest == nil {
		return identityObject(m, now, now)
	}
	var stamps struct{ Created, Modified time.Time }
	if err := json.Unmarshal(newest.Content, &stamps); err != nil {
		return store.Object{}, fmt.Errorf("admin: read the served identity of %s: %w", m.ID, err)
	}
	same, err := identityObject(m, stamps.Created, stamps.Modified)
	if err != nil {
		return store.Object{}, err
	}
	if bytes.Equal(same.Content, newest.Content) {
		return same, nil
	}
	// A new version must be strictly newer, also when the clock has not moved a millisecond on.
	modified := now
	if next := stamps.Modified.Add(time.Millisecond); modified.Before(next) {
		modified = next
	}
	return identityObject(m, stamps.Created, modified)
}
