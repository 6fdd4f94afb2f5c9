// Package store is the persistence contract of the hub: the records it keeps and the guarantees every
// backend must give. Backends live in subpackages and must pass storetest.Run; nothing here imports a
// database driver.
package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

var (
	// ErrNotFound reports that the API root, collection, object or status asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict reports that a create would reuse a name, id or alias already taken, or that a delete
	// would orphan records that still depend on the target.
	ErrConflict = errors.New("conflict")
	// ErrTombstone reports that a member's deletion would remove the tombstone of a withdrawal, which
	// pollers must go on receiving; only an operator removes one.
	ErrTombstone = errors.New("the selection holds a withdrawal's tombstone")
)

// MaxLimit is the largest page a query may ask for. The TAXII layer caps client limits well below it;
// the store refuses larger ones so that no caller can make a backend materialise an unbounded page.
const MaxLimit = 10_000

// NextDateAdded is the date added, in Unix microseconds, for the next version stored in a collection
// whose latest date added is last: now, or one microsecond after last if the clock has not moved past
// it (two writes in one microsecond, or a clock stepped back). Dates added must strictly increase
// so that a keyset cursor paging by date added never skips a version nor returns one twice.
func NextDateAdded(now time.Time, last int64) int64 {
	return max(now.UnixMicro(), last+1)
}

// Store is what the hub needs from persistent storage.
//
// Guarantees every implementation gives, and storetest checks:
//
//   - Date added. The store assigns every object version the time it entered a collection, with
//     microsecond precision. Within one collection these dates are unique and strictly increase in
//     commit order, also with many concurrent writers and with several hub processes sharing one
//     database. Hence a reader that pages by date added (Query.AddedAfter or Page.Next) never misses a
//     version that commits while it reads and never sees one twice.
//   - Versions. A version is identified by (object id, Object.Version). Objects without a version of
//     their own (observables, marking definitions without created) are versioned by their date added,
//     and re-adding one whose content equals a stored version of the same id is a no-op.
//   - Idempotency. Re-adding a version that is already stored is a no-op reported as success; the
//     stored bytes are kept.
//   - Exact bytes. Object content comes back byte for byte as it was added (no re-encoding), so it can
//     be served, hashed and signed as submitted.
//   - Atomic writes. AddObjects stores each accepted object completely or not at all, and reports for
//     each which it was. DeleteVersions removes all the selected versions or none.
//   - Pages. Objects and Manifest return versions in date-added order and resume from Page.Next,
//     a keyset cursor bound to the collection and filters it came from; no server-side state is kept,
//     so any process sharing the database accepts it. Query.MaxTLP is applied in the scan itself,
//     so that a page, More and Next are exact for the reader it was read for.
//   - Sharing rules. Grants and memberships never give a partnership a member from a jurisdiction its
//     policy excludes (ErrJurisdiction), checked in the write's own transaction.
//   - Ledger. Publish and Withdraw commit their ledger entries in the same transaction as the objects
//     they describe, and RecordPull appends one entry; entries are numbered without gaps and each
//     commits to the hash of the one before (see LedgerEntry.Chain), so VerifyLedger detects an entry
//     changed, removed or moved. A backend may number and chain a committed entry in a step of its
//     own, so that writers of different collections need not queue on the chain (MongoDB does);
//     it does so before the write returns, or else before Ledger or LedgerHead next answers.
//   - Retention. Purge removes a prefix of a collection in date-added order (its oldest versions)
//     with its ledger entry in one transaction, so a reader paging across it never misses a version
//     kept nor sees one twice. RecordPull commits a compact pull's entry and its details together.
//   - Audit trail. AppendAudit chains each entry to the one before as the ledger does, so that
//     VerifyAudit detects an entry changed, removed or moved. Entries of a trail written before
//     the store chained them are chained, in order, when the store first opens the database.
type Store interface {
	// CreateAPIRoot adds an API root. ErrConflict if its slug is taken.
	CreateAPIRoot(ctx context.Context, root APIRoot) error
	// APIRoot returns the root with the slug. ErrNotFound if there is none.
	APIRoot(ctx context.Context, slug string) (APIRoot, error)
	// APIRoots lists every API root, ordered by slug.
	APIRoots(ctx context.Context) ([]APIRoot, error)
	// UpdateAPIRoot replaces the title, description and policy of an API root. ErrNotFound if there
	// is none; ErrJurisdiction if the new policy excludes the jurisdiction of a member that holds a
	// grant or membership in it.
	UpdateAPIRoot(ctx context.Context, root APIRoot) error
	// DeleteAPIRoot removes an API root, the memberships in it and its members collection (with its
	// objects), which only repeats what the hub knows of the members. ErrNotFound if there is none;
	// ErrConflict while it still holds any other collection, so that a slip of an operator cannot
	// drop a partnership's data.
	DeleteAPIRoot(ctx context.Context, slug string) error

	// CreateCollection adds a collection to an existing API root. ErrNotFound if the root does not
	// exist; ErrConflict if the id is taken anywhere, the alias is taken within the root, or the
	// collection is a members collection and the root has one already.
	CreateCollection(ctx context.Context, c Collection) error
	// Collection returns the collection of the root whose id, or else whose alias, is ref.
	// ErrNotFound if there is none in that root.
	Collection(ctx context.Context, root, ref string) (Collection, error)
	// UpdateCollection replaces the title, alias, description, media types and policy of a
	// collection; its id, API root and Members never change. ErrNotFound if the root holds no collection with
	// that id; ErrConflict if the alias is taken by another collection of the root.
	UpdateCollection(ctx context.Context, c Collection) error
	// Collections lists the collections of a root, ordered by title then id. ErrNotFound if the root
	// does not exist.
	Collections(ctx context.Context, root string) ([]Collection, error)
	// DeleteCollection removes a collection, every object version in it and every grant on it.
	// ErrNotFound if the root
	// holds no collection with that id. Callers never reuse a deleted collection's id: cursors and
	// dates added of the old collection would otherwise bleed into the new one.
	DeleteCollection(ctx context.Context, root, id string) error

	// AddObjects adds object versions to a collection and returns one Outcome per object, in the
	// order given. When it returns an error, the outcomes still say exactly which objects were
	// stored (Added, Unchanged, KeptExisting) and which were not (NotStored); none is half-written.
	// ErrNotFound if the collection does not exist. Every object must have an ID, Type, SpecVersion
	// and Content; the caller validates them, and a call breaking that rule is refused whole.
	AddObjects(ctx context.Context, collectionID string, objs []Object) ([]Outcome, error)
	// Objects returns one page of object versions, with content, matching q.
	Objects(ctx context.Context, collectionID string, q Query) (Page, error)
	// Manifest is Objects without content: the same selection and cursors, cheaper to read.
	Manifest(ctx context.Context, collectionID string, q Query) (Page, error)
	// DeleteVersions removes the versions of one object that f selects and returns how many it
	// removed. ErrNotFound if the collection holds no version of the object. It is an operator's act:
	// a member's deletion is Delete.
	DeleteVersions(ctx context.Context, collectionID, objectID string, f VersionFilter) (int, error)
	// Delete is DeleteVersions on behalf of a member or an operator: it appends a delete ledger entry
	// listing the versions it removed in the same transaction, so that no deletion goes unrecorded.
	// A member's deletion refuses with ErrTombstone, removing nothing, when the selection holds a
	// withdrawal's tombstone; an operator's may remove one.
	Delete(ctx context.Context, d Deletion) (int, error)

	// Publish is AddObjects on behalf of a member: besides storing the objects as AddObjects does,
	// it refuses every object whose id a withdrawal in the partnership bars (Withdrawn, see
	// WithdrawalBars), every object with a version of its
	// own whose id another member published first in the partnership (NotOwner: only the creator of
	// an object versions it), records the origins of what it adds,
	// and appends the publish ledger entry in the same transaction, so that nothing is published
	// without its entry. AddObjects, which records none of this, is for loading data on nobody's
	// behalf. With p.DryRun it decides every outcome exactly as it would and commits nothing.
	//
	// A withdrawal committed in the same collection before the publication is always seen. On
	// MongoDB, a publication racing a withdrawal of the same id from another collection may still
	// land; once the withdrawal has committed, the id is refused everywhere.
	Publish(ctx context.Context, p Publication) ([]Outcome, error)
	// Withdraw replaces every version of an object in a collection with one version that w.Tombstone
	// builds from the newest, marked Withdrawn, records the id as withdrawn in the collection's
	// partnership so that Publish refuses it there from then on (see WithdrawalBars), and appends the
	// withdraw ledger entry, all in one
	// transaction. Withdrawing again changes nothing and reports Unchanged. ErrNotFound if the
	// collection holds no version of the object.
	Withdraw(ctx context.Context, w Withdrawal) (Outcome, error)
	// TransferOwnership makes t.To the owner, in t.APIRoot, of what t.From published first there
	// (one object, or everything), its withdrawals included, and appends a transfer ledger entry
	// listing the ids, all in one transaction. It returns how many ids moved; none is no error.
	TransferOwnership(ctx context.Context, t Transfer) (int, error)
	// Origins returns the origins recorded for any of the keys (OriginKeyID, OriginKeyFingerprint),
	// in any API root, with the time each was recorded.
	Origins(ctx context.Context, keys []string) ([]Origin, error)
	// LastPulls returns, for each of the API roots in which member ever received content, when it
	// last did: the time of its latest pull entry there that served content (endpoint objects,
	// object or versions; a manifest or a probe serves none). Roots without one are absent. It
	// reads an index of the member's pulls per root, not the ledger.
	LastPulls(ctx context.Context, member string, roots []string) (map[string]time.Time, error)

	// SearchValues finds the objects of q's collections whose versions name one of q's values in
	// the value-search index (see ValueIndexer), reading only the index entries of those collections
	// at each one's clearance, newest first, and answers each object once with its latest version
	// visible at that clearance. Withdrawn objects and deleted versions are never found. A search
	// outside the limits (ValueSearch.Check) is refused with a *QueryError.
	SearchValues(ctx context.Context, q ValueSearch) (ValueHits, error)
	// Browse returns one page of a collection's versions of one type, without content, newest
	// first by date added, read from an index on (collection, type, date added); Page.More reports
	// that older versions follow, which a next page asks for with Before set to the last record's
	// DateAdded. ErrNotFound if the collection does not exist; a query outside the limits is refused
	// with a *QueryError.
	Browse(ctx context.Context, collectionID string, q BrowseQuery) (Page, error)

	// StoredVersions returns up to limit versions of a collection added after the date added after
	// (zero: from the first), in date-added order: every version of every object, whatever its
	// level, each with the digest of its content the store recorded when it stored it, and with
	// its content when withContent. VerifyDeep reads it. ErrNotFound if the collection does not
	// exist; a limit outside 1..MaxLimit is refused with a *QueryError.
	StoredVersions(ctx context.Context, collectionID string, after time.Time, limit int, withContent bool) ([]StoredVersion, error)
	// OriginsAfter returns up to limit origins, of every API root, ordered by key then API root,
	// starting after the one with after's key and root (zero: from the first). A limit outside
	// 1..MaxLimit is refused with a *QueryError.
	OriginsAfter(ctx context.Context, after Origin, limit int) ([]Origin, error)
	// WithdrawalsAfter returns up to limit withdrawals, of every API root, in an order of the
	// backend's that pages resume in, starting after the one with after's APIRoot and ObjectID
	// (zero: from the first). A limit outside 1..MaxLimit is refused with a *QueryError.
	WithdrawalsAfter(ctx context.Context, after WithdrawnObject, limit int) ([]WithdrawnObject, error)

	// Purge removes up to p.Limit versions of a collection added before p.Before, oldest first,
	// and appends one purge ledger entry listing each (id, version, digest of its content), in one
	// transaction, so that nothing is purged unrecorded. Withdrawn objects' tombstones go like any
	// version; origins and withdrawals stay (see retention.go). Nothing to purge is no error and
	// appends no entry. ErrNotFound if the collection does not exist; a *QueryError if p fails
	// Purge.Check.
	Purge(ctx context.Context, p Purge) (PurgeResult, error)
	// PurgeStatuses removes up to limit status resources whose request came before before and
	// that are no longer pending, and returns how many it removed. A limit outside 1..MaxLimit is
	// refused with a *QueryError.
	PurgeStatuses(ctx context.Context, before time.Time, limit int) (int, error)

	// RecordPull appends an entry of what a member learnt without changing anything: a pull, or,
	// when e.Kind is LedgerProbe, a dry run's probe. The store sets its Seq, At and hashes. A pull
	// that served versions is appended compact (CompactPull): its items go to the pull details, in
	// the same transaction, under the entry's sequence number.
	RecordPull(ctx context.Context, e LedgerEntry) error
	// PullDetails returns the items of the compact pull entries numbered seqs whose details are
	// still kept. At most MaxLimit numbers; more are refused with a *QueryError.
	PullDetails(ctx context.Context, seqs []int64) (map[int64][]LedgerItem, error)
	// PurgePullDetails removes up to limit pull details of entries appended before before, and
	// returns how many it removed: the ledger's compact entries stay, with their digests. A limit
	// outside 1..MaxLimit is refused with a *QueryError.
	PurgePullDetails(ctx context.Context, before time.Time, limit int) (int, error)
	// Ledger returns up to limit entries with a sequence number above after, in order. A limit
	// outside 1..MaxLimit is refused with a *QueryError.
	Ledger(ctx context.Context, after int64, limit int) ([]LedgerEntry, error)
	// LedgerHead returns the sequence number and hash of the last entry appended, as recorded apart
	// from the entries; zero and empty before the first.
	LedgerHead(ctx context.Context) (LedgerHead, error)

	// CreateMember adds a partner organisation. ErrConflict if the id is taken.
	CreateMember(ctx context.Context, m Member) error
	// Member returns the member with the id. ErrNotFound if there is none.
	Member(ctx context.Context, id string) (Member, error)
	// UpdateMember replaces a member's name, jurisdiction, contact and identity provider. ErrNotFound if there is none;
	// ErrJurisdiction if the new jurisdiction is outside those of a partnership in which the member
	// holds a grant or membership.
	UpdateMember(ctx context.Context, m Member) error
	// Members lists every member, ordered by id.
	Members(ctx context.Context) ([]Member, error)
	// DeleteMember removes a member with its grants and memberships, and revokes its tokens at the
	// time given, so that nothing it held keeps working. ErrNotFound if there is none.
	DeleteMember(ctx context.Context, id string, at time.Time) error

	// PutMembership creates or replaces a member's membership of a partnership. ErrNotFound if the
	// member or API root does not exist; ErrJurisdiction if the partnership's policy excludes the
	// member's jurisdiction.
	PutMembership(ctx context.Context, m Membership) error
	// DeleteMembership removes a member's membership of a partnership. ErrNotFound if there is none.
	DeleteMembership(ctx context.Context, memberID, root string) error
	// Membership returns a member's membership of a partnership. ErrNotFound if there is none.
	Membership(ctx context.Context, memberID, root string) (Membership, error)
	// Memberships lists the memberships of a partnership, ordered by member id.
	Memberships(ctx context.Context, root string) ([]Membership, error)

	// PutGrant creates or replaces the grant of a member on a collection. ErrNotFound if the member
	// does not exist or the API root holds no such collection; ErrJurisdiction if the partnership's
	// policy excludes the member's jurisdiction.
	PutGrant(ctx context.Context, g Grant) error
	// DeleteGrant removes a member's grant on a collection. ErrNotFound if there is none.
	DeleteGrant(ctx context.Context, memberID, collectionID string) error
	// Grants lists a member's grants, ordered by API root then collection id. A member without
	// grants, or one that does not exist, has none.
	Grants(ctx context.Context, memberID string) ([]Grant, error)
	// CollectionGrants lists the grants on a collection, ordered by member id.
	CollectionGrants(ctx context.Context, collectionID string) ([]Grant, error)

	// SaveToken records an issued token. ErrConflict if its id is taken.
	SaveToken(ctx context.Context, t Token) error
	// Token returns the token record with the id. ErrNotFound if there is none.
	Token(ctx context.Context, id string) (Token, error)
	// Tokens lists every token record, ordered by issue time then id.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken marks a token revoked at the time given; revoking it again keeps the first time.
	// ErrNotFound if there is none.
	RevokeToken(ctx context.Context, id string, at time.Time) error

	// SaveVerificationKey records the public half of a signing key, so that every hub process
	// sharing the store verifies tokens signed by any of them. Saving a kid again changes nothing.
	SaveVerificationKey(ctx context.Context, k VerificationKey) error
	// VerificationKeys lists every recorded key, retired ones included, ordered by creation time then kid.
	VerificationKeys(ctx context.Context) ([]VerificationKey, error)
	// RetireVerificationKey stops a key from verifying tokens from the time given; retiring it again
	// keeps the first time. ErrNotFound if there is none.
	RetireVerificationKey(ctx context.Context, kid string, at time.Time) error

	// AppendAudit records one operator action, chained after the last one (see AuditEntry.Chain),
	// and moves the audit head; the store sets Seq and the hashes. The log is append-only: nothing
	// in the contract changes or removes an entry.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// Audit returns up to limit entries with a sequence number above after, in order. A limit
	// outside 1..MaxLimit is refused with a *QueryError.
	Audit(ctx context.Context, after int64, limit int) ([]AuditEntry, error)
	// AuditHead returns the sequence number and hash of the last audit entry appended, as recorded
	// apart from the entries; zero and empty before the first.
	AuditHead(ctx context.Context) (AuditHead, error)

	// RecordSeed records that a seed file was applied. Recording a digest again changes nothing: the
	// first record is kept.
	RecordSeed(ctx context.Context, s Seed) error
	// Seeds lists the seed files applied, oldest first.
	Seeds(ctx context.Context) ([]Seed, error)

	// Submit holds the objects of a member's request to a collection under review (see review.go),
	// apart from the collection's objects, appends the submit ledger entry, and saves the request's
	// status with the held objects pending (StatusPlan.Hold), in one write where the backend can.
	// Nothing held is visible to Objects, Manifest, StoredVersions or any other read of the
	// collection. ErrNotFound if the collection does not exist.
	Submit(ctx context.Context, s Submission) error
	// PendingObjects lists the objects held that q selects, oldest submission first.
	PendingObjects(ctx context.Context, q PendingQuery) ([]PendingObject, error)
	// PendingCounts counts the objects held for review per collection, ordered by API root then
	// collection id; a collection holding none is left out. It reads no object's content.
	PendingCounts(ctx context.Context) ([]PendingCount, error)
	// Decide releases or rejects the objects a request still has held that d names, and returns
	// what became of each; objects already decided are left out, so that two reviewers racing
	// decide each object once. A release stores the objects as Publish does for their publisher
	// (withdrawals and ownership decided again, origins, a publish ledger entry whose Endpoint names
	// the reviewer, date added after everything stored before); a rejection or expiry appends a
	// reject ledger entry. The request's status moves each object from pendings to successes or
	// failures (Status.Settle). Removing an object from the queue commits with everything its
	// decision writes (the backend's transaction, per chunk of objects where it must chunk), so
	// that a failure leaves it held and undecided and a decision retried or racing decides it once.
	Decide(ctx context.Context, d ReviewDecision) ([]ReviewOutcome, error)

	// SaveStatus creates or replaces a status resource.
	SaveStatus(ctx context.Context, s Status) error
	// Status returns the status resource with the id in the root. ErrNotFound if there is none.
	Status(ctx context.Context, root, id string) (Status, error)

	// Close releases the backend's resources.
	Close(ctx context.Context) error
}

// APIRoot is one partnership's TAXII API root.
type APIRoot struct {
	// Slug is the URL path segment that names the root, such as "eu-china-cyber".
	Slug        string
	Title       string
	Description string
	Policy      PartnershipPolicy
}

// Collection is a TAXII collection inside an API root.
type Collection struct {
	// ID is a UUID, unique across the hub: objects are keyed by it alone.
	ID      string
	APIRoot string
	Title   string
	// Alias, when set, is unique within the API root and may address the collection in place of ID.
	Alias       string
	Description string
	MediaTypes  []string
	Policy      CollectionPolicy
	// Members marks the root's members collection: the identities of the partnership's members,
	// which the hub writes on nobody's behalf (AddObjects) and every member holding a grant in the
	// partnership reads. A root has at most one. Set when the collection is created; it never
	// changes.
	Members bool
}

// Object is one STIX object version to be added. The caller has parsed and validated it; the store
// only needs the fields below, and keeps Content as given.
type Object struct {
	ID          string
	Type        string
	SpecVersion string
	// Version is the object's modified timestamp, or created when it has no modified. Zero means the
	// object carries neither, and the store versions it by its date added. Versions are compared to
	// the microsecond, the precision the store keeps.
	Version time.Time
	// Content is the object's exact JSON encoding.
	Content []byte
	// TLP is the highest TLP level among the object's markings; TLPNone if it carries none. Readers
	// with a clearance below it do not see the version.
	TLP TLP
	// Fingerprint identifies the object's content with the submitter's own fields set aside (see
	// the policy package); Publish records its origin. Empty when unknown.
	Fingerprint string
}

// Result says what AddObjects did with one object.
type Result int

const (
	// NotStored means the object was not committed: the write failed before its turn.
	NotStored Result = iota
	// Added means the version is new to the collection and is now stored.
	Added
	// Unchanged means the same version with the same content was already stored.
	Unchanged
	// KeptExisting means the same version was already stored with different content; the stored
	// copy was kept, since a changed object must carry a new modified timestamp.
	KeptExisting
	// Withdrawn means the object's id was withdrawn by its publisher; the hub never accepts it again.
	Withdrawn
	// NotOwner means another member published the object's id first in the partnership: only that
	// member may add versions of it. Observables (objects without a version of their own) are facts
	// anyone may publish, and are never refused so.
	NotOwner
)

// Stored reports whether the collection holds the version after the call.
func (r Result) Stored() bool { return r == Added || r == Unchanged || r == KeptExisting }

func (r Result) String() string {
	switch r {
	case Added:
		return "added"
	case Unchanged:
		return "unchanged"
	case KeptExisting:
		return "kept existing"
	case Withdrawn:
		return "withdrawn"
	case NotOwner:
		return "not owner"
	default:
		return "not stored"
	}
}

// Outcome is the fate of one object passed to AddObjects.
type Outcome struct {
	Result Result
	// Version is the version the collection holds: the object's own, or its date added.
	Version time.Time
	// DateAdded is when that version entered the collection (for a version already stored, when it
	// first did).
	DateAdded time.Time
}

// Record is one stored object version.
type Record struct {
	ID          string
	Type        string
	SpecVersion string
	Version     time.Time
	DateAdded   time.Time
	// Content is the exact bytes added; nil in manifests.
	Content []byte
	TLP     TLP
	// Withdrawn marks the version Withdraw stored in place of a withdrawn object's versions.
	Withdrawn bool
}

// Publication is one member's add-objects request, as Publish stores it.
type Publication struct {
	CollectionID string
	// Member and TokenID say who publishes, and Person who for the member when a person did; the
	// ledger entry records them.
	Member  string
	TokenID string
	Person  Person
	// Objects are the objects that passed every check, to be stored.
	Objects []Object
	// Refused are the objects refused before reaching the store, with the codes of their problems;
	// the ledger entry records them beside the stored ones.
	Refused []Refusal
	// DryRun decides and reports without committing anything, ledger included.
	DryRun bool
	// Release, when set, makes the publication a reviewer's release of objects held for review
	// (see Decide): the ReleaseEndpoint naming the reviewer, recorded as the ledger entry's
	// Endpoint. Member and TokenID stay the publisher's.
	Release string
	// Status, when set, makes the status resource of the request part of the write: Publish
	// completes the plan with the outcomes of Objects once they are decided and saves the result as
	// SaveStatus does, in the write's own transaction where the backend can (SQLite: one commit, and
	// one sync of the disk, instead of two), else just after it commits. Not saved on a dry run, nor
	// when Publish fails.
	Status *StatusPlan
}

// Refusal is an object refused before it reached the store: its id and version as far as they
// could be read, and the codes of the problems that kept it out, the one to fix first first.
type Refusal struct {
	ID      string
	Version time.Time
	Codes   []string
}

// Deletion is a member's request to delete versions of one object from a collection.
type Deletion struct {
	CollectionID string
	ObjectID     string
	Filter       VersionFilter
	// Member and TokenID say who deletes, and Person who for the member; the ledger entry records
	// them.
	Member  string
	TokenID string
	Person  Person
	// Operator, when set, makes it an operator's deletion, which may remove a tombstone; the ledger
	// entry names the operator as its token.
	Operator string
}

// Transfer is an operator's move of the ownership of a member's objects in a partnership to another
// member, as when an organisation is renamed or its tasks pass to another.
type Transfer struct {
	APIRoot  string
	From, To string
	// ObjectID, when set, moves that object alone; otherwise everything From published first in
	// the partnership moves.
	ObjectID string
	// Operator is who ordered it; the ledger entry names it as its token.
	Operator string
}

// Withdrawal is a publisher's request to withdraw one object from a collection.
type Withdrawal struct {
	CollectionID string
	ObjectID     string
	Member       string
	TokenID      string
	// Person is who withdraws for the member, when a person does; the ledger entry records it.
	Person Person
	// Tombstone builds the version that replaces the object's versions, from the content of the
	// newest and the time of the withdrawal. A zero version means the store versions it by its date
	// added. The store calls it inside its transaction, so it must only compute.
	Tombstone func(newest []byte, at time.Time) (content []byte, version time.Time, err error)
}

// WithdrawalPlan is what a backend does to withdraw an object: nothing when Done (the object is
// already withdrawn, and Outcome says so), otherwise replace its versions with Content at Version.
type WithdrawalPlan struct {
	Done    bool
	Outcome Outcome
	Content []byte
	Version time.Time
}

// Plan decides a withdrawal from every version the collection holds of the object, newest first,
// at the time given. Backends call it inside their transaction, so that they agree on what
// withdrawing means. ErrNotFound if there is no version.
func (w Withdrawal) Plan(newestFirst []Record, at time.Time) (WithdrawalPlan, error) {
	if len(newestFirst) == 0 {
		return WithdrawalPlan{}, fmt.Errorf("object %s: %w", w.ObjectID, ErrNotFound)
	}
	newest := newestFirst[0]
	if len(newestFirst) == 1 && newest.Withdrawn {
		return WithdrawalPlan{Done: true, Outcome: Outcome{Result: Unchanged, Version: newest.Version, DateAdded: newest.DateAdded}}, nil
	}
	content, version, err := w.Tombstone(newest.Content, at)
	if err != nil {
		return WithdrawalPlan{}, fmt.Errorf("build the tombstone of %s: %w", w.ObjectID, err)
	}
	return WithdrawalPlan{Content: content, Version: version}, nil
}

// Page is one page of a query's results in date-added order.
type Page struct {
	Records []Record
	// More reports that further records match; Next then resumes after the last one.
	More bool
	Next string
}

// FirstAdded is the date added of the page's first record; ok is false on an empty page.
func (p Page) FirstAdded() (t time.Time, ok bool) {
	if len(p.Records) == 0 {
		return time.Time{}, false
	}
	return p.Records[0].DateAdded, true
}

// LastAdded is the date added of the page's last record; ok is false on an empty page.
func (p Page) LastAdded() (t time.Time, ok bool) {
	if len(p.Records) == 0 {
		return time.Time{}, false
	}
	return p.Records[len(p.Records)-1].DateAdded, true
}

// Status is a TAXII status resource: the outcome of one add-objects request.
type Status struct {
	ID      string
	APIRoot string
	// Submitter is the member whose request it records; only that member may read it.
	Submitter        string
	Pending          bool
	RequestTimestamp time.Time
	Successes        []StatusDetail
	Failures         []StatusDetail
	Pendings         []StatusDetail
}

// StatusDetail is the outcome for one object in a Status.
type StatusDetail struct {
	ID      string
	Version string
	Message string
}

// StatusPlan is a request's status before the store has decided the outcomes of the objects it
// publishes. It is a plain value, so that the caller who builds the status and the store that
// saves it with the write share data, not code: Complete is the one rule for turning outcomes into
// details, whether the caller applies it to a part it stored itself or the store to the last part.
type StatusPlan struct {
	// Status holds what was recorded before this plan's objects: earlier parts of the request.
	Status Status
	// Details are this plan's objects in submission order. Those not Refused stand, in order, for
	// the objects of the publication the plan goes with.
	Details []PlannedDetail
}

// PlannedDetail is one object of a StatusPlan.
type PlannedDetail struct {
	// Detail is the object's id and version as submitted; for a refused object also the failure
	// message, which is final.
	Detail StatusDetail
	// Refused marks an object that never reached the store.
	Refused bool
	// Warnings, when set, is appended to the message of the object once it is stored.
	Warnings string
	// Discreet reports the object "accepted" whatever the store made of it, short of failing to
	// write it or the caller's own withdrawal of the id, with the version it was sent with: for a
	// caller who may not see the collection's content, whose answer must not tell whether another
	// member's object with that id is there (the ledger records what really happened).
	Discreet bool
}

// Complete returns the plan's status with the outcome of each of its objects recorded: outcomes are
// the store's answers for the publication's objects, in order; an object without one was not
// stored. It leaves p.Status as it was, so that it may be called again (a backend retrying).
func (p StatusPlan) Complete(outcomes []Outcome) Status {
	st := p.Status
	st.Successes = slices.Clone(st.Successes)
	st.Failures = slices.Clone(st.Failures)
	st.Pendings = slices.Clone(st.Pendings)
	p.Record(&st, outcomes)
	return st
}

// Record appends the outcome of each of the plan's objects to st, in place, by the same rule as
// Complete: for a caller keeping a request's status part by part, which would otherwise copy the
// whole status once per part.
func (p StatusPlan) Record(st *Status, outcomes []Outcome) {
	next := 0
	for _, d := range p.Details {
		detail := d.Detail
		if d.Refused {
			st.Failures = append(st.Failures, detail)
			continue
		}
		var o Outcome
		if next < len(outcomes) {
			o = outcomes[next]
		}
		next++
		if d.Discreet && o.Result != NotStored && o.Result != Withdrawn {
			detail.Message = "accepted"
			if d.Warnings != "" {
				detail.Message += "; warnings: " + d.Warnings
			}
			st.Successes = append(st.Successes, detail)
			continue
		}
		detail.Message = o.Result.statusMessage()
		if !o.Result.Stored() {
			st.Failures = append(st.Failures, detail)
			continue
		}
		detail.Version = FormatVersion(o.Version)
		if d.Warnings != "" {
			detail.Message += "; warnings: " + d.Warnings
		}
		st.Successes = append(st.Successes, detail)
	}
}

// statusMessage is what a status says of an object the store answered r for.
func (r Result) statusMessage() string {
	switch r {
	case Added:
		return "added"
	case Unchanged:
		return "already present; nothing changed"
	case KeptExisting:
		return "this version is already stored with other content; the stored copy was kept (a changed object needs a new modified)"
	case Withdrawn:
		return "rejected: [withdrawn] /id: the publisher withdrew this object; the hub does not accept its id again"
	case NotOwner:
		// Says nothing of who the owner is: partners trust each other only in part.
		return "rejected: [not-owner] /id: this object was first published in this partnership by another member; only its publisher may add versions of it (an object of your own needs an id of your own)"
	default:
		return "not stored: the hub could not complete the write; submit the object again"
	}
}

// FormatVersion renders an object version as statuses and TAXII resources give it: with
// milliseconds, as STIX timestamps are written, unless it carries finer digits (versions that are
// dates added), which are then kept.
func FormatVersion(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()%int(time.Millisecond) == 0 {
		return t.Format("2006-01-02T15:04:05.000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000Z")
}
