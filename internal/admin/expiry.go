package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"taxiihub/internal/store"
)

// Partner tokens expire (90 days by default) and a partner whose token lapses stops receiving
// intelligence without anyone noticing; these give operators the dates ahead of time, for the
// expiry metric, the warnings the hub logs and taxiictl token list --expiring.

// ExpiryWarning is how long before a token expires the hub starts warning about it.
const ExpiryWarning = 14 * 24 * time.Hour

// MemberExpiry is when a member's earliest active partner token expires.
type MemberExpiry struct {
	Member    string
	ExpiresAt time.Time
}

// EarliestTokenExpiries returns, for every member holding an active partner token, when the first
// of them expires, ordered by member.
func (s *Service) EarliestTokenExpiries(ctx context.Context) ([]MemberExpiry, error) {
	all, err := s.store.Tokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin: list tokens: %w", err)
	}
	now := s.now()
	earliest := map[string]time.Time{}
	for _, t := range all {
		if t.Kind != store.PartnerToken || tokenOf(t, now).Status != TokenActive {
			continue
		}
		if e, ok := earliest[t.Subject]; !ok || t.ExpiresAt.Before(e) {
			earliest[t.Subject] = t.ExpiresAt
		}
	}
	out := make([]MemberExpiry, 0, len(earliest))
	for m, at := range earliest {
		out = append(out, MemberExpiry{Member: m, ExpiresAt: at})
	}
	slices.SortFunc(out, func(a, b MemberExpiry) int { return strings.Compare(a.Member, b.Member) })
	return out, nil
}

// TokensExpiringWithin returns the active tokens, partner and operator, that expire within d from
// now, soonest first.
func (s *Service) TokensExpiringWithin(ctx context.Context, d time.Duration) ([]Token, error) {
	all, err := s.store.Tokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin: list tokens: %w", err)
	}
	now := s.now()
	var out []Token
	for _, t := range all {
		if tok := tokenOf(t, now); tok.Status == TokenActive && t.ExpiresAt.Before(now.Add(d)) {
			out = append(out, tok)
		}
	}
	slices.SortFunc(out, func(a, b Token) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	return out, nil
}
