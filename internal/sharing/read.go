package sharing

import (
	"context"
	"errors"
	"fmt"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// Pages are what pollers receive. Each page is recorded in the ledger before it is returned, and not
// returned when it cannot be recorded, so that every object a partner received is attributable. The
// reader's clearance is applied in the store's scan, so that a page holds only what the reader may
// see and its More and Next are exact.

// Objects reads one page of a collection's objects.
func (s *Service) Objects(ctx context.Context, acc Access, q store.Query) (store.Page, error) {
	return s.collectionPage(ctx, acc, q, "objects", s.store.Objects)
}

// Manifest reads one page of a collection's manifest.
func (s *Service) Manifest(ctx context.Context, acc Access, q store.Query) (store.Page, error) {
	return s.collectionPage(ctx, acc, q, "manifest", s.store.Manifest)
}

// Object reads one page of the versions of one object, with their content.
func (s *Service) Object(ctx context.Context, acc Access, objectID string, q store.Query) (store.Page, error) {
	return s.objectPage(ctx, acc, objectID, q, "object", s.store.Objects)
}

// Versions reads one page of the versions of one object, without content: every version unless q
// selects some.
func (s *Service) Versions(ctx context.Context, acc Access, objectID string, q store.Query) (store.Page, error) {
	q.Versions = store.VersionMatch{All: true}
	return s.objectPage(ctx, acc, objectID, q, "versions", s.store.Manifest)
}

type pageReader func(ctx context.Context, collectionID string, q store.Query) (store.Page, error)

func (s *Service) collectionPage(ctx context.Context, acc Access, q store.Query, endpoint string, read pageReader) (store.Page, error) {
	if err := acc.RequireRead(); err != nil {
		return store.Page{}, err
	}
	q.MaxTLP = acc.Membership.Clearance
	page, err := read(ctx, acc.Collection.ID, q)
	if err != nil {
		return store.Page{}, fmt.Errorf("sharing: %s of %s: %w", endpoint, acc.Collection.ID, err)
	}
	return page, s.recordPull(ctx, acc, endpoint, page)
}

// objectPage reads a page about one object. An empty first page is NotFound when the collection
// holds no version of the object the caller may see; otherwise it only means the filters matched
// nothing.
func (s *Service) objectPage(ctx context.Context, acc Access, objectID string, q store.Query, endpoint string, read pageReader) (store.Page, error) {
	if err := acc.RequireRead(); err != nil {
		return store.Page{}, err
	}
	q.IDs = []string{objectID}
	q.MaxTLP = acc.Membership.Clearance
	page, err := read(ctx, acc.Collection.ID, q)
	if err != nil {
		return store.Page{}, fmt.Errorf("sharing: read %s in %s: %w", objectID, acc.Collection.ID, err)
	}
	if len(page.Records) == 0 && q.Cursor == "" {
		n, err := s.countVersions(ctx, acc.Collection.ID, objectID, acc.Membership.Clearance, 1)
		if err != nil {
			return store.Page{}, err
		}
		if n == 0 {
			return store.Page{}, notFound(noObject)
		}
	}
	return page, s.recordPull(ctx, acc, endpoint, page)
}

// recordPull appends the pull of a page to the ledger: who, with which token, from which
// collection, and every object version served.
func (s *Service) recordPull(ctx context.Context, acc Access, endpoint string, page store.Page) error {
	e := store.LedgerEntry{Member: acc.Caller.MemberID, TokenID: acc.Caller.TokenID, Person: acc.Caller.Person, APIRoot: acc.Root.Slug,
		Collection: acc.Collection.ID, Endpoint: endpoint, Items: make([]store.LedgerItem, len(page.Records))}
	for i, r := range page.Records {
		e.Items[i] = store.LedgerItem{ID: r.ID, Version: r.Version}
	}
	// The range of the collection the page covered, which the compact entry keeps for good.
	if first, ok := page.FirstAdded(); ok {
		last, _ := page.LastAdded()
		e.Pulled = &store.PullSummary{FirstAdded: first, LastAdded: last}
	}
	if err := s.store.RecordPull(ctx, e); err != nil {
		return fmt.Errorf("sharing: record the pull of %s: %w", acc.Collection.ID, err)
	}
	return nil
}

// countVersions counts the versions of an object visible at a clearance, stopping once it has
// counted enough: a reader only asks whether there is any, or how many of all there are.
func (s *Service) countVersions(ctx context.Context, collectionID, objectID string, clearance store.TLP, enough int) (int, error) {
	n := 0
	q := store.Query{IDs: []string{objectID}, Limit: min(enough, store.MaxLimit), MaxTLP: clearance,
		VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}}}
	for {
		p, err := s.store.Manifest(ctx, collectionID, q)
		if err != nil {
			return 0, fmt.Errorf("sharing: versions of %s: %w", objectID, err)
		}
		n += len(p.Records)
		if !p.More || n >= enough {
			return n, nil
		}
		q.Cursor = p.Next
	}
}

// Delete removes the versions of an object that f selects. It needs both rights, read and write,
// and the object must be the caller's own: first published by it in the partnership. A reader may
// neither delete versions above its clearance nor learn of them by trying, nor delete the tombstone
// of a withdrawal, which pollers must go on receiving. The deletion is recorded in the ledger.
func (s *Service) Delete(ctx context.Context, acc Access, objectID string, f store.VersionFilter) error {
	if err := acc.RequireDelete(); err != nil {
		return err
	}
	if clearance := acc.Membership.Clearance; clearance != store.TLPNone {
		mine, err := s.countVersions(ctx, acc.Collection.ID, objectID, clearance, store.MaxLimit)
		if err != nil {
			return err
		}
		if mine == 0 {
			return notFound(noObject)
		}
		all, err := s.countVersions(ctx, acc.Collection.ID, objectID, store.TLPNone, mine+1)
		if err != nil {
			return err
		}
		if mine < all {
			return forbidden("Some versions of this object are above your TLP clearance; ask an operator to delete it.")
		}
	}
	owner, err := s.owner(ctx, acc.Root.Slug, objectID)
	if err != nil {
		return err
	}
	if owner != acc.Caller.MemberID {
		n, err := s.countVersions(ctx, acc.Collection.ID, objectID, acc.Membership.Clearance, 1)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound(noObject)
		}
		return notOwner("Another member published this object first in this partnership; only it may delete it.")
	}
	n, err := s.store.Delete(ctx, store.Deletion{CollectionID: acc.Collection.ID, ObjectID: objectID, Filter: f, Person: acc.Caller.Person,
		Member: acc.Caller.MemberID, TokenID: acc.Caller.TokenID})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound(noObject)
	case errors.Is(err, store.ErrTombstone):
		return forbidden("The selection holds the tombstone of a withdrawal, which pollers must go on receiving; only an operator can remove it.")
	case err != nil:
		return fmt.Errorf("sharing: delete %s: %w", objectID, err)
	}
	if n == 0 {
		return notFound("No version of the object matches the filters.")
	}
	return nil
}

// owner returns the member that first published an object id in a partnership, or "" if none did.
func (s *Service) owner(ctx context.Context, root, objectID string) (string, error) {
	origins, err := s.store.Origins(ctx, []string{store.OriginKeyID(objectID)})
	if err != nil {
		return "", fmt.Errorf("sharing: origin of %s: %w", objectID, err)
	}
	for _, o := range origins {
		if o.APIRoot == root {
			return o.Member, nil
		}
	}
	return "", nil
}

// Status returns the status of one of the caller's own requests. A status lists what one partner
// submitted; in a partnership of limited trust, others may not read it.
func (s *Service) Status(ctx context.Context, caller auth.Principal, root, id string) (store.Status, error) {
	r, err := s.Root(ctx, caller, root)
	if err != nil {
		return store.Status{}, err
	}
	st, err := s.store.Status(ctx, r.Slug, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Status{}, notFound(noStatus)
	}
	if err != nil {
		return store.Status{}, fmt.Errorf("sharing: status: %w", err)
	}
	if st.Submitter != caller.MemberID {
		return store.Status{}, notFound(noStatus)
	}
	if !st.Pending {
		return st, nil
	}
	// Objects whose review timeout passed are expired before the status is shown, so that a poller
	// never waits on objects that can no longer be released, whenever the periodic sweep last ran.
	n, err := store.Expire(ctx, s.store, store.PendingQuery{StatusID: id, Limit: store.MaxLimit}, s.now())
	if err != nil {
		return store.Status{}, fmt.Errorf("sharing: status: %w", err)
	}
	if n == 0 {
		return st, nil
	}
	if st, err = s.store.Status(ctx, r.Slug, id); err != nil {
		return store.Status{}, fmt.Errorf("sharing: status: %w", err)
	}
	return st, nil
}

// Pulls tells a publisher who pulled the objects it published first in a partnership: the pulls
// recorded in the ledger, each narrowed to the caller's objects. q's Publisher and APIRoot are the
// caller's and the partnership's whatever the caller asked.
func (s *Service) Pulls(ctx context.Context, caller auth.Principal, root string, q store.PullQuery) (store.PullPage, error) {
	r, err := s.Root(ctx, caller, root)
	if err != nil {
		return store.PullPage{}, err
	}
	q.Publisher, q.APIRoot = caller.MemberID, r.Slug
	page, err := store.Pulls(ctx, s.store, q)
	if err != nil {
		return store.PullPage{}, fmt.Errorf("sharing: pulls of %s's objects: %w", q.Publisher, err)
	}
	return page, nil
}
