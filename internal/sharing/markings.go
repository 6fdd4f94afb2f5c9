package sharing

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
)

// MaxMarkingDefinitions is the most marking definitions, other than the predefined TLP ones, that
// one request's objects may refer to and have classified. The hub looks each up in the envelope
// and the partnership before judging any object; references beyond the first
// MaxMarkingDefinitions distinct ids are left unclassifiable, which refuses (under a ceiling) or
// hides (from readers with a clearance) what carries them, so that a request cannot make the hub
// look up without bound.
const MaxMarkingDefinitions = 1000

// markingLookupBatch is how many ids one store query asks for.
const markingLookupBatch = 100

// markingDefinitionType finds the type property of a marking-definition object in its JSON, so that
// only definitions are decoded and validated a second time. One whose type is written with escapes
// is not found: what refers to it stays unclassifiable.
var markingDefinitionType = regexp.MustCompile(`"type"\s*:\s*"marking-definition"`)

// markings classifies, once for the whole envelope, every marking definition its objects refer to
// other than the predefined TLP ones (see policy.Markings): from the definitions in the envelope
// itself, whichever part they are in, and those stored in any collection of the partnership. A
// definition seen several times (versions, or both in the envelope and stored) counts at the
// highest level any of them claims. A definition in the envelope that the validator refuses
// classifies nothing, but the level it claims still counts: a partner saying RED is taken at its
// word. The per-object checks then look levels up in a map, with no store round-trip per object.
func (s *Service) markings(ctx context.Context, acc Access, raws []json.RawMessage) (policy.Markings, error) {
	wanted := map[string]bool{}
	var definitions []json.RawMessage
	for _, raw := range raws {
		if len(raw) > MaxObjectSize {
			continue // refused alone, unread
		}
		found := false
		policy.ScanMarkingIDs(raw, func(id string) {
			found = true
			if len(wanted) < MaxMarkingDefinitions {
				wanted[id] = true
			}
		})
		if found && markingDefinitionType.Match(raw) {
			definitions = append(definitions, raw)
		}
	}
	if len(wanted) == 0 {
		return nil, nil
	}
	known := policy.Markings{}
	see := func(id string, level store.TLP) {
		if !wanted[id] {
			return
		}
		if l, ok := known[id]; !ok || level > l {
			known[id] = level
		}
	}
	for _, raw := range definitions {
		sv := s.checker.Object(raw)
		obj := sv.Object
		if obj == nil {
			if json.Unmarshal(raw, &obj) != nil {
				continue
			}
		}
		id, _ := obj["id"].(string)
		if typ, _ := obj["type"].(string); typ != "marking-definition" {
			continue
		}
		if claim := policy.ClaimedLevel(obj); sv.Valid() || claim != store.TLPNone {
			see(id, claim)
		}
	}
	if err := s.storedMarkings(ctx, acc.Root.Slug, wanted, see); err != nil {
		return nil, err
	}
	return known, nil
}

// storedMarkings reads the marking definitions with the wanted ids that the partnership's
// collections hold, every version, whatever the reader's clearance, and tells see the level each
// claims.
func (s *Service) storedMarkings(ctx context.Context, root string, wanted map[string]bool, see func(string, store.TLP)) error {
	colls, err := s.store.Collections(ctx, root)
	if err != nil {
		return fmt.Errorf("sharing: marking definitions of %s: %w", root, err)
	}
	ids := make([]string, 0, len(wanted))
	for id := range wanted {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, c := range colls {
		if c.Members {
			continue // identities only
		}
		for batch := range slices.Chunk(ids, markingLookupBatch) {
			q := store.Query{IDs: batch, Types: []string{"marking-definition"}, Limit: store.MaxLimit,
				VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}}}
			for {
				page, err := s.store.Objects(ctx, c.ID, q)
				if err != nil {
					return fmt.Errorf("sharing: marking definitions in %s: %w", c.ID, err)
				}
				for _, r := range page.Records {
					var def map[string]any
					if err := json.Unmarshal(r.Content, &def); err != nil {
						continue // the store holds valid JSON; nothing to classify otherwise
					}
					see(r.ID, policy.ClaimedLevel(def))
				}
				if !page.More {
					break
				}
				q.Cursor = page.Next
			}
		}
	}
	return nil
}
