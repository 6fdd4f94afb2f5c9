package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"time"
)

// Deep verification.
//
// VerifyLedger shows an entry of the ledger changed, removed or moved, but not a change to what the
// entries describe: a stored version replaced or removed in the database, an origin or withdrawal
// cleared (which silently turns the ownership and no-onward-sharing rules, or the refusal of a
// withdrawn id, off), or the audit trail rewritten. VerifyDeep checks those against the ledger:
//
//   - Every stored version is accounted for by the ledger: a publish item added or unchanged, or a
//     withdrawal's tombstone, with the same collection, id and version, not removed by a later
//     delete or withdrawal; and its content matches the digest the ledger recorded for it.
//   - Every version the ledger says a collection holds is stored.
//   - Every origin matches the first publication of its id or fingerprint in its partnership, and
//     every publication the ledger records has its origins.
//   - Every withdrawal matches the first withdraw entry of its id, and every withdraw entry has one.
//   - The audit trail verifies (VerifyAudit).
//
// Versions no ledger entry mentions are reported apart, as unrecorded, not as tampering:
// AddObjects loads data on nobody's behalf and writes no entry, and nothing in the database tells
// such a version from one put there by hand. An operator who never loads data that way treats them
// as tampering.
//
// Ledgers written before items recorded digests and fingerprints still verify: the versions their
// items account for are checked for presence only, and counted; fingerprint origins of members
// whose publications predate fingerprints are counted, not checked.
//
// Memory is bounded whatever the size of the hub: objects, origins and withdrawals are split by a
// hash of their keys into as many shares as it takes for the ledger's view of one share to fit in
// DeepOptions.MaxTracked, and each share is checked in a pass of its own over the ledger and the
// stores. Content is read once, in the first pass.
//
// The check reads the ledger as far as its head when it begins, and skips versions added after it
// began. Writes that land while it runs (a deletion of a version it already passed, say) can still
// show as findings; DeepVerification.LedgerMoved then says so, and a second run tells.

// StoredVersion is one object version as the store holds it, with the digest of its content that
// the store recorded when it stored it.
type StoredVersion struct {
	Record
	SHA256 []byte
}

// WithdrawnObject is the record of an object id withdrawn by its publisher in a partnership: the
// first withdrawal of it there, from the collection named, by the member named.
type WithdrawnObject struct {
	APIRoot      string
	ObjectID     string
	CollectionID string
	Member       string
	At           time.Time
}

// DeepSource is what VerifyDeep reads.
type DeepSource interface {
	LedgerReader
	AuditReader
	APIRoots(ctx context.Context) ([]APIRoot, error)
	Collections(ctx context.Context, root string) ([]Collection, error)
	StoredVersions(ctx context.Context, collectionID string, after time.Time, limit int, withContent bool) ([]StoredVersion, error)
	OriginsAfter(ctx context.Context, after Origin, limit int) ([]Origin, error)
	WithdrawalsAfter(ctx context.Context, after WithdrawnObject, limit int) ([]WithdrawnObject, error)
}

// Checkpoint is the sequence number and hash of an entry of the ledger or of the audit trail, as an
// operator copied it out of the hub earlier (a head, say). A rewrite of the whole chain from that
// entry or before, head included, verifies on its own; it cannot keep the entry's hash.
type Checkpoint struct {
	Seq  int64
	Hash []byte
}

// ParseCheckpoint reads a checkpoint written as SEQ:HASH, the hash in hex, as FormatCheckpoint
// writes it.
func ParseCheckpoint(s string) (Checkpoint, error) {
	seq, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	var cp Checkpoint
	if _, err := fmt.Sscan(seq, &cp.Seq); !ok || err != nil || cp.Seq < 1 {
		return Checkpoint{}, fmt.Errorf("checkpoint %q: want SEQ:HASH with SEQ a positive sequence number", s)
	}
	b, err := hex.DecodeString(hash)
	if err != nil || len(b) != sha256.Size {
		return Checkpoint{}, fmt.Errorf("checkpoint %q: the hash is not %d bytes of hex", s, sha256.Size)
	}
	cp.Hash = b
	return cp, nil
}

// FormatCheckpoint writes a checkpoint as SEQ:HASH, the hash in hex.
func FormatCheckpoint(seq int64, hash []byte) string {
	return fmt.Sprintf("%d:%s", seq, hex.EncodeToString(hash))
}

// DeepOptions tunes VerifyDeep.
type DeepOptions struct {
	// Ledger and Audit, when set, are entries copied out of the hub earlier that must still be in
	// the chains, unchanged.
	Ledger, Audit *Checkpoint
	// MaxTracked bounds how many versions, origins and withdrawals the check holds in memory at
	// once; zero means DefaultMaxTracked. A hub larger than that takes more passes.
	MaxTracked int
	// MaxFindings bounds how many problems, and how many unrecorded versions, the report lists;
	// zero means DefaultMaxFindings. The counts are always complete.
	MaxFindings int
}

// Defaults of DeepOptions. A tracked version costs a few hundred bytes.
const (
	DefaultMaxTracked  = 200_000
	DefaultMaxFindings = 1_000
)

// FindingKind says what deep verification found.
type FindingKind string

const (
	// FindingContentChanged: a stored version's content does not match the digest the ledger, or
	// the store itself, recorded for it.
	FindingContentChanged FindingKind = "content-changed"
	// FindingMissing: the ledger says the collection holds the version; it does not.
	FindingMissing FindingKind = "missing"
	// FindingRemovedInLedger: the version is stored although a ledger entry removed it (a delete,
	// or a withdrawal, which replaces every version but its tombstone).
	FindingRemovedInLedger FindingKind = "removed-in-ledger"
	// FindingUnrecorded: a stored version no ledger entry mentions. Not a problem by itself: see
	// the comment on deep verification.
	FindingUnrecorded FindingKind = "unrecorded"
	// FindingOriginMissing: a publication the ledger records added an id or fingerprint to a
	// partnership, and no origin of it is recorded there.
	FindingOriginMissing FindingKind = "origin-missing"
	// FindingOriginUnbacked: an origin that no publication in the ledger made, or that names
	// another member than the ledger's first publisher.
	FindingOriginUnbacked FindingKind = "origin-unbacked"
	// FindingWithdrawalMissing: the ledger records an id withdrawn, and the hub holds no
	// withdrawal of it, so it would accept the id again.
	FindingWithdrawalMissing FindingKind = "withdrawal-missing"
	// FindingWithdrawalUnbacked: a withdrawal that no withdraw entry in the ledger made, or that
	// names another collection or member than the ledger's first.
	FindingWithdrawalUnbacked FindingKind = "withdrawal-unbacked"
)

// Finding is one thing deep verification found, with what it concerns; fields that do not apply
// are empty.
type Finding struct {
	Kind       FindingKind
	APIRoot    string
	Collection string
	ObjectID   string
	Version    time.Time
	// Key is the origin key (OriginKeyID, OriginKeyFingerprint) of an origin finding.
	Key    string
	Member string
	// Seq is the ledger entry the finding rests on, when there is one.
	Seq int64
	// Detail says what is wrong, in words.
	Detail string
}

// DeepVerification is the result of VerifyDeep.
type DeepVerification struct {
	// OK is true when both chains verify and nothing is wrong. Unrecorded versions and what the
	// legacy counts cover do not make it false.
	OK bool
	// Ledger and Audit are the results of checking the chains, and the checkpoints given.
	Ledger Verification
	Audit  Verification
	// LedgerHead is the entry the check read the ledger up to.
	LedgerHead int64
	// LedgerMoved reports that entries were appended while the check ran: findings about what they
	// wrote may be the check's, not the data's, and a second run tells.
	LedgerMoved bool
	// Versions, Origins and Withdrawals count what was checked; Passes how many passes it took.
	Versions, Origins, Withdrawals int64
	Passes                         int
	// Problems lists up to DeepOptions.MaxFindings problems; ProblemCount counts them all.
	Problems     []Finding
	ProblemCount int64
	// Unrecorded lists up to DeepOptions.MaxFindings versions no ledger entry mentions;
	// UnrecordedCount counts them all.
	Unrecorded      []Finding
	UnrecordedCount int64
	// LegacyVersions counts stored versions the ledger accounts for with entries written before
	// it recorded digests: their presence is checked, their content cannot be.
	LegacyVersions int64
	// LegacyOrigins counts fingerprint origins of members whose publications the ledger recorded
	// before it recorded fingerprints, which cannot be checked.
	LegacyOrigins int64
	// DerivedOrigins counts origins the store derived, when it adopted the current fingerprint
	// scheme, from origins the ledger backs (see Origin.DerivedFrom).
	DerivedOrigins int64
	// DeletedCollections lists the collections the ledger names that no longer exist: an operator
	// deleted them with their objects, which the audit trail records.
	DeletedCollections []string
}

// Page sizes of the reads VerifyDeep makes.
const (
	deepContentPage  = 500
	deepManifestPage = 5_000
	deepRecordPage   = 5_000
)

// VerifyDeep checks that the stored objects, origins and withdrawals agree with the ledger, and that
// both the ledger and the audit trail verify, and names every difference it finds: see the comment
// on deep verification above.
func VerifyDeep(ctx context.Context, src DeepSource, opts DeepOptions) (DeepVerification, error) {
	opts.MaxTracked = cmp.Or(opts.MaxTracked, DefaultMaxTracked)
	opts.MaxFindings = cmp.Or(opts.MaxFindings, DefaultMaxFindings)
	c := &deepCheck{src: src, opts: opts}
	if err := c.run(ctx); err != nil {
		return DeepVerification{}, fmt.Errorf("store: deep verification: %w", err)
	}
	r := c.report
	r.OK = r.Ledger.OK && r.Audit.OK && r.ProblemCount == 0
	return r, nil
}

type deepCheck struct {
	src    DeepSource
	opts   DeepOptions
	report DeepVerification
	// head is the last ledger entry the check reads; versions added after start are skipped.
	head  int64
	start time.Time
	// rootOf maps each existing collection to its API root.
	rootOf map[string]string
	// directories are the members collections, which hold the identities the hub writes itself from
	// its member records (and writes again when they differ), on nobody's behalf: their versions
	// are not the ledger's to account for.
	directories map[string]bool
	// legacyPublishers are the (root, member) pairs with publications recorded without digests.
	legacyPublishers map[rootMember]bool
	passes           int
}

type rootMember struct{ root, member string }

func (c *deepCheck) run(ctx context.Context) error {
	// The time first, then the head: a version added before start has its entry at or before head.
	c.start = time.Now()
	head, err := c.src.LedgerHead(ctx)
	if err != nil {
		return fmt.Errorf("read ledger head: %w", err)
	}
	c.head, c.report.LedgerHead = head.Seq, head.Seq
	if c.report.Ledger, err = VerifyLedger(ctx, c.src); err != nil {
		return err
	}
	if c.report.Audit, err = VerifyAudit(ctx, c.src); err != nil {
		return err
	}
	if c.report.Audit.OK && c.opts.Audit != nil {
		if err := c.checkAuditCheckpoint(ctx, *c.opts.Audit); err != nil {
			return err
		}
	}
	if err := c.listCollections(ctx); err != nil {
		return err
	}
	tracked, err := c.survey(ctx)
	if err != nil {
		return err
	}
	c.passes = max(1, int((tracked+int64(c.opts.MaxTracked)-1)/int64(c.opts.MaxTracked)))
	c.report.Passes = c.passes
	for share := range c.passes {
		if err := c.pass(ctx, share); err != nil {
			return err
		}
	}
	now, err := c.src.LedgerHead(ctx)
	if err != nil {
		return fmt.Errorf("read ledger head: %w", err)
	}
	c.report.LedgerMoved = now.Seq != c.head
	return nil
}

func (c *deepCheck) listCollections(ctx context.Context) error {
	roots, err := c.src.APIRoots(ctx)
	if err != nil {
		return fmt.Errorf("list API roots: %w", err)
	}
	c.rootOf, c.directories = map[string]string{}, map[string]bool{}
	for _, r := range roots {
		colls, err := c.src.Collections(ctx, r.Slug)
		if err != nil {
			return fmt.Errorf("list collections of %s: %w", r.Slug, err)
		}
		for _, col := range colls {
			c.rootOf[col.ID] = r.Slug
			if col.Members {
				c.directories[col.ID] = true
			}
		}
	}
	return nil
}

// eachEntry calls fn with every ledger entry up to the head, in order.
func (c *deepCheck) eachEntry(ctx context.Context, fn func(LedgerEntry)) error {
	for after := int64(0); after < c.head; {
		batch, err := c.src.Ledger(ctx, after, verifyBatch)
		if err != nil {
			return fmt.Errorf("read ledger after %d: %w", after, err)
		}
		for _, e := range batch {
			if e.Seq > c.head {
				return nil
			}
			fn(e)
			after = e.Seq
		}
		if len(batch) < verifyBatch {
			return nil
		}
	}
	return nil
}

// survey reads the ledger once to size the passes (it counts every item that a pass may track,
// which bounds the distinct ones), to find the collections it names that are gone and the
// publishers whose entries predate digests, and to check the ledger checkpoint.
func (c *deepCheck) survey(ctx context.Context) (tracked int64, err error) {
	c.legacyPublishers = map[rootMember]bool{}
	gone := map[string]bool{}
	var checkpointHash []byte
	err = c.eachEntry(ctx, func(e LedgerEntry) {
		if cp := c.opts.Ledger; cp != nil && e.Seq == cp.Seq {
			checkpointHash = e.Hash
		}
		if e.Kind == LedgerPull || e.Kind == LedgerProbe || e.Kind == LedgerAttest {
			return
		}
		// A transfer names a partnership, no collection.
		if _, ok := c.rootOf[e.Collection]; !ok && e.Collection != "" {
			gone[e.Collection] = true
		}
		for _, it := range e.Items {
			tracked++
			if e.Kind == LedgerPublish && it.Verdict == VerdictAdded {
				tracked += 2 // its origins
				if it.SHA256 == nil && e.Member != "" {
					c.legacyPublishers[rootMember{e.APIRoot, e.Member}] = true
				}
			}
		}
	})
	if err != nil {
		return 0, err
	}
	c.report.DeletedCollections = slices.Sorted(maps.Keys(gone))
	if cp := c.opts.Ledger; cp != nil && c.report.Ledger.OK {
		switch {
		case checkpointHash == nil:
			c.report.Ledger = Verification{Entries: c.report.Ledger.Entries, BrokenAt: cp.Seq, Problem: fmt.Sprintf(
				"entry %d, copied out of the hub earlier, is not in the ledger, which ends at %d: the ledger was cut back", cp.Seq, c.head)}
		case !bytes.Equal(checkpointHash, cp.Hash):
			c.report.Ledger = Verification{Entries: c.report.Ledger.Entries, BrokenAt: cp.Seq, Problem: fmt.Sprintf(
				"entry %d does not have the hash copied out of the hub earlier: the ledger was rewritten from it or before", cp.Seq)}
		}
	}
	return tracked, nil
}

func (c *deepCheck) checkAuditCheckpoint(ctx context.Context, cp Checkpoint) error {
	fail := func(format string, args ...any) {
		c.report.Audit = Verification{Entries: c.report.Audit.Entries, BrokenAt: cp.Seq, Problem: fmt.Sprintf(format, args...)}
	}
	batch, err := c.src.Audit(ctx, cp.Seq-1, 1)
	if err != nil {
		return fmt.Errorf("read audit entry %d: %w", cp.Seq, err)
	}
	switch {
	case len(batch) == 0 || batch[0].Seq != cp.Seq:
		fail("entry %d, copied out of the hub earlier, is not in the audit trail: the trail was cut back or rewritten", cp.Seq)
	case !bytes.Equal(batch[0].Hash, cp.Hash):
		fail("entry %d does not have the hash copied out of the hub earlier: the trail was rewritten from it or before", cp.Seq)
	}
	return nil
}

// share is which pass checks the thing the parts name.
func (c *deepCheck) share(parts ...string) int {
	if c.passes == 1 {
		return 0
	}
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int(h.Sum64() % uint64(c.passes))
}

func (c *deepCheck) found(f Finding) {
	if f.Kind == FindingUnrecorded {
		c.report.UnrecordedCount++
		if len(c.report.Unrecorded) < c.opts.MaxFindings {
			c.report.Unrecorded = append(c.report.Unrecorded, f)
		}
		return
	}
	c.report.ProblemCount++
	if len(c.report.Problems) < c.opts.MaxFindings {
		c.report.Problems = append(c.report.Problems, f)
	}
}

// objectKey names one object in one collection.
type objectKey struct{ collection, id string }

// versionState is what the ledger, read in order, says of one version.
type versionState struct {
	present bool
	// digest is the content's digest, when the entry that stored it recorded one.
	digest []byte
	// seq is the last entry that spoke of the version.
	seq  int64
	seen bool
}

// originClaim is the first publication the ledger records of one origin key in one partnership.
type originClaim struct {
	seq    int64
	member string
	seen   bool
}

// withdrawalClaim is the first withdraw entry the ledger records of one object id in one
// partnership: the withdrawal the store keeps.
type withdrawalClaim struct {
	seq                int64
	collection, member string
	seen               bool
}

// passState is the ledger's view of one share.
type passState struct {
	objects     map[objectKey]map[int64]*versionState
	origins     map[originKey]*originClaim
	withdrawals map[withdrawalKey]*withdrawalClaim
}

// withdrawalKey names a withdrawal: withdrawals hold per partnership.
type withdrawalKey struct{ root, objectID string }

func (c *deepCheck) pass(ctx context.Context, share int) error {
	st := passState{objects: map[objectKey]map[int64]*versionState{}, origins: map[originKey]*originClaim{},
		withdrawals: map[withdrawalKey]*withdrawalClaim{}}
	if err := c.eachEntry(ctx, func(e LedgerEntry) { c.apply(st, share, e) }); err != nil {
		return err
	}
	if err := c.checkVersions(ctx, st, share); err != nil {
		return err
	}
	if err := c.checkOrigins(ctx, st, share); err != nil {
		return err
	}
	return c.checkWithdrawals(ctx, st, share)
}

// apply records what entry e says of the share's objects, origins and withdrawals.
func (c *deepCheck) apply(st passState, share int, e LedgerEntry) {
	_, exists := c.rootOf[e.Collection]
	version := func(id string, v time.Time) *versionState {
		k := objectKey{e.Collection, id}
		if st.objects[k] == nil {
			st.objects[k] = map[int64]*versionState{}
		}
		vs := st.objects[k][v.UnixMicro()]
		if vs == nil {
			vs = &versionState{}
			st.objects[k][v.UnixMicro()] = vs
		}
		vs.seq = e.Seq
		return vs
	}
	switch e.Kind {
	case LedgerPublish:
		for _, it := range e.Items {
			if it.Verdict == VerdictAdded && e.Member != "" {
				c.claimOrigin(st, share, e, OriginKeyID(it.ID))
				if it.Fingerprint != "" {
					c.claimOrigin(st, share, e, OriginKeyFingerprint(it.Fingerprint))
				}
			}
			if !exists || c.share(e.Collection, it.ID) != share {
				continue
			}
			switch it.Verdict {
			case VerdictAdded:
				vs := version(it.ID, it.Version)
				vs.present, vs.digest = true, it.SHA256
			case VerdictUnchanged:
				// The collection held the version with this content; an entry from before digests
				// says only that it held it.
				vs := version(it.ID, it.Version)
				vs.present = true
				if it.SHA256 != nil {
					vs.digest = it.SHA256
				}
			}
		}
	case LedgerDelete, LedgerPurge:
		for _, it := range e.Items {
			if exists && c.share(e.Collection, it.ID) == share {
				version(it.ID, it.Version).present = false
			}
		}
	case LedgerTransfer:
		// An operator moved the origins (and with them the withdrawals) of the keys listed from
		// the member named in Endpoint to the entry's member.
		for _, it := range e.Items {
			if cl := st.origins[originKey{e.APIRoot, transferredKey(it)}]; cl != nil && cl.member == e.Endpoint {
				cl.member = e.Member
			}
			if cl := st.withdrawals[withdrawalKey{e.APIRoot, it.ID}]; it.ID != "" && cl != nil && cl.member == e.Endpoint {
				cl.member = e.Member
			}
		}
	case LedgerWithdraw:
		for _, it := range e.Items {
			k := withdrawalKey{e.APIRoot, it.ID}
			if _, claimed := st.withdrawals[k]; !claimed && c.share(e.APIRoot, it.ID) == share {
				st.withdrawals[k] = &withdrawalClaim{seq: e.Seq, collection: e.Collection, member: e.Member}
			}
			if !exists || c.share(e.Collection, it.ID) != share {
				continue
			}
			// The tombstone replaced every version of the object.
			for _, vs := range st.objects[objectKey{e.Collection, it.ID}] {
				vs.present, vs.seq = false, e.Seq
			}
			vs := version(it.ID, it.Version)
			vs.present, vs.digest = true, it.SHA256
		}
	}
}

func (c *deepCheck) claimOrigin(st passState, share int, e LedgerEntry, key string) {
	if c.share(e.APIRoot, key) != share {
		return
	}
	k := originKey{e.APIRoot, key}
	if _, claimed := st.origins[k]; !claimed {
		st.origins[k] = &originClaim{seq: e.Seq, member: e.Member}
	}
}

// checkVersions walks every stored version of every collection: in the first pass it checks each
// one's content against the digest the store recorded, and in every pass it checks the share's
// versions against the ledger, then reports those of the share's that the ledger has and the
// store has not.
func (c *deepCheck) checkVersions(ctx context.Context, st passState, share int) error {
	withContent := share == 0
	limit := deepManifestPage
	if withContent {
		limit = deepContentPage
	}
	for _, coll := range slices.Sorted(maps.Keys(c.rootOf)) {
		if c.directories[coll] {
			continue
		}
		root := c.rootOf[coll]
		for after := (time.Time{}); ; {
			page, err := c.src.StoredVersions(ctx, coll, after, limit, withContent)
			if err != nil {
				return fmt.Errorf("read versions of %s: %w", coll, err)
			}
			for _, sv := range page {
				after = sv.DateAdded
				if sv.DateAdded.After(c.start) {
					continue
				}
				if withContent {
					c.report.Versions++
					if sum := sha256.Sum256(sv.Content); !bytes.Equal(sum[:], sv.SHA256) {
						c.found(Finding{Kind: FindingContentChanged, APIRoot: root, Collection: coll, ObjectID: sv.ID,
							Version: sv.Version, Detail: "its content does not match the digest stored with it: it was changed in the database"})
					}
				}
				if c.share(coll, sv.ID) == share {
					c.checkVersion(st, root, coll, sv)
				}
			}
			if len(page) < limit {
				break
			}
		}
	}
	var missing []Finding
	for k, versions := range st.objects {
		for v, vs := range versions {
			if vs.present && !vs.seen {
				missing = append(missing, Finding{Kind: FindingMissing, APIRoot: c.rootOf[k.collection], Collection: k.collection,
					ObjectID: k.id, Version: time.UnixMicro(v).UTC(), Seq: vs.seq,
					Detail: fmt.Sprintf("ledger entry %d says the collection holds this version; it is not stored: it was removed from the database", vs.seq)})
			}
		}
	}
	slices.SortFunc(missing, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Collection, b.Collection), cmp.Compare(a.ObjectID, b.ObjectID), a.Version.Compare(b.Version))
	})
	for _, f := range missing {
		c.found(f)
	}
	return nil
}

func (c *deepCheck) checkVersion(st passState, root, coll string, sv StoredVersion) {
	f := Finding{APIRoot: root, Collection: coll, ObjectID: sv.ID, Version: sv.Version}
	vs := st.objects[objectKey{coll, sv.ID}][sv.Version.UnixMicro()]
	if vs == nil {
		f.Kind, f.Detail = FindingUnrecorded, "no ledger entry mentions this version: it was loaded without a publication, or put in the database by hand"
		c.found(f)
		return
	}
	vs.seen = true
	f.Seq = vs.seq
	switch {
	case !vs.present:
		f.Kind, f.Detail = FindingRemovedInLedger, fmt.Sprintf("ledger entry %d removed this version, yet it is stored: it was put back in the database", vs.seq)
		c.found(f)
	case vs.digest == nil:
		c.report.LegacyVersions++
	case !bytes.Equal(vs.digest, sv.SHA256):
		f.Kind, f.Detail = FindingContentChanged, fmt.Sprintf("its content is not the content ledger entry %d recorded: it was replaced in the database", vs.seq)
		c.found(f)
	}
}

// eachAfter calls visit for every record read reads, page by page, each page after the last record
// of the one before; what names the records after one, for errors.
func eachAfter[T any](ctx context.Context, read func(context.Context, T, int) ([]T, error), what func(after T) string, visit func(T)) error {
	var after T
	for {
		page, err := read(ctx, after, deepRecordPage)
		if err != nil {
			return fmt.Errorf("read %s: %w", what(after), err)
		}
		for _, r := range page {
			after = r
			visit(r)
		}
		if len(page) < deepRecordPage {
			return nil
		}
	}
}

// checkOrigins walks every origin and checks the share's against the ledger's publications, then
// reports the publications of the share that have no origin.
func (c *deepCheck) checkOrigins(ctx context.Context, st passState, share int) error {
	err := eachAfter(ctx, c.src.OriginsAfter, func(after Origin) string {
		return fmt.Sprintf("origins after %s in %s", after.Key, after.APIRoot)
	}, func(o Origin) {
		if c.share(o.APIRoot, o.Key) != share {
			return
		}
		c.report.Origins++
		f := Finding{Kind: FindingOriginUnbacked, APIRoot: o.APIRoot, Key: o.Key, Member: o.Member}
		cl := st.origins[originKey{o.APIRoot, o.Key}]
		if o.DerivedFrom != "" {
			// Re-keyed from an origin of an older fingerprint scheme: the publication that
			// made that origin backs this one, if it made it for the same member. A later
			// publication of the same content claimed a key that was already taken.
			if cl != nil {
				cl.seen = true
			}
			cl = st.origins[originKey{o.APIRoot, o.DerivedFrom}]
			switch {
			case cl != nil && cl.member == o.Member,
				cl == nil && c.legacyPublishers[rootMember{o.APIRoot, o.Member}]:
				c.report.DerivedOrigins++
			case cl == nil:
				f.Detail = fmt.Sprintf("it was derived from the origin of %s, which no publication in the ledger made: it was put in the database by hand", o.DerivedFrom)
				c.found(f)
			default:
				f.Seq = cl.seq
				f.Detail = fmt.Sprintf("the origin names %s, but ledger entry %d records %s publishing the content it was derived from first: the origin was changed in the database",
					o.Member, cl.seq, cl.member)
				c.found(f)
			}
			return
		}
		switch {
		case cl == nil && strings.HasPrefix(o.Key, "fp:") && c.legacyPublishers[rootMember{o.APIRoot, o.Member}]:
			c.report.LegacyOrigins++
		case cl == nil:
			f.Detail = "no publication in the ledger made this origin: it was put in the database by hand"
			c.found(f)
		case cl.member != o.Member && strings.HasPrefix(o.Key, "fp:") && c.legacyPublishers[rootMember{o.APIRoot, o.Member}]:
			// The origin's publication may be one recorded without its fingerprint, before the
			// one the ledger shows.
			cl.seen = true
			c.report.LegacyOrigins++
		case cl.member != o.Member:
			cl.seen = true
			f.Seq = cl.seq
			f.Detail = fmt.Sprintf("the origin names %s, but ledger entry %d records %s publishing it first: the origin was changed in the database",
				o.Member, cl.seq, cl.member)
			c.found(f)
		default:
			cl.seen = true
		}
	})
	if err != nil {
		return err
	}
	var missing []Finding
	for k, cl := range st.origins {
		if !cl.seen {
			missing = append(missing, Finding{Kind: FindingOriginMissing, APIRoot: k.root, Key: k.key, Member: cl.member, Seq: cl.seq,
				Detail: fmt.Sprintf("ledger entry %d records %s publishing it first in %s, and no origin of it is recorded: it was cleared in the database, which turns the ownership and no-onward-sharing rules off for it",
					cl.seq, cl.member, k.root)})
		}
	}
	slices.SortFunc(missing, func(a, b Finding) int { return cmp.Or(cmp.Compare(a.APIRoot, b.APIRoot), cmp.Compare(a.Key, b.Key)) })
	for _, f := range missing {
		c.found(f)
	}
	return nil
}

// checkWithdrawals walks every withdrawal and checks the share's against the ledger's withdraw
// entries, then reports the withdraw entries of the share that have no withdrawal.
func (c *deepCheck) checkWithdrawals(ctx context.Context, st passState, share int) error {
	err := eachAfter(ctx, c.src.WithdrawalsAfter, func(after WithdrawnObject) string {
		return fmt.Sprintf("withdrawals after %s %q", after.APIRoot, after.ObjectID)
	}, func(w WithdrawnObject) {
		if c.share(w.APIRoot, w.ObjectID) != share {
			return
		}
		c.report.Withdrawals++
		f := Finding{Kind: FindingWithdrawalUnbacked, APIRoot: w.APIRoot, Collection: w.CollectionID,
			ObjectID: w.ObjectID, Member: w.Member}
		cl := st.withdrawals[withdrawalKey{w.APIRoot, w.ObjectID}]
		switch {
		case cl == nil:
			f.Detail = "no withdraw entry in the ledger made this withdrawal: it was put in the database by hand"
			c.found(f)
		case cl.collection != w.CollectionID || cl.member != w.Member:
			cl.seen = true
			f.Seq = cl.seq
			f.Detail = fmt.Sprintf("the withdrawal names collection %s and member %s, but ledger entry %d records it withdrawn from %s by %s: it was changed in the database",
				w.CollectionID, w.Member, cl.seq, cl.collection, cl.member)
			c.found(f)
		default:
			cl.seen = true
		}
	})
	if err != nil {
		return err
	}
	var missing []Finding
	for k, cl := range st.withdrawals {
		if !cl.seen {
			missing = append(missing, Finding{Kind: FindingWithdrawalMissing, APIRoot: k.root, Collection: cl.collection,
				ObjectID: k.objectID, Member: cl.member, Seq: cl.seq,
				Detail: fmt.Sprintf("ledger entry %d records it withdrawn, and no withdrawal of it is recorded: it was cleared in the database, and the hub would accept the id again", cl.seq)})
		}
	}
	slices.SortFunc(missing, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.APIRoot, b.APIRoot), cmp.Compare(a.ObjectID, b.ObjectID))
	})
	for _, f := range missing {
		c.found(f)
	}
	return nil
}
