// Package identity derives the ids of the STIX identities the hub keeps for its members. It is a
// package of its own, importing nothing of the hub, so that every layer can compute an id without
// reading the store (the store contract itself stays free of third-party modules).
package identity

import "github.com/google/uuid"

// memberIdentityNamespace is the namespace of the UUIDv5s of members' identities. It is fixed for
// good: changing it would give every member a new identity and orphan every created_by_ref
// pointing at the old ones.
const memberIdentityNamespace = "745294d3-02f9-488f-91dc-63767ed3d6b6"

// OfMember is the id of the STIX identity the hub keeps for the member: identity--, then a
// UUIDv5 of the member id in the hub's namespace. Derived rather than stored, so that every part of
// the hub (the operator service that writes the identity, the sharing layer that checks
// created_by_ref against the publisher's) computes the same id without reading anything, and the
// id stays the same for as long as the member id does.
func OfMember(memberID string) string {
	return "identity--" + uuid.NewSHA1(uuid.MustParse(memberIdentityNamespace), []byte(memberID)).String()
}
