package sharing

import (
	"context"
	"errors"
	"fmt"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// Access is what one caller may do with one collection, decided once per request: its grant on the
// collection, narrowed by its membership of the partnership (whose role says whether it publishes,
// reads or both, and whose clearance bounds what it reads). Every use case on a collection takes an
// Access and reads nothing else to decide rights.
type Access struct {
	Caller     auth.Principal
	Root       store.APIRoot
	Collection store.Collection
	// Granted are the caller's grant on the collection, before its role narrows it.
	GrantedRead, GrantedWrite bool
	Membership                store.Membership
}

// CanRead reports whether the caller may read the collection's objects.
func (a Access) CanRead() bool { return a.GrantedRead && a.Membership.Role.CanRead() }

// CanWrite reports whether the caller may add objects to the collection.
func (a Access) CanWrite() bool { return a.GrantedWrite && a.Membership.Role.CanPublish() }

// SeesAll reports whether the caller may see everything the collection holds: it reads it, with
// no clearance that hides some versions. Answers to a caller who does not must not reveal what
// others published there.
func (a Access) SeesAll() bool { return a.CanRead() && a.Membership.Clearance == store.TLPNone }

// RequireRead refuses a caller that may not read the collection, saying why.
func (a Access) RequireRead() error {
	if !a.GrantedRead {
		return forbidden("Your credentials do not allow reading this collection.")
	}
	if !a.Membership.Role.CanRead() {
		return oneWay("You publish in this partnership and do not read it: its flow runs one way.")
	}
	return nil
}

// RequireWrite refuses a caller that may not add objects to the collection, saying why.
func (a Access) RequireWrite() error {
	if !a.GrantedWrite {
		return forbidden("Your credentials do not allow adding objects to this collection.")
	}
	if !a.Membership.Role.CanPublish() {
		return oneWay("You read this partnership and do not publish in it: its flow runs one way.")
	}
	return nil
}

// requireChange refuses a caller that may not change what the collection holds (withdraw).
func (a Access) requireChange() error {
	if !a.GrantedWrite {
		return forbidden("Your credentials do not allow changing this collection.")
	}
	if !a.Membership.Role.CanPublish() {
		return oneWay("You read this partnership and do not publish in it: its flow runs one way.")
	}
	return nil
}

// RequireDelete refuses a caller that may not both read and write the collection, as deleting
// needs: a write-only publisher could otherwise probe for objects.
func (a Access) RequireDelete() error {
	if !a.GrantedRead || !a.GrantedWrite {
		return forbidden("Deleting objects needs both read and write rights on the collection.")
	}
	if !a.Membership.Role.CanRead() || !a.Membership.Role.CanPublish() {
		return oneWay("Deleting objects needs both roles, publisher and reader, in the partnership.")
	}
	return nil
}

// Access decides what caller may do with the collection ref (an id or an alias) of the partnership
// root. A partnership or collection the caller holds no grant in is NotFound, like one that does
// not exist.
func (s *Service) Access(ctx context.Context, caller auth.Principal, root, ref string) (Access, error) {
	r, err := s.Root(ctx, caller, root)
	if err != nil {
		return Access{}, err
	}
	coll, err := s.store.Collection(ctx, r.Slug, ref)
	if errors.Is(err, store.ErrNotFound) {
		return Access{}, notFound(noCollection)
	}
	if err != nil {
		return Access{}, fmt.Errorf("sharing: collection %s: %w", ref, err)
	}
	return s.access(ctx, caller, r, coll)
}

func (s *Service) access(ctx context.Context, caller auth.Principal, root store.APIRoot, coll store.Collection) (Access, error) {
	read, write, seen := rights(caller, root.Slug, coll)
	if !seen {
		return Access{}, notFound(noCollection)
	}
	m, err := s.standing(ctx, caller.MemberID, root.Slug)
	if err != nil {
		return Access{}, err
	}
	return Access{Caller: caller, Root: root, Collection: coll, GrantedRead: read, GrantedWrite: write, Membership: m}, nil
}

// standing returns a member's membership of a partnership; a member holding grants there without
// one has the default standing, so that its grants alone decide.
func (s *Service) standing(ctx context.Context, member, root string) (store.Membership, error) {
	m, err := s.store.Membership(ctx, member, root)
	if errors.Is(err, store.ErrNotFound) {
		return store.DefaultMembership(member, root), nil
	}
	if err != nil {
		return store.Membership{}, fmt.Errorf("sharing: membership of %s in %s: %w", member, root, err)
	}
	return m, nil
}

// Root returns the partnership named slug if the caller holds a grant in it.
func (s *Service) Root(ctx context.Context, caller auth.Principal, slug string) (store.APIRoot, error) {
	if !caller.InRoot(slug) {
		return store.APIRoot{}, notFound(noRoot)
	}
	root, err := s.store.APIRoot(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return store.APIRoot{}, notFound(noRoot)
	}
	if err != nil {
		return store.APIRoot{}, fmt.Errorf("sharing: API root %s: %w", slug, err)
	}
	return root, nil
}

// Roots lists the partnerships the caller holds a grant in.
func (s *Service) Roots(ctx context.Context, caller auth.Principal) ([]store.APIRoot, error) {
	all, err := s.store.APIRoots(ctx)
	if err != nil {
		return nil, fmt.Errorf("sharing: list API roots: %w", err)
	}
	var mine []store.APIRoot
	for _, r := range all {
		if caller.InRoot(r.Slug) {
			mine = append(mine, r)
		}
	}
	return mine, nil
}

// Collections lists the collections of a partnership that the caller holds a grant on, each with
// the caller's access.
func (s *Service) Collections(ctx context.Context, caller auth.Principal, slug string) ([]Access, error) {
	root, err := s.Root(ctx, caller, slug)
	if err != nil {
		return nil, err
	}
	all, err := s.store.Collections(ctx, root.Slug)
	if err != nil {
		return nil, fmt.Errorf("sharing: list collections of %s: %w", root.Slug, err)
	}
	m, err := s.standing(ctx, caller.MemberID, root.Slug)
	if err != nil {
		return nil, err
	}
	var out []Access
	for _, coll := range all {
		if read, write, seen := rights(caller, root.Slug, coll); seen {
			out = append(out, Access{Caller: caller, Root: root, Collection: coll, GrantedRead: read, GrantedWrite: write, Membership: m})
		}
	}
	return out, nil
}

// OneWay reports whether the flow of a partnership runs one way: some member only publishes or
// only reads.
func (s *Service) OneWay(ctx context.Context, root string) (bool, error) {
	ms, err := s.store.Memberships(ctx, root)
	if err != nil {
		return false, fmt.Errorf("sharing: memberships of %s: %w", root, err)
	}
	for _, m := range ms {
		if m.Role != store.RoleBoth {
			return true, nil
		}
	}
	return false, nil
}
