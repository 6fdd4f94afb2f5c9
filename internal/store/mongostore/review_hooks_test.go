package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// SetDecideTxnHook makes f run inside every review decision's transaction, after its writes and
// before it commits; an error f returns aborts the transaction. Set it before the store is used
// concurrently.
func (s *Store) SetDecideTxnHook(f func(ctx context.Context, statusID string) error) {
	s.hooks.inDecideTxn = f
}

// ExplainPendingCounts returns the explain of the aggregation behind PendingCounts.
func (s *Store) ExplainPendingCounts(ctx context.Context) (bson.Raw, error) {
	cmd := bson.D{{Key: "aggregate", Value: reviewQueueName}, {Key: "pipeline", Value: pendingCountsPipeline},
		{Key: "hint", Value: indexQueueRequest}, {Key: "explain", Value: true}}
	return s.reviewQueue.Database().RunCommand(ctx, cmd).Raw()
}
