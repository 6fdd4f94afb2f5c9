package mongostore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

// AddObjects writes in chunks, one transaction each, because MongoDB 4.0 writes a whole transaction as
// one oplog entry of at most 16 MB and aborts transactions older than 60 s. A chunk's oplog entry holds
// its documents in full, so capping content at 8 MiB leaves room for the other fields of up to 1,000
// documents; an object larger than the cap gets a chunk of its own.
const (
	maxChunkObjects = 1_000
	maxChunkBytes   = 8 << 20
)

// maxExplodedIn is how many $in values the query planner turns into separate index ranges that it
// merges in date-added order (the server's internalQueryMaxScansToExplode). Beyond it a scan on the
// type or id indexes would need a blocking sort, so the keyset index is used instead.
const maxExplodedIn = 200

// readBatchSize asks for up to this many documents per reply (each reply is also capped at 16 MB)
// instead of the server's default first batch of 101, so that reads of small documents take one
// round trip.
const readBatchSize = 10_000

// objectDoc is one object version as stored. ID is set before an insert, as the driver would set
// it: a document without an _id is copied whole by the driver to put one in front, which for a
// large object is one more copy of its content.
type objectDoc struct {
	ID           bson.ObjectID `bson:"_id,omitempty"`
	CollectionID string        `bson:"collection_id"`
	ObjectID     string        `bson:"object_id"`
	Version      int64         `bson:"version"`
	SpecVersion  string        `bson:"spec_version"`
	Type         string        `bson:"type"`
	DateAdded    int64         `bson:"date_added"`
	SHA256       []byte        `bson:"sha256"`
	Content      []byte        `bson:"content"`
	TLP          int           `bson:"tlp"`
	Withdrawn    bool          `bson:"withdrawn,omitempty"`
	// Values are the version's entries in the value-search index (see indexValueSearch): kept in
	// the document, so that every way the version goes (deleted, withdrawn, its collection removed,
	// purged) takes them with it, and indexed by a multikey index.
	Values []valueDoc `bson:"values,omitempty"`
}

// valueDoc is one store.IndexedValue in an object version's document.
type valueDoc struct {
	Kind  string `bson:"k"`
	Value string `bson:"v"`
}

// versionDoc is what reads need of an object version; Content is absent in manifests.
type versionDoc struct {
	ObjectID    string `bson:"object_id"`
	Version     int64  `bson:"version"`
	SpecVersion string `bson:"spec_version"`
	Type        string `bson:"type"`
	DateAdded   int64  `bson:"date_added"`
	Content     []byte `bson:"content,omitempty"`
	TLP         int    `bson:"tlp"`
	Withdrawn   bool   `bson:"withdrawn"`
}

func (d versionDoc) record() store.Record {
	return store.Record{
		ID:          d.ObjectID,
		Type:        d.Type,
		SpecVersion: d.SpecVersion,
		Version:     fromMicros(d.Version),
		DateAdded:   fromMicros(d.DateAdded),
		Content:     d.Content,
		TLP:         store.TLP(d.TLP),
		Withdrawn:   d.Withdrawn,
	}
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// pending is an object to add, prepared outside any transaction.
type pending struct {
	obj store.Object
	// version is the object's own version in Unix microseconds; meaningless when versionless.
	version     int64
	versionless bool
	sum         [sha256.Size]byte
}

// AddObjects adds object versions to a collection and returns one Outcome per object, in order.
func (s *Store) AddObjects(ctx context.Context, collectionID string, objs []store.Object) ([]store.Outcome, error) {
	outcomes := make([]store.Outcome, len(objs))
	batch := make([]pending, len(objs))
	for i, o := range objs {
		if err := validateObject(o); err != nil {
			return outcomes, fmt.Errorf("mongostore: add objects to %s: object %d: %w", collectionID, i, err)
		}
		batch[i] = pending{
			obj:         o,
			version:     o.Version.UnixMicro(),
			versionless: o.Version.IsZero(),
			sum:         sha256.Sum256(o.Content),
		}
	}
	if len(batch) == 0 {
		if err := s.collectionExists(ctx, collectionID); err != nil {
			return outcomes, fmt.Errorf("mongostore: add objects: %w", err)
		}
		return outcomes, nil
	}
	for start, end := range chunks(batch) {
		if _, err := s.addChunk(ctx, collectionID, batch[start:end], outcomes[start:end], nil, nil); err != nil {
			return outcomes, fmt.Errorf("mongostore: add objects %d..%d of %d to %s: %w",
				start, end-1, len(batch), collectionID, err)
		}
	}
	return outcomes, nil
}

func validateObject(o store.Object) error {
	var missing []error
	if o.ID == "" {
		missing = append(missing, errors.New("empty id"))
	}
	if o.Type == "" {
		missing = append(missing, errors.New("empty type"))
	}
	if o.SpecVersion == "" {
		missing = append(missing, errors.New("empty spec version"))
	}
	if len(o.Content) == 0 {
		missing = append(missing, errors.New("empty content"))
	}
	return errors.Join(missing...)
}

// chunks yields the [start, end) bounds of consecutive chunks of batch within the limits above.
func chunks(batch []pending) func(yield func(start, end int) bool) {
	return func(yield func(int, int) bool) {
		start, size := 0, 0
		for i, p := range batch {
			n := len(p.obj.Content)
			if i > start && (i-start == maxChunkObjects || size+n > maxChunkBytes) {
				if !yield(start, i) {
					return
				}
				start, size = i, 0
			}
			size += n
		}
		if start < len(batch) {
			yield(start, len(batch))
		}
	}
}

// versionKey names one version of an object.
type versionKey struct {
	id      string
	version int64
}

// storedVersion is what deciding an outcome needs of a version already held.
type storedVersion struct {
	version   int64
	dateAdded int64
	sum       []byte
}

// addChunk stores one chunk in one transaction and, only once it has committed, fills out. With pub,
// the chunk is (part of) that publication, whose ledger entry for the chunk commits with it, pending:
// the caller chains it. earlier are the outcomes of the publication's chunks before this one, which
// the status of pub, when it has one, records too.
func (s *Store) addChunk(ctx context.Context, collectionID string, chunk []pending, out []store.Outcome,
	pub *store.Publication, earlier []store.Outcome) (statusSaved bool, err error) {
	unlock, err := s.writers.lock(ctx, collectionID)
	if err != nil {
		return false, err
	}
	defer unlock()

	var committed []store.Outcome
	err = s.transact(ctx, func(ctx context.Context) error {
		// A retried attempt starts from nothing: outcomes of an aborted attempt are not true.
		committed, statusSaved = nil, false
		res, root, err := s.addChunkTxn(ctx, collectionID, chunk, pub)
		if err != nil {
			return err
		}
		if pub != nil {
			sub := *pub
			sub.Objects = make([]store.Object, len(chunk))
			for i, p := range chunk {
				sub.Objects[i] = p.obj
			}
			if err := s.insertPending(ctx, store.PublishEntry(sub, root, res)); err != nil {
				return err
			}
			if s.hooks.inPublishTxn != nil {
				s.hooks.inPublishTxn(ctx, collectionID)
			}
			if pub.Status != nil {
				all := append(slices.Clone(earlier), res...)
				if statusSaved, err = s.saveStatusInTxn(ctx, pub.Status.Complete(all)); err != nil {
					return err
				}
			}
		}
		committed = res
		return nil
	})
	if err != nil {
		return false, err
	}
	copy(out, committed)
	return statusSaved, nil
}

// addChunkTxn is the body of addChunk's transaction; it returns the outcomes and the collection's
// API root.
func (s *Store) addChunkTxn(ctx context.Context, collectionID string, chunk []pending, pub *store.Publication) ([]store.Outcome, string, error) {
	// First, take the collection's write lock, so that writers of this collection commit one after
	// another and each sees the last date added by the one before.
	var coll collectionDoc
	if err := lockDoc(ctx, s.collections, collectionID, &coll); err != nil {
		return nil, "", fmt.Errorf("collection %s: %w", collectionID, translate(err))
	}

	held, versionsOf, err := s.heldVersions(ctx, collectionID, chunk)
	if err != nil {
		return nil, "", err
	}
	var withdrawn, owners map[string]string
	if pub != nil {
		if withdrawn, err = s.withdrawnAmong(ctx, coll.APIRoot, chunk); err != nil {
			return nil, "", err
		}
		if owners, err = s.ownersAmong(ctx, coll.APIRoot, chunk); err != nil {
			return nil, "", err
		}
	}

	outcomes := make([]store.Outcome, len(chunk))
	var docs []any
	last := coll.LastAdded
	now := s.now()
	nextDate := func() int64 {
		last = store.NextDateAdded(now, last)
		return last
	}
	var origins []originDoc
	for i, p := range chunk {
		if w, ok := withdrawn[p.obj.ID]; ok && store.WithdrawalBars(w, pub.Member) {
			outcomes[i] = store.Outcome{Result: store.Withdrawn}
			continue
		}
		if pub != nil && !store.MayVersion(owners[p.obj.ID], pub.Member, p.obj) {
			// Another member's object: a copy of a version it holds changes nothing, and any other
			// content would be a version only its publisher may add.
			outcomes[i] = store.Outcome{Result: store.NotOwner}
			if v, ok := held[versionKey{p.obj.ID, p.version}]; ok && bytes.Equal(v.sum, p.sum[:]) {
				outcomes[i] = outcome(store.Unchanged, v)
			}
			continue
		}
		if p.versionless {
			if v, ok := sameContent(versionsOf[p.obj.ID], p.sum[:]); ok {
				outcomes[i] = outcome(store.Unchanged, v)
				continue
			}
		} else if v, ok := held[versionKey{p.obj.ID, p.version}]; ok {
			r := store.KeptExisting
			if bytes.Equal(v.sum, p.sum[:]) {
				r = store.Unchanged
			}
			outcomes[i] = outcome(r, v)
			continue
		}
		date := nextDate()
		version := p.version
		if p.versionless {
			// The version is the date added; skip a date that happens to equal a version the object
			// already has (every version of a versionless object's id is in held).
			for {
				if _, taken := held[versionKey{p.obj.ID, date}]; !taken {
					break
				}
				date = nextDate()
			}
			version = date
		}
		v := storedVersion{version: version, dateAdded: date, sum: p.sum[:]}
		held[versionKey{p.obj.ID, version}] = v
		versionsOf[p.obj.ID] = append(versionsOf[p.obj.ID], v)
		docs = append(docs, objectDoc{
			ID:           bson.NewObjectID(),
			CollectionID: collectionID,
			ObjectID:     p.obj.ID,
			Version:      version,
			SpecVersion:  p.obj.SpecVersion,
			Type:         p.obj.Type,
			DateAdded:    date,
			SHA256:       v.sum,
			Content:      p.obj.Content,
			TLP:          int(p.obj.TLP),
			Values:       s.valuesOf(p.obj.Type, p.obj.Content),
		})
		outcomes[i] = outcome(store.Added, v)
		if pub != nil {
			origins = appendOrigins(origins, coll.APIRoot, pub.Member, p.obj, date)
		}
	}
	if len(docs) == 0 {
		return outcomes, coll.APIRoot, nil
	}
	if _, err := s.objects.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true)); err != nil {
		return nil, "", fmt.Errorf("insert: %w", err)
	}
	_, err = s.collections.UpdateOne(ctx, bson.D{{Key: "_id", Value: collectionID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "last_added", Value: last}}}})
	if err != nil {
		return nil, "", fmt.Errorf("update last date added: %w", err)
	}
	if err := s.recordOrigins(ctx, coll.APIRoot, origins); err != nil {
		return nil, "", err
	}
	return outcomes, coll.APIRoot, nil
}

// originDoc records who first published an id or fingerprint in an API root.
type originDoc struct {
	Key      string `bson:"key"`
	APIRoot  string `bson:"api_root"`
	MemberID string `bson:"member_id"`
	// At is the date added, in Unix microseconds, of the version that made the member the origin.
	At int64 `bson:"at"`
	// DerivedFrom is the key of the origin this one was re-keyed from; absent on others.
	DerivedFrom string `bson:"derived_from,omitempty"`
}

func (d originDoc) origin() store.Origin {
	return store.Origin{Key: d.Key, APIRoot: d.APIRoot, Member: d.MemberID, At: fromMicros(d.At), DerivedFrom: d.DerivedFrom}
}

// appendOrigins appends member's claims, in root, to o's id and fingerprint.
func appendOrigins(origins []originDoc, root, member string, o store.Object, at int64) []originDoc {
	if member == "" {
		return origins
	}
	origins = append(origins, originDoc{Key: store.OriginKeyID(o.ID), APIRoot: root, MemberID: member, At: at})
	if o.Fingerprint != "" {
		origins = append(origins, originDoc{Key: store.OriginKeyFingerprint(o.Fingerprint), APIRoot: root, MemberID: member, At: at})
	}
	return origins
}

// recordOrigins records the claims, all in one root, whose key has no origin there yet; of claims to
// one key the first wins. It reads the recorded keys in one query and inserts the rest in one batch:
// an upsert per key costs the server a query each, several times the cost of storing the objects.
// A concurrent transaction that records one of the keys first makes this one's insert conflict, and
// the retry finds the key recorded, as an upsert would.
func (s *Store) recordOrigins(ctx context.Context, root string, claims []originDoc) error {
	if len(claims) == 0 {
		return nil
	}
	keys := make([]string, len(claims))
	for i, c := range claims {
		keys[i] = c.Key
	}
	cur, err := s.origins.Find(ctx,
		bson.D{{Key: "key", Value: bson.D{{Key: "$in", Value: keys}}}, {Key: "api_root", Value: root}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "key", Value: 1}}).
			SetHint(indexKeyRoot).SetBatchSize(readBatchSize))
	if err != nil {
		return fmt.Errorf("find recorded origins: %w", err)
	}
	var recorded []struct {
		Key string `bson:"key"`
	}
	if err := cur.All(ctx, &recorded); err != nil {
		return fmt.Errorf("find recorded origins: %w", err)
	}
	taken := make(map[string]bool, len(recorded)+len(claims))
	for _, r := range recorded {
		taken[r.Key] = true
	}
	var docs []any
	for _, c := range claims {
		if !taken[c.Key] {
			taken[c.Key] = true
			docs = append(docs, c)
		}
	}
	if len(docs) == 0 {
		return nil
	}
	if _, err := s.origins.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true)); err != nil {
		return fmt.Errorf("record origins: %w", err)
	}
	return nil
}

// ownersAmong reads who first published each of the chunk's ids in root, by id. Read in the chunk's
// transaction: a concurrent first publication of the same id makes one of the two transactions
// conflict on the origin it records, and its retry finds the other's origin.
func (s *Store) ownersAmong(ctx context.Context, root string, chunk []pending) (map[string]string, error) {
	keys := make([]string, len(chunk))
	idOf := make(map[string]string, len(chunk))
	for i, p := range chunk {
		keys[i] = store.OriginKeyID(p.obj.ID)
		idOf[keys[i]] = p.obj.ID
	}
	cur, err := s.origins.Find(ctx,
		bson.D{{Key: "key", Value: bson.D{{Key: "$in", Value: store.SortedSet(keys)}}}, {Key: "api_root", Value: root}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "key", Value: 1}, {Key: "member_id", Value: 1}}).
			SetHint(indexKeyRoot).SetBatchSize(readBatchSize))
	if err != nil {
		return nil, fmt.Errorf("find owners: %w", err)
	}
	var docs []originDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("find owners: %w", err)
	}
	owners := make(map[string]string, len(docs))
	for _, d := range docs {
		owners[idOf[d.Key]] = d.MemberID
	}
	return owners, nil
}

// withdrawnAmong reads which of the chunk's ids were withdrawn in root, and by whom.
func (s *Store) withdrawnAmong(ctx context.Context, root string, chunk []pending) (map[string]string, error) {
	keys := make([]string, len(chunk))
	for i, p := range chunk {
		keys[i] = withdrawalKey(root, p.obj.ID)
	}
	cur, err := s.withdrawals.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: store.SortedSet(keys)}}}},
		options.Find().SetProjection(bson.D{{Key: "object_id", Value: 1}, {Key: "member_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("find withdrawals: %w", err)
	}
	var docs []withdrawalDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("find withdrawals: %w", err)
	}
	out := make(map[string]string, len(docs))
	for _, d := range docs {
		out[d.ObjectID] = d.MemberID
	}
	return out, nil
}

// withdrawalDoc records a withdrawal. Its _id is withdrawalKey: a withdrawal holds in the
// partnership it was made in, not everywhere.
type withdrawalDoc struct {
	Key          string `bson:"_id"`
	APIRoot      string `bson:"api_root"`
	ObjectID     string `bson:"object_id"`
	CollectionID string `bson:"collection_id"`
	MemberID     string `bson:"member_id"`
	At           int64  `bson:"at"`
}

// withdrawalKey is the _id of the withdrawal of an object id in a partnership. Slugs hold no "|".
func withdrawalKey(root, objectID string) string { return root + "|" + objectID }

// errDryRun aborts a dry run's transaction.
var errDryRun = errors.New("dry run")

// Publish adds objects on a member's behalf. Each chunk's transaction refuses withdrawn ids, records
// origins and adds the chunk's ledger entry, pending; the first entry also lists the objects refused
// before reaching the store. Before returning, even an error, Publish chains the entries it committed.
// A dry run decides every chunk in one transaction, which it aborts: a transaction that never commits
// is not bound by the limits that make writes chunked.
func (s *Store) Publish(ctx context.Context, p store.Publication) ([]store.Outcome, error) {
	outcomes := make([]store.Outcome, len(p.Objects))
	batch := make([]pending, len(p.Objects))
	for i, o := range p.Objects {
		if err := validateObject(o); err != nil {
			return outcomes, fmt.Errorf("mongostore: publish to %s: object %d: %w", p.CollectionID, i, err)
		}
		batch[i] = pending{obj: o, version: o.Version.UnixMicro(), versionless: o.Version.IsZero(), sum: sha256.Sum256(o.Content)}
	}
	if p.DryRun {
		if err := s.dryRun(ctx, p, batch, outcomes); err != nil {
			return outcomes, fmt.Errorf("mongostore: publish to %s (dry run): %w", p.CollectionID, err)
		}
		return outcomes, nil
	}
	if len(batch) == 0 {
		if err := s.publishNothing(ctx, p); err != nil {
			return outcomes, fmt.Errorf("mongostore: publish to %s: %w", p.CollectionID, err)
		}
		return outcomes, s.saveStatusOf(ctx, p, outcomes)
	}
	committed := false
	defer func() {
		if committed {
			// The objects are stored whatever becomes of this: an entry it fails to chain stays
			// pending until the next run, and reporting the publication as failed would be untrue.
			_ = s.sequence(ctx, nil)
		}
	}()
	statusSaved := false
	for start, end := range chunks(batch) {
		sub := p
		if committed {
			sub.Refused = nil
		}
		// The last chunk's transaction saves the status, built from every chunk's outcomes, so that
		// it costs no write of its own (unless it is too large to share the transaction).
		if end < len(batch) {
			sub.Status = nil
		}
		var err error
		if statusSaved, err = s.addChunk(ctx, p.CollectionID, batch[start:end], outcomes[start:end], &sub, outcomes[:start]); err != nil {
			return outcomes, fmt.Errorf("mongostore: publish objects %d..%d of %d to %s: %w",
				start, end-1, len(batch), p.CollectionID, err)
		}
		committed = true
	}
	if statusSaved {
		return outcomes, nil
	}
	return outcomes, s.saveStatusOf(ctx, p, outcomes)
}

// saveStatusOf saves the status a publication asks for with a write of its own, once the
// publication has committed.
func (s *Store) saveStatusOf(ctx context.Context, p store.Publication, outcomes []store.Outcome) error {
	if p.Status == nil {
		return nil
	}
	if err := s.SaveStatus(ctx, p.Status.Complete(outcomes)); err != nil {
		return fmt.Errorf("mongostore: publish to %s: %w", p.CollectionID, err)
	}
	return nil
}

func (s *Store) dryRun(ctx context.Context, p store.Publication, batch []pending, out []store.Outcome) error {
	unlock, err := s.writers.lock(ctx, p.CollectionID)
	if err != nil {
		return err
	}
	defer unlock()
	var decided []store.Outcome
	err = s.transact(ctx, func(ctx context.Context) error {
		decided = nil
		if len(batch) == 0 {
			if err := s.collectionExists(ctx, p.CollectionID); err != nil {
				return err
			}
			return errDryRun
		}
		res, _, err := s.addChunkTxn(ctx, p.CollectionID, batch, &p)
		if err != nil {
			return err
		}
		decided = res
		return errDryRun
	})
	if !errors.Is(err, errDryRun) {
		return err
	}
	copy(out, decided)
	return nil
}

// publishNothing records a publication none of whose objects reached the store. With nothing else to
// commit, its entry is chained in the sequencer's transaction, as a pull's is.
func (s *Store) publishNothing(ctx context.Context, p store.Publication) error {
	var coll collectionDoc
	err := s.collections.FindOne(ctx, bson.D{{Key: "_id", Value: p.CollectionID}},
		options.FindOne().SetProjection(bson.D{{Key: "api_root", Value: 1}})).Decode(&coll)
	if err != nil {
		return fmt.Errorf("collection %s: %w", p.CollectionID, translate(err))
	}
	e := store.PublishEntry(p, coll.APIRoot, nil)
	return s.sequence(ctx, &e)
}

// Withdraw replaces every version of an object with the tombstone w.Tombstone builds, records the id
// as withdrawn and adds the withdraw ledger entry, pending, in one transaction; then it chains the
// entry, as Publish does.
func (s *Store) Withdraw(ctx context.Context, w store.Withdrawal) (store.Outcome, error) {
	out, logged, err := s.withdraw(ctx, w)
	if err != nil {
		return store.Outcome{}, fmt.Errorf("mongostore: withdraw %s from %s: %w", w.ObjectID, w.CollectionID, err)
	}
	if logged {
		// Not an error of the withdrawal, which is committed: see Publish.
		_ = s.sequence(ctx, nil)
	}
	return out, nil
}

// withdraw is Withdraw's transaction, under the collection's writer lock; logged reports that it
// committed a ledger entry.
func (s *Store) withdraw(ctx context.Context, w store.Withdrawal) (out store.Outcome, logged bool, err error) {
	unlock, err := s.writers.lock(ctx, w.CollectionID)
	if err != nil {
		return store.Outcome{}, false, err
	}
	defer unlock()
	err = s.transact(ctx, func(ctx context.Context) error {
		out, logged = store.Outcome{}, false
		var coll collectionDoc
		if err := lockDoc(ctx, s.collections, w.CollectionID, &coll); err != nil {
			return fmt.Errorf("collection %s: %w", w.CollectionID, translate(err))
		}
		cur, err := s.objects.Find(ctx,
			bson.D{{Key: "collection_id", Value: w.CollectionID}, {Key: "object_id", Value: w.ObjectID}},
			options.Find().SetProjection(versionProjection(true)).SetHint(indexObjectVersion).
				SetSort(bson.D{{Key: "version", Value: -1}, {Key: "date_added", Value: -1}}))
		if err != nil {
			return err
		}
		versions, err := decodeRecords(ctx, cur, 4)
		if err != nil {
			return err
		}
		now := s.now()
		plan, err := w.Plan(versions, now)
		if err != nil {
			return err
		}
		if plan.Done {
			out = plan.Outcome
			return nil
		}
		newest, content, version := versions[0], plan.Content, plan.Version
		if _, err := s.objects.DeleteMany(ctx,
			bson.D{{Key: "collection_id", Value: w.CollectionID}, {Key: "object_id", Value: w.ObjectID}}); err != nil {
			return err
		}
		date := store.NextDateAdded(now, coll.LastAdded)
		v := date
		if !version.IsZero() {
			v = version.UnixMicro()
		}
		sum := sha256.Sum256(content)
		if _, err := s.objects.InsertOne(ctx, objectDoc{CollectionID: w.CollectionID, ObjectID: w.ObjectID, Version: v,
			SpecVersion: newest.SpecVersion, Type: newest.Type, DateAdded: date, SHA256: sum[:], Content: content,
			TLP: int(newest.TLP), Withdrawn: true}); err != nil {
			return fmt.Errorf("insert the tombstone: %w", err)
		}
		if _, err := s.collections.UpdateOne(ctx, bson.D{{Key: "_id", Value: w.CollectionID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "last_added", Value: date}}}}); err != nil {
			return fmt.Errorf("update last date added: %w", err)
		}
		if _, err := s.withdrawals.UpdateOne(ctx, bson.D{{Key: "_id", Value: withdrawalKey(coll.APIRoot, w.ObjectID)}},
			bson.D{{Key: "$setOnInsert", Value: bson.D{
				{Key: "api_root", Value: coll.APIRoot}, {Key: "object_id", Value: w.ObjectID},
				{Key: "collection_id", Value: w.CollectionID}, {Key: "member_id", Value: w.Member}, {Key: "at", Value: date},
			}}}, options.UpdateOne().SetUpsert(true)); err != nil {
			return fmt.Errorf("record the withdrawal: %w", err)
		}
		out = store.Outcome{Result: store.Added, Version: fromMicros(v), DateAdded: fromMicros(date)}
		logged = true
		return s.insertPending(ctx, store.WithdrawEntry(w, coll.APIRoot, out, content))
	})
	if err != nil {
		return store.Outcome{}, false, err
	}
	return out, logged, nil
}

// TransferOwnership moves origins and withdrawals from one member to another and adds the transfer
// ledger entry, pending, in one transaction; then it chains the entry, as Publish does.
func (s *Store) TransferOwnership(ctx context.Context, t store.Transfer) (int, error) {
	var ids, keys []string
	err := s.transact(ctx, func(ctx context.Context) error {
		ids, keys = nil, nil
		// Everything: every key the member holds there, fingerprints too. One object: its id alone.
		origins := bson.D{{Key: "api_root", Value: t.APIRoot}, {Key: "member_id", Value: t.From}}
		withdrawals := bson.D{{Key: "api_root", Value: t.APIRoot}, {Key: "member_id", Value: t.From}}
		if t.ObjectID != "" {
			origins = append(origins, bson.E{Key: "key", Value: store.OriginKeyID(t.ObjectID)})
			withdrawals = append(withdrawals, bson.E{Key: "object_id", Value: t.ObjectID})
		}
		cur, err := s.origins.Find(ctx, origins, options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "key", Value: 1}}))
		if err != nil {
			return err
		}
		var docs []originDoc
		if err := cur.All(ctx, &docs); err != nil {
			return err
		}
		for _, d := range docs {
			keys = append(keys, d.Key)
			if id, ok := store.IDOfOriginKey(d.Key); ok {
				ids = append(ids, id)
			}
		}
		to := bson.D{{Key: "$set", Value: bson.D{{Key: "member_id", Value: t.To}}}}
		if _, err := s.origins.UpdateMany(ctx, origins, to); err != nil {
			return err
		}
		if _, err := s.withdrawals.UpdateMany(ctx, withdrawals, to); err != nil {
			return err
		}
		if len(keys) == 0 {
			return nil
		}
		slices.Sort(keys)
		return s.insertPending(ctx, store.TransferEntry(t, keys))
	})
	if err != nil {
		return 0, fmt.Errorf("mongostore: transfer %s's objects in %s to %s: %w", t.From, t.APIRoot, t.To, err)
	}
	if len(keys) > 0 {
		// Not an error of the transfer, which is committed: see Publish.
		_ = s.sequence(ctx, nil)
	}
	return len(ids), nil
}

// Origins returns the origins recorded for any of the keys, in any API root.
func (s *Store) Origins(ctx context.Context, keys []string) ([]store.Origin, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	cur, err := s.origins.Find(ctx, bson.D{{Key: "key", Value: bson.D{{Key: "$in", Value: keys}}}},
		options.Find().SetHint(indexKeyRoot).SetBatchSize(readBatchSize))
	if err != nil {
		return nil, fmt.Errorf("mongostore: origins: %w", err)
	}
	var docs []originDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: origins: %w", err)
	}
	out := make([]store.Origin, len(docs))
	for i, d := range docs {
		out[i] = d.origin()
	}
	return out, nil
}

func outcome(r store.Result, v storedVersion) store.Outcome {
	return store.Outcome{Result: r, Version: fromMicros(v.version), DateAdded: fromMicros(v.dateAdded)}
}

// sameContent returns the earliest added of versions whose content has the digest sum.
func sameContent(versions []storedVersion, sum []byte) (storedVersion, bool) {
	var found storedVersion
	ok := false
	for _, v := range versions {
		if bytes.Equal(v.sum, sum) && (!ok || v.dateAdded < found.dateAdded) {
			found, ok = v, true
		}
	}
	return found, ok
}

// heldVersions reads, in one query, the stored versions the chunk's outcomes depend on: for objects
// with a version of their own, those among the (id, version) pairs of the chunk; for versionless ones,
// every version of their ids, which versionsOf lists by id.
func (s *Store) heldVersions(ctx context.Context, collectionID string, chunk []pending) (
	held map[versionKey]storedVersion, versionsOf map[string][]storedVersion, err error,
) {
	var ids, versionlessIDs []string
	var versions []int64
	seen := make(map[string]bool)
	for _, p := range chunk {
		if p.versionless {
			if !seen[p.obj.ID] {
				versionlessIDs = append(versionlessIDs, p.obj.ID)
			}
			seen[p.obj.ID] = true
			continue
		}
		ids = append(ids, p.obj.ID)
		versions = append(versions, p.version)
	}
	// The first clause matches the cross product of ids and versions, a superset of the pairs wanted;
	// the index answers it with one bounded scan and the map below picks the exact pairs. Each clause
	// names the collection itself so that each is an index scan on its own.
	var clauses bson.A
	if len(ids) > 0 {
		clauses = append(clauses, bson.D{
			{Key: "collection_id", Value: collectionID},
			{Key: "object_id", Value: bson.D{{Key: "$in", Value: ids}}},
			{Key: "version", Value: bson.D{{Key: "$in", Value: versions}}},
		})
	}
	if len(versionlessIDs) > 0 {
		clauses = append(clauses, bson.D{
			{Key: "collection_id", Value: collectionID},
			{Key: "object_id", Value: bson.D{{Key: "$in", Value: versionlessIDs}}},
		})
	}
	filter := bson.D{{Key: "$or", Value: clauses}}
	if len(clauses) == 1 {
		filter = clauses[0].(bson.D)
	}
	opts := options.Find().
		SetProjection(bson.D{
			{Key: "_id", Value: 0}, {Key: "object_id", Value: 1}, {Key: "version", Value: 1},
			{Key: "date_added", Value: 1}, {Key: "sha256", Value: 1},
		}).
		// Left to itself the planner may pick the date-added index for the id and filter versions
		// only after fetching every version of it.
		SetHint(indexObjectVersion).
		SetBatchSize(readBatchSize)
	cur, err := s.objects.Find(ctx, filter, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("find stored versions: %w", err)
	}
	var docs []struct {
		ObjectID  string `bson:"object_id"`
		Version   int64  `bson:"version"`
		DateAdded int64  `bson:"date_added"`
		SHA256    []byte `bson:"sha256"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, nil, fmt.Errorf("find stored versions: %w", err)
	}
	held = make(map[versionKey]storedVersion, len(docs)+len(chunk))
	versionsOf = make(map[string][]storedVersion)
	for _, d := range docs {
		v := storedVersion{version: d.Version, dateAdded: d.DateAdded, sum: d.SHA256}
		held[versionKey{d.ObjectID, d.Version}] = v
		if seen[d.ObjectID] {
			versionsOf[d.ObjectID] = append(versionsOf[d.ObjectID], v)
		}
	}
	return held, versionsOf, nil
}

// Objects returns one page of object versions, with content, matching q.
func (s *Store) Objects(ctx context.Context, collectionID string, q store.Query) (store.Page, error) {
	return s.page(ctx, collectionID, q, true)
}

// Manifest is Objects without content.
func (s *Store) Manifest(ctx context.Context, collectionID string, q store.Query) (store.Page, error) {
	return s.page(ctx, collectionID, q, false)
}

func (s *Store) page(ctx context.Context, collectionID string, q store.Query, withContent bool) (store.Page, error) {
	if err := s.collectionExists(ctx, collectionID); err != nil {
		return store.Page{}, fmt.Errorf("mongostore: read objects: %w", err)
	}
	return store.Paginate(ctx, versionSource{s: s, collectionID: collectionID}, collectionID, q, withContent)
}

// versionSource is the view of one collection that store.Paginate reads.
type versionSource struct {
	s            *Store
	collectionID string
}

// ScanVersions returns up to sc.Limit versions added after sc.After, in ascending date-added order.
func (v versionSource) ScanVersions(ctx context.Context, sc store.Scan) ([]store.Record, error) {
	q := newScanQuery(v.collectionID, sc)
	cur, err := v.s.objects.Find(ctx, q.filter, q.options())
	if err != nil {
		return nil, fmt.Errorf("mongostore: scan versions: %w", err)
	}
	return decodeRecords(ctx, cur, sc.Limit)
}

// scanQuery is the find that ScanVersions runs. Every choice of index reads in date-added order with
// no blocking sort, and stops after limit matches.
type scanQuery struct {
	filter     bson.D
	sort       bson.D
	hint       string
	limit      int
	projection bson.D
}

func newScanQuery(collectionID string, sc store.Scan) scanQuery {
	filter := bson.D{{Key: "collection_id", Value: collectionID}}
	if sc.After != -1 {
		filter = append(filter, bson.E{Key: "date_added", Value: bson.D{{Key: "$gt", Value: sc.After}}})
	}
	if len(sc.IDs) > 0 {
		filter = append(filter, bson.E{Key: "object_id", Value: bson.D{{Key: "$in", Value: sc.IDs}}})
	}
	if len(sc.Types) > 0 {
		filter = append(filter, bson.E{Key: "type", Value: bson.D{{Key: "$in", Value: sc.Types}}})
	}
	if len(sc.SpecVersions) > 0 {
		filter = append(filter, bson.E{Key: "spec_version", Value: bson.D{{Key: "$in", Value: sc.SpecVersions}}})
	}
	if sc.MaxTLP != store.TLPNone {
		filter = append(filter, tlpAtMost(sc.MaxTLP))
	}
	// Hinted, since the planner's choice between these depends on the data it samples and is then
	// cached per query shape: a plan that suited one collection could scan all of another.
	hint := indexDateAdded
	switch {
	case len(sc.IDs) > 0 && len(sc.IDs) <= maxExplodedIn:
		hint = indexObjectDateAdded
	case len(sc.Types) > 0 && len(sc.Types) <= maxExplodedIn:
		hint = indexTypeDateAdded
	}
	return scanQuery{
		filter:     filter,
		sort:       bson.D{{Key: "date_added", Value: 1}},
		hint:       hint,
		limit:      sc.Limit,
		projection: versionProjection(sc.WithContent),
	}
}

func (q scanQuery) options() *options.FindOptionsBuilder {
	return options.Find().
		SetSort(q.sort).
		SetHint(q.hint).
		SetLimit(int64(q.limit)).
		SetBatchSize(int32(min(q.limit, readBatchSize))).
		SetProjection(q.projection)
}

// tlpAtMost selects versions at or below a TLP level. It is written as "not above" so that versions
// stored before levels were recorded, which lack the field, count as level 0.
func tlpAtMost(max store.TLP) bson.E {
	return bson.E{Key: "tlp", Value: bson.D{{Key: "$not", Value: bson.D{{Key: "$gt", Value: int(max)}}}}}
}

func versionProjection(withContent bool) bson.D {
	p := bson.D{
		{Key: "_id", Value: 0}, {Key: "object_id", Value: 1}, {Key: "type", Value: 1},
		{Key: "spec_version", Value: 1}, {Key: "version", Value: 1}, {Key: "date_added", Value: 1},
		{Key: "tlp", Value: 1}, {Key: "withdrawn", Value: 1},
	}
	if withContent {
		p = append(p, bson.E{Key: "content", Value: 1})
	}
	return p
}

// VersionsOf returns every version held of the given object ids, without content, leaving out those
// marked above maxTLP.
func (v versionSource) VersionsOf(ctx context.Context, ids []string, maxTLP store.TLP) ([]store.Record, error) {
	filter := bson.D{
		{Key: "collection_id", Value: v.collectionID},
		{Key: "object_id", Value: bson.D{{Key: "$in", Value: ids}}},
	}
	if maxTLP != store.TLPNone {
		filter = append(filter, tlpAtMost(maxTLP))
	}
	opts := options.Find().
		SetProjection(versionProjection(false)).
		SetHint(indexObjectVersion).
		SetBatchSize(readBatchSize)
	cur, err := v.s.objects.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongostore: versions of objects: %w", err)
	}
	return decodeRecords(ctx, cur, len(ids))
}

func decodeRecords(ctx context.Context, cur *mongo.Cursor, sizeHint int) ([]store.Record, error) {
	defer cur.Close(context.WithoutCancel(ctx))
	records := make([]store.Record, 0, sizeHint)
	for cur.Next(ctx) {
		var d versionDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("mongostore: decode object version: %w", err)
		}
		records = append(records, d.record())
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("mongostore: read object versions: %w", err)
	}
	return records, nil
}

// DeleteVersions removes the versions of one object that f selects and returns how many it removed.
func (s *Store) DeleteVersions(ctx context.Context, collectionID, objectID string, f store.VersionFilter) (int, error) {
	return s.deleteVersions(ctx, store.Deletion{CollectionID: collectionID, ObjectID: objectID, Filter: f}, false)
}

// Delete removes a member's versions and adds the delete ledger entry, pending, in one transaction;
// then it chains the entry, as Publish does.
func (s *Store) Delete(ctx context.Context, d store.Deletion) (int, error) {
	return s.deleteVersions(ctx, d, true)
}

// deleteVersions removes the versions d selects; recorded makes it a member's or operator's deletion, which
// is recorded, and spares tombstones unless an operator's.
func (s *Store) deleteVersions(ctx context.Context, d store.Deletion, recorded bool) (int, error) {
	var deleted int
	err := s.transact(ctx, func(ctx context.Context) error {
		deleted = 0
		all, err := versionSource{s: s, collectionID: d.CollectionID}.VersionsOf(ctx, []string{d.ObjectID}, store.TLPNone)
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return store.ErrNotFound
		}
		selected := d.Filter.Select(all)
		if len(selected) == 0 {
			return nil
		}
		if recorded && d.Operator == "" && store.HoldsTombstone(selected) {
			return store.ErrTombstone
		}
		// Dates added are unique per collection, so they name the versions exactly.
		dates := make([]int64, len(selected))
		for i, r := range selected {
			dates[i] = r.DateAdded.UnixMicro()
		}
		res, err := s.objects.DeleteMany(ctx, bson.D{
			{Key: "collection_id", Value: d.CollectionID},
			{Key: "date_added", Value: bson.D{{Key: "$in", Value: dates}}},
			{Key: "object_id", Value: d.ObjectID},
		})
		if err != nil {
			return err
		}
		deleted = int(res.DeletedCount)
		if !recorded {
			return nil
		}
		var coll collectionDoc
		if err := s.collections.FindOne(ctx, bson.D{{Key: "_id", Value: d.CollectionID}}).Decode(&coll); err != nil {
			return fmt.Errorf("collection %s: %w", d.CollectionID, translate(err))
		}
		return s.insertPending(ctx, store.DeleteEntry(d, coll.APIRoot, selected))
	})
	if err != nil {
		return 0, fmt.Errorf("mongostore: delete versions of %s in %s: %w", d.ObjectID, d.CollectionID, err)
	}
	if recorded && deleted > 0 {
		// Not an error of the deletion, which is committed: see Publish.
		_ = s.sequence(ctx, nil)
	}
	return deleted, nil
}
