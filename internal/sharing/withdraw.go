package sharing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"taxiihub/internal/store"
)

// Withdraw lets the publisher of an object withdraw it from a collection: the hub replaces its
// versions with a tombstone pollers receive (see Tombstone) and never accepts the id again. Only the
// member that first published the object in the partnership may withdraw it. It returns the
// tombstone's version.
func (s *Service) Withdraw(ctx context.Context, acc Access, objectID string) (time.Time, error) {
	if err := acc.requireChange(); err != nil {
		return time.Time{}, err
	}
	owner, err := s.owner(ctx, acc.Root.Slug, objectID)
	if err != nil {
		return time.Time{}, err
	}
	if owner != acc.Caller.MemberID {
		// Whether the object exists is none of a non-publisher's business beyond what it may read.
		return time.Time{}, notFound("You published no object with this id in this partnership.")
	}
	out, err := s.store.Withdraw(ctx, store.Withdrawal{CollectionID: acc.Collection.ID, ObjectID: objectID, Person: acc.Caller.Person,
		Member: acc.Caller.MemberID, TokenID: acc.Caller.TokenID, Tombstone: Tombstone})
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, notFound(noObject)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sharing: withdraw %s from %s: %w", objectID, acc.Collection.ID, err)
	}
	return out.Version, nil
}
