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
// Audit page reads. Numbers come from the counter document {_id: "audit", seq, chained, hash} in
// counters: AppendAudit increments seq, chains the entry after the head (chained, the number of the
// last entry chained, and hash, its hash), inserts it and moves the head, all in one transaction.
// Hence:
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
//   - Chained in append order: the same lock orders the links, so each entry commits to the one
//     appended before it.
//   - Gaps: none in practice, since a failed insert aborts the increment with it; but the contract
//     promises only unique and increasing numbers, and readers must not count on density.
const auditCounterID = "audit"

// auditCounterDoc is the audit counter and head. A trail written before it was chained has neither
// chained nor hash until Open chains it.
type auditCounterDoc struct {
	ID      string `bson:"_id"`
	Seq     int64  `bson:"seq"`
	Chained int64  `bson:"chained"`
	Hash    []byte `bson:"hash"`
}

// prevHash is what the next entry chained commits to.
func (c auditCounterDoc) prevHash() []byte {
	if len(c.Hash) == 0 {
		return store.GenesisHash()
	}
	return c.Hash
}

type auditDoc struct {
	Seq int64 `bson:"_id"`
	// At is in Unix microseconds.
	At     int64  `bson:"at"`
	Actor  string `bson:"actor"`
	Action string `bson:"action"`
	Target string `bson:"target"`
	Detail string `bson:"detail"`
	Before string `bson:"before,omitempty"`
	After  string `bson:"after,omitempty"`
	// Absent from entries written before the trail was chained, until Open chains them.
	PrevHash []byte `bson:"prev_hash,omitempty"`
	Hash     []byte `bson:"hash,omitempty"`
}

func (d auditDoc) entry() store.AuditEntry {
	return store.AuditEntry{Seq: d.Seq, At: fromMicros(d.At), Actor: d.Actor, Action: d.Action,
		Target: d.Target, Detail: d.Detail, Before: d.Before, After: d.After, PrevHash: d.PrevHash, Hash: d.Hash}
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

// chainAuditBatch bounds the entries one transaction of chainAudit chains, well within MongoDB's
// limits on a transaction's size and age.
const chainAuditBatch = 500

// chainAudit chains, in order, the entries after the head that have no hash: those of a trail written
// before the trail was chained. It stops at the first entry that has one, which only a change made
// by hand can put there, and leaves it for VerifyAudit to report, so that nothing here can make an
// altered entry verify. Each batch takes the counter's lock, so concurrent Opens and appends take
// turns; an append chains after whatever is chained by then.
func (s *Store) chainAudit(ctx context.Context) error {
	for done := false; !done; {
		err := s.transact(ctx, func(ctx context.Context) error {
			done = false
			var c auditCounterDoc
			if err := lockDoc(ctx, s.counters, auditCounterID, &c); err != nil {
				return fmt.Errorf("read the audit head: %w", err)
			}
			var docs []auditDoc
			if err := findAll(ctx, findQuery{coll: s.audit, filter: bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: c.Chained}}}},
				sort: bson.D{{Key: "_id", Value: 1}}, limit: chainAuditBatch}, &docs); err != nil {
				return fmt.Errorf("read entries to chain: %w", err)
			}
			done = len(docs) < chainAuditBatch
			head, hash := c.Chained, c.prevHash()
			for _, d := range docs {
				if len(d.Hash) > 0 {
					done = true
					break
				}
				e := d.entry().Chain(d.Seq, hash)
				if _, err := s.audit.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.Seq}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "prev_hash", Value: e.PrevHash}, {Key: "hash", Value: e.Hash}}}}); err != nil {
					return fmt.Errorf("chain entry %d: %w", d.Seq, err)
				}
				head, hash = d.Seq, e.Hash
			}
			if head == c.Chained {
				return nil
			}
			return s.moveAuditHead(ctx, head, hash)
		})
		if err != nil {
			return fmt.Errorf("mongostore: chain the audit trail: %w", err)
		}
	}
	return nil
}

func (s *Store) moveAuditHead(ctx context.Context, seq int64, hash []byte) error {
	if _, err := s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: auditCounterID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "chained", Value: seq}, {Key: "hash", Value: hash}}}}); err != nil {
		return fmt.Errorf("move the audit head: %w", err)
	}
	return nil
}

// AppendAudit records one operator action, under the next sequence number, chained after the head;
// e.Seq is ignored.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	// Queue this process's appenders here instead of failing each other's transactions on the
	// counter; appenders in other processes still conflict, and are retried with backoff.
	unlock, err := s.appenders.lock(ctx, auditCounterID)
	if err != nil {
		return fmt.Errorf("mongostore: append audit entry: %w", err)
	}
	defer unlock()
	err = s.transact(ctx, func(ctx context.Context) error {
		var c auditCounterDoc
		err := s.counters.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: auditCounterID}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: int64(1)}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&c)
		if err != nil {
			return fmt.Errorf("take a sequence number: %w", err)
		}
		chained := e.Chain(c.Seq, c.prevHash())
		doc := auditDoc{Seq: chained.Seq, At: chained.At.UnixMicro(), Actor: e.Actor, Action: e.Action,
			Target: e.Target, Detail: e.Detail, Before: e.Before, After: e.After, PrevHash: chained.PrevHash, Hash: chained.Hash}
		if _, err := s.audit.InsertOne(ctx, doc); err != nil {
			// A duplicate key here means the counter is behind the log; it is not the caller's
			// conflict, so it is not reported as ErrConflict.
			return fmt.Errorf("insert entry %d: %w", c.Seq, err)
		}
		return s.moveAuditHead(ctx, chained.Seq, chained.Hash)
	})
	if err != nil {
		return fmt.Errorf("mongostore: append audit entry: %w", err)
	}
	return nil
}

// AuditHead returns where the audit trail ends.
func (s *Store) AuditHead(ctx context.Context) (store.AuditHead, error) {
	var c auditCounterDoc
	err := s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: auditCounterID}}).Decode(&c)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return store.AuditHead{}, fmt.Errorf("mongostore: audit head: %w", err)
	}
	return store.AuditHead{Seq: c.Chained, Hash: c.Hash}, nil
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
