package sharing

import (
	"context"
	"fmt"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// PublicationScan is how many of the newest ledger entries Publications reads: it answers from the
// ledger's end, without an index, so what it may read is bounded whatever the ledger's length.
const PublicationScan = 5000

// MaxPublications is the most publications one call returns.
const MaxPublications = 200

// publicationBatch is how many ledger entries Publications reads at a time.
const publicationBatch = 500

// Publications lists what the caller's member published in a partnership, newest first: the
// ledger's publish entries of the member there, among the newest PublicationScan entries of the
// ledger, at most limit of them. Each names the collection, the time, the token or the person who
// published, and every object's verdict.
func (s *Service) Publications(ctx context.Context, caller auth.Principal, root string, limit int) ([]store.LedgerEntry, error) {
	r, err := s.Root(ctx, caller, root)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxPublications {
		return nil, &Error{Kind: Invalid, Message: fmt.Sprintf("The limit must be from 1 to %d.", MaxPublications)}
	}
	head, err := s.store.LedgerHead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sharing: ledger head: %w", err)
	}
	var out []store.LedgerEntry
	for end := head.Seq; end > 0 && head.Seq-end < PublicationScan && len(out) < limit; {
		after := max(end-publicationBatch, head.Seq-PublicationScan, 0)
		batch, err := s.store.Ledger(ctx, after, int(end-after))
		if err != nil {
			return nil, fmt.Errorf("sharing: ledger after %d: %w", after, err)
		}
		for i := len(batch) - 1; i >= 0 && len(out) < limit; i-- {
			if e := batch[i]; e.Kind == store.LedgerPublish && e.Member == caller.MemberID && e.APIRoot == r.Slug {
				out = append(out, e)
			}
		}
		end = after
	}
	return out, nil
}
