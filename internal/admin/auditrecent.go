package admin

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// RecentAudit returns the newest recorded actions, newest first: at most limit of them, and only
// those at or after since when it is set. An operator looking at the trail wants what just happened;
// the trail is numbered without gaps, so the newest limit entries are the last limit sequence numbers
// and are read in one call, however long the trail.
func (s *Service) RecentAudit(ctx context.Context, since time.Time, limit int) ([]AuditEntry, error) {
	if limit < 1 || limit > MaxAuditPage {
		return nil, &Error{Kind: Invalid, Message: fmt.Sprintf("limit %d is outside 1..%d", limit, MaxAuditPage)}
	}
	head, err := s.store.AuditHead(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin: read audit head: %w", err)
	}
	entries, err := s.store.Audit(ctx, max(0, head.Seq-int64(limit)), limit)
	if err != nil {
		return nil, fmt.Errorf("admin: read audit trail: %w", err)
	}
	out := make([]AuditEntry, 0, len(entries))
	for _, e := range entries {
		if !since.IsZero() && e.At.Before(since) {
			continue
		}
		out = append(out, auditEntryOf(e))
	}
	slices.Reverse(out)
	return out, nil
}
