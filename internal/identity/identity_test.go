package identity_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"taxiihub/internal/identity"
)

func TestOfMemberIsAStableUUIDv5PerMember(t *testing.T) {
	id := identity.OfMember("cert-eu")
	// Pinned, and computed apart from the code (Python's uuid.uuid5): a change would give every
	// member of every hub a new identity.
	if want := "identity--e12073d7-cd06-5e1c-b3ad-93922c0d080d"; id != want {
		t.Errorf("OfMember(cert-eu) = %s, want %s", id, want)
	}
	u, err := uuid.Parse(strings.TrimPrefix(id, "identity--"))
	if err != nil || u.Version() != 5 || u.Variant() != uuid.RFC4122 {
		t.Errorf("%s is not an RFC 4122 UUIDv5 (%v)", id, err)
	}
	if identity.OfMember("cert-eu") != id {
		t.Error("the id changed between two calls")
	}
	if identity.OfMember("jpcert-cc") == id {
		t.Error("two members share an identity id")
	}
}
