package admin

import (
	"context"
	"time"
)

// HealthTimeout bounds each store check of Health, as /readyz bounds its own: a store that does not
// answer in time is reported unreachable rather than holding the operator's page.
const HealthTimeout = 2 * time.Second

// Health is the hub's state as operators see it at a glance: whether this node's store answers (the
// check /readyz makes), where the ledger and the audit trail end, and the tokens about to expire.
type Health struct {
	CheckedAt time.Time
	// StoreReachable is false when the store did not answer within HealthTimeout; StoreLatency is
	// how long its answer took.
	StoreReachable bool
	StoreLatency   time.Duration
	// Heads is zero when the store is unreachable.
	Heads Heads
	// Expiring are the active tokens expiring within ExpiryWarning, soonest first.
	Expiring []Token
	// Problems names, in plain words, what could not be read.
	Problems []string
}

// Health checks the store and reads what operators watch. A failing store is part of the answer,
// not an error: the page that shows it must still render. The cause goes to the log only.
func (s *Service) Health(ctx context.Context) Health {
	h := Health{CheckedAt: s.now()}
	check, cancel := context.WithTimeout(ctx, HealthTimeout)
	defer cancel()
	start := time.Now()
	if _, err := s.store.APIRoots(check); err != nil {
		s.log.WarnContext(ctx, "health: the store does not answer", "error", err)
		h.Problems = append(h.Problems, "the store does not answer")
		return h
	}
	h.StoreReachable, h.StoreLatency = true, time.Since(start)
	var err error
	if h.Heads, err = s.Heads(check); err != nil {
		s.log.WarnContext(ctx, "health: ledger heads", "error", err)
		h.Problems = append(h.Problems, "the ledger's head could not be read")
	}
	if h.Expiring, err = s.TokensExpiringWithin(check, ExpiryWarning); err != nil {
		s.log.WarnContext(ctx, "health: expiring tokens", "error", err)
		h.Problems = append(h.Problems, "the token records could not be read")
	}
	return h
}
