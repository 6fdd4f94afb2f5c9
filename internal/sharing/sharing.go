// Package sharing is the hub's application layer: the use cases partners meet, whatever face they
// come through (TAXII today, a console or a command line later). It publishes objects into a
// collection, reads pages of them, withdraws and deletes them, reads a request's status and tells a
// publisher who pulled what it published.
//
// It takes plain Go values (the authenticated caller, the collection named, the objects as raw JSON,
// the query) and returns plain values (a finished status, a page) and typed errors (*Error). It
// knows nothing of HTTP: the HTTP layer translates requests into calls and results into TAXII
// resources. What a caller may do with a collection is decided once per request, in Access, and
// every use case reads that one value.
package sharing

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"taxiihub/internal/stix"
	"taxiihub/internal/store"
)

// Store is what the sharing use cases read and write. It is a part of store.Store, which every
// backend implements; it is declared here, by its consumer, so that what this layer depends on is
// visible in one place.
type Store interface {
	APIRoot(ctx context.Context, slug string) (store.APIRoot, error)
	APIRoots(ctx context.Context) ([]store.APIRoot, error)
	Collection(ctx context.Context, root, ref string) (store.Collection, error)
	Collections(ctx context.Context, root string) ([]store.Collection, error)
	Membership(ctx context.Context, memberID, root string) (store.Membership, error)
	Grants(ctx context.Context, memberID string) ([]store.Grant, error)
	Token(ctx context.Context, id string) (store.Token, error)
	Tokens(ctx context.Context) ([]store.Token, error)
	Memberships(ctx context.Context, root string) ([]store.Membership, error)

	Objects(ctx context.Context, collectionID string, q store.Query) (store.Page, error)
	Manifest(ctx context.Context, collectionID string, q store.Query) (store.Page, error)
	Delete(ctx context.Context, d store.Deletion) (int, error)
	SearchValues(ctx context.Context, q store.ValueSearch) (store.ValueHits, error)
	Browse(ctx context.Context, collectionID string, q store.BrowseQuery) (store.Page, error)

	Publish(ctx context.Context, p store.Publication) ([]store.Outcome, error)
	Withdraw(ctx context.Context, w store.Withdrawal) (store.Outcome, error)
	Origins(ctx context.Context, keys []string) ([]store.Origin, error)
	LastPulls(ctx context.Context, member string, roots []string) (map[string]time.Time, error)
	SaveStatus(ctx context.Context, s store.Status) error
	Status(ctx context.Context, root, id string) (store.Status, error)

	Submit(ctx context.Context, s store.Submission) error
	PendingObjects(ctx context.Context, q store.PendingQuery) ([]store.PendingObject, error)
	Decide(ctx context.Context, d store.ReviewDecision) ([]store.ReviewOutcome, error)

	RecordPull(ctx context.Context, e store.LedgerEntry) error
	store.PullSource
}

// Checker judges one submitted object from its exact bytes. The STIX validator is the hub's
// checker; there is no lesser default, so that a hub wired without one cannot fall back to
// accepting whatever merely looks like STIX.
type Checker interface {
	Object(raw []byte) stix.Verdict
}

// Tally counts what became of every object of a real (not dry-run) publication, for the operators'
// metrics. Reasons are problem codes, or what the store answered; never free text.
type Tally interface {
	// Stored counts an object the collection holds afterwards.
	Stored(result store.Result)
	// Refused counts an object that was not stored, by the reason to fix first.
	Refused(reason string)
	// Released counts an object a reviewer released, with how long it waited for its review.
	Released(waited time.Duration)
}

// Config is what New needs.
type Config struct {
	Store   Store
	Checker Checker
	// Logger receives what a caller is not told, such as a request stored only in part; nil
	// discards it.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Tally counts published objects; nil counts nothing.
	Tally Tally
}

// Service carries out the sharing use cases. It is safe for concurrent use.
type Service struct {
	store   Store
	checker Checker
	log     *slog.Logger
	now     func() time.Time
	tally   Tally
}

// New returns the service, or an error when the configuration lacks what it cannot work without.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("sharing: no store")
	}
	if cfg.Checker == nil {
		return nil, errors.New("sharing: no checker: objects would be stored unvalidated")
	}
	s := &Service{store: cfg.Store, checker: cfg.Checker, log: cfg.Logger, now: cfg.Now, tally: cfg.Tally}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.tally == nil {
		s.tally = noTally{}
	}
	return s, nil
}

// WithTally returns a service that counts published objects with t as well, for a face of the hub
// that keeps its own metrics.
func (s *Service) WithTally(t Tally) *Service {
	c := *s
	c.tally = t
	return &c
}

type noTally struct{}

func (noTally) Stored(store.Result)    {}
func (noTally) Refused(string)         {}
func (noTally) Released(time.Duration) {}
