package mongostore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
)

var (
	_ store.Exporter     = (*Store)(nil)
	_ store.ExportSource = (*Store)(nil)
	_ store.ImportTarget = (*Store)(nil)
)

// CollectionsExported maps every collection the store creates to the export kinds that carry it,
// or to none with the reason it needs no kind of its own. A test compares it with the collections
// Open creates, so that one added without being exported fails the build's tests.
var CollectionsExported = map[string][]store.ExportKind{
	apiRootsName:         {store.KindAPIRoot},
	collectionsName:      {store.KindCollection},
	objectsName:          {store.KindObject},
	statusesName:         {store.KindStatus},
	statusPartsName:      {store.KindStatus}, // the details of large statuses, read back by Status
	membersName:          {store.KindMember},
	grantsName:           {store.KindGrant},
	tokensName:           {store.KindToken},
	verificationKeysName: {store.KindVerificationKey},
	auditName:            {store.KindAudit},
	// counters holds the audit and ledger heads (exported as such), the record that origins were
	// re-keyed and the value index's done-marker, which the importing store made for itself when
	// it opened (ImportObjects indexes what it imports, so the marker stays true).
	countersName:    {store.KindAuditHead, store.KindLedgerHead},
	membershipsName: {store.KindMembership},
	originsName:     {store.KindOrigin},
	withdrawalsName: {store.KindWithdrawal},
	ledgerName:      {store.KindLedger},
	// ledger_pending holds entries committed but not chained yet: taking the export's mark reads
	// the ledger head, which chains them first, so they are exported as ledger entries.
	ledgerPendingName: nil,
	seedsName:         {store.KindSeed},
	reviewQueueName:   {store.KindPending},
	pullDetailsName:   {store.KindPullDetail},
}

// CollectionNames lists the collections Open creates.
func CollectionNames() []string {
	return []string{apiRootsName, collectionsName, objectsName, statusesName, membersName, grantsName, tokensName,
		verificationKeysName, auditName, countersName, membershipsName, originsName, withdrawalsName, ledgerName,
		ledgerPendingName, statusPartsName, seedsName, reviewQueueName, pullDetailsName}
}

// Export writes every record through emit up to a mark taken when it starts (store.TakeExportMark):
// each collection's objects up to its latest date added then, the ledger and audit trail up to
// their heads then, origins, withdrawals and held objects recorded up to then, and every
// partnership, member, grant, token and status as it is when read. A snapshot read of the whole
// hub is not to be had: MongoDB 4.0 reads a snapshot only inside a transaction, which it aborts
// after 60 seconds. So nothing added after the mark is exported, but what changes records already
// there (a deletion, a withdrawal replacing versions, a revocation) while the export runs may or
// may not be in it. See store.TakeExportMark and store.Export for how versions, ledger entries and
// origins are kept in step.
func (s *Store) Export(ctx context.Context, emit func(store.ExportKind, any) error) error {
	mark, err := store.TakeExportMark(ctx, s, func() time.Time { return s.now().UTC() })
	if err != nil {
		return fmt.Errorf("mongostore: %w", err)
	}
	if err := store.Export(ctx, s, mark, emit); err != nil {
		return fmt.Errorf("mongostore: %w", err)
	}
	return nil
}

// LastAdded returns the latest date added the collection ever assigned.
func (s *Store) LastAdded(ctx context.Context, collectionID string) (time.Time, error) {
	var d struct {
		LastAdded int64 `bson:"last_added"`
	}
	err := s.collections.FindOne(ctx, bson.D{{Key: "_id", Value: collectionID}},
		options.FindOne().SetProjection(bson.D{{Key: "last_added", Value: 1}})).Decode(&d)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return time.Time{}, fmt.Errorf("mongostore: last date added of %s: %w", collectionID, store.ErrNotFound)
	case err != nil:
		return time.Time{}, fmt.Errorf("mongostore: last date added of %s: %w", collectionID, err)
	case d.LastAdded == 0:
		return time.Time{}, nil
	}
	return fromMicros(d.LastAdded), nil
}

// StatusKeysAfter lists status keys ordered by API root then id.
func (s *Store) StatusKeysAfter(ctx context.Context, after store.StatusKey, limit int) ([]store.StatusKey, error) {
	if limit < 1 || limit > store.MaxLimit {
		return nil, fmt.Errorf("mongostore: statuses: %w",
			&store.QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", limit, store.MaxLimit)})
	}
	filter := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "_id.api_root", Value: bson.D{{Key: "$gt", Value: after.APIRoot}}}},
		bson.D{{Key: "_id.api_root", Value: after.APIRoot}, {Key: "_id.id", Value: bson.D{{Key: "$gt", Value: after.ID}}}},
	}}}
	cur, err := s.statuses.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "_id.api_root", Value: 1}, {Key: "_id.id", Value: 1}}).
		SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("mongostore: statuses: %w", err)
	}
	var docs []struct {
		Key statusKey `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: statuses: %w", err)
	}
	out := make([]store.StatusKey, len(docs))
	for i, d := range docs {
		out[i] = store.StatusKey{APIRoot: d.Key.APIRoot, ID: d.Key.ID}
	}
	return out, nil
}

// importError wraps a failed import write, turning a duplicate key into store.ErrConflict.
func importError(what string, err error) error {
	if mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mongostore: import %s: %w: %w", what, store.ErrConflict, err)
	}
	return fmt.Errorf("mongostore: import %s: %w", what, err)
}

// insertAll inserts docs in order, outside a transaction: an import writes into a hub nobody else
// writes to yet, and a batch of versions may exceed what one transaction may hold.
func insertAll[T any](ctx context.Context, c *mongo.Collection, docs []T) error {
	if len(docs) == 0 {
		return nil
	}
	_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	return err
}

// ImportObjects inserts the versions as they were and moves the collection's latest date added.
func (s *Store) ImportObjects(ctx context.Context, collectionID string, vs []store.StoredVersion) error {
	if _, err := s.LastAdded(ctx, collectionID); err != nil {
		return err
	}
	docs := make([]objectDoc, len(vs))
	var last int64
	for i, v := range vs {
		docs[i] = objectDoc{CollectionID: collectionID, ObjectID: v.ID, Version: v.Version.UnixMicro(),
			SpecVersion: v.SpecVersion, Type: v.Type, DateAdded: v.DateAdded.UnixMicro(), SHA256: v.SHA256,
			Content: v.Content, TLP: int(v.TLP), Withdrawn: v.Withdrawn}
		if !v.Withdrawn {
			// Indexed as a publication indexes it: objects.values is no export kind of its own.
			docs[i].Values = s.valuesOf(v.Type, v.Content)
		}
		last = max(last, docs[i].DateAdded)
	}
	if err := insertAll(ctx, s.objects, docs); err != nil {
		return importError("objects of "+collectionID, err)
	}
	if len(vs) == 0 {
		return nil
	}
	return s.ImportLastAdded(ctx, collectionID, fromMicros(last))
}

// ImportLastAdded moves the collection's latest date added up to last.
func (s *Store) ImportLastAdded(ctx context.Context, collectionID string, last time.Time) error {
	if last.IsZero() {
		return nil
	}
	res, err := s.collections.UpdateOne(ctx, bson.D{{Key: "_id", Value: collectionID}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "last_added", Value: last.UnixMicro()}}}})
	if err != nil {
		return importError("last date added of "+collectionID, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("mongostore: import last date added of %s: %w", collectionID, store.ErrNotFound)
	}
	return nil
}

// ImportOrigins inserts the origins as they were.
func (s *Store) ImportOrigins(ctx context.Context, origins []store.Origin) error {
	docs := make([]originDoc, len(origins))
	for i, o := range origins {
		docs[i] = originDoc{Key: o.Key, APIRoot: o.APIRoot, MemberID: o.Member, At: o.At.UnixMicro(), DerivedFrom: o.DerivedFrom}
	}
	if err := insertAll(ctx, s.origins, docs); err != nil {
		return importError("origins", err)
	}
	return nil
}

// ImportWithdrawals inserts the withdrawals as they were.
func (s *Store) ImportWithdrawals(ctx context.Context, ws []store.WithdrawnObject) error {
	docs := make([]withdrawalDoc, len(ws))
	for i, w := range ws {
		docs[i] = withdrawalDoc{Key: withdrawalKey(w.APIRoot, w.ObjectID), APIRoot: w.APIRoot, ObjectID: w.ObjectID,
			CollectionID: w.CollectionID, MemberID: w.Member, At: w.At.UnixMicro()}
	}
	if err := insertAll(ctx, s.withdrawals, docs); err != nil {
		return importError("withdrawals", err)
	}
	return nil
}

// ImportPending holds the objects for review as they were held.
func (s *Store) ImportPending(ctx context.Context, ps []store.PendingObject) error {
	docs := make([]heldDoc, len(ps))
	for i, p := range ps {
		o := p.Object
		var version int64
		if !o.Version.IsZero() {
			version = o.Version.UnixMicro()
		}
		docs[i] = heldDoc{ID: bson.NewObjectID(), CollectionID: p.CollectionID, APIRoot: p.APIRoot, StatusID: p.StatusID,
			Member: p.Member, TokenID: p.TokenID, ObjectID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion, Version: version,
			Content: o.Content, TLP: int(o.TLP), Fingerprint: o.Fingerprint, Warnings: p.Warnings,
			SubmittedAt: p.SubmittedAt.UnixMicro(), Expires: p.Expires.UnixMicro()}
	}
	if err := insertAll(ctx, s.reviewQueue, docs); err != nil {
		return importError("objects held for review", err)
	}
	return nil
}

// errDiscontinuous reports imported entries that do not continue the chain they are added to.
var errDiscontinuous = errors.New("the entries do not continue the chain")

// ImportLedger inserts the entries verbatim after checking that they continue the ledger, then
// moves the head. Entries pending (none in a new hub) are chained first by LedgerHead.
func (s *Store) ImportLedger(ctx context.Context, es []store.LedgerEntry) error {
	if len(es) == 0 {
		return nil
	}
	head, err := s.LedgerHead(ctx)
	if err != nil {
		return err
	}
	if len(head.Hash) == 0 {
		head.Hash = store.GenesisHash()
	}
	docs := make([]ledgerDoc, len(es))
	for i, e := range es {
		if e.Seq != head.Seq+1 || !bytes.Equal(e.PrevHash, head.Hash) {
			return fmt.Errorf("mongostore: import ledger entry %d after head %d: %w", e.Seq, head.Seq, errDiscontinuous)
		}
		docs[i] = ledgerDoc{Seq: e.Seq, At: e.At.UnixMicro(), Body: ledgerBodyOf(e), PrevHash: e.PrevHash, Hash: e.Hash}
		head = store.LedgerHead{Seq: e.Seq, Hash: e.Hash}
	}
	if err := insertAll(ctx, s.ledger, docs); err != nil {
		return importError("ledger entries", err)
	}
	if _, err := s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: ledgerHeadID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: head.Seq}, {Key: "hash", Value: head.Hash}}}},
		options.UpdateOne().SetUpsert(true)); err != nil {
		return importError("the ledger head", err)
	}
	return nil
}

// PullDetailsAfter returns up to limit pull details of entries numbered above after, in order.
func (s *Store) PullDetailsAfter(ctx context.Context, after int64, limit int) ([]store.PullDetail, error) {
	if limit < 1 || limit > store.MaxLimit {
		return nil, fmt.Errorf("mongostore: pull details: %w",
			&store.QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", limit, store.MaxLimit)})
	}
	cur, err := s.pullDetails.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("mongostore: pull details: %w", err)
	}
	var docs []pullDetailDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: pull details: %w", err)
	}
	out := make([]store.PullDetail, len(docs))
	for i, d := range docs {
		out[i] = store.PullDetail{Seq: d.Seq, At: fromMicros(d.At), Items: ledgerBody{Items: d.Items}.entry().Items}
	}
	return out, nil
}

// ImportPullDetails inserts the pull details as they were kept.
func (s *Store) ImportPullDetails(ctx context.Context, ds []store.PullDetail) error {
	docs := make([]pullDetailDoc, len(ds))
	for i, d := range ds {
		docs[i] = pullDetailDoc{Seq: d.Seq, At: d.At.UnixMicro(), Items: ledgerBodyOf(store.LedgerEntry{Items: d.Items}).Items}
	}
	if err := insertAll(ctx, s.pullDetails, docs); err != nil {
		return importError("pull details", err)
	}
	return nil
}

// ImportAudit inserts the entries verbatim after checking that they continue the trail, then moves
// the counter and the head.
func (s *Store) ImportAudit(ctx context.Context, es []store.AuditEntry) error {
	if len(es) == 0 {
		return nil
	}
	var c auditCounterDoc
	err := s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: auditCounterID}}).Decode(&c)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return importError("audit entries", err)
	}
	head := store.AuditHead{Seq: c.Chained, Hash: c.prevHash()}
	docs := make([]auditDoc, len(es))
	for i, e := range es {
		if e.Seq != head.Seq+1 || !bytes.Equal(e.PrevHash, head.Hash) {
			return fmt.Errorf("mongostore: import audit entry %d after head %d: %w", e.Seq, head.Seq, errDiscontinuous)
		}
		docs[i] = auditDoc{Seq: e.Seq, At: e.At.UnixMicro(), Actor: e.Actor, Action: e.Action, Target: e.Target,
			Detail: e.Detail, Before: e.Before, After: e.After, PrevHash: e.PrevHash, Hash: e.Hash}
		head = store.AuditHead{Seq: e.Seq, Hash: e.Hash}
	}
	if err := insertAll(ctx, s.audit, docs); err != nil {
		return importError("audit entries", err)
	}
	if _, err := s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: auditCounterID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: head.Seq}, {Key: "chained", Value: head.Seq},
			{Key: "hash", Value: head.Hash}}}}, options.UpdateOne().SetUpsert(true)); err != nil {
		return importError("the audit head", err)
	}
	return nil
}

// ResetAuditForImport empties the audit trail and resets its counter and head, and returns what it held.
func (s *Store) ResetAuditForImport(ctx context.Context) ([]store.AuditEntry, error) {
	var own []store.AuditEntry
	for after := int64(0); ; {
		page, err := s.Audit(ctx, after, store.MaxLimit)
		if err != nil {
			return nil, err
		}
		own = append(own, page...)
		if len(page) < store.MaxLimit {
			break
		}
		after = page[len(page)-1].Seq
	}
	if _, err := s.audit.DeleteMany(ctx, bson.D{}); err != nil {
		return nil, fmt.Errorf("mongostore: reset the audit trail for an import: %w", err)
	}
	if _, err := s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: auditCounterID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: int64(0)}, {Key: "chained", Value: int64(0)},
			{Key: "hash", Value: store.GenesisHash()}}}}, options.UpdateOne().SetUpsert(true)); err != nil {
		return nil, fmt.Errorf("mongostore: reset the audit trail for an import: %w", err)
	}
	return own, nil
}
