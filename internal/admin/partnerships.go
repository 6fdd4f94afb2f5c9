package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"taxiihub/internal/store"
)

// CreatePartnership adds a partnership with no collections.
func (s *Service) CreatePartnership(ctx context.Context, actor string, p Partnership) (Partnership, error) {
	var bad problems
	checkPartnership(&bad, "", p.Slug, p.Title, p.Description)
	checkPartnershipPolicy(&bad, "policy: ", p.Policy)
	if err := bad.err("the partnership"); err != nil {
		return Partnership{}, err
	}
	root := store.APIRoot{Slug: p.Slug, Title: p.Title, Description: p.Description, Policy: storePartnershipPolicy(p.Policy)}
	err := s.store.CreateAPIRoot(ctx, root)
	if errors.Is(err, store.ErrConflict) {
		return Partnership{}, conflict(err, "partnership %s already exists", p.Slug)
	}
	if err != nil {
		return Partnership{}, fmt.Errorf("admin: create partnership %s: %w", p.Slug, err)
	}
	if err := s.record(ctx, actor, Change{Action: "create", Kind: "partnership", Target: p.Slug,
		Detail: p.Title + "; " + describePartnershipPolicy(root.Policy)}); err != nil {
		return partnershipOf(root), err
	}
	_, err = s.membersCollection(ctx, p.Slug)
	return partnershipOf(root), err
}

// Partnerships lists every partnership, ordered by slug.
func (s *Service) Partnerships(ctx context.Context) ([]Partnership, error) {
	roots, err := s.store.APIRoots(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin: list partnerships: %w", err)
	}
	out := make([]Partnership, len(roots))
	for i, r := range roots {
		out[i] = partnershipOf(r)
	}
	return out, nil
}

// Partnership returns a partnership with its collections and the grants on them.
func (s *Service) Partnership(ctx context.Context, slug string) (PartnershipDetail, error) {
	root, err := s.apiRoot(ctx, slug)
	if err != nil {
		return PartnershipDetail{}, err
	}
	colls, err := s.store.Collections(ctx, slug)
	if err != nil {
		return PartnershipDetail{}, fmt.Errorf("admin: collections of %s: %w", slug, err)
	}
	d := PartnershipDetail{Partnership: partnershipOf(root), Collections: []Collection{}, Grants: []Grant{}, Memberships: []Membership{}}
	ms, err := s.store.Memberships(ctx, slug)
	if err != nil {
		return PartnershipDetail{}, fmt.Errorf("admin: memberships of %s: %w", slug, err)
	}
	for _, m := range ms {
		d.Memberships = append(d.Memberships, membershipOf(m))
	}
	for _, c := range colls {
		if c.Members {
			mc := collectionOf(c)
			d.MembersCollection = &mc
			continue
		}
		d.Collections = append(d.Collections, collectionOf(c))
		grants, err := s.store.CollectionGrants(ctx, c.ID)
		if err != nil {
			return PartnershipDetail{}, fmt.Errorf("admin: grants on %s/%s: %w", slug, c.ID, err)
		}
		for _, g := range grants {
			d.Grants = append(d.Grants, grantOf(g, c.Alias))
		}
	}
	return d, nil
}

// DeletePartnership removes a partnership. It refuses while the partnership holds collections, so
// that deleting a partnership can never drop shared intelligence as a side effect; its members
// collection, which only repeats what the hub knows of the members, goes with it.
func (s *Service) DeletePartnership(ctx context.Context, actor, slug string) (Change, error) {
	err := s.store.DeleteAPIRoot(ctx, slug)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Change{}, notFound(err, "there is no partnership %s", slug)
	case errors.Is(err, store.ErrConflict):
		return Change{}, conflict(err, "partnership %s still has collections; delete them first", slug)
	case err != nil:
		return Change{}, fmt.Errorf("admin: delete partnership %s: %w", slug, err)
	}
	c := Change{Action: "delete", Kind: "partnership", Target: slug}
	return c, s.record(ctx, actor, c)
}

func (s *Service) apiRoot(ctx context.Context, slug string) (store.APIRoot, error) {
	root, err := s.store.APIRoot(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return store.APIRoot{}, notFound(err, "there is no partnership %s", slug)
	}
	if err != nil {
		return store.APIRoot{}, fmt.Errorf("admin: partnership %s: %w", slug, err)
	}
	return root, nil
}

// CreateCollection adds a collection to a partnership under a new UUIDv4, the only form of id some
// TAXII clients (Microsoft Sentinel among them) accept.
func (s *Service) CreateCollection(ctx context.Context, actor string, c Collection) (Collection, error) {
	var bad problems
	checkCollection(&bad, "", c.Alias, c.Title, c.Description, c.MediaTypes)
	checkCollectionPolicy(&bad, "policy: ", c.Policy)
	if c.ID != "" {
		bad.add("the hub assigns collection ids; leave id empty")
	}
	if c.Alias == membersAlias {
		bad.add("alias %q is the hub's members collection's; choose another", membersAlias)
	}
	if err := bad.err("the collection"); err != nil {
		return Collection{}, err
	}
	if _, err := s.apiRoot(ctx, c.Partnership); err != nil {
		return Collection{}, err
	}
	c.ID = uuid.NewString()
	sc := storeCollection(c)
	err := s.store.CreateCollection(ctx, sc)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Collection{}, notFound(err, "there is no partnership %s", c.Partnership)
	case errors.Is(err, store.ErrConflict):
		return Collection{}, conflict(err, "partnership %s already has a collection with alias %s", c.Partnership, c.Alias)
	case err != nil:
		return Collection{}, fmt.Errorf("admin: create collection in %s: %w", c.Partnership, err)
	}
	return collectionOf(sc), s.record(ctx, actor, Change{Action: "create", Kind: "collection",
		Target: collectionName(c.Partnership, c.ID, c.Alias), Detail: "id " + c.ID + "; " + describeCollectionPolicy(sc.Policy)})
}

// Collections lists a partnership's collections, ordered by title then id: the operators' own, not
// the members collection the hub keeps (Partnership shows that one apart).
func (s *Service) Collections(ctx context.Context, slug string) ([]Collection, error) {
	colls, err := s.store.Collections(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(err, "there is no partnership %s", slug)
	}
	if err != nil {
		return nil, fmt.Errorf("admin: collections of %s: %w", slug, err)
	}
	out := make([]Collection, 0, len(colls))
	for _, c := range colls {
		if !c.Members {
			out = append(out, collectionOf(c))
		}
	}
	return out, nil
}

// DeleteCollection removes a collection, named by id or alias, with every object in it and every
// grant on it.
func (s *Service) DeleteCollection(ctx context.Context, actor, slug, ref string) (Change, error) {
	c, err := s.collection(ctx, slug, ref)
	if err != nil {
		return Change{}, err
	}
	if c.Members {
		return Change{}, refusedMembersCollection(slug, "it goes only with the partnership")
	}
	err = s.store.DeleteCollection(ctx, slug, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return Change{}, notFound(err, "there is no collection %s in partnership %s", ref, slug)
	}
	if err != nil {
		return Change{}, fmt.Errorf("admin: delete collection %s/%s: %w", slug, c.ID, err)
	}
	ch := Change{Action: "delete", Kind: "collection", Target: collectionName(slug, c.ID, c.Alias),
		Detail: "id " + c.ID + ", with its objects and grants"}
	return ch, s.record(ctx, actor, ch)
}

func (s *Service) collection(ctx context.Context, slug, ref string) (store.Collection, error) {
	if _, err := s.apiRoot(ctx, slug); err != nil {
		return store.Collection{}, err
	}
	c, err := s.store.Collection(ctx, slug, ref)
	if errors.Is(err, store.ErrNotFound) {
		return store.Collection{}, notFound(err, "there is no collection %s in partnership %s", ref, slug)
	}
	if err != nil {
		return store.Collection{}, fmt.Errorf("admin: collection %s/%s: %w", slug, ref, err)
	}
	return c, nil
}

// refusedMembersCollection refuses an operator's change to a partnership's members collection,
// which the hub alone keeps.
func refusedMembersCollection(slug, why string) error {
	return &Error{Kind: Conflict, Message: fmt.Sprintf(
		"the members collection of %s is the hub's: %s", slug, why)}
}

func storeCollection(c Collection) store.Collection {
	return store.Collection{ID: c.ID, APIRoot: c.Partnership, Title: c.Title, Alias: c.Alias,
		Description: c.Description, MediaTypes: canonicalMediaTypes(c.MediaTypes), Policy: storeCollectionPolicy(c.Policy)}
}

// collectionName is how changes and audit entries name a collection: by alias when it has one,
// since that is what operators wrote.
func collectionName(slug, id, alias string) string {
	return slug + "/" + cmp.Or(alias, id)
}

func grantOf(g store.Grant, alias string) Grant {
	return Grant{Member: g.MemberID, Partnership: g.APIRoot, Collection: g.CollectionID,
		CollectionAlias: alias, Read: g.Read, Write: g.Write}
}

// rights describes what a grant allows, for people.
func rights(read, write bool) string {
	var r []string
	if read {
		r = append(r, "read")
	}
	if write {
		r = append(r, "write")
	}
	return strings.Join(r, ", ")
}
