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

// The ledger.
//
// An entry's sequence number is its _id. The head, {_id: "ledger", seq, hash} in counters, is the
// number and hash of the last entry appended. An append, inside the transaction of the write it
// describes, increments the head's seq (which takes the head's write lock until the transaction
// ends), chains the entry after the number and hash it read, inserts it and stores its hash in the
// head. A concurrent append, in this process or another, conflicts on the head and is retried on a
// snapshot that shows this one, so entries are dense, numbered in commit order, and each commits to
// the entry before it. In-process appenders queue on appenders instead of conflicting.
const ledgerHeadID = "ledger"

type ledgerHeadDoc struct {
	ID   string `bson:"_id"`
	Seq  int64  `bson:"seq"`
	Hash []byte `bson:"hash"`
}

type ledgerItemDoc struct {
	ID string `bson:"id"`
	// Version is in Unix microseconds; absent for none.
	Version int64  `bson:"version,omitempty"`
	Verdict string `bson:"verdict,omitempty"`
}

type ledgerDoc struct {
	Seq int64 `bson:"_id"`
	// At is in Unix microseconds.
	At           int64           `bson:"at"`
	Kind         string          `bson:"kind"`
	MemberID     string          `bson:"member_id"`
	TokenID      string          `bson:"token_id"`
	APIRoot      string          `bson:"api_root"`
	CollectionID string          `bson:"collection_id"`
	Endpoint     string          `bson:"endpoint"`
	Items        []ledgerItemDoc `bson:"items"`
	PrevHash     []byte          `bson:"prev_hash"`
	Hash         []byte          `bson:"hash"`
}

func ledgerDocOf(e store.LedgerEntry) ledgerDoc {
	d := ledgerDoc{Seq: e.Seq, At: e.At.UnixMicro(), Kind: string(e.Kind), MemberID: e.Member, TokenID: e.TokenID,
		APIRoot: e.APIRoot, CollectionID: e.Collection, Endpoint: e.Endpoint, Items: make([]ledgerItemDoc, len(e.Items)),
		PrevHash: e.PrevHash, Hash: e.Hash}
	for i, it := range e.Items {
		d.Items[i] = ledgerItemDoc{ID: it.ID, Verdict: it.Verdict}
		if !it.Version.IsZero() {
			d.Items[i].Version = it.Version.UnixMicro()
		}
	}
	return d
}

func (d ledgerDoc) entry() store.LedgerEntry {
	e := store.LedgerEntry{Seq: d.Seq, At: fromMicros(d.At), Kind: store.LedgerKind(d.Kind), Member: d.MemberID,
		TokenID: d.TokenID, APIRoot: d.APIRoot, Collection: d.CollectionID, Endpoint: d.Endpoint,
		Items: make([]store.LedgerItem, len(d.Items)), PrevHash: d.PrevHash, Hash: d.Hash}
	for i, it := range d.Items {
		e.Items[i] = store.LedgerItem{ID: it.ID, Verdict: it.Verdict}
		if it.Version != 0 {
			e.Items[i].Version = fromMicros(it.Version)
		}
	}
	return e
}

// seedLedgerHead creates the ledger's head if it is missing; it never changes one that exists.
func (s *Store) seedLedgerHead(ctx context.Context) error {
	update := bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "seq", Value: int64(0)}, {Key: "hash", Value: store.GenesisHash}}}}
	var err error
	for attempt := 0; ; attempt++ {
		_, err = s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: ledgerHeadID}}, update, options.UpdateOne().SetUpsert(true))
		// Two Opens upserting at once: the loser's retry finds the document and leaves it.
		if err == nil || !mongo.IsDuplicateKeyError(err) || attempt > 0 {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("mongostore: seed the ledger head: %w", err)
	}
	return nil
}

// appendLedger chains e after the head and appends it, in the caller's transaction. The caller holds
// appenders' ledger lock.
func (s *Store) appendLedger(ctx context.Context, e store.LedgerEntry) error {
	var head ledgerHeadDoc
	err := s.counters.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: ledgerHeadID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: int64(1)}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&head)
	if err != nil {
		return fmt.Errorf("take a ledger sequence number: %w", err)
	}
	prev := head.Hash
	if head.Seq == 0 {
		prev = store.GenesisHash
	}
	e = e.Chain(head.Seq, prev, s.now())
	if _, err := s.ledger.InsertOne(ctx, ledgerDocOf(e)); err != nil {
		// A duplicate key means the head is behind the entries: someone changed the ledger by hand.
		return fmt.Errorf("append ledger entry %d: %w", e.Seq, err)
	}
	if _, err := s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: ledgerHeadID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "hash", Value: e.Hash}}}}); err != nil {
		return fmt.Errorf("move the ledger head: %w", err)
	}
	return nil
}

// RecordPull appends a pull entry to the ledger.
func (s *Store) RecordPull(ctx context.Context, e store.LedgerEntry) error {
	e.Kind = store.LedgerPull
	unlock, err := s.appenders.lock(ctx, ledgerHeadID)
	if err != nil {
		return fmt.Errorf("mongostore: record pull of %s by %s: %w", e.Collection, e.Member, err)
	}
	defer unlock()
	if err := s.transact(ctx, func(ctx context.Context) error { return s.appendLedger(ctx, e) }); err != nil {
		return fmt.Errorf("mongostore: record pull of %s by %s: %w", e.Collection, e.Member, err)
	}
	return nil
}

// Ledger returns up to limit entries with a sequence number above after, in order.
func (s *Store) Ledger(ctx context.Context, after int64, limit int) ([]store.LedgerEntry, error) {
	if limit < 1 || limit > store.MaxLimit {
		return nil, fmt.Errorf("mongostore: ledger after %d: %w", after,
			&store.QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", limit, store.MaxLimit)})
	}
	q := findQuery{coll: s.ledger, filter: bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
		sort: bson.D{{Key: "_id", Value: 1}}, limit: int64(limit)}
	var docs []ledgerDoc
	if err := findAll(ctx, q, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: ledger after %d: %w", after, err)
	}
	out := make([]store.LedgerEntry, len(docs))
	for i, d := range docs {
		out[i] = d.entry()
	}
	return out, nil
}

// LedgerHead returns where the ledger ends.
func (s *Store) LedgerHead(ctx context.Context) (store.LedgerHead, error) {
	var head ledgerHeadDoc
	err := s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: ledgerHeadID}}).Decode(&head)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return store.LedgerHead{}, fmt.Errorf("mongostore: ledger head: %w", err)
	}
	return store.LedgerHead{Seq: head.Seq, Hash: head.Hash}, nil
}
