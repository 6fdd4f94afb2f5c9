package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"taxiihub/internal/store"
)

// The retention sweep removes what the hub no longer keeps: object versions older than their
// collection's retention (see store/retention.go for what a purge removes and keeps) and status
// resources older than the hub's status retention. The hub runs it periodically; an operator runs
// it at once with taxiictl sweep or POST /admin/sweep/.

// purgeBatch is how many versions one purge transaction removes, and one purge ledger entry lists
// (about 150 bytes each): a sweep of a large backlog commits in steps, so that writers of the
// collection never wait long, and a sweep cut short keeps what it did.
const purgeBatch = 1000

// SweepReport is what one sweep removed.
type SweepReport struct {
	// Collections lists the collections with a retention, and what was purged from each.
	Collections []CollectionPurge `json:"collections"`
	// Purged is the total of object versions purged; Statuses the status resources removed.
	Purged   int `json:"purged"`
	Statuses int `json:"statuses"`
	// PullDetails is how many pulls' lists of ids were removed, their transparency window past.
	PullDetails int `json:"pull_details"`
	// StatusRetention and PullDetailRetention are how long statuses and pulls' ids are kept, as
	// operators write them.
	StatusRetention     string `json:"status_retention"`
	PullDetailRetention string `json:"pull_detail_retention"`
}

// CollectionPurge is what one sweep did to one collection with a retention.
type CollectionPurge struct {
	Partnership string `json:"partnership"`
	Collection  string `json:"collection"`
	Alias       string `json:"alias,omitempty"`
	Retention   string `json:"retention"`
	// Before is the date added before which versions were purged.
	Before time.Time `json:"before"`
	Purged int       `json:"purged"`
}

// Sweep is an operator's sweep, at once: the purge ledger entries name the operator, and the audit
// trail records what was removed.
func (s *Service) Sweep(ctx context.Context, actor string) (SweepReport, error) {
	r, err := s.sweep(ctx, actor)
	if r.Purged > 0 || r.Statuses > 0 || r.PullDetails > 0 {
		err = errors.Join(err, s.record(ctx, actor, Change{Action: "purge", Kind: "retention", Target: "hub",
			Detail: fmt.Sprintf("%d object versions past their collection's retention, %d statuses older than %s, "+
				"the ids of %d pulls older than %s", r.Purged, r.Statuses, r.StatusRetention, r.PullDetails, r.PullDetailRetention)}))
	}
	return r, err
}

// SweepExpired is the hub's periodic sweep; its purge entries name store.RetentionSweeper.
func (s *Service) SweepExpired(ctx context.Context) (SweepReport, error) {
	return s.sweep(ctx, store.RetentionSweeper)
}

// sweep purges every collection's expired versions and the statuses older than the status
// retention, as of now; by is who the purge ledger entries name. Purges done before an error stay
// done, and the report counts them.
func (s *Service) sweep(ctx context.Context, by string) (SweepReport, error) {
	now := s.now()
	report := SweepReport{Collections: []CollectionPurge{}, StatusRetention: FormatReviewTimeout(s.statusRetention),
		PullDetailRetention: FormatReviewTimeout(s.pullDetailRetention)}
	roots, err := s.store.APIRoots(ctx)
	if err != nil {
		return report, fmt.Errorf("admin: sweep: list partnerships: %w", err)
	}
	for _, root := range roots {
		colls, err := s.store.Collections(ctx, root.Slug)
		if err != nil {
			return report, fmt.Errorf("admin: sweep: collections of %s: %w", root.Slug, err)
		}
		for _, c := range colls {
			if c.Policy.Retention <= 0 {
				continue
			}
			cp := CollectionPurge{Partnership: root.Slug, Collection: c.ID, Alias: c.Alias,
				Retention: FormatReviewTimeout(c.Policy.Retention), Before: now.Add(-c.Policy.Retention).UTC()}
			n, err := s.purge(ctx, store.Purge{CollectionID: c.ID, Before: cp.Before, Limit: purgeBatch, By: by})
			cp.Purged = n
			report.Purged += n
			report.Collections = append(report.Collections, cp)
			if err != nil {
				return report, fmt.Errorf("admin: sweep: purge %s: %w", collectionName(root.Slug, c.ID, c.Alias), err)
			}
			if n > 0 {
				s.log.InfoContext(ctx, "purged object versions past their collection's retention",
					"partnership", root.Slug, "collection", c.ID, "retention", cp.Retention, "purged", n, "by", by)
			}
		}
	}
	for {
		n, err := s.store.PurgeStatuses(ctx, now.Add(-s.statusRetention), store.MaxLimit)
		report.Statuses += n
		if err != nil {
			return report, fmt.Errorf("admin: sweep: purge statuses: %w", err)
		}
		if n < store.MaxLimit {
			break
		}
	}
	for {
		n, err := s.store.PurgePullDetails(ctx, now.Add(-s.pullDetailRetention), store.MaxLimit)
		report.PullDetails += n
		if err != nil {
			return report, fmt.Errorf("admin: sweep: purge pull details: %w", err)
		}
		if n < store.MaxLimit {
			break
		}
	}
	return report, nil
}

// purge runs p until nothing expired is left, and returns how many versions it removed.
func (s *Service) purge(ctx context.Context, p store.Purge) (int, error) {
	total := 0
	for {
		res, err := s.store.Purge(ctx, p)
		total += res.Purged
		if err != nil || !res.More {
			return total, err
		}
	}
}
