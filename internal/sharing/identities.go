package sharing

import (
	"context"
	"fmt"

	"taxiihub/internal/identity"
	"taxiihub/internal/stix"
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

// identities maps every member's identity id to the member.
func (s *Service) identities(ctx context.Context) (map[string]string, error) {
	members, err := s.store.Members(ctx)
	if err != nil {
		return nil, fmt.Errorf("sharing: members: %w", err)
	}
	out := make(map[string]string, len(members))
	for _, m := range members {
		out[identity.OfMember(m.ID)] = m.ID
	}
	return out, nil
}

// speaksFor checks that an object a member publishes does not speak for another member. A
// created_by_ref naming an identity the hub does not know is the poster's own affair and is kept as
// sent: the hub never trusts it, since its ledger attributes every object to the member whose
// credentials posted it.
type speaksFor struct {
	caller     string
	identities map[string]string
}

func (a speaksFor) check(id string, decoded map[string]any) *stix.Problem {
	if _, ok := a.identities[id]; ok {
		return &stix.Problem{Code: CodeMemberIdentity, Path: "/id",
			Message: "this id is a member's identity, which the hub keeps itself; publish an identity of your own under another id"}
	}
	ref, _ := decoded["created_by_ref"].(string)
	if member, ok := a.identities[ref]; ok && member != a.caller {
		return &stix.Problem{Code: CodeNotCreator, Path: "/created_by_ref",
			Message: "created_by_ref names another member's identity; name your own, or leave it out"}
	}
	return nil
}
