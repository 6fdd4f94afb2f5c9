package store

import "time"

// Member is a partner organisation: a national CERT or agency that publishes or reads through the hub.
type Member struct {
	// ID is a short stable name such as "cert-eu"; tokens and grants refer to it.
	ID   string
	Name string
	// Jurisdiction is where the member is established: an ISO 3166-1 alpha-2 code, or "EU" for a
	// Union body.
	Jurisdiction string
	Contact      string
	// IdentityProvider, when set, is the OpenID Connect provider the member's people sign in to the
	// console with.
	IdentityProvider *IdentityProvider
}

// IdentityProvider is a member's OpenID Connect provider. The client secret is not stored: only
// where the hub reads it, a file or an environment variable of the hub's own.
type IdentityProvider struct {
	Issuer           string
	ClientID         string
	ClientSecretFile string
	ClientSecretEnv  string
	// RolesClaim is the claim that lists a person's roles.
	RolesClaim string
}

// Grant opens one collection to one member.
type Grant struct {
	MemberID     string
	APIRoot      string
	CollectionID string
	Read         bool
	Write        bool
}

// TokenKind says which API a token opens.
type TokenKind string

const (
	// PartnerToken opens the TAXII API within its member's grants.
	PartnerToken TokenKind = "partner"
	// OperatorToken opens the admin API.
	OperatorToken TokenKind = "operator"
)

// Token records an issued token so that it can be listed and revoked. The token itself is never
// stored: whoever reads the database cannot use what it finds there.
type Token struct {
	// ID is the token's jti.
	ID   string
	Kind TokenKind
	// Subject is the member id of a partner token or the operator's name.
	Subject   string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// RevokedAt is zero while the token is usable.
	RevokedAt time.Time
	Note      string
	// Reviewer marks a partner token that may also release or reject what the member's
	// colleagues post to collections under review (see CollectionPolicy.Review): a second person of
	// the member, with a token of its own, so that nobody releases what they posted themselves.
	Reviewer bool
}

// Revoked reports whether the token has been revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// VerificationKey is the public half of a key the hub signs tokens with. Private keys never enter
// the store: each hub process keeps its own signing key on disk, and publishes its public key here.
type VerificationKey struct {
	// KID names the key in token headers.
	KID string
	// PublicKey is the raw Ed25519 public key.
	PublicKey []byte
	CreatedAt time.Time
	// RetiredAt is zero while the key verifies tokens.
	RetiredAt time.Time
}

// Seed records that a seed file was applied to the store when a hub started. The hub applies a seed
// file only to a store that has none recorded, so that a restart never undoes what operators
// changed since: the record is how it remembers.
type Seed struct {
	// Digest is the SHA-256 of the file's bytes, in hex.
	Digest string
	// Path is where the hub read the file, for people.
	Path      string
	AppliedAt time.Time
}

// AuditEntry is one operator action: who did what to which thing, and when. Seq, PrevHash and Hash
// are assigned by the store when it appends the entry.
type AuditEntry struct {
	// Seq is assigned by the store: unique and increasing in the order entries were appended.
	Seq    int64
	At     time.Time
	Actor  string
	Action string
	// Target names what the action touched, such as "partnership eu-japan".
	Target string
	// Detail is a short human-readable account, free of secrets.
	Detail string
	// Before and After are the state of the rule the action changed, before and after it (JSON, as
	// the admin API writes rules); empty when there was none, or for actions on other things.
	Before string
	After  string
	// PrevHash is the hash of the entry before, or GenesisHash for the first.
	PrevHash []byte
	// Hash commits to every field above: see AuditEntry.ComputeHash.
	Hash []byte
}
