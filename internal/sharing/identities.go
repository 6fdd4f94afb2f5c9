package sharing

import (
	"context"
	"fmt"

	"taxiihub/internal/stix"
	"taxiihub/internal/store"
)

// Codes of the refusals that keep a member from speaking for another.
const (
	// CodeMemberIdentity refuses an object whose id is a member's identity: the hub keeps those (in
	// each partnership's members collection), and nobody else may publish or version one.
	CodeMemberIdentity = "member-identity"
	// CodeNotCreator refuses an object whose created_by_ref names another member's identity: a
	// partner may say it authored something, never that another member did.
	CodeNotCreator = "not-creator"
)

// identities returns the ids of the identities a partnership's members collection serves: those of
// its own members. Only these are checked, so that a refusal tells a poster nothing it could not
// read there; an identity id is derived from a member id, and checking every member of the hub would
// let a partner probe, one guessed member id at a time, who else takes part in the hub.
func (s *Service) identities(ctx context.Context, root string) (map[string]bool, error) {
	colls, err := s.store.Collections(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("sharing: collections of %s: %w", root, err)
	}
	ids := map[string]bool{}
	for _, c := range colls {
		if !c.Members {
			continue
		}
		q := store.Query{Limit: store.MaxLimit}
		for {
			page, err := s.store.Manifest(ctx, c.ID, q)
			if err != nil {
				return nil, fmt.Errorf("sharing: members of %s: %w", root, err)
			}
			for _, r := range page.Records {
				ids[r.ID] = true
			}
			if !page.More {
				break
			}
			q.Cursor = page.Next
		}
	}
	return ids, nil
}

// speaksFor checks that an object a member publishes does not speak for another member. A
// created_by_ref naming an identity the hub does not know is the poster's own affair and is kept as
// sent: the hub never trusts it, since its ledger attributes every object to the member whose
// credentials posted it.
type speaksFor struct {
	// caller is the publishing member's own identity id.
	caller     string
	identities map[string]bool
}

func (a speaksFor) check(id string, decoded map[string]any) *stix.Problem {
	if a.identities[id] {
		return &stix.Problem{Code: CodeMemberIdentity, Path: "/id",
			Message: "this id is a member's identity, which the hub keeps itself; publish an identity of your own under another id"}
	}
	ref, _ := decoded["created_by_ref"].(string)
	if a.identities[ref] && ref != a.caller {
		return &stix.Problem{Code: CodeNotCreator, Path: "/created_by_ref",
			Message: "created_by_ref names another member's identity; name your own, or leave it out"}
	}
	return nil
}
