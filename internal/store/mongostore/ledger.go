package mongostore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

// The ledger.
//
// Entries are written in two steps, so that chaining them never serializes the writes they describe.
//
// A publication or withdrawal inserts its entry, unchained, into ledger_pending, in the transaction
// that stores the objects: nothing is committed without its entry, and that transaction touches no
// document shared by every writer, so writers of different collections, in this process or another,
// neither wait for nor conflict with each other.
//
// The sequencer then moves pending entries into the chain, in a short transaction of its own: it
// takes the pending entries in (at, _id) order, numbers and chains each after the last (the head,
// {_id: "ledger", seq, hash} in counters), inserts them into ledger under their numbers, deletes them
// from ledger_pending and moves the head. Every run that chains anything writes the head, so two
// runs whose snapshots overlap conflict there and the loser is retried on a snapshot that no longer
// shows what the winner chained: an entry is chained once, numbers are dense, and each entry commits
// to the one before. Numbers N+1 and later cannot commit before N, so a reader paging with
// Ledger(after) never skips an entry. In-process runs queue on appenders instead of conflicting,
// and a caller queued behind a run that began after its write committed lets that run stand in for
// its own.
//
// Every write runs the sequencer after it commits, so that its entry is in the chain when the caller
// gets its answer. Should that run fail, the write is not undone and not reported as failed (its
// objects are stored): the entry stays pending, and any later run chains it, as does the run that
// readers of the ledger and Open start, which also chains entries a crashed process left pending.
// A pull has nothing else to commit, so its entry goes straight into the sequencer's transaction.
const ledgerHeadID = "ledger"

// maxSequenceEntries and maxSequenceBytes bound one sequencer transaction, which MongoDB 4.0 writes as
// one oplog entry of at most 16 MB holding every chained entry in full; a publish entry lists up to
// 1,000 items.
const (
	maxSequenceEntries = 256
	maxSequenceBytes   = 4 << 20
)

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
	// Absent from items written before the ledger recorded them.
	SHA256      []byte `bson:"sha256,omitempty"`
	Fingerprint string `bson:"fp,omitempty"`
}

// ledgerBody is what an entry says, chained or not.
type ledgerBody struct {
	Kind         string          `bson:"kind"`
	MemberID     string          `bson:"member_id"`
	TokenID      string          `bson:"token_id"`
	APIRoot      string          `bson:"api_root"`
	CollectionID string          `bson:"collection_id"`
	Endpoint     string          `bson:"endpoint"`
	Items        []ledgerItemDoc `bson:"items"`
	// Pulled is a compact pull's summary (see store.CompactPull); absent in every other entry.
	Pulled *pulledDoc `bson:"pulled,omitempty"`
	// Person is absent from entries no person acted in, and from those written before the ledger
	// recorded people.
	Person *personDoc `bson:"person,omitempty"`
}

// pulledDoc is a compact pull's summary; times in Unix microseconds, absent for none.
type pulledDoc struct {
	Count  int    `bson:"count"`
	SHA256 []byte `bson:"sha256"`
	First  int64  `bson:"first_added,omitempty"`
	Last   int64  `bson:"last_added,omitempty"`
}

type personDoc struct {
	Issuer  string `bson:"iss"`
	Subject string `bson:"sub"`
	Name    string `bson:"name"`
}

type ledgerDoc struct {
	Seq int64 `bson:"_id"`
	// At is in Unix microseconds.
	At       int64      `bson:"at"`
	Body     ledgerBody `bson:",inline"`
	PrevHash []byte     `bson:"prev_hash"`
	Hash     []byte     `bson:"hash"`
}

// pendingDoc is an entry committed but not chained yet.
type pendingDoc struct {
	ID bson.ObjectID `bson:"_id"`
	// At is in Unix microseconds: when the write the entry describes ran. It becomes the entry's At.
	At   int64      `bson:"at"`
	Body ledgerBody `bson:",inline"`
}

func ledgerBodyOf(e store.LedgerEntry) ledgerBody {
	b := ledgerBody{Kind: string(e.Kind), MemberID: e.Member, TokenID: e.TokenID, APIRoot: e.APIRoot,
		CollectionID: e.Collection, Endpoint: e.Endpoint, Items: make([]ledgerItemDoc, len(e.Items))}
	for i, it := range e.Items {
		b.Items[i] = ledgerItemDoc{ID: it.ID, Verdict: it.Verdict, SHA256: it.SHA256, Fingerprint: it.Fingerprint}
		if !it.Version.IsZero() {
			b.Items[i].Version = it.Version.UnixMicro()
		}
	}
	if p := e.Pulled; p != nil {
		b.Pulled = &pulledDoc{Count: p.Count, SHA256: p.SHA256}
		if !p.FirstAdded.IsZero() {
			b.Pulled.First, b.Pulled.Last = p.FirstAdded.UnixMicro(), p.LastAdded.UnixMicro()
		}
	}
	if !e.Person.IsZero() {
		b.Person = &personDoc{Issuer: e.Person.Issuer, Subject: e.Person.Subject, Name: e.Person.Name}
	}
	return b
}

func (b ledgerBody) entry() store.LedgerEntry {
	e := store.LedgerEntry{Kind: store.LedgerKind(b.Kind), Member: b.MemberID, TokenID: b.TokenID,
		APIRoot: b.APIRoot, Collection: b.CollectionID, Endpoint: b.Endpoint, Items: make([]store.LedgerItem, len(b.Items))}
	for i, it := range b.Items {
		e.Items[i] = store.LedgerItem{ID: it.ID, Verdict: it.Verdict, SHA256: it.SHA256, Fingerprint: it.Fingerprint}
		if it.Version != 0 {
			e.Items[i].Version = fromMicros(it.Version)
		}
	}
	if p := b.Pulled; p != nil {
		e.Pulled = &store.PullSummary{Count: p.Count, SHA256: p.SHA256}
		if p.First != 0 {
			e.Pulled.FirstAdded, e.Pulled.LastAdded = fromMicros(p.First), fromMicros(p.Last)
		}
	}
	if b.Person != nil {
		e.Person = store.Person{Issuer: b.Person.Issuer, Subject: b.Person.Subject, Name: b.Person.Name}
	}
	return e
}

func ledgerDocOf(e store.LedgerEntry) ledgerDoc {
	return ledgerDoc{Seq: e.Seq, At: e.At.UnixMicro(), Body: ledgerBodyOf(e), PrevHash: e.PrevHash, Hash: e.Hash}
}

func (d ledgerDoc) entry() store.LedgerEntry {
	e := d.Body.entry()
	e.Seq, e.At, e.PrevHash, e.Hash = d.Seq, fromMicros(d.At), d.PrevHash, d.Hash
	return e
}

func pendingIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{
			// The sequencer takes pending entries in this order, without a sort.
			Keys:    bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}},
			Options: options.Index().SetName(indexAtID),
		},
	}
}

// seedLedgerHead creates the ledger's head if it is missing; it never changes one that exists.
func (s *Store) seedLedgerHead(ctx context.Context) error {
	update := bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "seq", Value: int64(0)}, {Key: "hash", Value: store.GenesisHash()}}}}
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

// insertPending adds e, unchained, to the pending entries, in the caller's transaction.
func (s *Store) insertPending(ctx context.Context, e store.LedgerEntry) error {
	d := pendingDoc{ID: bson.NewObjectID(), At: s.now().UnixMicro(), Body: ledgerBodyOf(e)}
	if _, err := s.ledgerPending.InsertOne(ctx, d); err != nil {
		return fmt.Errorf("insert pending ledger entry: %w", err)
	}
	return nil
}

// chained is an entry about to be chained: pending is its _id in ledger_pending, zero for extra.
type chained struct {
	pending bson.ObjectID
	at      time.Time
	entry   store.LedgerEntry
}

// sequencerRuns numbers this process's sequencer runs, so that a caller queued behind a run that
// began after its write committed, and left nothing pending, need not run again: the writers of a
// burst are chained by one transaction instead of each paying for one, mostly empty, of their own.
type sequencerRuns struct {
	// started counts the runs begun.
	started atomic.Uint64
	// drained is the number of the last run that left nothing pending. Guarded by appenders' ledger
	// lock.
	drained uint64
}

// sequence chains the pending entries and then extra, if not nil, which it commits in its own
// transaction. It returns once a transaction found no more entries pending than it chained, so every
// entry committed before the call is then in the chain. Callers that wrote a pending entry ignore
// its error: see the package comment on the ledger.
func (s *Store) sequence(ctx context.Context, extra *store.LedgerEntry) error {
	return s.sequenceWith(ctx, extra, nil)
}

// sequenceWith is sequence that also stores details, the items of extra's compact pull, under the
// number extra is chained at, in the same transaction.
func (s *Store) sequenceWith(ctx context.Context, extra *store.LedgerEntry, details []store.LedgerItem) error {
	if s.hooks.beforeSequence != nil {
		if err := s.hooks.beforeSequence(ctx); err != nil {
			return err
		}
	}
	// Read before queueing, after the caller's write committed: a run numbered above it takes its
	// snapshots later, so they show that write's entry.
	ticket := s.runs.started.Load()
	unlock, err := s.appenders.lock(ctx, ledgerHeadID)
	if err != nil {
		return fmt.Errorf("queue for the ledger head: %w", err)
	}
	defer unlock()
	if extra == nil && s.runs.drained > ticket {
		return nil
	}
	run := s.runs.started.Add(1)
	for {
		var more bool
		err := s.transact(ctx, func(ctx context.Context) error {
			// A retry starts over: it must see what the conflicting run chained.
			var err error
			more, err = s.sequenceTxn(ctx, extra, details)
			return err
		})
		if err != nil {
			return fmt.Errorf("chain ledger entries: %w", err)
		}
		if !more {
			s.runs.drained = run
			return nil
		}
	}
}

// sequenceTxn is the body of sequence's transaction. It reports whether it left entries pending,
// extra among them.
func (s *Store) sequenceTxn(ctx context.Context, extra *store.LedgerEntry, details []store.LedgerItem) (more bool, err error) {
	// Read before writing, so that a run with nothing to chain writes nothing; the head's write below
	// still fails if another run moved it since this snapshot.
	batch, more, err := s.pendingBatch(ctx)
	if err != nil {
		return false, err
	}
	withExtra := extra != nil && !more
	if withExtra {
		batch = append(batch, chained{at: s.now(), entry: *extra})
	}
	if len(batch) == 0 {
		return more, nil
	}
	var head ledgerHeadDoc
	if err := lockDoc(ctx, s.counters, ledgerHeadID, &head); err != nil {
		return false, fmt.Errorf("read the ledger head: %w", err)
	}
	seq, hash := head.Seq, head.Hash
	if seq == 0 {
		hash = store.GenesisHash()
	}
	docs := make([]any, len(batch))
	var done []bson.ObjectID
	var last store.LedgerEntry
	for i, c := range batch {
		e := c.entry.Chain(seq, hash, c.at)
		seq, hash, last = e.Seq, e.Hash, e
		docs[i] = ledgerDocOf(e)
		if !c.pending.IsZero() {
			done = append(done, c.pending)
		}
	}
	if _, err := s.ledger.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true)); err != nil {
		// A duplicate key means the head is behind the entries: someone changed the ledger by hand.
		return false, fmt.Errorf("append ledger entries %d..%d: %w", head.Seq+1, seq, err)
	}
	if withExtra && details != nil {
		// extra is chained last.
		if _, err := s.pullDetails.InsertOne(ctx, pullDetailDoc{Seq: last.Seq, At: last.At.UnixMicro(),
			Items: ledgerBodyOf(store.LedgerEntry{Items: details}).Items}); err != nil {
			return false, fmt.Errorf("store the details of pull %d: %w", last.Seq, err)
		}
	}
	if len(done) > 0 {
		res, err := s.ledgerPending.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: done}}}})
		if err != nil {
			return false, fmt.Errorf("delete chained pending entries: %w", err)
		}
		if res.DeletedCount != int64(len(done)) {
			// Only a hand-made change can remove a pending entry without moving the head.
			return false, fmt.Errorf("delete chained pending entries: %d of %d were gone", int64(len(done))-res.DeletedCount, len(done))
		}
	}
	if _, err := s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: ledgerHeadID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: seq}, {Key: "hash", Value: hash}}}}); err != nil {
		return false, fmt.Errorf("move the ledger head: %w", err)
	}
	return more, nil
}

// pendingBatch reads the first pending entries, in chaining order, within the bounds of one sequencer
// transaction; more reports that it left some out.
func (s *Store) pendingBatch(ctx context.Context) (batch []chained, more bool, err error) {
	cur, err := s.ledgerPending.Find(ctx, bson.D{}, options.Find().
		SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}).
		SetHint(indexAtID).
		SetLimit(maxSequenceEntries+1))
	if err != nil {
		return nil, false, fmt.Errorf("find pending ledger entries: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	size := 0
	for cur.Next(ctx) {
		if len(batch) == maxSequenceEntries || (len(batch) > 0 && size+len(cur.Current) > maxSequenceBytes) {
			return batch, true, nil
		}
		size += len(cur.Current)
		var d pendingDoc
		if err := cur.Decode(&d); err != nil {
			return nil, false, fmt.Errorf("decode pending ledger entry: %w", err)
		}
		batch = append(batch, chained{pending: d.ID, at: fromMicros(d.At), entry: d.Body.entry()})
	}
	if err := cur.Err(); err != nil {
		return nil, false, fmt.Errorf("find pending ledger entries: %w", err)
	}
	return batch, false, nil
}

// settle chains whatever is pending, so that a reader of the ledger sees every entry committed before
// it read. It is best effort: a reader that cannot wait for the chain still reads what is there, and
// the next write or read chains the rest.
func (s *Store) settle(ctx context.Context) {
	// Most of the time nothing is pending, and one read avoids a transaction. A majority read that
	// shows nothing pending also shows the entries chained from it.
	err := s.ledgerPending.FindOne(ctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return
	}
	_ = s.sequence(ctx, nil)
}

// RecordPull appends a pull entry, or a dry run's probe entry, to the ledger.
func (s *Store) RecordPull(ctx context.Context, e store.LedgerEntry) error {
	e.Kind = store.ReadKind(e.Kind)
	e, details := store.CompactPull(e)
	if err := s.sequenceWith(ctx, &e, details); err != nil {
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
	s.settle(ctx)
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
	s.settle(ctx)
	var head ledgerHeadDoc
	err := s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: ledgerHeadID}}).Decode(&head)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return store.LedgerHead{}, fmt.Errorf("mongostore: ledger head: %w", err)
	}
	return store.LedgerHead{Seq: head.Seq, Hash: head.Hash}, nil
}

// pullDetailDoc holds the items of one compact pull entry, under its sequence number.
type pullDetailDoc struct {
	Seq int64 `bson:"_id"`
	// At is the entry's time, in Unix microseconds: the sweep removes details past the window.
	At    int64           `bson:"at"`
	Items []ledgerItemDoc `bson:"items"`
}

func pullDetailIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("at")}}
}

// PullDetails returns the items kept for the compact pull entries numbered seqs.
func (s *Store) PullDetails(ctx context.Context, seqs []int64) (map[int64][]store.LedgerItem, error) {
	if len(seqs) > store.MaxLimit {
		return nil, fmt.Errorf("mongostore: pull details: %w",
			&store.QueryError{Reason: fmt.Sprintf("%d entries asked for; at most %d", len(seqs), store.MaxLimit)})
	}
	out := map[int64][]store.LedgerItem{}
	if len(seqs) == 0 {
		return out, nil
	}
	cur, err := s.pullDetails.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: seqs}}}})
	if err != nil {
		return nil, fmt.Errorf("mongostore: pull details: %w", err)
	}
	var docs []pullDetailDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: pull details: %w", err)
	}
	for _, d := range docs {
		out[d.Seq] = ledgerBody{Items: d.Items}.entry().Items
	}
	return out, nil
}

// PurgePullDetails removes up to limit pull details of entries appended before before.
func (s *Store) PurgePullDetails(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 || limit > store.MaxLimit {
		return 0, fmt.Errorf("mongostore: purge pull details: %w",
			&store.QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", limit, store.MaxLimit)})
	}
	cur, err := s.pullDetails.Find(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: before.UnixMicro()}}}},
		options.Find().SetSort(bson.D{{Key: "at", Value: 1}}).SetLimit(int64(limit)).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return 0, fmt.Errorf("mongostore: purge pull details: %w", err)
	}
	var docs []struct {
		Seq int64 `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return 0, fmt.Errorf("mongostore: purge pull details: %w", err)
	}
	if len(docs) == 0 {
		return 0, nil
	}
	seqs := make([]int64, len(docs))
	for i, d := range docs {
		seqs[i] = d.Seq
	}
	res, err := s.pullDetails.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: seqs}}}})
	if err != nil {
		return 0, fmt.Errorf("mongostore: purge pull details: %w", err)
	}
	return int(res.DeletedCount), nil
}
