package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

// statusKey identifies a status: its id is unique only within its API root.
type statusKey struct {
	APIRoot string `bson:"api_root"`
	ID      string `bson:"id"`
}

type statusDoc struct {
	Key       statusKey `bson:"_id"`
	Submitter string    `bson:"submitter"`
	Pending   bool      `bson:"pending"`
	// RequestTimestamp is in Unix microseconds.
	RequestTimestamp int64             `bson:"request_timestamp"`
	Successes        []statusDetailDoc `bson:"successes"`
	Failures         []statusDetailDoc `bson:"failures"`
	Pendings         []statusDetailDoc `bson:"pendings"`
}

type statusDetailDoc struct {
	ID      string `bson:"id"`
	Version string `bson:"version"`
	Message string `bson:"message"`
}

func toDetailDocs(ds []store.StatusDetail) []statusDetailDoc {
	if ds == nil {
		return nil
	}
	out := make([]statusDetailDoc, len(ds))
	for i, d := range ds {
		out[i] = statusDetailDoc(d)
	}
	return out
}

func fromDetailDocs(ds []statusDetailDoc) []store.StatusDetail {
	if ds == nil {
		return nil
	}
	out := make([]store.StatusDetail, len(ds))
	for i, d := range ds {
		out[i] = store.StatusDetail(d)
	}
	return out
}

// SaveStatus creates or replaces a status resource.
func (s *Store) SaveStatus(ctx context.Context, st store.Status) error {
	if st.ID == "" {
		return errors.New("mongostore: save status: empty id")
	}
	return s.saveStatusDoc(ctx, statusDocOf(st))
}

func statusDocOf(st store.Status) statusDoc {
	return statusDoc{
		Key:              statusKey{APIRoot: st.APIRoot, ID: st.ID},
		Submitter:        st.Submitter,
		Pending:          st.Pending,
		RequestTimestamp: st.RequestTimestamp.UnixMicro(),
		Successes:        toDetailDocs(st.Successes),
		Failures:         toDetailDocs(st.Failures),
		Pendings:         toDetailDocs(st.Pendings),
	}
}

func (s *Store) saveStatusDoc(ctx context.Context, doc statusDoc) error {
	filter := bson.D{{Key: "_id", Value: doc.Key}}
	_, err := s.statuses.ReplaceOne(ctx, filter, doc, options.Replace().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// Two first saves raced and the other inserted; MongoDB before 4.2 does not retry such an
		// upsert itself, and now it matches.
		_, err = s.statuses.ReplaceOne(ctx, filter, doc, options.Replace().SetUpsert(true))
	}
	if err != nil {
		return fmt.Errorf("mongostore: save status %s in %s: %w", doc.Key.ID, doc.Key.APIRoot, err)
	}
	return nil
}

// maxStatusInTxn bounds the status a publication's last transaction saves itself: with a chunk of
// up to maxChunkBytes of objects, MongoDB 4.0's 16 MB limit on a transaction's oplog entry leaves
// room for this much; a larger status (thousands of long refusal messages) is saved just after.
const maxStatusInTxn = 2 << 20

// saveStatusInTxn saves st in the caller's transaction, unless it is too large to share one, and
// reports whether it did.
func (s *Store) saveStatusInTxn(ctx context.Context, st store.Status) (bool, error) {
	doc := statusDocOf(st)
	raw, err := bson.Marshal(doc)
	if err != nil {
		return false, fmt.Errorf("encode status %s: %w", st.ID, err)
	}
	if len(raw) > maxStatusInTxn {
		return false, nil
	}
	return true, s.saveStatusDoc(ctx, doc)
}

// Status returns the status resource with the id in the root. ErrNotFound if there is none.
func (s *Store) Status(ctx context.Context, root, id string) (store.Status, error) {
	var d statusDoc
	err := s.statuses.FindOne(ctx, bson.D{{Key: "_id", Value: statusKey{APIRoot: root, ID: id}}}).Decode(&d)
	if err != nil {
		return store.Status{}, fmt.Errorf("mongostore: status %s in %s: %w", id, root, translate(err))
	}
	return store.Status{
		ID:               d.Key.ID,
		APIRoot:          d.Key.APIRoot,
		Submitter:        d.Submitter,
		Pending:          d.Pending,
		RequestTimestamp: fromMicros(d.RequestTimestamp),
		Successes:        fromDetailDocs(d.Successes),
		Failures:         fromDetailDocs(d.Failures),
		Pendings:         fromDetailDocs(d.Pendings),
	}, nil
}
