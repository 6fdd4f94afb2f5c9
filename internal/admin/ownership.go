package admin

import (
	"context"
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
