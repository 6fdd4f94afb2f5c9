package policy

import (
	"time"

	"taxiihub/internal/stix"
	"taxiihub/internal/store"
)

// Partnerships tells the onward-sharing rule about the partnerships content came from and what the
// member posting received there.
type Partnerships interface {
	// Policy returns the policy of a partnership; ok is false when it no longer exists, and with it
	// its rules.
	Policy(root string) (p store.PartnershipPolicy, ok bool)
	// LastReceived returns when the member posting last received content from the partnership, as
	// the ledger records its pulls (store.LastPulls); ok is false when it never did. Grants held
	// now do not matter: content once received stays received.
	LastReceived(root string) (at time.Time, ok bool)
}

// Keys are the origin keys whose origins decide the onward-sharing rule for an object with the id
// and content c: its id, its fingerprint, and the ids and fingerprints of the objects embedded in
// it. A public object has none.
func (c Content) Keys(id string) []string {
	if publicObject(id) {
		return nil
	}
	keys := []string{store.OriginKeyID(id)}
	if c.Fingerprint != "" {
		keys = append(keys, store.OriginKeyFingerprint(c.Fingerprint))
	}
	for _, e := range c.Embedded {
		if e.ID != "" && !publicObject(e.ID) {
			keys = append(keys, store.OriginKeyID(e.ID))
		}
		keys = append(keys, store.OriginKeyFingerprint(e.Fingerprint))
	}
	return keys
}

// Restricting returns the origins, among those recorded for an object's Keys, that forbid member
// to post it into the partnership target: content first published by another member in another
// partnership whose policy has no_onward_sharing, from which member received content (pulled
// objects) at or after the time that origin was recorded. A member may always post what it
// published first itself, and content it could not have received there. None means the object may
// be posted; otherwise it is refused (OnwardRefusal) unless the member attests holding the content
// independently, which the ledger records against these origins.
func Restricting(target, member string, origins []store.Origin, ps Partnerships) []store.Origin {
	var out []store.Origin
	for _, o := range origins {
		if o.APIRoot == target || o.Member == member {
			continue
		}
		policy, ok := ps.Policy(o.APIRoot)
		if !ok || !policy.NoOnwardSharing {
			continue
		}
		if last, ok := ps.LastReceived(o.APIRoot); !ok || last.Before(o.At) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// AttestParameter is how a member declares, on a request, that it holds the content it posts
// independently of what it received from partners: the query parameter and its one value.
const (
	AttestParameter   = "x-taxiihub-attest"
	AttestIndependent = "independent"
)

// OnwardRefusal is the problem an object restricted by Restricting is refused with. It names
// neither the partnership nor its members: the poster may not know which partnership's rules it
// is, and should not learn who else holds the content.
func OnwardRefusal() stix.Problem {
	return stix.Problem{Code: CodeOnwardSharing, Message: "this content was received under sharing rules that " +
		"forbid passing it on to another partnership; share only what your organisation produced itself, " +
		"or, if your organisation holds this intelligence independently, post it again with " +
		AttestParameter + "=" + AttestIndependent + " (the attestation is recorded and shown to the original publisher)"}
}
