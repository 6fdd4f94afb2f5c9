package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ExportKind names one kind of record in an export. Kinds are written, and imported, in the order
// of ExportKinds, which is the order their references need: a collection after its API root, a
// grant after its member and collection, a ledger entry after what it describes.
type ExportKind string

// The kinds of record a store holds. A backend that adds a table or collection must map it to one
// of these (or say why it is bookkeeping derived from them): each backend's tests compare its
// tables with ExportKinds.
const (
	KindAPIRoot         ExportKind = "api_root"
	KindMember          ExportKind = "member"
	KindCollection      ExportKind = "collection"
	KindMembership      ExportKind = "membership"
	KindGrant           ExportKind = "grant"
	KindToken           ExportKind = "token"
	KindVerificationKey ExportKind = "verification_key"
	KindSeed            ExportKind = "seed"
	KindObject          ExportKind = "object"
	KindOrigin          ExportKind = "origin"
	KindWithdrawal      ExportKind = "withdrawal"
	KindStatus          ExportKind = "status"
	KindPending         ExportKind = "pending"
	KindLedger          ExportKind = "ledger"
	KindLedgerHead      ExportKind = "ledger_head"
	KindPullDetail      ExportKind = "pull_detail"
	KindAudit           ExportKind = "audit"
	KindAuditHead       ExportKind = "audit_head"
)

// ExportKinds lists every kind in export and import order.
var ExportKinds = []ExportKind{KindAPIRoot, KindMember, KindCollection, KindMembership, KindGrant, KindToken,
	KindVerificationKey, KindSeed, KindObject, KindOrigin, KindWithdrawal, KindStatus, KindPending, KindLedger,
	KindLedgerHead, KindPullDetail, KindAudit, KindAuditHead}

// PullDetail is the ids a compact pull entry served (see pulls.go), kept beside the ledger for the
// transparency window: an export carries those still kept, so that "who pulled my object" answers
// on the new hub as it did on the old one, and the new hub's sweep removes them when the window
// passes, by the entry's time.
type PullDetail struct {
	// Seq is the compact pull entry's sequence number, At its time.
	Seq   int64
	At    time.Time
	Items []LedgerItem
}

// ExportedCollection is a collection with the latest date added it ever assigned, which an import
// keeps so that a date added is never handed out twice, also after the versions that had the
// latest ones were deleted.
type ExportedCollection struct {
	Collection
	LastAdded time.Time
}

// ExportedObject is one stored version of a collection's object, as StoredVersions reads it, with
// its content.
type ExportedObject struct {
	CollectionID string
	StoredVersion
}

// StatusKey names a status resource.
type StatusKey struct {
	APIRoot string
	ID      string
}

// ExportSource is what Export reads: the store's ordinary reads, and the few that only an export
// needs. Export calls them in an order of its own; a backend that must serve them from one
// consistent view passes a view (see the backends' Export).
type ExportSource interface {
	APIRoots(ctx context.Context) ([]APIRoot, error)
	Collections(ctx context.Context, root string) ([]Collection, error)
	Members(ctx context.Context) ([]Member, error)
	Memberships(ctx context.Context, root string) ([]Membership, error)
	CollectionGrants(ctx context.Context, collectionID string) ([]Grant, error)
	Tokens(ctx context.Context) ([]Token, error)
	VerificationKeys(ctx context.Context) ([]VerificationKey, error)
	Seeds(ctx context.Context) ([]Seed, error)
	StoredVersions(ctx context.Context, collectionID string, after time.Time, limit int, withContent bool) ([]StoredVersion, error)
	OriginsAfter(ctx context.Context, after Origin, limit int) ([]Origin, error)
	WithdrawalsAfter(ctx context.Context, after WithdrawnObject, limit int) ([]WithdrawnObject, error)
	Status(ctx context.Context, root, id string) (Status, error)
	PendingObjects(ctx context.Context, q PendingQuery) ([]PendingObject, error)
	Ledger(ctx context.Context, after int64, limit int) ([]LedgerEntry, error)
	LedgerHead(ctx context.Context) (LedgerHead, error)
	Audit(ctx context.Context, after int64, limit int) ([]AuditEntry, error)
	AuditHead(ctx context.Context) (AuditHead, error)

	// LastAdded returns the latest date added the collection ever assigned; zero if none.
	// ErrNotFound if the collection does not exist.
	LastAdded(ctx context.Context, collectionID string) (time.Time, error)
	// StatusKeysAfter returns up to limit status keys, ordered by API root then id, after the one
	// given (zero: from the first). A limit outside 1..MaxLimit is refused with a *QueryError.
	StatusKeysAfter(ctx context.Context, after StatusKey, limit int) ([]StatusKey, error)
	// PullDetailsAfter returns up to limit pull details, ordered by sequence number, of entries
	// numbered above after. A limit outside 1..MaxLimit is refused with a *QueryError.
	PullDetailsAfter(ctx context.Context, after int64, limit int) ([]PullDetail, error)
}

// ExportMark bounds what an export of a store that keeps serving writes reads: records added after
// the mark was taken are left out, so that the export is one point in the hub's history as far as
// additions go. The zero mark bounds nothing, for a source that is itself a snapshot.
type ExportMark struct {
	// Bounded turns the bounds on.
	Bounded bool
	// LastAdded is, per collection id, the latest date added when the mark was taken; a collection
	// missing from it was created after, and is left out with everything in it.
	LastAdded map[string]time.Time
	// Ledger and Audit are the heads then.
	Ledger LedgerHead
	Audit  AuditHead
	// At is when the mark was taken: origins, withdrawals and held objects recorded after it are left out.
	At time.Time
}

// TakeExportMark reads where src ends now: the time, the ledger head, each collection's latest
// date added, and the ledger head again, until both heads agree (an instant without a write
// between them), so that every version within the mark has its ledger entry within it and no entry
// within it names a version beyond. Origins and withdrawals are bounded by the time, read first.
// It gives up, with an error that says so, after markAttempts instants with writes in them.
func TakeExportMark(ctx context.Context, src ExportSource, now func() time.Time) (ExportMark, error) {
	for attempt := range markAttempts {
		m, quiet, err := takeExportMark(ctx, src, now)
		if err != nil || quiet {
			return m, err
		}
		// Writers that commit every few milliseconds leave gaps; wait a little longer each time.
		select {
		case <-ctx.Done():
			return ExportMark{}, fmt.Errorf("export mark: %w", ctx.Err())
		case <-time.After(time.Duration(attempt+1) * markBackoff):
		}
	}
	return ExportMark{}, fmt.Errorf("export mark: the hub wrote between every pair of reads of its ledger head "+
		"in %d attempts; export when fewer partners publish", markAttempts)
}

// Bounds of TakeExportMark's search for an instant without writes.
const (
	markAttempts = 50
	markBackoff  = 5 * time.Millisecond
)

func takeExportMark(ctx context.Context, src ExportSource, now func() time.Time) (ExportMark, bool, error) {
	m := ExportMark{Bounded: true, LastAdded: map[string]time.Time{}, At: now()}
	before, err := src.LedgerHead(ctx)
	if err != nil {
		return ExportMark{}, false, fmt.Errorf("export mark: %w", err)
	}
	roots, err := src.APIRoots(ctx)
	if err != nil {
		return ExportMark{}, false, fmt.Errorf("export mark: %w", err)
	}
	for _, r := range roots {
		cs, err := src.Collections(ctx, r.Slug)
		if err != nil {
			return ExportMark{}, false, fmt.Errorf("export mark: %w", err)
		}
		for _, c := range cs {
			last, err := src.LastAdded(ctx, c.ID)
			if errors.Is(err, ErrNotFound) {
				continue // deleted since it was listed
			}
			if err != nil {
				return ExportMark{}, false, fmt.Errorf("export mark: %w", err)
			}
			m.LastAdded[c.ID] = last
		}
	}
	if m.Ledger, err = src.LedgerHead(ctx); err != nil {
		return ExportMark{}, false, fmt.Errorf("export mark: %w", err)
	}
	if m.Audit, err = src.AuditHead(ctx); err != nil {
		return ExportMark{}, false, fmt.Errorf("export mark: %w", err)
	}
	return m, m.Ledger.Seq == before.Seq, nil
}

// exportPage is how many records Export reads at once: what it holds in memory is one page.
const exportPage = 1000

// Export calls emit with every record of src, kind after kind in ExportKinds order, each kind in a
// stable order (objects of a collection in date-added order, ledger and audit by sequence number),
// reading page by page so that memory holds one page, never the store. The values emitted are
// APIRoot, Member, ExportedCollection, Membership, Grant, Token, VerificationKey, Seed,
// ExportedObject, Origin, WithdrawnObject, Status, PendingObject, LedgerEntry, LedgerHead,
// PullDetail, AuditEntry and AuditHead. With a bounded mark, only what the mark covers is emitted:
// versions up to their collection's mark, ledger and audit entries (and pull details) up to their
// heads, origins, withdrawals and held objects recorded by the mark's time, less the origins that publications committed after the
// mark made (their dates added are past every collection's mark of the partnership, and the ledger
// entries after the mark name them).
func Export(ctx context.Context, src ExportSource, mark ExportMark, emit func(ExportKind, any) error) error {
	e := exporter{src: src, mark: mark, emit: emit}
	for _, step := range []func(context.Context) error{e.catalog, e.access, e.objects, e.origins, e.withdrawals,
		e.statuses, e.pending, e.ledger, e.pullDetails, e.audit} {
		if err := step(ctx); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return nil
}

type exporter struct {
	src  ExportSource
	mark ExportMark
	emit func(ExportKind, any) error
	// collections are those exported, in order: objects are read per collection.
	collections []Collection
	// after holds what publications after a bounded mark made, to leave their origins out.
	after afterMark
}

func (e *exporter) covers(collectionID string) bool {
	if !e.mark.Bounded {
		return true
	}
	_, ok := e.mark.LastAdded[collectionID]
	return ok
}

func (e *exporter) catalog(ctx context.Context) error {
	roots, err := e.src.APIRoots(ctx)
	if err != nil {
		return err
	}
	for _, r := range roots {
		if err := e.emit(KindAPIRoot, r); err != nil {
			return err
		}
	}
	members, err := e.src.Members(ctx)
	if err != nil {
		return err
	}
	for _, m := range members {
		if err := e.emit(KindMember, m); err != nil {
			return err
		}
	}
	for _, r := range roots {
		cs, err := e.src.Collections(ctx, r.Slug)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if !e.covers(c.ID) {
				continue
			}
			last, err := e.src.LastAdded(ctx, c.ID)
			if err != nil {
				return err
			}
			if e.mark.Bounded {
				last = e.mark.LastAdded[c.ID]
			}
			if err := e.emit(KindCollection, ExportedCollection{Collection: c, LastAdded: last}); err != nil {
				return err
			}
			e.collections = append(e.collections, c)
		}
	}
	for _, r := range roots {
		ms, err := e.src.Memberships(ctx, r.Slug)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if err := e.emit(KindMembership, m); err != nil {
				return err
			}
		}
	}
	for _, c := range e.collections {
		gs, err := e.src.CollectionGrants(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if err := e.emit(KindGrant, g); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *exporter) access(ctx context.Context) error {
	tokens, err := e.src.Tokens(ctx)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if err := e.emit(KindToken, t); err != nil {
			return err
		}
	}
	keys, err := e.src.VerificationKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := e.emit(KindVerificationKey, k); err != nil {
			return err
		}
	}
	seeds, err := e.src.Seeds(ctx)
	if err != nil {
		return err
	}
	for _, s := range seeds {
		if err := e.emit(KindSeed, s); err != nil {
			return err
		}
	}
	return nil
}

func (e *exporter) objects(ctx context.Context) error {
collections:
	for _, c := range e.collections {
		var after time.Time
		for {
			page, err := e.src.StoredVersions(ctx, c.ID, after, exportPage, true)
			if err != nil {
				return err
			}
			for _, v := range page {
				if e.mark.Bounded && v.DateAdded.After(e.mark.LastAdded[c.ID]) {
					continue collections
				}
				if err := e.emit(KindObject, ExportedObject{CollectionID: c.ID, StoredVersion: v}); err != nil {
					return err
				}
			}
			if len(page) < exportPage {
				break
			}
			after = page[len(page)-1].DateAdded
		}
	}
	return nil
}

// uncertain reports an origin recorded close enough before the mark that the publication which
// made it may have been committing while the mark was taken, and so be beyond it.
func (e *exporter) uncertain(at time.Time) bool {
	return e.mark.Bounded && at.After(e.mark.At.Add(-maxWriteAge))
}

// maxWriteAge bounds how long a write may run between taking its date added and committing: no
// backend keeps a transaction open longer (MongoDB aborts one after 60 seconds).
const maxWriteAge = time.Minute

// afterMark knows the publications committed after an export's mark, read from the ledger: which
// origin keys they named. It reads only entries recorded within maxWriteAge of the mark, so that it
// holds at most a minute of publications' keys, never the ledger.
type afterMark struct {
	scanned int64
	done    bool
	made    map[originKey]bool
}

// scan reads the ledger entries appended since the last scan.
func (a *afterMark) scan(ctx context.Context, src ExportSource, m ExportMark) error {
	if a.made == nil {
		a.scanned, a.made = m.Ledger.Seq, map[originKey]bool{}
	}
	if a.done {
		return nil
	}
	head, err := src.LedgerHead(ctx) // chains what committed, on a backend that chains later
	if err != nil {
		return err
	}
	for a.scanned < head.Seq {
		page, err := src.Ledger(ctx, a.scanned, min(exportPage, int(head.Seq-a.scanned)))
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, le := range page {
			if le.At.After(m.At.Add(maxWriteAge)) {
				a.done = true
				return nil
			}
			if le.Kind != LedgerPublish {
				continue
			}
			for _, it := range le.Items {
				a.made[originKey{root: le.APIRoot, key: OriginKeyID(it.ID)}] = true
				if it.Fingerprint != "" {
					a.made[originKey{root: le.APIRoot, key: OriginKeyFingerprint(it.Fingerprint)}] = true
				}
			}
		}
		a.scanned = page[len(page)-1].Seq
	}
	return nil
}

// beyondMark reports an origin that a publication after the mark made: one that publication
// names, whose time (the date added of the version that made it) is past the mark of every
// collection of its partnership, rootLast. An origin made before the mark is never left out, since
// its version's date added is within its own collection's mark; an origin made after it, in a
// collection whose mark is below another's of the partnership, stays in the export without its
// publication (deep verification reports it as unbacked).
func (a *afterMark) beyondMark(o Origin, rootLast time.Time) bool {
	return a.made[originKey{root: o.APIRoot, key: o.Key}] && o.At.After(rootLast)
}

// rootMark is the latest date added, within the mark, of any collection of the partnership.
func (e *exporter) rootMark(root string) time.Time {
	var last time.Time
	for _, c := range e.collections {
		if c.APIRoot == root && e.mark.LastAdded[c.ID].After(last) {
			last = e.mark.LastAdded[c.ID]
		}
	}
	return last
}

func (e *exporter) recordedInTime(at time.Time) bool {
	return !e.mark.Bounded || !at.After(e.mark.At)
}

func (e *exporter) origins(ctx context.Context) error {
	var after Origin
	for {
		page, err := e.src.OriginsAfter(ctx, after, exportPage)
		if err != nil {
			return err
		}
		if e.mark.Bounded && slices.ContainsFunc(page, func(o Origin) bool { return e.uncertain(o.At) }) {
			// Read after the page, so that every publication whose origins the page shows, which
			// committed them with its ledger entry, is among those scanned.
			if err := e.after.scan(ctx, e.src, e.mark); err != nil {
				return err
			}
		}
		for _, o := range page {
			if !e.recordedInTime(o.At) || e.uncertain(o.At) && e.after.beyondMark(o, e.rootMark(o.APIRoot)) {
				continue
			}
			if err := e.emit(KindOrigin, o); err != nil {
				return err
			}
		}
		if len(page) < exportPage {
			return nil
		}
		after = page[len(page)-1]
	}
}

func (e *exporter) withdrawals(ctx context.Context) error {
	var after WithdrawnObject
	for {
		page, err := e.src.WithdrawalsAfter(ctx, after, exportPage)
		if err != nil {
			return err
		}
		for _, w := range page {
			if !e.recordedInTime(w.At) {
				continue
			}
			if err := e.emit(KindWithdrawal, w); err != nil {
				return err
			}
		}
		if len(page) < exportPage {
			return nil
		}
		after = page[len(page)-1]
	}
}

func (e *exporter) statuses(ctx context.Context) error {
	var after StatusKey
	for {
		keys, err := e.src.StatusKeysAfter(ctx, after, exportPage)
		if err != nil {
			return err
		}
		for _, k := range keys {
			st, err := e.src.Status(ctx, k.APIRoot, k.ID)
			if errors.Is(err, ErrNotFound) {
				continue // removed since it was listed
			}
			if err != nil {
				return err
			}
			if err := e.emit(KindStatus, st); err != nil {
				return err
			}
		}
		if len(keys) < exportPage {
			return nil
		}
		after = keys[len(keys)-1]
	}
}

func (e *exporter) pending(ctx context.Context) error {
	// Held objects are few (each waits for a reviewer for a bounded time), but they are still read
	// per collection, oldest first, so that one page holds at most MaxLimit of them.
	for _, c := range e.collections {
		held, err := e.src.PendingObjects(ctx, PendingQuery{CollectionID: c.ID, Limit: MaxLimit})
		if err != nil {
			return err
		}
		if len(held) == MaxLimit {
			return fmt.Errorf("collection %s holds %d objects or more for review, more than an export takes; "+
				"release or reject them first", c.ID, MaxLimit)
		}
		for _, p := range held {
			if !e.recordedInTime(p.SubmittedAt) {
				continue
			}
			if err := e.emit(KindPending, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *exporter) ledger(ctx context.Context) error {
	head := e.mark.Ledger
	if !e.mark.Bounded {
		var err error
		if head, err = e.src.LedgerHead(ctx); err != nil {
			return err
		}
	}
	var after int64
	for after < head.Seq {
		page, err := e.src.Ledger(ctx, after, min(exportPage, int(head.Seq-after)))
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return fmt.Errorf("the ledger ends at %d, before its head %d", after, head.Seq)
		}
		for _, le := range page {
			if err := e.emit(KindLedger, le); err != nil {
				return err
			}
		}
		after = page[len(page)-1].Seq
	}
	return e.emit(KindLedgerHead, head)
}

// pullDetails emits the pull details still kept, of the entries within the ledger's head (the
// mark's, on a bounded export): details of a pull after the mark would name an entry the export
// does not hold.
func (e *exporter) pullDetails(ctx context.Context) error {
	head := e.mark.Ledger.Seq
	var after int64
	for {
		page, err := e.src.PullDetailsAfter(ctx, after, exportPage)
		if err != nil {
			return err
		}
		for _, d := range page {
			if e.mark.Bounded && d.Seq > head {
				return nil
			}
			if err := e.emit(KindPullDetail, d); err != nil {
				return err
			}
		}
		if len(page) < exportPage {
			return nil
		}
		after = page[len(page)-1].Seq
	}
}

func (e *exporter) audit(ctx context.Context) error {
	head := e.mark.Audit
	if !e.mark.Bounded {
		var err error
		if head, err = e.src.AuditHead(ctx); err != nil {
			return err
		}
	}
	var after int64
	for after < head.Seq {
		page, err := e.src.Audit(ctx, after, min(exportPage, int(head.Seq-after)))
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return fmt.Errorf("the audit trail ends at %d, before its head %d", after, head.Seq)
		}
		for _, a := range page {
			if err := e.emit(KindAudit, a); err != nil {
				return err
			}
		}
		after = page[len(page)-1].Seq
	}
	return e.emit(KindAuditHead, head)
}

// Exporter is implemented by stores that can export themselves while serving.
type Exporter interface {
	// Export calls emit with every record, as the package function Export does, from a view of the
	// store as consistent as the backend can give while it serves (each backend documents its own).
	Export(ctx context.Context, emit func(ExportKind, any) error) error
}

// ImportTarget is what Import writes: the store's ordinary writes for the records that keep no
// bookkeeping of their own, and writers that keep what the ordinary writes would assign anew
// (dates added, sequence numbers, hashes, times).
type ImportTarget interface {
	CreateAPIRoot(ctx context.Context, root APIRoot) error
	CreateMember(ctx context.Context, m Member) error
	CreateCollection(ctx context.Context, c Collection) error
	PutMembership(ctx context.Context, m Membership) error
	PutGrant(ctx context.Context, g Grant) error
	SaveToken(ctx context.Context, t Token) error
	SaveVerificationKey(ctx context.Context, k VerificationKey) error
	RecordSeed(ctx context.Context, s Seed) error
	SaveStatus(ctx context.Context, s Status) error

	// ImportObjects stores versions exactly as exported: date added, version, content and its
	// digest, TLP level, withdrawn mark; and moves the collection's latest date added up to the
	// newest of them. ErrNotFound if the collection does not exist; ErrConflict if a version or a
	// date added is taken.
	ImportObjects(ctx context.Context, collectionID string, vs []StoredVersion) error
	// ImportLastAdded moves a collection's latest date added up to last (never down).
	ImportLastAdded(ctx context.Context, collectionID string, last time.Time) error
	// ImportOrigins and ImportWithdrawals store the records as given. ErrConflict if one is there.
	ImportOrigins(ctx context.Context, os []Origin) error
	ImportWithdrawals(ctx context.Context, ws []WithdrawnObject) error
	// ImportPending holds the objects for review as exported, each with its times.
	ImportPending(ctx context.Context, ps []PendingObject) error
	// ImportLedger appends entries with their sequence numbers, times and hashes as given, and
	// moves the head to the last. The entries must continue the ledger: the first's Seq one above
	// the head, and its PrevHash the head's hash.
	ImportLedger(ctx context.Context, es []LedgerEntry) error
	// ImportPullDetails stores the pull details as given, each under its entry's sequence number
	// and with its time. ErrConflict if one is there.
	ImportPullDetails(ctx context.Context, ds []PullDetail) error
	// ImportAudit does the same for the audit trail.
	ImportAudit(ctx context.Context, es []AuditEntry) error
	// ResetAuditForImport removes every audit entry and the head, and returns the entries removed,
	// so that an import into a new hub can put the imported trail first and append the hub's own
	// entries (its first operator token's issue) after it. Only for an empty store; Import checks.
	ResetAuditForImport(ctx context.Context) ([]AuditEntry, error)
}

// ErrNotEmpty reports an import into a store that holds more than a new hub does.
var ErrNotEmpty = errors.New("store: the store is not empty")

// CheckEmptyForImport refuses, with ErrNotEmpty and what it found, a store that holds anything but
// what a new hub holds: its own operator tokens, verification keys and the audit entries of their
// issue. Everything an import brings would otherwise merge with data of a live hub.
func CheckEmptyForImport(ctx context.Context, s interface {
	APIRoots(ctx context.Context) ([]APIRoot, error)
	Members(ctx context.Context) ([]Member, error)
	Tokens(ctx context.Context) ([]Token, error)
	Seeds(ctx context.Context) ([]Seed, error)
	LedgerHead(ctx context.Context) (LedgerHead, error)
	OriginsAfter(ctx context.Context, after Origin, limit int) ([]Origin, error)
	WithdrawalsAfter(ctx context.Context, after WithdrawnObject, limit int) ([]WithdrawnObject, error)
	StatusKeysAfter(ctx context.Context, after StatusKey, limit int) ([]StatusKey, error)
}) error {
	var found []string
	if roots, err := s.APIRoots(ctx); err != nil {
		return err
	} else if len(roots) > 0 {
		found = append(found, fmt.Sprintf("%d partnerships", len(roots)))
	}
	if ms, err := s.Members(ctx); err != nil {
		return err
	} else if len(ms) > 0 {
		found = append(found, fmt.Sprintf("%d members", len(ms)))
	}
	if ts, err := s.Tokens(ctx); err != nil {
		return err
	} else {
		partner := 0
		for _, t := range ts {
			if t.Kind != OperatorToken {
				partner++
			}
		}
		if partner > 0 {
			found = append(found, fmt.Sprintf("%d partner tokens", partner))
		}
	}
	if seeds, err := s.Seeds(ctx); err != nil {
		return err
	} else if len(seeds) > 0 {
		found = append(found, "a seed file applied")
	}
	if h, err := s.LedgerHead(ctx); err != nil {
		return err
	} else if h.Seq > 0 {
		found = append(found, fmt.Sprintf("%d ledger entries", h.Seq))
	}
	if os, err := s.OriginsAfter(ctx, Origin{}, 1); err != nil {
		return err
	} else if len(os) > 0 {
		found = append(found, "origins")
	}
	if ws, err := s.WithdrawalsAfter(ctx, WithdrawnObject{}, 1); err != nil {
		return err
	} else if len(ws) > 0 {
		found = append(found, "withdrawals")
	}
	if ks, err := s.StatusKeysAfter(ctx, StatusKey{}, 1); err != nil {
		return err
	} else if len(ks) > 0 {
		found = append(found, "statuses")
	}
	if len(found) > 0 {
		return fmt.Errorf("%w: it holds %v; import only into a new hub", ErrNotEmpty, found)
	}
	return nil
}
