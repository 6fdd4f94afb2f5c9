package server

import (
	"context"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/metrics"
	"taxiihub/internal/store"
)

// expiryCheckInterval is how often the hub looks for tokens about to expire: daily, so that each
// token is warned about on each of its last 14 days.
const expiryCheckInterval = 24 * time.Hour

// memberExpiries adapts the operator service's expiries to the metrics package's type.
func memberExpiries(svc *admin.Service) func(context.Context) ([]metrics.MemberExpiry, error) {
	return func(ctx context.Context) ([]metrics.MemberExpiry, error) {
		es, err := svc.EarliestTokenExpiries(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]metrics.MemberExpiry, len(es))
		for i, e := range es {
			out[i] = metrics.MemberExpiry{Member: e.Member, ExpiresAt: e.ExpiresAt}
		}
		return out, nil
	}
}

// warnExpiringTokens logs a warning for every active token that expires within
// admin.ExpiryWarning, at once and then every expiryCheckInterval, until ctx ends.
func (s *Server) warnExpiringTokens(ctx context.Context) {
	atOnceThenEvery(ctx, expiryCheckInterval, s.checkExpiringTokens)
}

// atOnceThenEvery calls check now and then every interval, until ctx ends.
func atOnceThenEvery(ctx context.Context, interval time.Duration, check func(context.Context)) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (s *Server) checkExpiringTokens(ctx context.Context) {
	tokens, err := s.admin.TokensExpiringWithin(ctx, admin.ExpiryWarning)
	if err != nil {
		if ctx.Err() == nil {
			s.log.WarnContext(ctx, "could not check which tokens expire soon", "error", err)
		}
		return
	}
	for _, t := range tokens {
		days := int(time.Until(t.ExpiresAt).Hours() / 24)
		s.log.WarnContext(ctx, "a token expires soon: issue a new one (taxiictl token issue) and hand it over before then",
			"kind", t.Kind, "subject", t.Subject, "token_id", t.ID, "expires_at", t.ExpiresAt.UTC().Format(time.RFC3339),
			"days_left", days)
	}
}

// reviewSweepInterval is how often the hub expires objects held for review past their collection's
// review timeout. Reading a pending status expires its own overdue objects at once, so the sweep
// only bounds how long an expired object stays in reviewers' queues.
const reviewSweepInterval = time.Minute

// sweepHeldObjects expires overdue held objects at once and then every reviewSweepInterval, until
// ctx ends.
func (s *Server) sweepHeldObjects(ctx context.Context) {
	atOnceThenEvery(ctx, reviewSweepInterval, func(ctx context.Context) {
		n, err := store.Expire(ctx, s.store, store.PendingQuery{Limit: store.MaxLimit}, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.WarnContext(ctx, "could not expire objects held for review", "expired", n, "error", err)
		case n > 0:
			s.log.InfoContext(ctx, "expired objects held for review past their timeout", "expired", n)
		}
	})
}

// sweepExpired purges what retention no longer keeps (see admin.Service.Sweep) at once and then
// every SweepInterval, until ctx ends. Every node sweeps: purges of the same versions by two nodes
// serialize in the store, and the second finds nothing left.
func (s *Server) sweepExpired(ctx context.Context) {
	atOnceThenEvery(ctx, s.cfg.SweepInterval, func(ctx context.Context) {
		r, err := s.admin.SweepExpired(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.WarnContext(ctx, "the retention sweep failed; it runs again at the next interval",
				"purged", r.Purged, "statuses", r.Statuses, "error", err)
		case r.Purged > 0 || r.Statuses > 0:
			s.log.InfoContext(ctx, "retention sweep", "purged", r.Purged, "statuses", r.Statuses)
		}
	})
}
