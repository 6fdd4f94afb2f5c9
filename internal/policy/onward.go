package policy

import (
	"taxiihub/internal/stix"
	"taxiihub/internal/store"
)

// Partnerships tells the onward-sharing rule about the partnerships content came from.
type Partnerships interface {
	// Policy returns the policy of a partnership; ok is false when it no longer exists, and with it
	// its rules.
	Policy(root string) (p store.PartnershipPolicy, ok bool)
	// Received reports whether the member publishing could have received content through the
	// partnership: whether it holds a grant there.
	Received(root string) bool
}

// OriginKeys are the keys whose origins decide the onward-sharing rule for an object: its id and its
// content fingerprint.
func OriginKeys(id, fingerprint string) []string {
	if publicObject(id) {
		return nil
	}
	keys := []string{store.OriginKeyID(id)}
	if fingerprint != "" {
		keys = append(keys, store.OriginKeyFingerprint(fingerprint))
	}
	return keys
}

// OnwardSharing decides the no-onward-sharing rule for one object that member posts into the
// partnership target. origins are those recorded for the object's OriginKeys, in any partnership.
//
// The object is refused when its id or fingerprint was first published in another partnership that
// forbids onward sharing, by another member, and the member posting it takes part in that
// partnership, so could have received it there. A member may always post what it published first
// itself, and content it could not have received there. The refusal names neither the partnership
// nor its members: the poster may not know which partnership's rules it is, and should not learn
// who else holds the content.
func OnwardSharing(target, member string, id string, origins []store.Origin, ps Partnerships) *stix.Problem {
	if publicObject(id) {
		return nil
	}
	for _, o := range origins {
		if o.APIRoot == target || o.Member == member {
			continue
		}
		policy, ok := ps.Policy(o.APIRoot)
		if !ok || !policy.NoOnwardSharing || !ps.Received(o.APIRoot) {
			continue
		}
		return &stix.Problem{Code: CodeOnwardSharing, Message: "this content was received under sharing rules that " +
			"forbid passing it on to another partnership; share only what your organisation produced itself"}
	}
	return nil
}
