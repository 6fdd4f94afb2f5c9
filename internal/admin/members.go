package admin

import (
	"context"
	"errors"
	"fmt"

	"taxiihub/internal/store"
)

// AddMember adds a partner organisation.
func (s *Service) AddMember(ctx context.Context, actor string, m Member) (Member, error) {
	var bad problems
	checkMember(&bad, "", m)
	if err := bad.err("the member"); err != nil {
		return Member{}, err
	}
	err := s.store.CreateMember(ctx, storeMember(m))
	if errors.Is(err, store.ErrConflict) {
		return Member{}, conflict(err, "member %s already exists", m.ID)
	}
	if err != nil {
		return Member{}, fmt.Errorf("admin: add member %s: %w", m.ID, err)
	}
	return m, s.record(ctx, actor, Change{Action: "create", Kind: "member", Target: m.ID,
		Detail: m.Name + " (" + m.Jurisdiction + ")"})
}

// Members lists every member, ordered by id.
func (s *Service) Members(ctx context.Context) ([]Member, error) {
	ms, err := s.store.Members(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin: list members: %w", err)
	}
	out := make([]Member, len(ms))
	for i, m := range ms {
		out[i] = memberOf(m)
	}
	return out, nil
}

// RemoveMember removes a member with its grants and revokes its tokens, so that nothing it held
// keeps working.
func (s *Service) RemoveMember(ctx context.Context, actor, id string) (Change, error) {
	err := s.store.DeleteMember(ctx, id, s.stamp())
	if errors.Is(err, store.ErrNotFound) {
		return Change{}, notFound(err, "there is no member %s", id)
	}
	if err != nil {
		return Change{}, fmt.Errorf("admin: remove member %s: %w", id, err)
	}
	c := Change{Action: "delete", Kind: "member", Target: id, Detail: "grants removed, tokens revoked"}
	return c, s.record(ctx, actor, c)
}

func storeMember(m Member) store.Member {
	out := store.Member{ID: m.ID, Name: m.Name, Jurisdiction: m.Jurisdiction, Contact: m.Contact}
	if m.IdentityProvider != nil {
		p := store.IdentityProvider(*m.IdentityProvider)
		out.IdentityProvider = &p
	}
	return out
}

// MemberIdentityProvider is a member's identity provider, for the console.
type MemberIdentityProvider struct {
	Member string
	IdentityProvider
}

// IdentityProviders lists the members that have an identity provider, with it, ordered by member.
func (s *Service) IdentityProviders(ctx context.Context) ([]MemberIdentityProvider, error) {
	ms, err := s.store.Members(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin: list members: %w", err)
	}
	var out []MemberIdentityProvider
	for _, m := range ms {
		if m.IdentityProvider != nil {
			out = append(out, MemberIdentityProvider{Member: m.ID, IdentityProvider: IdentityProvider(*m.IdentityProvider)})
		}
	}
	return out, nil
}

// PutGrant gives a member read and/or write access to a collection, named by id or alias, replacing
// the grant it held there. The new rights apply from the member's next request. When the member
// already held exactly these rights nothing changes, and nothing is recorded.
func (s *Service) PutGrant(ctx context.Context, actor string, g Grant) (GrantResult, error) {
	if !g.Read && !g.Write {
		return GrantResult{}, &Error{Kind: Invalid, Message: "a grant must allow read, write or both; remove it instead"}
	}
	if _, err := s.member(ctx, g.Member); err != nil {
		return GrantResult{}, err
	}
	c, err := s.collection(ctx, g.Partnership, g.Collection)
	if err != nil {
		return GrantResult{}, err
	}
	if c.Members {
		return GrantResult{}, refusedMembersCollection(g.Partnership,
			"every member holding a grant in the partnership reads it, and none writes into it")
	}
	prev, held, err := s.grant(ctx, g.Member, c.ID)
	if err != nil {
		return GrantResult{}, err
	}
	out := Grant{Member: g.Member, Partnership: g.Partnership, Collection: c.ID, CollectionAlias: c.Alias, Read: g.Read, Write: g.Write}
	if held && prev.Read == g.Read && prev.Write == g.Write {
		return GrantResult{Grant: out}, nil
	}
	var before *Grant
	if held {
		before = &Grant{Member: g.Member, Partnership: g.Partnership, Collection: c.ID, CollectionAlias: c.Alias, Read: prev.Read, Write: prev.Write}
	}
	if err := s.putGrant(ctx, actor, out, before); err != nil {
		return GrantResult{}, err
	}
	return GrantResult{Grant: out, Changed: true}, s.keepIdentity(ctx, g.Member)
}

// putGrant stores g, replacing before when the member held a grant there, and records both.
func (s *Service) putGrant(ctx context.Context, actor string, g Grant, before *Grant) error {
	err := s.store.PutGrant(ctx, store.Grant{MemberID: g.Member, APIRoot: g.Partnership, CollectionID: g.Collection,
		Read: g.Read, Write: g.Write})
	if errors.Is(err, store.ErrJurisdiction) {
		return s.jurisdictionRefusal(ctx, err, g.Member, g.Partnership)
	}
	if errors.Is(err, store.ErrNotFound) {
		return notFound(err, "member %s or collection %s/%s no longer exists", g.Member, g.Partnership, g.Collection)
	}
	if err != nil {
		return fmt.Errorf("admin: grant %s on %s: %w", g.Member, g.Collection, err)
	}
	c := Change{Action: "create", Kind: "grant", Target: grantName(g), Detail: rights(g.Read, g.Write), After: stateOf(g)}
	if before != nil {
		c.Action, c.Before = "update", stateOf(*before)
	}
	return s.record(ctx, actor, c)
}

// RemoveGrant takes a member's access to a collection away; its next request is refused.
func (s *Service) RemoveGrant(ctx context.Context, actor, memberID, slug, ref string) (Change, error) {
	c, err := s.collection(ctx, slug, ref)
	if err != nil {
		return Change{}, err
	}
	prev, held, err := s.grant(ctx, memberID, c.ID)
	if err != nil {
		return Change{}, err
	}
	err = s.store.DeleteGrant(ctx, memberID, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return Change{}, notFound(err, "member %s holds no grant on %s/%s", memberID, slug, ref)
	}
	if err != nil {
		return Change{}, fmt.Errorf("admin: remove grant of %s on %s: %w", memberID, c.ID, err)
	}
	removed := Grant{Member: memberID, Partnership: slug, Collection: c.ID, CollectionAlias: c.Alias, Read: prev.Read, Write: prev.Write}
	ch := Change{Action: "delete", Kind: "grant", Target: grantName(removed)}
	if held {
		ch.Before = stateOf(removed)
	}
	return ch, s.record(ctx, actor, ch)
}

func grantName(g Grant) string {
	return g.Member + " on " + collectionName(g.Partnership, g.Collection, g.CollectionAlias)
}

// jurisdictionRefusal explains a store's ErrJurisdiction for one member and partnership.
func (s *Service) jurisdictionRefusal(ctx context.Context, cause error, memberID, slug string) error {
	m, err := s.member(ctx, memberID)
	if err != nil {
		return err
	}
	root, err := s.apiRoot(ctx, slug)
	if err != nil {
		return err
	}
	return refusedJurisdiction(cause, m, root)
}

func (s *Service) member(ctx context.Context, id string) (store.Member, error) {
	m, err := s.store.Member(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Member{}, notFound(err, "there is no member %s", id)
	}
	if err != nil {
		return store.Member{}, fmt.Errorf("admin: member %s: %w", id, err)
	}
	return m, nil
}

// grant returns the member's grant on the collection; held is false when it has none.
func (s *Service) grant(ctx context.Context, memberID, collectionID string) (g store.Grant, held bool, err error) {
	grants, err := s.store.Grants(ctx, memberID)
	if err != nil {
		return store.Grant{}, false, fmt.Errorf("admin: grants of %s: %w", memberID, err)
	}
	for _, g := range grants {
		if g.CollectionID == collectionID {
			return g, true, nil
		}
	}
	return store.Grant{}, false, nil
}
