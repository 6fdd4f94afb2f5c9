// Package metrics instruments the hub's dependencies for Prometheus. Metrics are registered with a
// registry the caller passes in, never the global one, so that each hub (and each test) has its own.
package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"taxiihub/internal/store"
)

// storeBuckets span a primary-key read on a warm embedded database (well under a millisecond) up
// to a MongoDB transaction that waits for a majority through an election (seconds).
var storeBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Store is a store.Store that times every call by operation and outcome, in the histogram
// taxiihub_store_duration_seconds. It embeds the store it wraps, so a method added to the contract
// later still works, untimed, until it is added here.
type Store struct {
	store.Store
	duration *prometheus.HistogramVec
}

// NewStore wraps next and registers its histogram with reg.
func NewStore(next store.Store, reg prometheus.Registerer) *Store {
	return &Store{
		Store: next,
		duration: promauto.With(reg).NewHistogramVec(prometheus.HistogramOpts{
			Name:    "taxiihub_store_duration_seconds",
			Help:    "Time taken by store calls, by operation and outcome (ok, not_found, conflict, canceled, error).",
			Buckets: storeBuckets,
		}, []string{"operation", "outcome"}),
	}
}

// outcome names how a store call ended. Not found and conflict are answers, not faults, and are
// kept apart so that an alert on "error" means the database is in trouble.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, store.ErrNotFound):
		return "not_found"
	case errors.Is(err, store.ErrConflict):
		return "conflict"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	default:
		return "error"
	}
}

func (s *Store) observe(op string, call func() error) error {
	start := time.Now()
	err := call()
	s.duration.WithLabelValues(op, outcome(err)).Observe(time.Since(start).Seconds())
	return err
}

func observe[T any](s *Store, op string, call func() (T, error)) (T, error) {
	start := time.Now()
	v, err := call()
	s.duration.WithLabelValues(op, outcome(err)).Observe(time.Since(start).Seconds())
	return v, err
}

func (s *Store) AddObjects(ctx context.Context, collectionID string, objs []store.Object) ([]store.Outcome, error) {
	return observe(s, "AddObjects", func() ([]store.Outcome, error) { return s.Store.AddObjects(ctx, collectionID, objs) })
}

func (s *Store) CreateAPIRoot(ctx context.Context, root store.APIRoot) error {
	return s.observe("CreateAPIRoot", func() error { return s.Store.CreateAPIRoot(ctx, root) })
}

func (s *Store) APIRoot(ctx context.Context, slug string) (store.APIRoot, error) {
	return observe(s, "APIRoot", func() (store.APIRoot, error) { return s.Store.APIRoot(ctx, slug) })
}

func (s *Store) APIRoots(ctx context.Context) ([]store.APIRoot, error) {
	return observe(s, "APIRoots", func() ([]store.APIRoot, error) { return s.Store.APIRoots(ctx) })
}

func (s *Store) UpdateAPIRoot(ctx context.Context, root store.APIRoot) error {
	return s.observe("UpdateAPIRoot", func() error { return s.Store.UpdateAPIRoot(ctx, root) })
}

func (s *Store) DeleteAPIRoot(ctx context.Context, slug string) error {
	return s.observe("DeleteAPIRoot", func() error { return s.Store.DeleteAPIRoot(ctx, slug) })
}

func (s *Store) CreateCollection(ctx context.Context, c store.Collection) error {
	return s.observe("CreateCollection", func() error { return s.Store.CreateCollection(ctx, c) })
}

func (s *Store) Collection(ctx context.Context, root, ref string) (store.Collection, error) {
	return observe(s, "Collection", func() (store.Collection, error) { return s.Store.Collection(ctx, root, ref) })
}

func (s *Store) UpdateCollection(ctx context.Context, c store.Collection) error {
	return s.observe("UpdateCollection", func() error { return s.Store.UpdateCollection(ctx, c) })
}

func (s *Store) Collections(ctx context.Context, root string) ([]store.Collection, error) {
	return observe(s, "Collections", func() ([]store.Collection, error) { return s.Store.Collections(ctx, root) })
}

func (s *Store) DeleteCollection(ctx context.Context, root, id string) error {
	return s.observe("DeleteCollection", func() error { return s.Store.DeleteCollection(ctx, root, id) })
}

func (s *Store) Objects(ctx context.Context, collectionID string, q store.Query) (store.Page, error) {
	return observe(s, "Objects", func() (store.Page, error) { return s.Store.Objects(ctx, collectionID, q) })
}

func (s *Store) Manifest(ctx context.Context, collectionID string, q store.Query) (store.Page, error) {
	return observe(s, "Manifest", func() (store.Page, error) { return s.Store.Manifest(ctx, collectionID, q) })
}

func (s *Store) SearchValues(ctx context.Context, q store.ValueSearch) (store.ValueHits, error) {
	return observe(s, "SearchValues", func() (store.ValueHits, error) { return s.Store.SearchValues(ctx, q) })
}

func (s *Store) Browse(ctx context.Context, collectionID string, q store.BrowseQuery) (store.Page, error) {
	return observe(s, "Browse", func() (store.Page, error) { return s.Store.Browse(ctx, collectionID, q) })
}

func (s *Store) DeleteVersions(ctx context.Context, collectionID, objectID string, f store.VersionFilter) (int, error) {
	return observe(s, "DeleteVersions", func() (int, error) { return s.Store.DeleteVersions(ctx, collectionID, objectID, f) })
}

func (s *Store) Delete(ctx context.Context, d store.Deletion) (int, error) {
	return observe(s, "Delete", func() (int, error) { return s.Store.Delete(ctx, d) })
}

func (s *Store) TransferOwnership(ctx context.Context, t store.Transfer) (int, error) {
	return observe(s, "TransferOwnership", func() (int, error) { return s.Store.TransferOwnership(ctx, t) })
}

func (s *Store) CreateMember(ctx context.Context, m store.Member) error {
	return s.observe("CreateMember", func() error { return s.Store.CreateMember(ctx, m) })
}

func (s *Store) Member(ctx context.Context, id string) (store.Member, error) {
	return observe(s, "Member", func() (store.Member, error) { return s.Store.Member(ctx, id) })
}

func (s *Store) UpdateMember(ctx context.Context, m store.Member) error {
	return s.observe("UpdateMember", func() error { return s.Store.UpdateMember(ctx, m) })
}

func (s *Store) Members(ctx context.Context) ([]store.Member, error) {
	return observe(s, "Members", func() ([]store.Member, error) { return s.Store.Members(ctx) })
}

func (s *Store) DeleteMember(ctx context.Context, id string, at time.Time) error {
	return s.observe("DeleteMember", func() error { return s.Store.DeleteMember(ctx, id, at) })
}

func (s *Store) PutGrant(ctx context.Context, g store.Grant) error {
	return s.observe("PutGrant", func() error { return s.Store.PutGrant(ctx, g) })
}

func (s *Store) DeleteGrant(ctx context.Context, memberID, collectionID string) error {
	return s.observe("DeleteGrant", func() error { return s.Store.DeleteGrant(ctx, memberID, collectionID) })
}

func (s *Store) Grants(ctx context.Context, memberID string) ([]store.Grant, error) {
	return observe(s, "Grants", func() ([]store.Grant, error) { return s.Store.Grants(ctx, memberID) })
}

func (s *Store) CollectionGrants(ctx context.Context, collectionID string) ([]store.Grant, error) {
	return observe(s, "CollectionGrants", func() ([]store.Grant, error) { return s.Store.CollectionGrants(ctx, collectionID) })
}

func (s *Store) SaveToken(ctx context.Context, t store.Token) error {
	return s.observe("SaveToken", func() error { return s.Store.SaveToken(ctx, t) })
}

func (s *Store) Token(ctx context.Context, id string) (store.Token, error) {
	return observe(s, "Token", func() (store.Token, error) { return s.Store.Token(ctx, id) })
}

func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	return observe(s, "Tokens", func() ([]store.Token, error) { return s.Store.Tokens(ctx) })
}

func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	return s.observe("RevokeToken", func() error { return s.Store.RevokeToken(ctx, id, at) })
}

func (s *Store) SaveVerificationKey(ctx context.Context, k store.VerificationKey) error {
	return s.observe("SaveVerificationKey", func() error { return s.Store.SaveVerificationKey(ctx, k) })
}

func (s *Store) VerificationKeys(ctx context.Context) ([]store.VerificationKey, error) {
	return observe(s, "VerificationKeys", func() ([]store.VerificationKey, error) { return s.Store.VerificationKeys(ctx) })
}

func (s *Store) RetireVerificationKey(ctx context.Context, kid string, at time.Time) error {
	return s.observe("RetireVerificationKey", func() error { return s.Store.RetireVerificationKey(ctx, kid, at) })
}

func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	return s.observe("AppendAudit", func() error { return s.Store.AppendAudit(ctx, e) })
}

func (s *Store) Audit(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	return observe(s, "Audit", func() ([]store.AuditEntry, error) { return s.Store.Audit(ctx, after, limit) })
}

func (s *Store) AuditHead(ctx context.Context) (store.AuditHead, error) {
	return observe(s, "AuditHead", func() (store.AuditHead, error) { return s.Store.AuditHead(ctx) })
}

func (s *Store) SaveStatus(ctx context.Context, st store.Status) error {
	return s.observe("SaveStatus", func() error { return s.Store.SaveStatus(ctx, st) })
}

func (s *Store) Submit(ctx context.Context, sub store.Submission) error {
	return s.observe("Submit", func() error { return s.Store.Submit(ctx, sub) })
}

func (s *Store) PendingObjects(ctx context.Context, q store.PendingQuery) ([]store.PendingObject, error) {
	return observe(s, "PendingObjects", func() ([]store.PendingObject, error) { return s.Store.PendingObjects(ctx, q) })
}

func (s *Store) PendingCounts(ctx context.Context) ([]store.PendingCount, error) {
	return observe(s, "PendingCounts", func() ([]store.PendingCount, error) { return s.Store.PendingCounts(ctx) })
}

func (s *Store) Decide(ctx context.Context, d store.ReviewDecision) ([]store.ReviewOutcome, error) {
	return observe(s, "Decide", func() ([]store.ReviewOutcome, error) { return s.Store.Decide(ctx, d) })
}

func (s *Store) Status(ctx context.Context, root, id string) (store.Status, error) {
	return observe(s, "Status", func() (store.Status, error) { return s.Store.Status(ctx, root, id) })
}

func (s *Store) Publish(ctx context.Context, p store.Publication) ([]store.Outcome, error) {
	return observe(s, "Publish", func() ([]store.Outcome, error) { return s.Store.Publish(ctx, p) })
}

func (s *Store) Withdraw(ctx context.Context, w store.Withdrawal) (store.Outcome, error) {
	return observe(s, "Withdraw", func() (store.Outcome, error) { return s.Store.Withdraw(ctx, w) })
}

func (s *Store) Origins(ctx context.Context, keys []string) ([]store.Origin, error) {
	return observe(s, "Origins", func() ([]store.Origin, error) { return s.Store.Origins(ctx, keys) })
}

func (s *Store) LastPulls(ctx context.Context, member string, roots []string) (map[string]time.Time, error) {
	return observe(s, "LastPulls", func() (map[string]time.Time, error) { return s.Store.LastPulls(ctx, member, roots) })
}

func (s *Store) StoredVersions(ctx context.Context, collectionID string, after time.Time, limit int, withContent bool) ([]store.StoredVersion, error) {
	return observe(s, "StoredVersions", func() ([]store.StoredVersion, error) {
		return s.Store.StoredVersions(ctx, collectionID, after, limit, withContent)
	})
}

func (s *Store) OriginsAfter(ctx context.Context, after store.Origin, limit int) ([]store.Origin, error) {
	return observe(s, "OriginsAfter", func() ([]store.Origin, error) { return s.Store.OriginsAfter(ctx, after, limit) })
}

func (s *Store) WithdrawalsAfter(ctx context.Context, after store.WithdrawnObject, limit int) ([]store.WithdrawnObject, error) {
	return observe(s, "WithdrawalsAfter", func() ([]store.WithdrawnObject, error) {
		return s.Store.WithdrawalsAfter(ctx, after, limit)
	})
}

func (s *Store) RecordPull(ctx context.Context, e store.LedgerEntry) error {
	return s.observe("RecordPull", func() error { return s.Store.RecordPull(ctx, e) })
}

func (s *Store) PullDetails(ctx context.Context, seqs []int64) (map[int64][]store.LedgerItem, error) {
	return observe(s, "PullDetails", func() (map[int64][]store.LedgerItem, error) { return s.Store.PullDetails(ctx, seqs) })
}

func (s *Store) PurgePullDetails(ctx context.Context, before time.Time, limit int) (int, error) {
	return observe(s, "PurgePullDetails", func() (int, error) { return s.Store.PurgePullDetails(ctx, before, limit) })
}

func (s *Store) Purge(ctx context.Context, p store.Purge) (store.PurgeResult, error) {
	return observe(s, "Purge", func() (store.PurgeResult, error) { return s.Store.Purge(ctx, p) })
}

func (s *Store) PurgeStatuses(ctx context.Context, before time.Time, limit int) (int, error) {
	return observe(s, "PurgeStatuses", func() (int, error) { return s.Store.PurgeStatuses(ctx, before, limit) })
}

func (s *Store) Ledger(ctx context.Context, after int64, limit int) ([]store.LedgerEntry, error) {
	return observe(s, "Ledger", func() ([]store.LedgerEntry, error) { return s.Store.Ledger(ctx, after, limit) })
}

func (s *Store) LedgerHead(ctx context.Context) (store.LedgerHead, error) {
	return observe(s, "LedgerHead", func() (store.LedgerHead, error) { return s.Store.LedgerHead(ctx) })
}

func (s *Store) PutMembership(ctx context.Context, m store.Membership) error {
	return s.observe("PutMembership", func() error { return s.Store.PutMembership(ctx, m) })
}

func (s *Store) DeleteMembership(ctx context.Context, memberID, root string) error {
	return s.observe("DeleteMembership", func() error { return s.Store.DeleteMembership(ctx, memberID, root) })
}

func (s *Store) Membership(ctx context.Context, memberID, root string) (store.Membership, error) {
	return observe(s, "Membership", func() (store.Membership, error) { return s.Store.Membership(ctx, memberID, root) })
}

func (s *Store) Memberships(ctx context.Context, root string) ([]store.Membership, error) {
	return observe(s, "Memberships", func() ([]store.Membership, error) { return s.Store.Memberships(ctx, root) })
}

func (s *Store) RecordSeed(ctx context.Context, sd store.Seed) error {
	return s.observe("RecordSeed", func() error { return s.Store.RecordSeed(ctx, sd) })
}

func (s *Store) Seeds(ctx context.Context) ([]store.Seed, error) {
	return observe(s, "Seeds", func() ([]store.Seed, error) { return s.Store.Seeds(ctx) })
}

// Backup copies the store it wraps, when that store can, timed as the operation "Backup".
func (s *Store) Backup(ctx context.Context) (store.Backup, error) {
	b, ok := s.Store.(store.Backups)
	if !ok {
		return store.Backup{}, store.ErrNoOnlineBackup
	}
	var out store.Backup
	err := s.observe("Backup", func() (err error) {
		out, err = b.Backup(ctx)
		return err
	})
	return out, err
}

// Unwrap returns the store it wraps, for operations it does not time one by one: an export or
// import, timed as a whole by its request.
func (s *Store) Unwrap() store.Store { return s.Store }
