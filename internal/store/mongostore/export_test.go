package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

// Exported for the tests only.
const (
	MaxChunkObjects = maxChunkObjects
	MaxChunkBytes   = maxChunkBytes
)

// OpenWithMonitor is Open with a command monitor on the client, to count round trips.
func OpenWithMonitor(ctx context.Context, cfg Config, m *event.CommandMonitor) (*Store, error) {
	return open(ctx, cfg, func(o *options.ClientOptions) { o.SetMonitor(m) })
}

// ExplainScan returns the server's executionStats explain of the find ScanVersions runs for sc.
func (s *Store) ExplainScan(ctx context.Context, collectionID string, sc store.Scan) (bson.Raw, error) {
	q := newScanQuery(collectionID, sc)
	cmd := bson.D{
		{Key: "explain", Value: bson.D{
			{Key: "find", Value: objectsName},
			{Key: "filter", Value: q.filter},
			{Key: "sort", Value: q.sort},
			{Key: "hint", Value: q.hint},
			{Key: "limit", Value: int64(q.limit)},
			{Key: "projection", Value: q.projection},
		}},
		{Key: "verbosity", Value: "executionStats"},
	}
	return s.objects.Database().RunCommand(ctx, cmd).Raw()
}

// ExplainGrants returns the executionStats explain of the find behind Grants.
func (s *Store) ExplainGrants(ctx context.Context, memberID string) (bson.Raw, error) {
	return explainFind(ctx, s.grantsQuery(memberID), 0)
}

// ExplainCollectionGrants returns the executionStats explain of the find behind CollectionGrants.
func (s *Store) ExplainCollectionGrants(ctx context.Context, collectionID string) (bson.Raw, error) {
	return explainFind(ctx, s.collectionGrantsQuery(collectionID), 0)
}

// ExplainTokens returns the executionStats explain of the find behind Tokens.
func (s *Store) ExplainTokens(ctx context.Context) (bson.Raw, error) {
	return explainFind(ctx, s.tokensQuery(), 0)
}

// ExplainVerificationKeys returns the executionStats explain of the find behind VerificationKeys.
func (s *Store) ExplainVerificationKeys(ctx context.Context) (bson.Raw, error) {
	return explainFind(ctx, s.verificationKeysQuery(), 0)
}

// ExplainAudit returns the executionStats explain of the find behind Audit.
func (s *Store) ExplainAudit(ctx context.Context, after int64, limit int) (bson.Raw, error) {
	q := s.auditQuery(after, limit)
	return explainFind(ctx, q, q.limit)
}

// ExplainToken returns the executionStats explain of the find behind Token, which FindOne limits to one.
func (s *Store) ExplainToken(ctx context.Context, id string) (bson.Raw, error) {
	return explainFind(ctx, findQuery{coll: s.tokens, filter: tokenFilter(id)}, 1)
}

func explainFind(ctx context.Context, q findQuery, limit int64) (bson.Raw, error) {
	find := bson.D{{Key: "find", Value: q.coll.Name()}, {Key: "filter", Value: q.filter}}
	if q.sort != nil {
		find = append(find, bson.E{Key: "sort", Value: q.sort})
	}
	if q.hint != "" {
		find = append(find, bson.E{Key: "hint", Value: q.hint})
	}
	if q.projection != nil {
		find = append(find, bson.E{Key: "projection", Value: q.projection})
	}
	if limit > 0 {
		find = append(find, bson.E{Key: "limit", Value: limit})
	}
	cmd := bson.D{{Key: "explain", Value: find}, {Key: "verbosity", Value: "executionStats"}}
	return q.coll.Database().RunCommand(ctx, cmd).Raw()
}

// ExplainSearch returns the executionStats explain of one read of the value-search index.
func (s *Store) ExplainSearch(ctx context.Context, values, colls []string, maxTLP store.TLP, limit int) (bson.Raw, error) {
	return explainFind(ctx, s.searchQuery(values, colls, maxTLP, limit), int64(limit))
}

// SetPublishTxnHook makes f run inside every publish transaction, after its writes and before it
// commits. Set it before the store is used concurrently.
func (s *Store) SetPublishTxnHook(f func(ctx context.Context, collectionID string)) {
	s.hooks.inPublishTxn = f
}

// SetBeforeSequenceHook makes f run before every sequencer run; an error f returns fails the run.
// Set it before the store is used concurrently.
func (s *Store) SetBeforeSequenceHook(f func(ctx context.Context) error) {
	s.hooks.beforeSequence = f
}

// LeavePending commits e as pending and does not chain it, as a process that crashed between
// committing a write and chaining its entry leaves it.
func (s *Store) LeavePending(ctx context.Context, e store.LedgerEntry) error {
	return s.insertPending(ctx, e)
}
