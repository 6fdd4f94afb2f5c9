package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// LedgerKind says what a ledger entry records.
type LedgerKind string

const (
	// LedgerPublish records one add-objects request (or, for a request the backend writes in several
	// transactions, the part written in one): every object version with its verdict.
	LedgerPublish LedgerKind = "publish"
	// LedgerPull records one page served to a member: every object version on it.
	LedgerPull LedgerKind = "pull"
	// LedgerWithdraw records a publisher withdrawing an object: the version that replaced it.
	LedgerWithdraw LedgerKind = "withdraw"
	// LedgerDelete records a member deleting versions of its object: the versions removed.
	LedgerDelete LedgerKind = "delete"
	// LedgerTransfer records an operator moving the ownership of objects from one member to another:
	// Member is the new owner, TokenID the operator, Endpoint the former owner, the items the ids.
	LedgerTransfer LedgerKind = "transfer"
	// LedgerProbe records a dry run: what a member asked about, and what the hub would have done,
	// since an answer tells the member about the collection as a pull does.
	LedgerProbe LedgerKind = "probe"
	// LedgerAttest records a member declaring that it holds, independently, content that another
	// member first published under a partnership forbidding onward sharing, and posting it all the
	// same: APIRoot is that partnership (whose publisher sees the entry among its pulls),
	// Collection the collection posted into, Endpoint the partnership posted into, and each item
	// the object posted (ID, Version) with the origin key it matched (Fingerprint, for a
	// fingerprint's key; else ID is that key's object id).
	LedgerAttest LedgerKind = "attest"
)

// ContentEndpoints are the endpoints whose pulls serve objects' content, as LastPulls counts them:
// a manifest or a versions list names objects without giving them.
var contentEndpoints = []string{"objects", "object"}

// ContentEndpoints returns the endpoints whose pulls serve content (see Store.LastPulls).
func ContentEndpoints() []string { return slices.Clone(contentEndpoints) }

// LedgerEntry is one entry of the hub's append-only, hash-chained ledger of publishes and pulls.
// Seq, At, PrevHash and Hash are assigned by the store when it appends the entry.
type LedgerEntry struct {
	// Seq numbers entries from 1 with no gaps, in the order they were appended.
	Seq        int64
	At         time.Time
	Kind       LedgerKind
	Member     string
	TokenID    string
	APIRoot    string
	Collection string
	// Endpoint names what a pull read: objects, manifest, object or versions.
	Endpoint string
	Items    []LedgerItem
	// Pulled, in a compact pull entry, stands for the versions served, whose items are then kept
	// apart (see pulls.go); nil in every other entry. A caller of RecordPull may set its FirstAdded
	// and LastAdded; the store sets the rest.
	Pulled *PullSummary
	// Person is who acted for the member, when a person signed in to the console did: the ledger
	// attributes the exchange to the person as well as to the organisation. Zero otherwise.
	Person Person
	// PrevHash is the hash of the entry before, or GenesisHash for the first.
	PrevHash []byte
	// Hash commits to every field above: see ComputeHash.
	Hash []byte
}

// LedgerItem is one object version in a ledger entry.
type LedgerItem struct {
	ID string
	// Version is the version concerned; zero for an object refused before it had one.
	Version time.Time
	// Verdict is, for a publish, what became of the version: added, unchanged, kept-existing, or
	// the reason codes it was refused with, such as "refused: personal-data". Empty in pulls.
	Verdict string
	// SHA256 is the SHA-256 of the content the collection holds for the version, in the items whose
	// version the entry stored or found stored with that content: publish items added or unchanged,
	// and a withdrawal's tombstone. It lets VerifyDeep tell a stored version changed in the database
	// from one the ledger accounts for. Nil in other items, and in entries appended before the
	// ledger recorded it.
	SHA256 []byte
	// Fingerprint is the content fingerprint (see Object.Fingerprint) of a version a publish added,
	// which the publication recorded an origin for; VerifyDeep checks that origin. Empty in other
	// items, and in entries appended before the ledger recorded it.
	Fingerprint string
}

// Person is someone acting for a member (or an operator) through the console, as the identity
// provider that signed them in named them: Issuer and Subject identify them for good, Name (the
// e-mail or name claim) is what a reader recognises.
type Person struct {
	Issuer  string
	Subject string
	Name    string
}

// IsZero reports whether no person is named.
func (p Person) IsZero() bool { return p == Person{} }

// String is how the hub writes a person in logs and the audit trail: the name, then the issuer and
// subject that identify them.
func (p Person) String() string {
	if p.IsZero() {
		return ""
	}
	return p.Name + " <" + p.Subject + " at " + p.Issuer + ">"
}

// GenesisHash returns what the first entry's PrevHash holds: sha256.Size zero bytes. Each call
// returns a fresh slice, so no caller can change the value another relies on.
func GenesisHash() []byte { return make([]byte, sha256.Size) }

// ledgerHashVersion names the encoding ComputeHash hashes; a new encoding needs a new name, so that
// entries hashed the old way still verify. Fields added to the encoding since are left out of it
// when empty, so that an entry that does not use them encodes, and hashes, as it always did.
const ledgerHashVersion = "taxiihub-ledger-v1"

// hashedEntry is what ComputeHash encodes. Its fields are in a fixed order and hold only strings and
// integers, so that its JSON encoding is the same on every platform and backend.
type hashedEntry struct {
	V          string       `json:"v"`
	Seq        int64        `json:"seq"`
	At         int64        `json:"at"` // Unix microseconds, the precision the store keeps
	Kind       string       `json:"kind"`
	Member     string       `json:"member"`
	TokenID    string       `json:"token"`
	APIRoot    string       `json:"root"`
	Collection string       `json:"collection"`
	Endpoint   string       `json:"endpoint"`
	Items      []hashedItem `json:"items"`
	PrevHash   string       `json:"prev"`
	// Added later: omitted when nil (see ledgerHashVersion).
	Pulled *hashedPull `json:"pulled,omitempty"`
	// Added later: omitted when empty (see ledgerHashVersion).
	Person *hashedPerson `json:"person,omitempty"`
}

type hashedPull struct {
	Count  int    `json:"n"`
	SHA256 string `json:"sha256"` // hex
	First  int64  `json:"first"`  // Unix microseconds; 0 for none
	Last   int64  `json:"last"`
}

type hashedPerson struct {
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	Name    string `json:"name"`
}

type hashedItem struct {
	ID      string `json:"id"`
	Version int64  `json:"version"` // Unix microseconds; 0 for none
	Verdict string `json:"verdict"`
	// Added later: omitted when empty (see ledgerHashVersion).
	SHA256      string `json:"sha256,omitempty"` // hex
	Fingerprint string `json:"fp,omitempty"`
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// ComputeHash is the SHA-256 of the entry's fields other than Hash, PrevHash included: the JSON
// encoding of hashedEntry. Changing any field of an entry, or moving it to another place in the
// chain, changes the hash that the next entry commits to.
func (e LedgerEntry) ComputeHash() []byte {
	h := hashedEntry{
		V: ledgerHashVersion, Seq: e.Seq, At: micros(e.At), Kind: string(e.Kind), Member: e.Member,
		TokenID: e.TokenID, APIRoot: e.APIRoot, Collection: e.Collection, Endpoint: e.Endpoint,
		Items: make([]hashedItem, len(e.Items)), PrevHash: hex.EncodeToString(e.PrevHash),
	}
	for i, it := range e.Items {
		h.Items[i] = hashedItem{ID: it.ID, Version: micros(it.Version), Verdict: it.Verdict,
			SHA256: hex.EncodeToString(it.SHA256), Fingerprint: it.Fingerprint}
	}
	if p := e.Pulled; p != nil {
		h.Pulled = &hashedPull{Count: p.Count, SHA256: hex.EncodeToString(p.SHA256), First: micros(p.FirstAdded), Last: micros(p.LastAdded)}
	}
	if !e.Person.IsZero() {
		h.Person = &hashedPerson{Issuer: e.Person.Issuer, Subject: e.Person.Subject, Name: e.Person.Name}
	}
	body, err := json.Marshal(h)
	if err != nil {
		// Strings and integers only: Marshal cannot fail.
		panic(fmt.Sprintf("store: encode ledger entry: %v", err))
	}
	sum := sha256.Sum256(body)
	return sum[:]
}

// Chain completes an entry about to be appended after the entry with sequence number prevSeq and hash
// prevHash (0 and GenesisHash for the first): it sets Seq, At (to the microsecond, in UTC), PrevHash
// and Hash. Backends call it under the lock that serializes their appends.
func (e LedgerEntry) Chain(prevSeq int64, prevHash []byte, at time.Time) LedgerEntry {
	e.Seq = prevSeq + 1
	e.At = time.UnixMicro(at.UnixMicro()).UTC()
	e.PrevHash = bytes.Clone(prevHash)
	e.Hash = e.ComputeHash()
	return e
}

// LedgerHead is where the ledger ends, as the store keeps it apart from the entries: the sequence
// number and hash of the last entry appended. Comparing it with the last entry found detects entries
// removed from the end, which the chain alone cannot show.
type LedgerHead struct {
	Seq  int64
	Hash []byte
}

// LedgerReader is what VerifyLedger and Pulls read.
type LedgerReader interface {
	// Ledger returns up to limit entries with a sequence number above after, in order.
	Ledger(ctx context.Context, after int64, limit int) ([]LedgerEntry, error)
	// LedgerHead returns where the ledger ends.
	LedgerHead(ctx context.Context) (LedgerHead, error)
}

// Verification is the result of checking the ledger's chain.
type Verification struct {
	// Entries is how many entries were checked.
	Entries int64
	// OK is true when every entry is intact, in place, and none is missing.
	OK bool
	// BrokenAt is the sequence number of the first entry that does not verify (or is missing).
	BrokenAt int64
	// Problem says what is wrong with it.
	Problem string
}

// verifyBatch is how many entries VerifyLedger reads at a time.
const verifyBatch = 1000

// VerifyLedger walks the whole ledger in order and checks that each entry is numbered one after the
// entry before it, commits to that entry's hash, and hashes to what it records; and that the last
// entry is the head the store recorded. It reports the first entry that fails.
//
// Editing an entry breaks its own hash; deleting one leaves a gap in the numbers; moving one breaks
// both its number and the link of the entry after. Rewriting the whole chain from some entry on,
// head included, is not detected: that needs a copy of a later hash kept elsewhere.
func VerifyLedger(ctx context.Context, src LedgerReader) (Verification, error) {
	head, err := src.LedgerHead(ctx)
	if err != nil {
		return Verification{}, fmt.Errorf("store: read ledger head: %w", err)
	}
	v := Verification{OK: true}
	prevSeq, prevHash := int64(0), GenesisHash()
	broken := func(seq int64, format string, args ...any) (Verification, error) {
		v.OK, v.BrokenAt, v.Problem = false, seq, fmt.Sprintf(format, args...)
		return v, nil
	}
	for {
		batch, err := src.Ledger(ctx, prevSeq, verifyBatch)
		if err != nil {
			return Verification{}, fmt.Errorf("store: read ledger after %d: %w", prevSeq, err)
		}
		for _, e := range batch {
			v.Entries++
			switch {
			case e.Seq != prevSeq+1:
				return broken(prevSeq+1, "entry %d is missing: the entry after %d is numbered %d", prevSeq+1, prevSeq, e.Seq)
			case !bytes.Equal(e.PrevHash, prevHash):
				return broken(e.Seq, "entry %d does not follow entry %d: it commits to another hash", e.Seq, prevSeq)
			case !bytes.Equal(e.ComputeHash(), e.Hash):
				return broken(e.Seq, "entry %d was altered: its content does not match its hash", e.Seq)
			}
			prevSeq, prevHash = e.Seq, e.Hash
		}
		if len(batch) < verifyBatch {
			break
		}
	}
	if prevSeq > head.Seq {
		// Entries appended since the head was read are not beyond the end: the head has moved.
		if head, err = src.LedgerHead(ctx); err != nil {
			return Verification{}, fmt.Errorf("store: read ledger head: %w", err)
		}
		if head.Seq > prevSeq {
			return v, nil
		}
	}
	switch {
	case head.Seq > prevSeq:
		return broken(prevSeq+1, "entries %d to %d are missing: the ledger ends at %d but the store appended up to %d",
			prevSeq+1, head.Seq, prevSeq, head.Seq)
	case head.Seq < prevSeq:
		return broken(head.Seq+1, "entry %d lies beyond the recorded end of the ledger (%d)", head.Seq+1, head.Seq)
	case head.Seq > 0 && !bytes.Equal(head.Hash, prevHash):
		return broken(prevSeq, "entry %d is not the entry the store appended last: the hashes differ", prevSeq)
	}
	return v, nil
}

// OriginReader finds who first published objects and content, in every partnership.
type OriginReader interface {
	// Origins returns the origins recorded for any of the keys, in any API root.
	Origins(ctx context.Context, keys []string) ([]Origin, error)
}

// PullQuery selects the pulls Pulls reports.
type PullQuery struct {
	// Publisher, when set, keeps only the pulls of objects that member published first in the
	// partnership they were pulled from, and only those objects of each pull.
	Publisher string
	// APIRoot, when set, keeps only pulls from that partnership.
	APIRoot string
	// After resumes after this ledger sequence number.
	After int64
	// Limit is the most entries to return, 1 to MaxLimit.
	Limit int
}

// PullPage is one page of pulls.
type PullPage struct {
	Entries []LedgerEntry
	// Next is the sequence number to resume after. It may lie beyond the last entry returned: Pulls
	// reads a bounded part of the ledger per call.
	Next int64
	// More reports that the ledger goes on beyond Next.
	More bool
}

// pullScanBatch and pullScanBudget bound the ledger entries one Pulls call reads.
const (
	pullScanBatch  = 500
	pullScanBudget = 20 * pullScanBatch
)

// PullSource is what Pulls reads.
type PullSource interface {
	LedgerReader
	OriginReader
	PullDetailReader
}

// Pulls returns the pull and attest entries of the ledger after q.After that q selects: who
// received a publisher's content, and who declared holding it independently when posting it
// elsewhere. For a publisher, each entry keeps only the items that member published first in the
// entry's partnership, and entries without such items are left out. It reads at most a bounded number of ledger entries per call, so
// a page may be short, or empty, with More set.
func Pulls(ctx context.Context, src PullSource, q PullQuery) (PullPage, error) {
	if q.Limit < 1 || q.Limit > MaxLimit {
		return PullPage{}, &QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", q.Limit, MaxLimit)}
	}
	page := PullPage{Entries: []LedgerEntry{}, Next: q.After}
	for scanned := 0; scanned < pullScanBudget; {
		batch, err := src.Ledger(ctx, page.Next, pullScanBatch)
		if err != nil {
			return PullPage{}, fmt.Errorf("store: read ledger after %d: %w", page.Next, err)
		}
		scanned += len(batch)
		// Compact pulls get their ids back while the details are kept; past the transparency
		// window they are listed without ids, and a publisher's query cannot match them.
		if _, err := WithPullDetails(ctx, src, batch); err != nil {
			return PullPage{}, err
		}
		mine, err := publishedBy(ctx, src, q.Publisher, batch)
		if err != nil {
			return PullPage{}, err
		}
		for _, e := range batch {
			page.Next = e.Seq
			if (e.Kind != LedgerPull && e.Kind != LedgerAttest) || (q.APIRoot != "" && e.APIRoot != q.APIRoot) {
				continue
			}
			if q.Publisher != "" {
				kept := e.Items[:0:0]
				for _, it := range e.Items {
					if mine[originKey{e.APIRoot, pulledKey(e.Kind, it)}] {
						kept = append(kept, it)
					}
				}
				if len(kept) == 0 {
					continue
				}
				e.Items = kept
			}
			page.Entries = append(page.Entries, e)
			if len(page.Entries) == q.Limit {
				page.More = true
				return page, nil
			}
		}
		if len(batch) < pullScanBatch {
			return page, nil
		}
	}
	page.More = true
	return page, nil
}

type originKey struct{ root, key string }

// pulledKey is the origin key whose publisher an item of a pull or attest entry concerns: the
// object pulled, or the content attested.
func pulledKey(kind LedgerKind, it LedgerItem) string {
	if kind == LedgerAttest {
		return attestedKey(it)
	}
	return OriginKeyID(it.ID)
}

// publishedBy returns which (root, id key) pairs of the pull entries in batch have member as origin.
// With no member it returns nil, which nothing reads.
func publishedBy(ctx context.Context, src OriginReader, member string, batch []LedgerEntry) (map[originKey]bool, error) {
	if member == "" {
		return nil, nil
	}
	seen := map[string]bool{}
	var keys []string
	for _, e := range batch {
		if e.Kind != LedgerPull && e.Kind != LedgerAttest {
			continue
		}
		for _, it := range e.Items {
			if k := pulledKey(e.Kind, it); !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	origins, err := src.Origins(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("store: origins of pulled objects: %w", err)
	}
	mine := map[originKey]bool{}
	for _, o := range origins {
		if o.Member == member {
			mine[originKey{o.APIRoot, o.Key}] = true
		}
	}
	return mine, nil
}

// Verdicts of publish ledger items for what the store decided.
const (
	VerdictAdded        = "added"
	VerdictUnchanged    = "unchanged"
	VerdictKeptExisting = "kept-existing"
	VerdictWithdrawn    = "withdrawn"
)

// verdict names what the store did with one object of a publication.
func verdict(o Outcome) string {
	switch o.Result {
	case Added:
		return VerdictAdded
	case Unchanged:
		return VerdictUnchanged
	case KeptExisting:
		return VerdictKeptExisting
	case Withdrawn:
		return "refused: " + VerdictWithdrawn
	case NotOwner:
		return "refused: not-owner"
	default:
		return "not stored"
	}
}

// PublishEntry is the ledger entry of a publication to a collection of root: the objects with the
// outcomes the store gave them (the version the collection holds, or the object's own, and for the
// versions it holds the digest of their content), then the objects refused before. Backends append
// it in the transaction that stores the objects.
func PublishEntry(p Publication, root string, outcomes []Outcome) LedgerEntry {
	e := LedgerEntry{Kind: LedgerPublish, Member: p.Member, TokenID: p.TokenID, Person: p.Person, APIRoot: root,
		Collection: p.CollectionID, Endpoint: p.Release, Items: make([]LedgerItem, 0, len(p.Objects)+len(p.Refused))}
	for i, o := range p.Objects {
		it := LedgerItem{ID: o.ID, Version: o.Version}
		if i < len(outcomes) {
			it.Verdict = verdict(outcomes[i])
			if outcomes[i].Result.Stored() {
				it.Version = outcomes[i].Version
			}
			switch outcomes[i].Result {
			case Added:
				it.SHA256, it.Fingerprint = contentSHA256(o.Content), o.Fingerprint
			case Unchanged:
				// The collection holds this version with exactly this content: an observable is
				// unchanged only when its content is, a versioned object only when its digest is.
				it.SHA256 = contentSHA256(o.Content)
			}
		}
		e.Items = append(e.Items, it)
	}
	for _, r := range p.Refused {
		// The ledger keeps the codes as text, the form its hash chain has always covered.
		e.Items = append(e.Items, LedgerItem{ID: r.ID, Version: r.Version, Verdict: "refused: " + strings.Join(r.Codes, ", ")})
	}
	return e
}

// ReadKind is the kind RecordPull gives an entry asked for as kind: a probe stays a probe and an
// attestation an attestation, anything else is a pull.
func ReadKind(kind LedgerKind) LedgerKind {
	if kind == LedgerProbe || kind == LedgerAttest {
		return kind
	}
	return LedgerPull
}

// Attestation is a member's declaration, with a publication, that it holds content independently
// which another member first published in a partnership forbidding onward sharing.
type Attestation struct {
	// APIRoot is the partnership the content was first published in.
	APIRoot string
	// Target and CollectionID are where the member posts it.
	Target, CollectionID string
	Member, TokenID      string
	Items                []AttestedItem
}

// AttestedItem is one object posted under an attestation, and the origin key it matched.
type AttestedItem struct {
	ID        string
	Version   time.Time
	OriginKey string
}

// AttestEntry is the ledger entry of an attestation (see LedgerAttest).
func AttestEntry(a Attestation) LedgerEntry {
	e := LedgerEntry{Kind: LedgerAttest, Member: a.Member, TokenID: a.TokenID, APIRoot: a.APIRoot,
		Collection: a.CollectionID, Endpoint: a.Target, Items: make([]LedgerItem, len(a.Items))}
	for i, it := range a.Items {
		li := LedgerItem{ID: it.ID, Version: it.Version, Verdict: "attested"}
		if id, ok := IDOfOriginKey(it.OriginKey); ok {
			li.ID = id
		} else {
			li.Fingerprint = strings.TrimPrefix(it.OriginKey, OriginKeyFingerprint(""))
		}
		e.Items[i] = li
	}
	return e
}

// attestedKey is the origin key an attestation's item matched.
func attestedKey(it LedgerItem) string {
	if it.Fingerprint != "" {
		return OriginKeyFingerprint(it.Fingerprint)
	}
	return OriginKeyID(it.ID)
}

// TransferEntry is the ledger entry of a transfer of the ownership of ids.
// TransferEntry is the ledger entry of a transfer of the origins with the keys given (of ids and of
// fingerprints), so that VerifyDeep can follow the origins and withdrawals it moved.
func TransferEntry(t Transfer, keys []string) LedgerEntry {
	e := LedgerEntry{Kind: LedgerTransfer, Member: t.To, TokenID: t.Operator, APIRoot: t.APIRoot, Endpoint: t.From,
		Items: make([]LedgerItem, len(keys))}
	for i, key := range keys {
		it := LedgerItem{Verdict: "transferred"}
		if id, ok := IDOfOriginKey(key); ok {
			it.ID = id
		} else {
			it.Fingerprint = strings.TrimPrefix(key, OriginKeyFingerprint(""))
		}
		e.Items[i] = it
	}
	return e
}

// transferredKey is the origin key a transfer entry's item moved.
func transferredKey(it LedgerItem) string {
	if it.ID != "" {
		return OriginKeyID(it.ID)
	}
	return OriginKeyFingerprint(it.Fingerprint)
}

// VerdictDeleted is the verdict of a version a member deleted.
const VerdictDeleted = "deleted"

// DeleteEntry is the ledger entry of a deletion from a collection of root that removed the versions
// removed.
func DeleteEntry(d Deletion, root string, removed []Record) LedgerEntry {
	token := d.TokenID
	if d.Operator != "" {
		token = d.Operator
	}
	e := LedgerEntry{Kind: LedgerDelete, Member: d.Member, TokenID: token, Person: d.Person, APIRoot: root,
		Collection: d.CollectionID, Items: make([]LedgerItem, len(removed))}
	for i, r := range removed {
		e.Items[i] = LedgerItem{ID: r.ID, Version: r.Version, Verdict: VerdictDeleted}
	}
	return e
}

// HoldsTombstone reports whether a selection of versions holds a withdrawal's tombstone.
func HoldsTombstone(selected []Record) bool {
	return slices.ContainsFunc(selected, func(r Record) bool { return r.Withdrawn })
}

// WithdrawEntry is the ledger entry of a withdrawal from a collection of root that stored tombstone,
// the content of the version that replaced the object's versions, with outcome out.
func WithdrawEntry(w Withdrawal, root string, out Outcome, tombstone []byte) LedgerEntry {
	return LedgerEntry{Kind: LedgerWithdraw, Member: w.Member, TokenID: w.TokenID, Person: w.Person, APIRoot: root,
		Collection: w.CollectionID, Items: []LedgerItem{{ID: w.ObjectID, Version: out.Version, Verdict: VerdictWithdrawn,
			SHA256: contentSHA256(tombstone)}}}
}

// contentSHA256 is the digest of an object version's content, as ledger items record it.
func contentSHA256(content []byte) []byte {
	sum := sha256.Sum256(content)
	return sum[:]
}
