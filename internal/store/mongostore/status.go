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
	// Parts, when set, is how many status_parts documents hold the details instead: a status of
	// thousands of refused objects, each with up to twenty long problems, outgrows MongoDB's 16 MB
	// document limit, and it must still be saved and read back whole.
	Parts int `bson:"parts,omitempty"`
}

// statusPartKey identifies one part of a status's details; n counts from 0.
type statusPartKey struct {
	APIRoot string `bson:"api_root"`
	ID      string `bson:"id"`
	N       int    `bson:"n"`
}

// statusPartDoc holds a run of a status's details, in order: successes, failures, then pendings,
// each continuing where the previous part's left off.
type statusPartDoc struct {
	Key       statusPartKey     `bson:"_id"`
	Successes []statusDetailDoc `bson:"successes"`
	Failures  []statusDetailDoc `bson:"failures"`
	Pendings  []statusDetailDoc `bson:"pendings"`
}

// maxStatusPart bounds the details one document holds, in bytes of their text plus statusDetailBSON
// each: half of MongoDB's 16 MB limit, so that an estimate a little short of BSON's real size never
// matters.
const maxStatusPart = 8 << 20

// statusDetailBSON is a generous estimate of what a detail costs in BSON beyond its text: the
// document's length, three field names, types and terminators, and its index in the array.
const statusDetailBSON = 64

func detailSize(d store.StatusDetail) int {
	return len(d.ID) + len(d.Version) + len(d.Message) + statusDetailBSON
}

// statusParts splits st's details into parts of at most maxStatusPart estimated bytes, or returns
// nil when they fit one document with the status's own fields.
func statusParts(st store.Status) []statusPartDoc {
	total := 0
	for _, list := range [][]store.StatusDetail{st.Successes, st.Failures, st.Pendings} {
		for _, d := range list {
			total += detailSize(d)
		}
	}
	if total <= maxStatusPart {
		return nil
	}
	var parts []statusPartDoc
	cur, size := statusPartDoc{}, 0
	flush := func() {
		cur.Key = statusPartKey{APIRoot: st.APIRoot, ID: st.ID, N: len(parts)}
		parts = append(parts, cur)
		cur, size = statusPartDoc{}, 0
	}
	for list, details := range [][]store.StatusDetail{st.Successes, st.Failures, st.Pendings} {
		for _, d := range details {
			if n := detailSize(d); size > 0 && size+n > maxStatusPart {
				flush()
			}
			size += detailSize(d)
			doc := statusDetailDoc(d)
			switch list {
			case 0:
				cur.Successes = append(cur.Successes, doc)
			case 1:
				cur.Failures = append(cur.Failures, doc)
			default:
				cur.Pendings = append(cur.Pendings, doc)
			}
		}
	}
	if size > 0 {
		flush()
	}
	return parts
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

// SaveStatus creates or replaces a status resource. One too large for a document has its details
// saved in parts first and its header last, so that a reader never finds a header naming parts
// that are not there yet; parts left over from a larger status it replaces are removed after.
func (s *Store) SaveStatus(ctx context.Context, st store.Status) error {
	if st.ID == "" {
		return errors.New("mongostore: save status: empty id")
	}
	parts := statusParts(st)
	if parts == nil {
		had, err := s.saveStatusDoc(ctx, statusDocOf(st))
		if err != nil {
			return err
		}
		return s.dropStatusParts(ctx, st, 0, had)
	}
	for _, p := range parts {
		_, err := s.statusParts.ReplaceOne(ctx, bson.D{{Key: "_id", Value: p.Key}}, p, options.Replace().SetUpsert(true))
		if mongo.IsDuplicateKeyError(err) { // a racing first save inserted it; now it matches
			_, err = s.statusParts.ReplaceOne(ctx, bson.D{{Key: "_id", Value: p.Key}}, p, options.Replace().SetUpsert(true))
		}
		if err != nil {
			return fmt.Errorf("mongostore: save part %d of status %s in %s: %w", p.Key.N, st.ID, st.APIRoot, err)
		}
	}
	header := statusDocOf(store.Status{ID: st.ID, APIRoot: st.APIRoot, Submitter: st.Submitter, Pending: st.Pending,
		RequestTimestamp: st.RequestTimestamp})
	header.Parts = len(parts)
	had, err := s.saveStatusDoc(ctx, header)
	if err != nil {
		return err
	}
	return s.dropStatusParts(ctx, st, len(parts), had)
}

// dropStatusParts removes the parts of st numbered keep to had-1: those of an earlier, larger save.
// They are named by their whole _id, so that the delete is a lookup of the _id index.
func (s *Store) dropStatusParts(ctx context.Context, st store.Status, keep, had int) error {
	if had <= keep {
		return nil
	}
	keys := bson.A{}
	for n := keep; n < had; n++ {
		keys = append(keys, statusPartKey{APIRoot: st.APIRoot, ID: st.ID, N: n})
	}
	_, err := s.statusParts.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys}}}})
	if err != nil {
		return fmt.Errorf("mongostore: remove old parts of status %s in %s: %w", st.ID, st.APIRoot, err)
	}
	return nil
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

// saveStatusDoc creates or replaces a status's document and returns how many parts the document
// it replaced had, so that the caller can remove those it no longer needs.
func (s *Store) saveStatusDoc(ctx context.Context, doc statusDoc) (previousParts int, err error) {
	filter := bson.D{{Key: "_id", Value: doc.Key}}
	opts := options.FindOneAndReplace().SetUpsert(true).SetReturnDocument(options.Before).
		SetProjection(bson.D{{Key: "parts", Value: 1}})
	var before struct {
		Parts int `bson:"parts"`
	}
	err = s.statuses.FindOneAndReplace(ctx, filter, doc, opts).Decode(&before)
	if mongo.IsDuplicateKeyError(err) {
		// Two first saves raced and the other inserted; MongoDB before 4.2 does not retry such an
		// upsert itself, and now it matches.
		err = s.statuses.FindOneAndReplace(ctx, filter, doc, opts).Decode(&before)
	}
	if errors.Is(err, mongo.ErrNoDocuments) { // a first save
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("mongostore: save status %s in %s: %w", doc.Key.ID, doc.Key.APIRoot, err)
	}
	return before.Parts, nil
}

// maxStatusInTxn bounds the status a publication's last transaction saves itself: with a chunk of
// up to maxChunkBytes of objects, MongoDB 4.0's 16 MB limit on a transaction's oplog entry leaves
// room for this much; a larger status (thousands of long refusal messages) is saved just after.
const maxStatusInTxn = 2 << 20

// saveStatusInTxn saves st in the caller's transaction, unless it is too large to share one (or
// to be one document), and reports whether it did.
func (s *Store) saveStatusInTxn(ctx context.Context, st store.Status) (bool, error) {
	if statusParts(st) != nil {
		return false, nil
	}
	doc := statusDocOf(st)
	raw, err := bson.Marshal(doc)
	if err != nil {
		return false, fmt.Errorf("encode status %s: %w", st.ID, err)
	}
	if len(raw) > maxStatusInTxn {
		return false, nil
	}
	had, err := s.saveStatusDoc(ctx, doc)
	if err != nil {
		return false, err
	}
	return true, s.dropStatusParts(ctx, st, 0, had)
}

// Status returns the status resource with the id in the root. ErrNotFound if there is none.
func (s *Store) Status(ctx context.Context, root, id string) (store.Status, error) {
	var d statusDoc
	err := s.statuses.FindOne(ctx, bson.D{{Key: "_id", Value: statusKey{APIRoot: root, ID: id}}}).Decode(&d)
	if err != nil {
		return store.Status{}, fmt.Errorf("mongostore: status %s in %s: %w", id, root, translate(err))
	}
	if d.Parts > 0 {
		if err := s.readStatusParts(ctx, &d); err != nil {
			return store.Status{}, err
		}
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

// readStatusParts appends the details of d's parts to it, in order. The parts are named by their
// whole _id, so that the read is a lookup of the _id index.
func (s *Store) readStatusParts(ctx context.Context, d *statusDoc) error {
	keys := make(bson.A, d.Parts)
	for n := range d.Parts {
		keys[n] = statusPartKey{APIRoot: d.Key.APIRoot, ID: d.Key.ID, N: n}
	}
	cur, err := s.statusParts.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys}}}})
	if err != nil {
		return fmt.Errorf("mongostore: parts of status %s in %s: %w", d.Key.ID, d.Key.APIRoot, err)
	}
	parts := make([]*statusPartDoc, d.Parts)
	for cur.Next(ctx) {
		var p statusPartDoc
		if err := cur.Decode(&p); err != nil {
			cur.Close(ctx)
			return fmt.Errorf("mongostore: decode a part of status %s: %w", d.Key.ID, err)
		}
		if p.Key.N >= 0 && p.Key.N < d.Parts {
			parts[p.Key.N] = &p
		}
	}
	if err := errors.Join(cur.Err(), cur.Close(ctx)); err != nil {
		return fmt.Errorf("mongostore: parts of status %s in %s: %w", d.Key.ID, d.Key.APIRoot, err)
	}
	d.Successes, d.Failures, d.Pendings = []statusDetailDoc{}, []statusDetailDoc{}, []statusDetailDoc{}
	for n, p := range parts {
		if p == nil {
			return fmt.Errorf("mongostore: status %s in %s: part %d of %d is missing", d.Key.ID, d.Key.APIRoot, n, d.Parts)
		}
		d.Successes = append(d.Successes, p.Successes...)
		d.Failures = append(d.Failures, p.Failures...)
		d.Pendings = append(d.Pendings, p.Pendings...)
	}
	return nil
}
