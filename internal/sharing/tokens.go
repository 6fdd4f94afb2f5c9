package sharing

import (
	"context"
	"fmt"
	"slices"
	"time"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// TokenExpiringSoon is how close to its expiry a member's token is marked as expiring soon: the
// operators' console warns as far ahead.
const TokenExpiringSoon = 14 * 24 * time.Hour

// MemberToken is a member's token record as its member admin sees it: never the token itself,
// which the hub does not keep.
type MemberToken struct {
	ID                  string
	Reviewer            bool
	IssuedAt, ExpiresAt time.Time
	RevokedAt           time.Time
	// Status is "active", "expired" or "revoked" now; ExpiringSoon marks an active token that
	// expires within TokenExpiringSoon.
	Status       string
	ExpiringSoon bool
}

// MemberTokens lists the caller's member's partner tokens, newest first, for its member admin: who
// may see them is decided here, once, for every face of the hub.
func (s *Service) MemberTokens(ctx context.Context, caller auth.Principal) ([]MemberToken, error) {
	if !caller.MemberAdmin {
		return nil, forbidden("Your member's tokens are for its member admins.")
	}
	all, err := s.store.Tokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("sharing: tokens of %s: %w", caller.MemberID, err)
	}
	now := s.now()
	out := []MemberToken{}
	for _, t := range all {
		if t.Kind != store.PartnerToken || t.Subject != caller.MemberID {
			continue
		}
		mt := MemberToken{ID: t.ID, Reviewer: t.Reviewer, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
		switch {
		case t.Revoked():
			mt.Status = "revoked"
		case !now.Before(t.ExpiresAt):
			mt.Status = "expired"
		default:
			mt.Status = "active"
			mt.ExpiringSoon = t.ExpiresAt.Sub(now) <= TokenExpiringSoon
		}
		out = append(out, mt)
	}
	slices.SortStableFunc(out, func(a, b MemberToken) int { return b.IssuedAt.Compare(a.IssuedAt) })
	return out, nil
}
