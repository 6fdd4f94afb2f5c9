package mongostore

import "context"

// SetDecideTxnHook makes f run inside every review decision's transaction, after its writes and
// before it commits; an error f returns aborts the transaction. Set it before the store is used
// concurrently.
func (s *Store) SetDecideTxnHook(f func(ctx context.Context, statusID string) error) {
	s.hooks.inDecideTxn = f
}
