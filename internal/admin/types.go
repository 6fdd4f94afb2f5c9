package admin

import (
	"encoding/hex"
	"time"

	"taxiihub/internal/store"
)

// The types below are the admin API's wire format: the HTTP layer encodes them as they are, and
// taxiictl decodes them.

// Partnership is a sharing arrangement between members, served as one TAXII API root.
type Partnership struct {
	Slug        string            `json:"slug"`
	Title       string            `json:"title"`
	Description string            `json:"description,omitempty"`
	Policy      PartnershipPolicy `json:"policy"`
}

// PartnershipDetail is a partnership with its collections, every grant on them, and its memberships.
type PartnershipDetail struct {
	Partnership
	Collections []Collection `json:"collections"`
	Grants      []Grant      `json:"grants"`
	Memberships []Membership `json:"memberships"`
	// MembersCollection is the collection of the members' identities, which the hub keeps: every
	// member holding a grant reads it, none writes into it. Absent only until the hub first runs
	// with members collections.
	MembersCollection *Collection `json:"members_collection,omitempty"`
}

// PartnershipPolicy holds the rules of a partnership that apply to all its collections.
type PartnershipPolicy struct {
	// PersonalData is what the hub does with objects carrying personal data: allow (the default:
	// no rule), reject, or strip (remove what it finds and store the rest, with a warning).
	PersonalData string `json:"personal_data,omitempty" yaml:"personal_data"`
	// Jurisdictions, when set, lists the only jurisdictions (ISO 3166-1 alpha-2 codes, or EU) members
	// may come from.
	Jurisdictions []string `json:"jurisdictions,omitempty" yaml:"jurisdictions"`
	// NoOnwardSharing forbids members from posting what they received here into another partnership.
	NoOnwardSharing bool `json:"no_onward_sharing,omitempty" yaml:"no_onward_sharing"`
	// Reviewers are the members (at most MaxReviewers) whose reviewer tokens release what is posted
	// to the partnership's collections under review "partnership": its moderators. None named,
	// nothing posted there is released, and it expires.
	Reviewers []string `json:"reviewers,omitempty" yaml:"reviewers"`
}

// CollectionPolicy holds the rules on what one collection accepts.
type CollectionPolicy struct {
	// AllowedTypes, when set, lists the only STIX object types the collection accepts.
	AllowedTypes []string `json:"allowed_types,omitempty" yaml:"allowed_types"`
	// DeniedProperties lists property names refused wherever they appear in an object.
	DeniedProperties []string `json:"denied_properties,omitempty" yaml:"denied_properties"`
	// TLPMax is the highest TLP level accepted: clear (or white), green, amber, amber+strict or red.
	// Empty means no ceiling.
	TLPMax string `json:"tlp_max,omitempty" yaml:"tlp_max"`
	// Unmarked is what becomes of an object without a TLP marking: clear (the default) treats it as
	// TLP:CLEAR, refuse refuses it.
	Unmarked string `json:"unmarked,omitempty" yaml:"unmarked"`
	// AllowedProperties, when set, lists per object type the only properties an object of that type
	// may carry: top-level names, or dotted paths into nested objects (see the README's "Sharing
	// rules"). Types without an entry carry the properties every object may carry only.
	AllowedProperties map[string][]string `json:"allowed_properties,omitempty" yaml:"allowed_properties"`
	// Review says who releases what members post before readers see it: none (the default: stored
	// at once), own-member (a reviewer of the publishing member) or partnership (a reviewer of a
	// member the partnership names in its reviewers, as a moderator).
	Review string `json:"review,omitempty" yaml:"review"`
	// ReviewTimeout is how long a posted object waits for its review before it expires: whole days
	// ("7d", the default) or a Go duration ("36h", "90m"), between MinReviewTimeout and
	// MaxReviewTimeout. Only with a review rule.
	ReviewTimeout string `json:"review_timeout,omitempty" yaml:"review_timeout"`
	// Retention, when set, is how long each object version is kept after its date added before
	// the hub purges it: whole days ("180d") or a Go duration ("36h"), between MinRetention and
	// MaxRetention. Unset keeps objects for good.
	Retention string `json:"retention,omitempty" yaml:"retention"`
}

// Membership is a member's standing in one partnership. Its role bounds what the member's grants
// there allow: a publisher never reads and a reader never writes, whatever a grant says.
type Membership struct {
	Member      string `json:"member" yaml:"member"`
	Partnership string `json:"partnership" yaml:"partnership"`
	// Role is publisher, reader or both.
	Role string `json:"role" yaml:"role"`
	// Clearance is the highest TLP level the member may read; empty means no limit.
	Clearance string `json:"clearance,omitempty" yaml:"clearance"`
}

// MembershipResult is the membership a member holds after a membership request; Changed is false
// when it held exactly this one already.
type MembershipResult struct {
	Membership Membership `json:"membership"`
	Changed    bool       `json:"changed"`
}

// Collection is a TAXII collection of a partnership. Its id is a UUIDv4 the hub assigns.
type Collection struct {
	ID          string           `json:"id"`
	Partnership string           `json:"partnership"`
	Alias       string           `json:"alias,omitempty"`
	Title       string           `json:"title"`
	Description string           `json:"description,omitempty"`
	MediaTypes  []string         `json:"media_types,omitempty"`
	Policy      CollectionPolicy `json:"policy"`
}

// Member is a partner organisation. One member may hold grants in several partnerships.
type Member struct {
	ID   string `json:"id" yaml:"id"`
	Name string `json:"name" yaml:"name"`
	// Jurisdiction is an ISO 3166-1 alpha-2 code, or EU for a Union body.
	Jurisdiction string `json:"jurisdiction" yaml:"jurisdiction"`
	Contact      string `json:"contact,omitempty" yaml:"contact"`
	// IdentityProvider, when set, is the OpenID Connect provider the member's people sign in to the
	// web console with; the hub trusts it for this member's people only.
	IdentityProvider *IdentityProvider `json:"identity_provider,omitempty" yaml:"identity_provider"`
}

// IdentityProvider is a member's OpenID Connect provider. The client secret is read by the hub
// from a file or an environment variable of its own, named here: a spec file holds no secret.
type IdentityProvider struct {
	// Issuer is the provider's issuer URL: https, or http on a loopback address (for trials).
	Issuer           string `json:"issuer" yaml:"issuer"`
	ClientID         string `json:"client_id" yaml:"client_id"`
	ClientSecretFile string `json:"client_secret_file,omitempty" yaml:"client_secret_file"`
	ClientSecretEnv  string `json:"client_secret_env,omitempty" yaml:"client_secret_env"`
	// RolesClaim is the claim listing a person's console roles: analyst, reviewer, member-admin.
	RolesClaim string `json:"roles_claim" yaml:"roles_claim"`
}

// Grant opens one collection to one member, for reading, writing or both.
type Grant struct {
	Member      string `json:"member"`
	Partnership string `json:"partnership"`
	// Collection is the collection's id, or its alias in requests.
	Collection string `json:"collection"`
	// CollectionAlias is filled in answers when the collection has an alias.
	CollectionAlias string `json:"collection_alias,omitempty"`
	Read            bool   `json:"read"`
	Write           bool   `json:"write"`
}

// GrantResult is the grant a member holds after a grant request; Changed is false when it held
// exactly these rights already.
type GrantResult struct {
	Grant   Grant `json:"grant"`
	Changed bool  `json:"changed"`
}

// TokenRequest asks for a new token.
type TokenRequest struct {
	// Kind is "partner" (the default) or "operator".
	Kind string `json:"kind,omitempty"`
	// Subject is the member a partner token is for, or the operator's name.
	Subject string `json:"subject"`
	// TTL is the token's lifetime as ParseTTL reads it; empty means the hub's default.
	TTL  string `json:"ttl,omitempty"`
	Note string `json:"note,omitempty"`
	// Role is empty, or "reviewer" for a partner token that may also release or reject what the
	// member's colleagues post to collections under review: the token of a second person.
	Role string `json:"role,omitempty"`
}

// TokenRoleReviewer is the role of a partner token that releases objects held for review.
const TokenRoleReviewer = "reviewer"

// Token describes an issued token; the token itself is only ever shown once, in IssuedToken.
type Token struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Subject   string     `json:"subject"`
	IssuedAt  time.Time  `json:"issued_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Note      string     `json:"note,omitempty"`
	// Role is "reviewer" for a token that releases objects held for review; absent otherwise.
	Role string `json:"role,omitempty"`
	// Status is "active", "expired" or "revoked" at the time of the answer.
	Status string `json:"status"`
}

// Token statuses.
const (
	TokenActive  = "active"
	TokenExpired = "expired"
	TokenRevoked = "revoked"
)

// IssuedToken is a new token: its record and the signed JWT, which the hub does not keep.
type IssuedToken struct {
	Token Token  `json:"token"`
	JWT   string `json:"jwt"`
}

// Key is a verification key: the public half of a key some hub node signs tokens with.
type Key struct {
	KID       string     `json:"kid"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
	// Signing reports that the hub node that answered signs new tokens with this key.
	Signing bool `json:"signing"`
}

// Change is one thing an operator action changed.
type Change struct {
	// Action is what was done: create, update, delete, revoke, issue, rotate or retire.
	Action string `json:"action"`
	// Kind is what it was done to: partnership, collection, member, grant, token or key.
	Kind string `json:"kind"`
	// Target names the thing, such as "eu-japan", "eu-japan/indicators" or "cert-eu on eu-japan/indicators".
	Target string `json:"target"`
	// Detail is a short account for people, free of secrets.
	Detail string `json:"detail,omitempty"`
	// Before and After are the state of a rule (a policy, membership or grant) before and after
	// the change, as JSON; empty when there was none, or for changes that are not to rules.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// ApplyResult lists what applying a spec changed, or would change on a dry run; empty when the hub
// already matched the spec.
type ApplyResult struct {
	Changes []Change `json:"changes"`
	DryRun  bool     `json:"dry_run"`
	// Weakenings lists how the changes loosen rules the hub holds; an apply that has any is carried
	// out only when confirmed.
	Weakenings []string `json:"weakenings,omitempty"`
}

// AuditEntry is one recorded operator action.
type AuditEntry struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`
	// Before and After are the state of the rule the action changed, as JSON (see Change).
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// PrevHash and Hash chain the entry to the one before, in hex, as ledger entries are.
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

func partnershipOf(r store.APIRoot) Partnership {
	return Partnership{Slug: r.Slug, Title: r.Title, Description: r.Description, Policy: partnershipPolicyOf(r.Policy)}
}

func collectionOf(c store.Collection) Collection {
	return Collection{ID: c.ID, Partnership: c.APIRoot, Alias: c.Alias, Title: c.Title,
		Description: c.Description, MediaTypes: c.MediaTypes, Policy: collectionPolicyOf(c.Policy)}
}

func memberOf(m store.Member) Member {
	out := Member{ID: m.ID, Name: m.Name, Jurisdiction: m.Jurisdiction, Contact: m.Contact}
	if m.IdentityProvider != nil {
		p := IdentityProvider(*m.IdentityProvider)
		out.IdentityProvider = &p
	}
	return out
}

func tokenOf(t store.Token, now time.Time) Token {
	out := Token{ID: t.ID, Kind: string(t.Kind), Subject: t.Subject, IssuedAt: t.IssuedAt,
		ExpiresAt: t.ExpiresAt, Note: t.Note, Status: TokenActive}
	if t.Reviewer {
		out.Role = TokenRoleReviewer
	}
	switch {
	case t.Revoked():
		at := t.RevokedAt
		out.RevokedAt = &at
		out.Status = TokenRevoked
	case !now.Before(t.ExpiresAt):
		out.Status = TokenExpired
	}
	return out
}

func keyOf(k store.VerificationKey, signingKID string) Key {
	out := Key{KID: k.KID, CreatedAt: k.CreatedAt, Signing: k.KID == signingKID}
	if !k.RetiredAt.IsZero() {
		at := k.RetiredAt
		out.RetiredAt = &at
	}
	return out
}

func auditEntryOf(e store.AuditEntry) AuditEntry {
	return AuditEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail,
		Before: e.Before, After: e.After, PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash)}
}
