package store

import (
	"context"
	"fmt"
	"slices"
)

// Scan is one ordered range read of a collection's versions, narrowed by the filters an index can
// answer. Deciding first/last/newest-spec needs an object's other versions, which Paginate does.
type Scan struct {
	// After is the exclusive lower bound on date added in Unix microseconds; -1 means none.
	After        int64
	IDs          []string
	Types        []string
	SpecVersions []string
	// MaxTLP leaves out versions marked above it; TLPNone means no limit.
	MaxTLP      TLP
	Limit       int
	WithContent bool
}

// VersionSource is the narrow view of one collection that Paginate needs from a backend. A backend
// keeps it to two indexed reads; the TAXII filter semantics live here, once, for every backend.
type VersionSource interface {
	// ScanVersions returns up to s.Limit versions added after s.After, in ascending date-added order.
	ScanVersions(ctx context.Context, s Scan) ([]Record, error)
	// VersionsOf returns every version held of the given object ids, without content, leaving out
	// those marked above maxTLP (TLPNone: none left out).
	VersionsOf(ctx context.Context, ids []string, maxTLP TLP) ([]Record, error)
}

// minScanBatch keeps small pages from costing one round trip per candidate when filters reject many.
const minScanBatch = 128

// Paginate answers Objects and Manifest for a backend: it resolves q against its cursor, reads
// candidates from src in date-added order, keeps those the filters select, and sets More and Next.
//
// It reads committed data only. Because dates added increase in commit order, a version committing
// while a page is read has a later date added than every version on that page, and so lands on a
// later page instead of being skipped.
func Paginate(ctx context.Context, src VersionSource, collectionID string, q Query, withContent bool) (Page, error) {
	p, err := q.resolve(collectionID)
	if err != nil {
		return Page{}, err
	}
	vf := p.filters.versionFilter()
	scan := Scan{
		After:        p.after,
		IDs:          p.filters.IDs,
		Types:        p.filters.Types,
		SpecVersions: p.filters.SpecVersions,
		MaxTLP:       p.maxTLP,
		Limit:        max(p.limit+1, minScanBatch),
		WithContent:  withContent,
	}
	want := p.limit + 1 // one more than the page shows, to learn whether there is more
	var kept []Record
	for len(kept) < want {
		batch, err := src.ScanVersions(ctx, scan)
		if err != nil {
			return Page{}, fmt.Errorf("store: scan collection %s: %w", collectionID, err)
		}
		var siblings map[string][]Record
		if vf.needsSiblings() && len(batch) > 0 {
			if siblings, err = versionsByID(ctx, src, batch, p.maxTLP); err != nil {
				return Page{}, fmt.Errorf("store: versions in collection %s: %w", collectionID, err)
			}
		}
		for _, r := range batch {
			if siblings == nil || vf.selects(r, siblings[r.ID]) {
				kept = append(kept, r)
				if len(kept) == want {
					break
				}
			}
		}
		if len(batch) < scan.Limit {
			break
		}
		scan.After = batch[len(batch)-1].DateAdded.UnixMicro()
	}
	page := Page{Records: kept}
	if len(kept) > p.limit {
		page.Records = kept[:p.limit]
		page.More = true
		page.Next = p.next(page.Records[p.limit-1].DateAdded)
	}
	return page, nil
}

func versionsByID(ctx context.Context, src VersionSource, batch []Record, maxTLP TLP) (map[string][]Record, error) {
	ids := make([]string, 0, len(batch))
	for _, r := range batch {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	all, err := src.VersionsOf(ctx, slices.Compact(ids), maxTLP)
	if err != nil {
		return nil, err
	}
	byID := make(map[string][]Record, len(ids))
	for _, r := range all {
		byID[r.ID] = append(byID[r.ID], r)
	}
	// A version just scanned may have been deleted before VersionsOf ran; it then competes only with
	// what remains, which is what a reader arriving a moment later would see.
	return byID, nil
}
