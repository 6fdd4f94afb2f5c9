// Package admin is the hub's operator service: partnerships, their collections, members, grants,
// tokens and signing keys, changed one at a time or all at once from a declarative spec. Every change
// is recorded in the audit trail with the operator who made it. The admin API and taxiihub --seed
// both go through it, so a seeded hub and one built by hand end up alike.
package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// Token lifetimes.
const (
	// DefaultTokenTTL is the lifetime of a token issued without one.
	DefaultTokenTTL = 90 * 24 * time.Hour
	// DefaultMaxTokenTTL is the longest lifetime the hub issues unless configured otherwise.
	DefaultMaxTokenTTL = 365 * 24 * time.Hour
	// MinTokenTTL is the shortest: anything less expires before an operator can hand it out.
	MinTokenTTL = time.Minute
)

// Store is what the operator service reads and writes.
type Store interface {
	CreateAPIRoot(ctx context.Context, root store.APIRoot) error
	APIRoot(ctx context.Context, slug string) (store.APIRoot, error)
	APIRoots(ctx context.Context) ([]store.APIRoot, error)
	UpdateAPIRoot(ctx context.Context, root store.APIRoot) error
	DeleteAPIRoot(ctx context.Context, slug string) error

	CreateCollection(ctx context.Context, c store.Collection) error
	Collection(ctx context.Context, root, ref string) (store.Collection, error)
	Collections(ctx context.Context, root string) ([]store.Collection, error)
	UpdateCollection(ctx context.Context, c store.Collection) error
	DeleteCollection(ctx context.Context, root, id string) error

	CreateMember(ctx context.Context, m store.Member) error
	Member(ctx context.Context, id string) (store.Member, error)
	Members(ctx context.Context) ([]store.Member, error)
	UpdateMember(ctx context.Context, m store.Member) error
	DeleteMember(ctx context.Context, id string, at time.Time) error

	PutMembership(ctx context.Context, m store.Membership) error
	DeleteMembership(ctx context.Context, memberID, root string) error
	Membership(ctx context.Context, memberID, root string) (store.Membership, error)
	Memberships(ctx context.Context, root string) ([]store.Membership, error)

	PutGrant(ctx context.Context, g store.Grant) error
	DeleteGrant(ctx context.Context, memberID, collectionID string) error
	Grants(ctx context.Context, memberID string) ([]store.Grant, error)
	CollectionGrants(ctx context.Context, collectionID string) ([]store.Grant, error)

	SaveToken(ctx context.Context, t store.Token) error
	Token(ctx context.Context, id string) (store.Token, error)
	Tokens(ctx context.Context) ([]store.Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error

	VerificationKeys(ctx context.Context) ([]store.VerificationKey, error)
	RetireVerificationKey(ctx context.Context, kid string, at time.Time) error

	AppendAudit(ctx context.Context, e store.AuditEntry) error
	Audit(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error)
	TransferOwnership(ctx context.Context, t store.Transfer) (int, error)
	Delete(ctx context.Context, d store.Deletion) (int, error)
	// Retention: purges of expired object versions and statuses.
	Purge(ctx context.Context, p store.Purge) (store.PurgeResult, error)
	PurgeStatuses(ctx context.Context, before time.Time, limit int) (int, error)
	PurgePullDetails(ctx context.Context, before time.Time, limit int) (int, error)

	// The members collections, into which the service writes members' identities on nobody's behalf.
	AddObjects(ctx context.Context, collectionID string, objs []store.Object) ([]store.Outcome, error)
	Objects(ctx context.Context, collectionID string, q store.Query) (store.Page, error)

	// The ledger, which operators verify and read.
	store.PullSource
	// What deep verification checks against the ledger: stored versions, origins, withdrawals and
	// the audit trail.
	store.DeepSource
}

// Signer signs the tokens the service issues.
type Signer interface {
	Sign(c auth.Claims) (string, error)
}

// KeyManager is the signing key of the hub node the service runs in.
type KeyManager interface {
	// SigningKeyID is the kid new tokens are signed with.
	SigningKeyID() string
	// RotateSigningKey switches the node to a new signing key, after publishing its public half, and
	// returns that. ErrKeyNotManaged if the node may not replace its key.
	RotateSigningKey(ctx context.Context) (store.VerificationKey, error)
}

// ErrKeyNotManaged is what a KeyManager returns when the operator provides the signing key file,
// which the hub must then not replace.
var ErrKeyNotManaged = errors.New("the signing key is managed outside the hub")

// Config is what New needs. Store, Signer and Keys are required.
type Config struct {
	Store  Store
	Signer Signer
	Keys   KeyManager
	Logger *slog.Logger
	// DefaultTokenTTL is the lifetime of tokens issued without one; zero means DefaultTokenTTL.
	DefaultTokenTTL time.Duration
	// MaxTokenTTL is the longest lifetime the service issues; zero means DefaultMaxTokenTTL.
	MaxTokenTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Verified, when set, is told the outcome of every verification an operator runs: check is
	// "ledger" (the chain alone) or "deep", ok whether it held. The hub counts them for alerting.
	Verified func(check string, ok bool)
	// StatusRetention is how long status resources are kept after their request; zero means
	// store.DefaultStatusRetention.
	StatusRetention time.Duration
	// PullDetailRetention is how long the ids of each pull are kept beside its compact ledger
	// entry; zero means store.DefaultPullDetailRetention.
	PullDetailRetention time.Duration
}

// Service carries out operator actions.
type Service struct {
	store      Store
	signer     Signer
	keys       KeyManager
	log        *slog.Logger
	defaultTTL time.Duration
	maxTTL     time.Duration
	now        func() time.Time
	verified   func(check string, ok bool)
	// statusRetention is how long the sweep keeps status resources.
	statusRetention     time.Duration
	pullDetailRetention time.Duration
	// backingUp is set while a backup is copied or sent (see Backup).
	backingUp atomic.Bool
	// porting is set while an export or import runs (see Export).
	porting exclusive
}

// New returns the operator service.
func New(cfg Config) *Service {
	s := &Service{
		store:      cfg.Store,
		signer:     cfg.Signer,
		keys:       cfg.Keys,
		log:        cfg.Logger,
		defaultTTL: cmp.Or(cfg.DefaultTokenTTL, DefaultTokenTTL),
		maxTTL:     cmp.Or(cfg.MaxTokenTTL, DefaultMaxTokenTTL),
		now:        cfg.Now,
		verified:   cfg.Verified,

		statusRetention:     cmp.Or(cfg.StatusRetention, store.DefaultStatusRetention),
		pullDetailRetention: cmp.Or(cfg.PullDetailRetention, store.DefaultPullDetailRetention),
	}
	if s.verified == nil {
		s.verified = func(string, bool) {}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// record appends a change to the audit trail. A change is recorded after it is made, so that the
// trail never claims what did not happen; should recording fail, the change stands, the caller
// gets an error and the log keeps what the trail missed.
func (s *Service) record(ctx context.Context, actor string, c Change) error {
	e := store.AuditEntry{At: s.stamp(), Actor: actor, Action: c.Kind + "." + c.Action,
		Target: c.Kind + " " + c.Target, Detail: c.Detail, Before: c.Before, After: c.After}
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "operator action done but missing from the audit trail",
			"actor", actor, "action", e.Action, "target", e.Target, "detail", e.Detail, "error", err)
		return fmt.Errorf("admin: record %s of %s: %w", e.Action, e.Target, err)
	}
	s.log.InfoContext(ctx, "operator action", "actor", actor, "action", e.Action, "target", e.Target)
	return nil
}

// stamp is the time of an action as the store keeps it: UTC, to the microsecond.
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Audit returns up to limit recorded actions after the sequence number after, oldest first.
func (s *Service) Audit(ctx context.Context, after int64, limit int) ([]AuditEntry, error) {
	if limit < 1 || limit > MaxAuditPage {
		return nil, &Error{Kind: Invalid, Message: fmt.Sprintf("limit %d is outside 1..%d", limit, MaxAuditPage)}
	}
	if after < 0 {
		return nil, &Error{Kind: Invalid, Message: "after must not be negative"}
	}
	entries, err := s.store.Audit(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("admin: read audit trail: %w", err)
	}
	out := make([]AuditEntry, len(entries))
	for i, e := range entries {
		out[i] = auditEntryOf(e)
	}
	return out, nil
}

// MaxAuditPage is the most audit entries one call returns.
const MaxAuditPage = 1000
