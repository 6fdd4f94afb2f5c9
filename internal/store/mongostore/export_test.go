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
