package mongostore

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

// Objects held for review live in review_queue, apart from objects, so that no read of a collection
// meets them:
//
//	review_queue {_id, collection_id, api_root, status_id, member_id, token_id, object_id, type,
//	              spec_version, version, content, tlp, fingerprint, warnings, submitted_at, expires}
//
// A decision removes the documents it decides in the same transaction as it stores the released
// objects, appends the ledger entries and settles the status (see Decide). Documents written by
// earlier builds may carry claim and claimed_at, from decisions made in steps; they are ignored.

// Index names of review_queue.
const (
	indexQueueRequest = "collection_status"
	indexQueueExpiry  = "expires"
	indexQueueRoot    = "api_root_submitted_at"
)

type heldDoc struct {
	ID           bson.ObjectID `bson:"_id"`
	CollectionID string        `bson:"collection_id"`
	APIRoot      string        `bson:"api_root"`
	StatusID     string        `bson:"status_id"`
	Member       string        `bson:"member_id"`
	TokenID      string        `bson:"token_id"`
	ObjectID     string        `bson:"object_id"`
	Type         string        `bson:"type"`
	SpecVersion  string        `bson:"spec_version"`
	Version      int64         `bson:"version"`
	Content      []byte        `bson:"content"`
	TLP          int           `bson:"tlp"`
	Fingerprint  string        `bson:"fingerprint"`
	Warnings     string        `bson:"warnings"`
	SubmittedAt  int64         `bson:"submitted_at"`
	Expires      int64         `bson:"expires"`
}

func (d heldDoc) held() store.PendingObject {
	p := store.PendingObject{CollectionID: d.CollectionID, APIRoot: d.APIRoot, StatusID: d.StatusID, Member: d.Member,
		TokenID: d.TokenID, Warnings: d.Warnings, SubmittedAt: fromMicros(d.SubmittedAt), Expires: fromMicros(d.Expires),
		Object: store.Object{ID: d.ObjectID, Type: d.Type, SpecVersion: d.SpecVersion, Content: d.Content,
			TLP: store.TLP(d.TLP), Fingerprint: d.Fingerprint}}
	if d.Version != 0 {
		p.Object.Version = fromMicros(d.Version)
	}
	return p
}

func reviewQueueIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "collection_id", Value: 1}, {Key: "status_id", Value: 1}}, Options: options.Index().SetName(indexQueueRequest)},
		{Keys: bson.D{{Key: "expires", Value: 1}}, Options: options.Index().SetName(indexQueueExpiry)},
		{Keys: bson.D{{Key: "api_root", Value: 1}, {Key: "submitted_at", Value: 1}}, Options: options.Index().SetName(indexQueueRoot)},
	}
}

// Submit holds a request's objects and appends the submit entry in one transaction, then saves the
// status with them pending.
func (s *Store) Submit(ctx context.Context, sub store.Submission) error {
	p := sub.Publication
	if p.DryRun || p.Status == nil {
		return fmt.Errorf("mongostore: submit to %s: a submission needs a status and cannot be a dry run", p.CollectionID)
	}
	for i, o := range p.Objects {
		if err := validateObject(o); err != nil {
			return fmt.Errorf("mongostore: submit to %s: object %d: %w", p.CollectionID, i, err)
		}
	}
	var warnings []string
	for _, d := range p.Status.Details {
		if !d.Refused {
			warnings = append(warnings, d.Warnings)
		}
	}
	err := s.transact(ctx, func(ctx context.Context) error {
		var c collectionDoc
		if err := s.collections.FindOne(ctx, bson.D{{Key: "_id", Value: p.CollectionID}}).Decode(&c); err != nil {
			return translate(err)
		}
		docs := make([]any, len(p.Objects))
		for i, o := range p.Objects {
			var version int64
			if !o.Version.IsZero() {
				version = o.Version.UnixMicro()
			}
			docs[i] = heldDoc{ID: bson.NewObjectID(), CollectionID: p.CollectionID, APIRoot: c.APIRoot,
				StatusID: p.Status.Status.ID, Member: p.Member, TokenID: p.TokenID, ObjectID: o.ID, Type: o.Type,
				SpecVersion: o.SpecVersion, Version: version, Content: o.Content, TLP: int(o.TLP), Fingerprint: o.Fingerprint,
				Warnings: warnings[i], SubmittedAt: sub.At.UnixMicro(), Expires: sub.Expires.UnixMicro()}
		}
		if len(docs) > 0 {
			if _, err := s.reviewQueue.InsertMany(ctx, docs); err != nil {
				return err
			}
		}
		return s.insertPending(ctx, store.SubmitEntry(sub, c.APIRoot))
	})
	if err != nil {
		return fmt.Errorf("mongostore: submit to %s: %w", p.CollectionID, err)
	}
	_ = s.sequence(ctx, nil) // chained by the next write or read of the ledger if this fails
	if err := s.SaveStatus(ctx, p.Status.Hold(p.Objects)); err != nil {
		return fmt.Errorf("mongostore: submit to %s: %w", p.CollectionID, err)
	}
	return nil
}

func heldFilter(q store.PendingQuery) bson.D {
	f := bson.D{}
	for _, kv := range []struct{ key, value string }{
		{"api_root", q.APIRoot}, {"collection_id", q.CollectionID}, {"status_id", q.StatusID}, {"member_id", q.Member},
	} {
		if kv.value != "" {
			f = append(f, bson.E{Key: kv.key, Value: kv.value})
		}
	}
	if len(q.ObjectIDs) > 0 {
		f = append(f, bson.E{Key: "object_id", Value: bson.D{{Key: "$in", Value: q.ObjectIDs}}})
	}
	if !q.SubmittedBefore.IsZero() {
		f = append(f, bson.E{Key: "submitted_at", Value: bson.D{{Key: "$lt", Value: q.SubmittedBefore.UnixMicro()}}})
	}
	if !q.ExpiredBy.IsZero() {
		f = append(f, bson.E{Key: "expires", Value: bson.D{{Key: "$lte", Value: q.ExpiredBy.UnixMicro()}}})
	}
	return f
}

// PendingObjects lists held objects, oldest submission first.
func (s *Store) PendingObjects(ctx context.Context, q store.PendingQuery) ([]store.PendingObject, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	var docs []heldDoc
	fq := findQuery{coll: s.reviewQueue, filter: heldFilter(q), sort: bson.D{{Key: "_id", Value: 1}}, limit: int64(q.Limit)}
	if err := findAll(ctx, fq, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: pending objects: %w", err)
	}
	out := make([]store.PendingObject, len(docs))
	for i, d := range docs {
		out[i] = d.held()
	}
	return out, nil
}

// Decide decides the held objects of the request d names chunk by chunk (within the bounds of
// one transaction, as Publish's chunks), each chunk in one transaction: its queue documents are
// read and removed, the released objects stored as Publish stores them (withdrawals, ownership,
// origins, date added), the publish and reject ledger entries added pending, and the status
// settled. Two decisions of one object (two reviewers, or a retry) both remove its document, so
// one of them meets a write conflict and, retried, finds it gone: an object is decided once, and
// a failure before the commit leaves it held, as if nothing had been decided.
func (s *Store) Decide(ctx context.Context, d store.ReviewDecision) ([]store.ReviewOutcome, error) {
	var docs []heldDoc
	filter := heldFilter(store.PendingQuery{CollectionID: d.CollectionID, StatusID: d.StatusID, ObjectIDs: d.ObjectIDs})
	if err := findAll(ctx, findQuery{coll: s.reviewQueue, filter: filter, sort: bson.D{{Key: "_id", Value: 1}}}, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: decide on request %s: %w", d.StatusID, err)
	}
	if len(docs) == 0 {
		return nil, nil
	}
	sizes := make([]pending, len(docs))
	for i, doc := range docs {
		sizes[i] = pending{obj: store.Object{Content: doc.Content}}
	}
	committed := false
	defer func() {
		if committed {
			// The decision stands whatever becomes of this, as after Publish: an entry left
			// unchained is chained by the next write or read of the ledger.
			_ = s.sequence(ctx, nil)
		}
	}()
	var out []store.ReviewOutcome
	for start, end := range chunks(sizes) {
		res, st, saved, err := s.decideChunk(ctx, d, docs[start:end])
		if err != nil {
			return out, fmt.Errorf("mongostore: decide on request %s, objects %d..%d of %d: %w", d.StatusID, start, end-1, len(docs), err)
		}
		committed = committed || len(res) > 0
		out = append(out, res...)
		if st.ID != "" && !saved {
			// A status too large to share a transaction (thousands of long messages) is saved just
			// after, as Publish saves one, and before the next chunk reads it.
			if err := s.SaveStatus(ctx, st); err != nil {
				return out, fmt.Errorf("mongostore: decide on request %s: %w", d.StatusID, err)
			}
		}
	}
	return out, nil
}

// decideChunk decides the held documents of one chunk in one transaction, and returns what became
// of those still held when it committed, the request's status as it saved it (or failed to fit in
// the transaction: saved false) and whether it saved it.
func (s *Store) decideChunk(ctx context.Context, d store.ReviewDecision, chunk []heldDoc) (out []store.ReviewOutcome, st store.Status, saved bool, err error) {
	// Writers of one collection queue here, as publications do, rather than conflict and retry.
	unlock, err := s.writers.lock(ctx, d.CollectionID)
	if err != nil {
		return nil, store.Status{}, false, err
	}
	defer unlock()
	ids := make(bson.A, len(chunk))
	for i, doc := range chunk {
		ids[i] = doc.ID
	}
	err = s.transact(ctx, func(ctx context.Context) error {
		// A retried attempt starts from nothing: what an aborted attempt decided did not happen.
		out, st, saved = nil, store.Status{}, false
		var docs []heldDoc
		if err := findAll(ctx, findQuery{coll: s.reviewQueue, filter: bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
			sort: bson.D{{Key: "_id", Value: 1}}}, &docs); err != nil {
			return err
		}
		if len(docs) == 0 {
			return nil // decided meanwhile by someone else
		}
		held := make([]store.PendingObject, len(docs))
		still := make(bson.A, len(docs))
		for i, doc := range docs {
			held[i], still[i] = doc.held(), doc.ID
		}
		// Removing the documents first makes a racing decision of any of them conflict here.
		res, err := s.reviewQueue.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: still}}}})
		if err != nil {
			return fmt.Errorf("remove held objects: %w", err)
		}
		if res.DeletedCount != int64(len(still)) {
			return fmt.Errorf("remove held objects: %d of %d were gone", int64(len(still))-res.DeletedCount, len(still))
		}
		if out, st, err = s.decideHeld(ctx, d, held); err != nil {
			return err
		}
		if st.ID != "" {
			if saved, err = s.saveStatusInTxn(ctx, st); err != nil {
				return err
			}
		}
		if s.hooks.inDecideTxn != nil {
			return s.hooks.inDecideTxn(ctx, d.StatusID)
		}
		return nil
	})
	if err != nil {
		return nil, store.Status{}, false, err
	}
	return out, st, saved, nil
}

// decideHeld stores the released objects of held and adds the ledger entries of the decision, in
// the caller's transaction, and returns what became of each object and the request's status
// settled (empty when the request has no status).
func (s *Store) decideHeld(ctx context.Context, d store.ReviewDecision, held []store.PendingObject) ([]store.ReviewOutcome, store.Status, error) {
	first := held[0]
	pub := store.Publication{CollectionID: d.CollectionID, Member: first.Member, TokenID: first.TokenID,
		Release: store.ReleaseEndpoint(d.Reviewer, d.ReviewerToken, d.ReviewerPerson)}
	var batch []pending
	for _, p := range held {
		if d.Released(p) {
			pub.Objects = append(pub.Objects, p.Object)
			batch = append(batch, pending{obj: p.Object, version: p.Object.Version.UnixMicro(),
				versionless: p.Object.Version.IsZero(), sum: sha256.Sum256(p.Object.Content)})
		}
	}
	var outcomes []store.Outcome
	if len(batch) > 0 {
		var (
			root string
			err  error
		)
		if outcomes, root, err = s.addChunkTxn(ctx, d.CollectionID, batch, &pub); err != nil {
			return nil, store.Status{}, fmt.Errorf("release: %w", err)
		}
		if err := s.insertPending(ctx, store.PublishEntry(pub, root, outcomes)); err != nil {
			return nil, store.Status{}, err
		}
	}
	st, err := s.Status(ctx, first.APIRoot, d.StatusID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, store.Status{}, err
	}
	var out, rejected []store.ReviewOutcome
	next := 0
	for _, p := range held {
		var o store.Outcome
		if d.Released(p) {
			o = outcomes[next]
			next++
		}
		msg, ok := d.DecisionMessage(p, o)
		st.Settle(p.Object, msg, ok)
		r := store.ReviewOutcome{Pending: p, Outcome: o, Message: msg}
		out = append(out, r)
		if !d.Released(p) {
			rejected = append(rejected, r)
		}
	}
	if len(rejected) > 0 {
		if err := s.insertPending(ctx, d.RejectEntry(first.APIRoot, rejected)); err != nil {
			return nil, store.Status{}, err
		}
	}
	return out, st, nil
}

// pendingCountsPipeline counts held objects per collection id from the keys of indexQueueRequest:
// sorted and projected on its fields, the server scans the index and reads no document.
var pendingCountsPipeline = mongo.Pipeline{
	{{Key: "$sort", Value: bson.D{{Key: "collection_id", Value: 1}, {Key: "status_id", Value: 1}}}},
	{{Key: "$project", Value: bson.D{{Key: "_id", Value: 0}, {Key: "collection_id", Value: 1}}}},
	{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$collection_id"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
}

// PendingCounts counts held objects per collection. The count groups the collection_status index's
// keys, so that no document (and no content) is read; the API roots come from the collections.
func (s *Store) PendingCounts(ctx context.Context) ([]store.PendingCount, error) {
	cur, err := s.reviewQueue.Aggregate(ctx, pendingCountsPipeline, options.Aggregate().SetHint(indexQueueRequest))
	if err != nil {
		return nil, fmt.Errorf("mongostore: count pending objects: %w", err)
	}
	var groups []struct {
		CollectionID string `bson:"_id"`
		N            int    `bson:"n"`
	}
	if err := cur.All(ctx, &groups); err != nil {
		return nil, fmt.Errorf("mongostore: count pending objects: %w", err)
	}
	if len(groups) == 0 {
		return nil, nil
	}
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.CollectionID
	}
	var colls []collectionDoc
	if err := findAll(ctx, findQuery{coll: s.collections, filter: bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		sort: bson.D{{Key: "_id", Value: 1}}, projection: bson.D{{Key: "api_root", Value: 1}}}, &colls); err != nil {
		return nil, fmt.Errorf("mongostore: count pending objects: roots of their collections: %w", err)
	}
	roots := make(map[string]string, len(colls))
	for _, c := range colls {
		roots[c.ID] = c.APIRoot
	}
	var out []store.PendingCount
	for _, g := range groups {
		// Objects of a collection deleted meanwhile go with it (DeleteCollection); none to count.
		if root, ok := roots[g.CollectionID]; ok {
			out = append(out, store.PendingCount{APIRoot: root, CollectionID: g.CollectionID, Objects: g.N})
		}
	}
	slices.SortFunc(out, func(a, b store.PendingCount) int {
		return cmp.Or(strings.Compare(a.APIRoot, b.APIRoot), strings.Compare(a.CollectionID, b.CollectionID))
	})
	return out, nil
}
