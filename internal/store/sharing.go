package store

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// ErrJurisdiction reports a grant or membership that would give a partnership a member from outside
// the jurisdictions its policy allows, or a change of policy or jurisdiction that would leave such a
// member in place. Backends check it in the same transaction as the write, so that no concurrent
// change of policy, member or grant can slip past it.
var ErrJurisdiction = errors.New("member's jurisdiction is outside those the partnership allows")

// PersonalDataMode says what a partnership does with objects that carry personal data.
type PersonalDataMode string

const (
	// PersonalDataAllow leaves personal data alone: the partnership has no personal-data rule.
	PersonalDataAllow PersonalDataMode = ""
	// PersonalDataReject refuses every object that carries personal data.
	PersonalDataReject PersonalDataMode = "reject"
	// PersonalDataStrip removes the personal data it finds and stores the rest, with a warning;
	// objects that are personal data as a whole are still refused.
	PersonalDataStrip PersonalDataMode = "strip"
)

// PartnershipPolicy holds the rules of a partnership's arrangement that apply to all its collections.
type PartnershipPolicy struct {
	PersonalData PersonalDataMode
	// Jurisdictions, when not empty, lists the only jurisdictions (ISO 3166-1 alpha-2 codes, or EU)
	// its members may come from, as a sorted set.
	Jurisdictions []string
	// NoOnwardSharing forbids content received through this partnership from being posted into any
	// other by the members who received it.
	NoOnwardSharing bool
	// Reviewers are the members, as a sorted set, whose reviewer tokens release what is posted to
	// the partnership's collections under ReviewPartnership: its moderators. None named, nobody
	// releases there, and held objects expire.
	Reviewers []string
}

// AllowsJurisdiction reports whether a member established in j may take part in the partnership.
func (p PartnershipPolicy) AllowsJurisdiction(j string) bool {
	return len(p.Jurisdictions) == 0 || slices.Contains(p.Jurisdictions, j)
}

// Equal reports whether two policies hold the same rules.
func (p PartnershipPolicy) Equal(q PartnershipPolicy) bool {
	return p.PersonalData == q.PersonalData && p.NoOnwardSharing == q.NoOnwardSharing &&
		slices.Equal(p.Jurisdictions, q.Jurisdictions) && slices.Equal(p.Reviewers, q.Reviewers)
}

// CollectionPolicy holds the rules on what one collection accepts.
type CollectionPolicy struct {
	// AllowedTypes, when not empty, lists the only STIX object types the collection accepts, as a
	// sorted set.
	AllowedTypes []string
	// DeniedProperties lists property names the collection refuses wherever they appear in an
	// object, as a sorted set.
	DeniedProperties []string
	// MaxTLP is the highest TLP level the collection accepts; TLPNone means no ceiling.
	MaxTLP TLP
	// Unmarked says what becomes of an object that carries no TLP marking.
	Unmarked UnmarkedRule
	// AllowedProperties, when not empty, lists per object type the only properties an object of
	// that type may carry, each a sorted set of property paths (dotted into nested objects; the
	// README's "Sharing rules" says how they read). A type without an entry carries the properties
	// every object may carry only.
	AllowedProperties map[string][]string
	// Review says who must release an object posted to the collection before readers see it.
	Review ReviewRule
	// ReviewTimeout is how long a posted object waits for its review before it expires; zero means
	// DefaultReviewTimeout. It only matters when Review is not ReviewNone.
	ReviewTimeout time.Duration
	// Retention, when set, is how long each object version is kept after its date added; a purge
	// then removes it (see retention.go). Zero keeps versions for good.
	Retention time.Duration
}

// Equal reports whether two policies hold the same rules.
func (p CollectionPolicy) Equal(q CollectionPolicy) bool {
	return p.MaxTLP == q.MaxTLP && p.Unmarked == q.Unmarked && p.Review == q.Review &&
		p.EffectiveReviewTimeout() == q.EffectiveReviewTimeout() && p.Retention == q.Retention && slices.Equal(p.AllowedTypes, q.AllowedTypes) &&
		slices.Equal(p.DeniedProperties, q.DeniedProperties) &&
		maps.EqualFunc(p.AllowedProperties, q.AllowedProperties, slices.Equal)
}

// EffectiveReviewTimeout is how long an object posted to the collection waits for its review.
func (p CollectionPolicy) EffectiveReviewTimeout() time.Duration {
	if p.ReviewTimeout <= 0 {
		return DefaultReviewTimeout
	}
	return p.ReviewTimeout
}

// ReviewRule says who releases what members post to a collection, for partnerships whose members
// release intelligence to each other only after a second person (a release authority) has looked
// at it.
type ReviewRule string

const (
	// ReviewNone stores what is posted at once, as TAXII servers do. It is the default.
	ReviewNone ReviewRule = ""
	// ReviewOwnMember holds each posted object until a reviewer of the publishing member releases
	// it: four eyes inside the organisation.
	ReviewOwnMember ReviewRule = "own-member"
	// ReviewPartnership holds each posted object until a reviewer of a member the partnership
	// names (PartnershipPolicy.Reviewers) releases it, as a moderator would.
	ReviewPartnership ReviewRule = "partnership"
)

// DefaultReviewTimeout is how long a posted object waits for its review when the collection names
// no timeout: a working week and its weekend.
const DefaultReviewTimeout = 7 * 24 * time.Hour

// Valid reports whether r is one of the review rules.
func (r ReviewRule) Valid() bool {
	return r == ReviewNone || r == ReviewOwnMember || r == ReviewPartnership
}

// UnmarkedRule says what a collection does with objects that carry no TLP marking.
type UnmarkedRule string

const (
	// UnmarkedClear treats an object without a TLP marking as TLP:CLEAR: every ceiling and
	// clearance admits it. It is the default, as it was before the rule existed.
	UnmarkedClear UnmarkedRule = ""
	// UnmarkedRefuse refuses an object without a TLP marking, so that nothing enters the
	// collection whose level its publisher did not state.
	UnmarkedRefuse UnmarkedRule = "refuse"
)

// SortedProperties returns allowed properties in the form policies compare and store in: each type's
// paths a sorted set, types without paths kept (they carry the properties every object may carry
// only), nil when there are none.
func SortedProperties(in map[string][]string) map[string][]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string][]string, len(in))
	for typ, paths := range in {
		out[typ] = sortedSet(paths)
	}
	return out
}

// SortedSet returns the distinct values of in, sorted; nil when there are none, so that policies
// compare and store alike whichever way an empty list was written.
func SortedSet(in []string) []string { return sortedSet(in) }

// TLP is a Traffic Light Protocol level, ordered from least to most restricted. TLP 1.0 and 2.0
// levels map onto one scale: WHITE is CLEAR, and AMBER+STRICT (2.0 only) lies between AMBER and RED.
type TLP int

const (
	// TLPNone is no level. As an object's level it means the object carries no TLP marking, which
	// every ceiling and clearance admits; as a ceiling or clearance it means no limit.
	TLPNone TLP = iota
	TLPClear
	TLPGreen
	TLPAmber
	TLPAmberStrict
	TLPRed
	// TLPUnknown is the level of an object marked with a marking definition the hub could not
	// classify (one it has never seen). It lies above every level, so that no ceiling or
	// clearance admits it: what the hub cannot classify it must not treat as unmarked. Only the
	// absence of a limit (TLPNone) admits it. It is never a ceiling or clearance.
	TLPUnknown
)

var tlpNames = [...]string{"", "clear", "green", "amber", "amber+strict", "red"}

// String is the level's lower-case TLP 2.0 name, "" for TLPNone, or "unknown" for TLPUnknown.
func (t TLP) String() string {
	if t == TLPUnknown {
		return "unknown"
	}
	if t < TLPNone || t > TLPRed {
		return fmt.Sprintf("TLP(%d)", int(t))
	}
	return tlpNames[t]
}

// Admits reports whether an object at level obj is within the limit t (a ceiling or clearance).
func (t TLP) Admits(obj TLP) bool { return t == TLPNone || obj <= t }

// ParseTLP reads a TLP level name: clear, white, green, amber, amber+strict or red, in any case and
// with or without a "TLP:" prefix. The empty string is TLPNone.
func ParseTLP(s string) (TLP, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	name = strings.TrimPrefix(name, "tlp:")
	if name == "white" {
		return TLPClear, nil
	}
	if i := slices.Index(tlpNames[:], name); i >= 0 {
		return TLP(i), nil
	}
	return TLPNone, fmt.Errorf("%q is not a TLP level (clear, white, green, amber, amber+strict or red)", s)
}

// Role is what a member does in a partnership: publish, read, or both. It bounds what grants allow:
// a reader never writes and a publisher never reads, whatever its grants say.
type Role string

const (
	// RoleBoth publishes and reads. A member that holds grants in a partnership but no membership
	// acts in this role.
	RoleBoth Role = "both"
	// RolePublisher only publishes.
	RolePublisher Role = "publisher"
	// RoleReader only reads.
	RoleReader Role = "reader"
)

// CanPublish reports whether the role allows adding objects.
func (r Role) CanPublish() bool { return r != RoleReader }

// CanRead reports whether the role allows reading objects.
func (r Role) CanRead() bool { return r != RolePublisher }

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r == RoleBoth || r == RolePublisher || r == RoleReader }

// Membership is a member's standing in one partnership: its role and its TLP clearance. Grants still
// decide which collections it reaches; the membership narrows what they allow.
type Membership struct {
	MemberID string
	APIRoot  string
	Role     Role
	// Clearance is the highest TLP level the member may read; TLPNone means no limit.
	Clearance TLP
}

// DefaultMembership is the standing of a member that holds grants in a partnership but has no
// membership recorded: both roles and no TLP limit, so that grants alone decide, as before
// memberships existed.
func DefaultMembership(memberID, root string) Membership {
	return Membership{MemberID: memberID, APIRoot: root, Role: RoleBoth}
}

// Origin records who first published an object, or content, in a partnership. The store keeps origins
// for good, also after the objects are deleted or withdrawn, because content once received stays
// received.
type Origin struct {
	// Key is OriginKeyID or OriginKeyFingerprint of what was published.
	Key     string
	APIRoot string
	// Member is the member whose publication came first.
	Member string
	// At is when that publication stored what made the member the origin (its date added).
	At time.Time
	// DerivedFrom, when set, is the key of the origin this one was derived from when the store
	// re-keyed the origins of content fingerprinted under an older scheme (see FingerprintUpgrade):
	// no publication in the ledger made it, the one that made DerivedFrom stands for it.
	DerivedFrom string
}

// FingerprintUpgrade gives, for the content of a stored object version, the fingerprint the
// hub's first scheme gave it (legacy) and the current scheme's (current); either empty when the
// content has none. Backends call it once, when they first open a database holding origins of the
// first scheme, to give every such origin whose content they still hold the current key, so that
// changing the scheme does not open the no-onward-sharing rule for content received before.
type FingerprintUpgrade func(content []byte) (legacy, current string)

// MayVersion reports whether member may add a version of o to a partnership in which owner (empty
// when nobody yet) first published o's id. Only an object's creator versions it, as STIX says; an
// observable, which has no version of its own and whose id is derived from what it observes, is a
// fact that every member may publish.
func MayVersion(owner, member string, o Object) bool {
	return owner == "" || owner == member || o.Version.IsZero()
}

// WithdrawalBars reports whether a withdrawal by withdrawer, in a partnership, bars member from
// publishing an object with the withdrawn id there: it bars the withdrawer, for good. Others are
// kept from the withdrawer's objects by ownership (see MayVersion) and may go on publishing an
// observable, a fact that was never the withdrawer's alone.
func WithdrawalBars(withdrawer, member string) bool { return withdrawer == member }

// OriginKeyID is the origin key of an object id.
func OriginKeyID(id string) string { return originIDPrefix + id }

// originIDPrefix starts the origin keys of object ids.
const originIDPrefix = "id:"

// IDOfOriginKey returns the object id an origin key is of; ok is false for a fingerprint's key.
func IDOfOriginKey(key string) (id string, ok bool) { return strings.CutPrefix(key, originIDPrefix) }

// OriginKeyFingerprint is the origin key of a content fingerprint.
func OriginKeyFingerprint(fp string) string { return "fp:" + fp }
