package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
)

// ImportStore is a store an import writes into: it reads what CheckEmptyForImport needs and
// writes through ImportTarget.
type ImportStore interface {
	ExportSource
	ImportTarget
	AppendAudit(ctx context.Context, e AuditEntry) error
}

// Import batch bounds: what an import holds in memory before writing is one batch of one kind.
// Larger batches make fewer round trips (a MongoDB write waits for a majority of the replica set);
// records that can be large (objects, held objects, ledger entries listing every id a pull served,
// audit entries with a rule's state) are also bounded by their size.
const (
	importBatchRecords = 5000
	importBatchBytes   = 8 << 20
	// importBatchItems bounds the ledger items of one batch of entries: about 100 bytes each.
	importBatchItems = 100_000
	// importAuditBatch bounds a batch of audit entries, each up to a few kilobytes of state.
	importAuditBatch = 1000
)

// ErrImportOrder reports records out of the order Export writes them in, of an unknown kind, or
// that contradict themselves (a version whose content does not match its digest): records no
// export writes.
var ErrImportOrder = errors.New("records no export writes")

// Import writes the records of an export, one at a time as they are read, into a new hub's store,
// keeping every date added, sequence number, hash and time. It holds one batch of records in
// memory, never the export. Records must come kind after kind in ExportKinds order, as Export
// writes them; objects of one collection in date-added order.
type Import struct {
	st   ImportStore
	kind int // index in ExportKinds of the last record's kind
	// own are the importing hub's own audit entries, appended again after the imported trail.
	own []AuditEntry

	objects      []StoredVersion
	objectsOf    string
	objectsBytes int
	origins      []Origin
	withdrawals  []WithdrawnObject
	pending      []PendingObject
	pendingBytes int
	ledger       []LedgerEntry
	ledgerItems  int
	details      []PullDetail
	detailItems  int
	audit        []AuditEntry
	// lastAdded holds each imported collection's latest date added, applied once its objects are in.
	lastAdded []ExportedCollection
	// Counts is how many records of each kind were written.
	Counts map[ExportKind]int64
	// LedgerHead and AuditHead are the heads the export recorded.
	LedgerHead LedgerHead
	AuditHead  AuditHead
}

// BeginImport checks that st is empty (CheckEmptyForImport) and makes room for the imported audit
// trail, keeping the hub's own entries to append after it.
func BeginImport(ctx context.Context, st ImportStore) (*Import, error) {
	if err := CheckEmptyForImport(ctx, st); err != nil {
		return nil, err
	}
	own, err := st.ResetAuditForImport(ctx)
	if err != nil {
		return nil, err
	}
	return &Import{st: st, kind: -1, own: own, Counts: map[ExportKind]int64{}}, nil
}

// Add writes one record, of the type Export emits for its kind; some are held back to be written
// in batches.
func (im *Import) Add(ctx context.Context, kind ExportKind, v any) error {
	i := slices.Index(ExportKinds, kind)
	if i < 0 || i < im.kind {
		return fmt.Errorf("%w: %q after %q", ErrImportOrder, kind, im.kindName())
	}
	if i > im.kind {
		if err := im.flush(ctx); err != nil {
			return err
		}
		im.kind = i
	}
	if err := im.add(ctx, kind, v); err != nil {
		return fmt.Errorf("import %s record %d: %w", kind, im.Counts[kind]+1, err)
	}
	im.Counts[kind]++
	return nil
}

func (im *Import) kindName() ExportKind {
	if im.kind < 0 {
		return "the start"
	}
	return ExportKinds[im.kind]
}

// wrongType reports a value that is not what its kind carries: a programming error of the caller.
func wrongType(kind ExportKind, v any) error {
	return fmt.Errorf("a %s record cannot be a %T", kind, v)
}

func (im *Import) add(ctx context.Context, kind ExportKind, v any) error {
	switch r := v.(type) {
	case APIRoot:
		return im.check(kind, KindAPIRoot, v, func() error { return im.st.CreateAPIRoot(ctx, r) })
	case Member:
		return im.check(kind, KindMember, v, func() error { return im.st.CreateMember(ctx, r) })
	case ExportedCollection:
		return im.check(kind, KindCollection, v, func() error {
			im.lastAdded = append(im.lastAdded, ExportedCollection{Collection: Collection{ID: r.ID}, LastAdded: r.LastAdded})
			return im.st.CreateCollection(ctx, r.Collection)
		})
	case Membership:
		return im.check(kind, KindMembership, v, func() error { return im.st.PutMembership(ctx, r) })
	case Grant:
		return im.check(kind, KindGrant, v, func() error { return im.st.PutGrant(ctx, r) })
	case Token:
		return im.check(kind, KindToken, v, func() error { return im.st.SaveToken(ctx, r) })
	case VerificationKey:
		return im.check(kind, KindVerificationKey, v, func() error { return im.st.SaveVerificationKey(ctx, r) })
	case Seed:
		return im.check(kind, KindSeed, v, func() error { return im.st.RecordSeed(ctx, r) })
	case ExportedObject:
		return im.check(kind, KindObject, v, func() error {
			// The digest is what the ledger and deep verification hold the content to; a version
			// whose content does not match it was changed after it was stored.
			if sum := sha256.Sum256(r.Content); !bytes.Equal(sum[:], r.SHA256) {
				return fmt.Errorf("%w: version %s of %s: its content does not match its recorded digest", ErrImportOrder, r.Version, r.ID)
			}
			if r.CollectionID != im.objectsOf || len(im.objects) >= importBatchRecords || im.objectsBytes >= importBatchBytes {
				if err := im.flushObjects(ctx); err != nil {
					return err
				}
			}
			im.objectsOf = r.CollectionID
			im.objects = append(im.objects, r.StoredVersion)
			im.objectsBytes += len(r.Content)
			return nil
		})
	case Origin:
		return im.check(kind, KindOrigin, v, func() error {
			im.origins = append(im.origins, r)
			return im.flushIf(ctx, len(im.origins) >= importBatchRecords)
		})
	case WithdrawnObject:
		return im.check(kind, KindWithdrawal, v, func() error {
			im.withdrawals = append(im.withdrawals, r)
			return im.flushIf(ctx, len(im.withdrawals) >= importBatchRecords)
		})
	case Status:
		return im.check(kind, KindStatus, v, func() error { return im.st.SaveStatus(ctx, r) })
	case PendingObject:
		return im.check(kind, KindPending, v, func() error {
			im.pending = append(im.pending, r)
			im.pendingBytes += len(r.Object.Content)
			return im.flushIf(ctx, len(im.pending) >= importBatchRecords || im.pendingBytes >= importBatchBytes)
		})
	case LedgerEntry:
		return im.check(kind, KindLedger, v, func() error {
			im.ledger = append(im.ledger, r)
			im.ledgerItems += len(r.Items)
			return im.flushIf(ctx, len(im.ledger) >= importBatchRecords || im.ledgerItems >= importBatchItems)
		})
	case LedgerHead:
		return im.check(kind, KindLedgerHead, v, func() error { im.LedgerHead = r; return nil })
	case PullDetail:
		return im.check(kind, KindPullDetail, v, func() error {
			// Details name an entry of the imported ledger, whose head came before them; the entry's
			// digest, which deep verification checks them against, is already in place.
			if r.Seq < 1 || r.Seq > im.LedgerHead.Seq || len(r.Items) == 0 {
				return fmt.Errorf("%w: pull details of entry %d, with %d ids, in a ledger of %d entries",
					ErrImportOrder, r.Seq, len(r.Items), im.LedgerHead.Seq)
			}
			im.details = append(im.details, r)
			im.detailItems += len(r.Items)
			return im.flushIf(ctx, len(im.details) >= importBatchRecords || im.detailItems >= importBatchItems)
		})
	case AuditEntry:
		return im.check(kind, KindAudit, v, func() error {
			im.audit = append(im.audit, r)
			return im.flushIf(ctx, len(im.audit) >= importAuditBatch)
		})
	case AuditHead:
		return im.check(kind, KindAuditHead, v, func() error { im.AuditHead = r; return nil })
	default:
		return wrongType(kind, v)
	}
}

func (im *Import) check(kind, want ExportKind, v any, write func() error) error {
	if kind != want {
		return wrongType(kind, v)
	}
	return write()
}

func (im *Import) flushIf(ctx context.Context, full bool) error {
	if !full {
		return nil
	}
	return im.flush(ctx)
}

func (im *Import) flushObjects(ctx context.Context) error {
	if len(im.objects) == 0 {
		return nil
	}
	if err := im.st.ImportObjects(ctx, im.objectsOf, im.objects); err != nil {
		return err
	}
	im.objects, im.objectsBytes = im.objects[:0], 0
	return nil
}

// flush writes whatever is held back.
func (im *Import) flush(ctx context.Context) error {
	if err := im.flushObjects(ctx); err != nil {
		return err
	}
	steps := []struct {
		n     int
		write func() error
		reset func()
	}{
		{len(im.origins), func() error { return im.st.ImportOrigins(ctx, im.origins) }, func() { im.origins = im.origins[:0] }},
		{len(im.withdrawals), func() error { return im.st.ImportWithdrawals(ctx, im.withdrawals) }, func() { im.withdrawals = im.withdrawals[:0] }},
		{len(im.pending), func() error { return im.st.ImportPending(ctx, im.pending) }, func() { im.pending, im.pendingBytes = im.pending[:0], 0 }},
		{len(im.ledger), func() error { return im.st.ImportLedger(ctx, im.ledger) }, func() { im.ledger, im.ledgerItems = im.ledger[:0], 0 }},
		{len(im.details), func() error { return im.st.ImportPullDetails(ctx, im.details) }, func() { im.details, im.detailItems = im.details[:0], 0 }},
		{len(im.audit), func() error { return im.st.ImportAudit(ctx, im.audit) }, func() { im.audit = im.audit[:0] }},
	}
	for _, s := range steps {
		if s.n == 0 {
			continue
		}
		if err := s.write(); err != nil {
			return err
		}
		s.reset()
	}
	return nil
}

// Finish writes what is held back, checks that the ledger and audit trail end at the heads the
// export recorded, and appends the hub's own audit entries after the imported trail.
func (im *Import) Finish(ctx context.Context) error {
	if err := im.flush(ctx); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	for _, c := range im.lastAdded {
		if err := im.st.ImportLastAdded(ctx, c.ID, c.LastAdded); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	lh, err := im.st.LedgerHead(ctx)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if lh.Seq != im.LedgerHead.Seq {
		return fmt.Errorf("import: the ledger ends at %d, the export's at %d", lh.Seq, im.LedgerHead.Seq)
	}
	ah, err := im.st.AuditHead(ctx)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if ah.Seq != im.AuditHead.Seq {
		return fmt.Errorf("import: the audit trail ends at %d, the export's at %d", ah.Seq, im.AuditHead.Seq)
	}
	for _, e := range im.own {
		if err := im.st.AppendAudit(ctx, e); err != nil {
			return fmt.Errorf("import: append this hub's own audit entries: %w", err)
		}
	}
	return nil
}
