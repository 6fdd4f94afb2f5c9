package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

type verificationKeyDoc struct {
	KID       string `bson:"_id"`
	PublicKey []byte `bson:"public_key"`
	// CreatedAt is in Unix microseconds.
	CreatedAt int64 `bson:"created_at"`
	// RetiredAt, in Unix microseconds, is absent while the key verifies tokens: a retirement matches
	// on its absence, so that the first one wins.
	RetiredAt *int64 `bson:"retired_at,omitempty"`
}

func (d verificationKeyDoc) key() store.VerificationKey {
	k := store.VerificationKey{KID: d.KID, PublicKey: d.PublicKey, CreatedAt: fromMicros(d.CreatedAt)}
	if d.RetiredAt != nil {
		k.RetiredAt = fromMicros(*d.RetiredAt)
	}
	return k
}

// notRetired matches the keys that have not been retired.
var notRetired = bson.E{Key: "retired_at", Value: nil}

// SaveVerificationKey records the public half of a signing key. Saving a kid again changes nothing:
// neither its key, nor its creation time, nor its retirement.
func (s *Store) SaveVerificationKey(ctx context.Context, k store.VerificationKey) error {
	if k.KID == "" {
		return errors.New("mongostore: save verification key: empty kid")
	}
	fields := bson.D{
		{Key: "public_key", Value: k.PublicKey},
		{Key: "created_at", Value: k.CreatedAt.UnixMicro()},
	}
	if !k.RetiredAt.IsZero() {
		fields = append(fields, bson.E{Key: "retired_at", Value: k.RetiredAt.UnixMicro()})
	}
	_, err := s.verificationKeys.UpdateOne(ctx, keyFilter(k.KID),
		bson.D{{Key: "$setOnInsert", Value: fields}}, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// Two processes upserted the kid at once and the other inserted it (servers before 4.2 do not
		// retry such an upsert themselves): the kid is saved, which is all a second save may do.
		err = nil
	}
	if err != nil {
		return fmt.Errorf("mongostore: save verification key %s: %w", k.KID, err)
	}
	return nil
}

func keyFilter(kid string) bson.D { return bson.D{{Key: "_id", Value: kid}} }

func (s *Store) verificationKeysQuery() findQuery {
	return findQuery{
		coll:   s.verificationKeys,
		filter: bson.D{},
		sort:   bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}},
		hint:   indexCreatedAt,
	}
}

// VerificationKeys lists every recorded key, retired ones included, ordered by creation time then kid.
func (s *Store) VerificationKeys(ctx context.Context) ([]store.VerificationKey, error) {
	var docs []verificationKeyDoc
	if err := findAll(ctx, s.verificationKeysQuery(), &docs); err != nil {
		return nil, fmt.Errorf("mongostore: list verification keys: %w", err)
	}
	ks := make([]store.VerificationKey, 0, len(docs))
	for _, d := range docs {
		ks = append(ks, d.key())
	}
	return ks, nil
}

// RetireVerificationKey stops a key from verifying tokens from the time given; retiring it again keeps
// the first time. ErrNotFound if there is none.
func (s *Store) RetireVerificationKey(ctx context.Context, kid string, at time.Time) error {
	if at.IsZero() {
		// A zero RetiredAt means the key still verifies.
		return fmt.Errorf("mongostore: retire verification key %s: zero retirement time", kid)
	}
	res, err := s.verificationKeys.UpdateOne(ctx, bson.D{{Key: "_id", Value: kid}, notRetired},
		bson.D{{Key: "$set", Value: bson.D{{Key: "retired_at", Value: at.UnixMicro()}}}})
	if err == nil && res.MatchedCount == 0 {
		// Retired already, which is kept, or not there at all. Keys are never deleted, so the answer
		// cannot change between the update and this read.
		err = translate(s.verificationKeys.FindOne(ctx, keyFilter(kid),
			options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err())
	}
	if err != nil {
		return fmt.Errorf("mongostore: retire verification key %s: %w", kid, err)
	}
	return nil
}

// The audit log.
//
// An entry's sequence number is its _id, so the _id index is the unique index on it, and the one an
// Audit page reads. Numbers come from the counter document {_id: "audit", seq} in counters: AppendAudit
// increments it and inserts the entry under the number it got in one transaction. Hence:
//
//   - No duplicates: incrementing the counter takes its write lock until the transaction ends, so a
//     concurrent append, in this process or another, conflicts and is retried on a snapshot that
//     shows the committed increment. Should the counter ever be behind the log, the _id index
//     refuses the duplicate, and Open moves the counter up to the log's highest number.
//   - Increasing in append order, and visible in that order: the number N+1 cannot be taken before
//     the transaction that took N has committed, so entries commit in the order of their numbers and
//     a reader paging with Audit(after) never sees N+1 without N. An increment outside the
//     transaction would break this: N+1 could commit first, and a reader resuming after it would
//     never see N.
//   - Gaps: none in practice, since a failed insert aborts the increment with it; but the contract
//     promises only unique and increasing numbers, and readers must not count on density.
const auditCounterID = "audit"

type counterDoc struct {
	ID  string `bson:"_id"`
	Seq int64  `bson:"seq"`
}

type auditDoc struct {
	Seq int64 `bson:"_id"`
	// At is in Unix microseconds.
	At     int64  `bson:"at"`
	Actor  string `bson:"actor"`
	Action string `bson:"action"`
	Target string `bson:"target"`
	Detail string `bson:"detail"`
}

func (d auditDoc) entry() store.AuditEntry {
	return store.AuditEntry{Seq: d.Seq, At: fromMicros(d.At), Actor: d.Actor, Action: d.Action,
		Target: d.Target, Detail: d.Detail}
}

// seedAuditCounter creates the audit counter if it is missing, and moves it up to the highest number
// in the log if it is behind, so that appends never collide with entries already there. It is
// idempotent and safe beside appends and other Opens: $max never lowers the counter.
func (s *Store) seedAuditCounter(ctx context.Context) error {
	var last auditDoc
	err := s.audit.FindOne(ctx, bson.D{}, options.FindOne().
		SetSort(bson.D{{Key: "_id", Value: -1}}).
		SetProjection(bson.D{{Key: "_id", Value: 1}})).Decode(&last)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("mongostore: read the audit log's last entry: %w", err)
	}
	update := bson.D{{Key: "$max", Value: bson.D{{Key: "seq", Value: last.Seq}}}}
	for attempt := 0; ; attempt++ {
		_, err = s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: auditCounterID}}, update,
			options.UpdateOne().SetUpsert(true))
		// Two Opens upserting at once: the loser's retry finds the document and updates it.
		if err == nil || !mongo.IsDuplicateKeyError(err) || attempt > 0 {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("mongostore: seed the audit counter: %w", err)
	}
	return nil
}

// AppendAudit records one operator action, under the next sequence number; e.Seq is ignored.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	// Queue this process's appenders here instead of failing each other's transactions on the
	// counter; appenders in other processes still conflict, and are retried with backoff.
	unlock, err := s.appenders.lock(ctx, auditCounterID)
	if err != nil {
		return fmt.Errorf("mongostore: append audit entry: %w", err)
	}
	defer unlock()
	err = s.transact(ctx, func(ctx context.Context) error {
		var c counterDoc
		err := s.counters.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: auditCounterID}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: int64(1)}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&c)
		if err != nil {
			return fmt.Errorf("take a sequence number: %w", err)
		}
		doc := auditDoc{Seq: c.Seq, At: e.At.UnixMicro(), Actor: e.Actor, Action: e.Action,
			Target: e.Target, Detail: e.Detail}
		if _, err := s.audit.InsertOne(ctx, doc); err != nil {
			// A duplicate key here means the counter is behind the log; it is not the caller's
			// conflict, so it is not reported as ErrConflict.
			return fmt.Errorf("insert entry %d: %w", c.Seq, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mongostore: append audit entry: %w", err)
	}
	return nil
}

func (s *Store) auditQuery(after int64, limit int) findQuery {
	return findQuery{
		coll:   s.audit,
		filter: bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
		sort:   bson.D{{Key: "_id", Value: 1}},
		limit:  int64(limit),
	}
}

// Audit returns up to limit entries with a sequence number above after, in ascending order. A limit
// outside 1..store.MaxLimit is refused with a *store.QueryError, as a page of objects is.
func (s *Store) Audit(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	if limit < 1 || limit > store.MaxLimit {
		return nil, fmt.Errorf("mongostore: read audit log: %w",
			&store.QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", limit, store.MaxLimit)})
	}
	var docs []auditDoc
	if err := findAll(ctx, s.auditQuery(after, limit), &docs); err != nil {
		return nil, fmt.Errorf("mongostore: read audit log after %d: %w", after, err)
	}
	es := make([]store.AuditEntry, 0, len(docs))
	for _, d := range docs {
		es = append(es, d.entry())
	}
	return es, nil
}
