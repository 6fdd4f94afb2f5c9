package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"taxiihub/internal/store"
)

// OwnershipTransfer asks for the ownership of a member's objects in a partnership to pass to another
// member: of one object, or of everything the member published first there.
type OwnershipTransfer struct {
	Partnership string `json:"partnership"`
	From        string `json:"from"`
	To          string `json:"to"`
	// Object, when set, moves that object alone.
	Object string `json:"object,omitempty"`
}

// OwnershipResult says how many object ids moved.
type OwnershipResult struct {
	Moved  int    `json:"moved"`
	Change Change `json:"change"`
}

// TransferOwnership passes the ownership of a member's objects in a partnership to another member,
// as when an organisation is renamed: the new owner versions, withdraws and deletes them from then
// on, and is bound by the former owner's withdrawals. Only an operator can do it; the audit trail
// and the ledger both record it. The former owner need no longer be a member.
func (s *Service) TransferOwnership(ctx context.Context, actor string, t OwnershipTransfer) (OwnershipResult, error) {
	var bad problems
	checkName(&bad, "from", t.From)
	checkName(&bad, "to", t.To)
	if t.From == t.To {
		bad.add("from and to are the same member")
	}
	if err := bad.err("the transfer"); err != nil {
		return OwnershipResult{}, err
	}
	if _, err := s.apiRoot(ctx, t.Partnership); err != nil {
		return OwnershipResult{}, err
	}
	if _, err := s.member(ctx, t.To); err != nil {
		return OwnershipResult{}, err
	}
	n, err := s.store.TransferOwnership(ctx, store.Transfer{APIRoot: t.Partnership, From: t.From, To: t.To,
		ObjectID: t.Object, Operator: actor})
	if err != nil {
		return OwnershipResult{}, fmt.Errorf("admin: transfer ownership in %s: %w", t.Partnership, err)
	}
	what := "every object " + t.From + " published first"
	if t.Object != "" {
		what = t.Object
	}
	c := Change{Action: "transfer", Kind: "ownership", Target: t.Partnership,
		Detail: fmt.Sprintf("%s, from %s to %s: %d object ids", what, t.From, t.To, n)}
	if n == 0 {
		return OwnershipResult{Change: c}, nil
	}
	return OwnershipResult{Moved: n, Change: c}, s.record(ctx, actor, c)
}

// DeleteObject removes every version of an object from a collection, a withdrawal's tombstone
// included, which no partner may do: for content that must go, such as personal data shared by
// mistake. The ledger records the versions removed under the operator's name, and the audit trail
// the act.
func (s *Service) DeleteObject(ctx context.Context, actor, slug, ref, objectID string) (Change, error) {
	c, err := s.collection(ctx, slug, ref)
	if err != nil {
		return Change{}, err
	}
	n, err := s.store.Delete(ctx, store.Deletion{CollectionID: c.ID, ObjectID: objectID,
		Filter: store.VersionFilter{Versions: store.VersionMatch{All: true}}, Operator: actor})
	if errors.Is(err, store.ErrNotFound) {
		return Change{}, notFound(err, "collection %s/%s holds no object %s", slug, ref, objectID)
	}
	if err != nil {
		return Change{}, fmt.Errorf("admin: delete %s from %s/%s: %w", objectID, slug, ref, err)
	}
	ch := Change{Action: "delete", Kind: "object", Target: slug + "/" + cmp.Or(c.Alias, c.ID) + "/" + objectID,
		Detail: fmt.Sprintf("%d versions", n)}
	return ch, s.record(ctx, actor, ch)
}
