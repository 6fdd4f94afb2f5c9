package admin

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"taxiihub/internal/identity"
	"taxiihub/internal/store"
)

// LedgerEntry is one entry of the hub's ledger of publishes, pulls and withdrawals, as the admin API
// shows it. Hashes are hexadecimal.
type LedgerEntry struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Member string    `json:"member"`
	// MemberIdentity is the id of the member's STIX identity, which its partnerships serve in their
	// members collections: how readers know the member. Derived, not recorded, so the entry's hash
	// does not cover it.
	MemberIdentity string `json:"member_identity,omitempty"`
	TokenID        string `json:"token_id,omitempty"`
	// Person is who acted for the member through the console, when a person did.
	Person      *Person `json:"person,omitempty"`
	Partnership string  `json:"partnership"`
	Collection  string  `json:"collection"`
	// CollectionAlias is the collection's alias, which operators know it by, where the admin API
	// lists pulls and the collection still has one. Looked up, not recorded: the hash does not
	// cover it.
	CollectionAlias string       `json:"collection_alias,omitempty"`
	Endpoint        string       `json:"endpoint,omitempty"`
	Items           []LedgerItem `json:"items"`
	// Pulled is a compact pull's summary: how many versions it served, the SHA-256 of their ids
	// and versions, and the range of dates added. Its items are shown while the hub keeps them
	// (--pull-detail-retention); after that, only the summary.
	Pulled *PullSummary `json:"pulled,omitempty"`
	// DetailsAltered reports a compact pull whose kept items do not match its digest: they were
	// changed in the database, so they are not shown.
	DetailsAltered bool   `json:"details_altered,omitempty"`
	PrevHash       string `json:"prev_hash"`
	Hash           string `json:"hash"`
}

// LedgerItem is one object version in a ledger entry.
type LedgerItem struct {
	ID      string     `json:"id"`
	Version *time.Time `json:"version,omitempty"`
	Verdict string     `json:"verdict,omitempty"`
	// SHA256 is the digest of the version's content, in hex, where the entry records one.
	SHA256      string `json:"sha256,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

// LedgerVerification is the result of checking the ledger's hash chain.
type LedgerVerification struct {
	Entries int64 `json:"entries"`
	OK      bool  `json:"ok"`
	// BrokenAt is the sequence number of the first entry that does not verify.
	BrokenAt int64  `json:"broken_at,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// Person is someone who acted for a member through the console, as their identity provider named
// them (see store.Person).
type Person struct {
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
	Name    string `json:"name,omitempty"`
}

// PullQuery selects pulls: of one publisher's objects, from one partnership, or all.
type PullQuery struct {
	Publisher   string
	Partnership string
	After       int64
	Limit       int
}

// PullPage is one page of pulls. Next is the sequence number to resume after; More says whether to.
type PullPage struct {
	Entries []LedgerEntry `json:"entries"`
	Next    int64         `json:"next"`
	More    bool          `json:"more"`
}

// MaxLedgerPage is the most ledger entries one call returns.
const MaxLedgerPage = 1000

// LedgerEntryOf is how the admin API and the TAXII API's pulls endpoint show a ledger entry.
// PullSummary is a compact pull's summary as the admin API shows it.
type PullSummary struct {
	Count      int        `json:"count"`
	SHA256     string     `json:"sha256"`
	FirstAdded *time.Time `json:"first_added,omitempty"`
	LastAdded  *time.Time `json:"last_added,omitempty"`
}

func LedgerEntryOf(e store.LedgerEntry) LedgerEntry {
	out := LedgerEntry{Seq: e.Seq, At: e.At, Kind: string(e.Kind), Member: e.Member, TokenID: e.TokenID,
		Partnership: e.APIRoot, Collection: e.Collection, Endpoint: e.Endpoint, Items: make([]LedgerItem, len(e.Items)),
		PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash)}
	if e.Member != "" {
		out.MemberIdentity = identity.OfMember(e.Member)
	}
	if !e.Person.IsZero() {
		out.Person = &Person{Issuer: e.Person.Issuer, Subject: e.Person.Subject, Name: e.Person.Name}
	}
	for i, it := range e.Items {
		out.Items[i] = LedgerItem{ID: it.ID, Verdict: it.Verdict, SHA256: hex.EncodeToString(it.SHA256), Fingerprint: it.Fingerprint}
		if !it.Version.IsZero() {
			v := it.Version
			out.Items[i].Version = &v
		}
	}
	if p := e.Pulled; p != nil {
		out.Pulled = &PullSummary{Count: p.Count, SHA256: hex.EncodeToString(p.SHA256)}
		if !p.FirstAdded.IsZero() {
			first, last := p.FirstAdded, p.LastAdded
			out.Pulled.FirstAdded, out.Pulled.LastAdded = &first, &last
		}
	}
	return out
}

func checkPage(after int64, limit int) error {
	if limit < 1 || limit > MaxLedgerPage {
		return &Error{Kind: Invalid, Message: fmt.Sprintf("limit %d is outside 1..%d", limit, MaxLedgerPage)}
	}
	if after < 0 {
		return &Error{Kind: Invalid, Message: "after must not be negative"}
	}
	return nil
}

// Ledger returns up to limit ledger entries after the sequence number after, oldest first.
func (s *Service) Ledger(ctx context.Context, after int64, limit int) ([]LedgerEntry, error) {
	if err := checkPage(after, limit); err != nil {
		return nil, err
	}
	entries, err := s.store.Ledger(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("admin: read ledger: %w", err)
	}
	altered, err := store.WithPullDetails(ctx, s.store, entries)
	if err != nil {
		return nil, fmt.Errorf("admin: read ledger: %w", err)
	}
	out := make([]LedgerEntry, len(entries))
	for i, e := range entries {
		out[i] = LedgerEntryOf(e)
		out[i].DetailsAltered = slices.Contains(altered, e.Seq)
	}
	return out, nil
}

// VerifyLedger checks the whole ledger's hash chain and names the first entry that was changed,
// removed or moved. It reads every entry, so it takes time in proportion to the ledger.
func (s *Service) VerifyLedger(ctx context.Context) (LedgerVerification, error) {
	v, err := store.VerifyLedger(ctx, s.store)
	if err != nil {
		return LedgerVerification{}, fmt.Errorf("admin: verify ledger: %w", err)
	}
	s.verified("ledger", v.OK)
	if !v.OK {
		s.log.WarnContext(ctx, "ledger verification failed", "broken_at", v.BrokenAt, "problem", v.Problem)
	}
	return verificationOf(v), nil
}

// Pulls returns pulls recorded in the ledger: every one, or, with a publisher, the pulls of objects
// that member published first, each showing only those objects.
func (s *Service) Pulls(ctx context.Context, q PullQuery) (PullPage, error) {
	if err := checkPage(q.After, q.Limit); err != nil {
		return PullPage{}, err
	}
	page, err := store.Pulls(ctx, s.store, store.PullQuery{Publisher: q.Publisher, APIRoot: q.Partnership, After: q.After, Limit: q.Limit})
	if err != nil {
		return PullPage{}, fmt.Errorf("admin: read pulls: %w", err)
	}
	out := PullPage{Entries: make([]LedgerEntry, len(page.Entries)), Next: page.Next, More: page.More}
	aliases := map[[2]string]string{} // each collection of the page is looked up once
	for i, e := range page.Entries {
		out.Entries[i] = LedgerEntryOf(e)
		key := [2]string{e.APIRoot, e.Collection}
		alias, known := aliases[key]
		if !known {
			c, err := s.store.Collection(ctx, e.APIRoot, e.Collection)
			switch {
			case errors.Is(err, store.ErrNotFound): // deleted since: its id is all there is
			case err != nil:
				return PullPage{}, fmt.Errorf("admin: read collection %s/%s: %w", e.APIRoot, e.Collection, err)
			default:
				alias = c.Alias
			}
			aliases[key] = alias
		}
		out.Entries[i].CollectionAlias = alias
	}
	return out, nil
}

// DeepQuery asks for a deep verification. Ledger and Audit, when set, are checkpoints (SEQ:HASH,
// as Heads gives them) copied out of the hub earlier, which the chains must still hold.
type DeepQuery struct {
	Ledger string
	Audit  string
}

// DeepVerification is the result of checking the stored objects, origins and withdrawals against the
// ledger, and both chains; see store.VerifyDeep. Ledger and Audit have the shape of a ledger
// verification.
type DeepVerification struct {
	OK     bool               `json:"ok"`
	Ledger LedgerVerification `json:"ledger"`
	Audit  LedgerVerification `json:"audit"`
	// LedgerHead is the entry the ledger was read up to; LedgerMoved says entries were appended
	// while the check ran, so that findings about recent writes may need a second run.
	LedgerHead  int64 `json:"ledger_head"`
	LedgerMoved bool  `json:"ledger_moved,omitempty"`
	Versions    int64 `json:"versions"`
	Origins     int64 `json:"origins"`
	Withdrawals int64 `json:"withdrawals"`
	Passes      int   `json:"passes"`
	// Problems lists the first problems found; ProblemCount counts them all.
	Problems     []Finding `json:"problems"`
	ProblemCount int64     `json:"problem_count"`
	// Unrecorded lists the first versions no ledger entry mentions: loaded without a publication,
	// or put in the database by hand. They do not make OK false.
	Unrecorded      []Finding `json:"unrecorded"`
	UnrecordedCount int64     `json:"unrecorded_count"`
	// LegacyVersions and LegacyOrigins count what entries written before the ledger recorded
	// digests and fingerprints account for, which cannot be checked in full.
	LegacyVersions int64 `json:"legacy_versions"`
	LegacyOrigins  int64 `json:"legacy_origins"`
	// DerivedOrigins counts origins the store re-keyed from those of the first fingerprint scheme,
	// each backed by the publication of the origin it was derived from.
	DerivedOrigins     int64    `json:"derived_origins"`
	DeletedCollections []string `json:"deleted_collections"`
}

// Finding is one thing deep verification found; fields that do not apply are left out.
type Finding struct {
	Kind        string     `json:"kind"`
	Partnership string     `json:"partnership,omitempty"`
	Collection  string     `json:"collection,omitempty"`
	ObjectID    string     `json:"object_id,omitempty"`
	Version     *time.Time `json:"version,omitempty"`
	Key         string     `json:"key,omitempty"`
	Member      string     `json:"member,omitempty"`
	// LedgerSeq is the ledger entry the finding rests on.
	LedgerSeq int64  `json:"ledger_seq,omitempty"`
	Detail    string `json:"detail"`
}

// Heads are where the ledger and the audit trail end. An operator copies them out of the hub
// regularly, to a log system the hub cannot write, and later passes them to VerifyDeep: a rewrite
// of a whole chain from before a head copied out cannot keep that head's hash.
type Heads struct {
	Ledger Head `json:"ledger"`
	Audit  Head `json:"audit"`
}

// Head is the last entry of a chain: its sequence number and hash, and both as one checkpoint.
type Head struct {
	Seq        int64  `json:"seq"`
	Hash       string `json:"hash"`
	Checkpoint string `json:"checkpoint"`
}

func headOf(seq int64, hash []byte) Head {
	h := Head{Seq: seq, Hash: hex.EncodeToString(hash)}
	if seq > 0 {
		h.Checkpoint = store.FormatCheckpoint(seq, hash)
	}
	return h
}

// Heads returns where the ledger and the audit trail end.
func (s *Service) Heads(ctx context.Context) (Heads, error) {
	lh, err := s.store.LedgerHead(ctx)
	if err != nil {
		return Heads{}, fmt.Errorf("admin: read ledger head: %w", err)
	}
	ah, err := s.store.AuditHead(ctx)
	if err != nil {
		return Heads{}, fmt.Errorf("admin: read audit head: %w", err)
	}
	return Heads{Ledger: headOf(lh.Seq, lh.Hash), Audit: headOf(ah.Seq, ah.Hash)}, nil
}

// VerifyDeep checks every stored version, origin and withdrawal against the ledger, the audit trail's
// chain, and the checkpoints given, and names what is missing or changed. It reads every object's
// content once and the ledger a few times, so it takes time in proportion to the hub.
func (s *Service) VerifyDeep(ctx context.Context, q DeepQuery) (DeepVerification, error) {
	var opts store.DeepOptions
	for _, c := range []struct {
		name, value string
		into        **store.Checkpoint
	}{{"ledger", q.Ledger, &opts.Ledger}, {"audit", q.Audit, &opts.Audit}} {
		if c.value == "" {
			continue
		}
		cp, err := store.ParseCheckpoint(c.value)
		if err != nil {
			return DeepVerification{}, &Error{Kind: Invalid, Message: fmt.Sprintf("the %s checkpoint: %v", c.name, err)}
		}
		*c.into = &cp
	}
	v, err := store.VerifyDeep(ctx, s.store, opts)
	if err != nil {
		return DeepVerification{}, fmt.Errorf("admin: deep verification: %w", err)
	}
	s.verified("deep", v.OK)
	if !v.OK {
		s.log.WarnContext(ctx, "deep verification failed", "problems", v.ProblemCount,
			"ledger_broken_at", v.Ledger.BrokenAt, "audit_broken_at", v.Audit.BrokenAt)
	}
	out := DeepVerification{OK: v.OK, Ledger: verificationOf(v.Ledger), Audit: verificationOf(v.Audit),
		LedgerHead: v.LedgerHead, LedgerMoved: v.LedgerMoved, Versions: v.Versions, Origins: v.Origins,
		Withdrawals: v.Withdrawals, Passes: v.Passes, Problems: findingsOf(v.Problems), ProblemCount: v.ProblemCount,
		Unrecorded: findingsOf(v.Unrecorded), UnrecordedCount: v.UnrecordedCount, LegacyVersions: v.LegacyVersions,
		LegacyOrigins: v.LegacyOrigins, DerivedOrigins: v.DerivedOrigins, DeletedCollections: v.DeletedCollections}
	if out.DeletedCollections == nil {
		out.DeletedCollections = []string{}
	}
	return out, nil
}

func verificationOf(v store.Verification) LedgerVerification {
	return LedgerVerification{Entries: v.Entries, OK: v.OK, BrokenAt: v.BrokenAt, Problem: v.Problem}
}

func findingsOf(fs []store.Finding) []Finding {
	out := make([]Finding, len(fs))
	for i, f := range fs {
		out[i] = Finding{Kind: string(f.Kind), Partnership: f.APIRoot, Collection: f.Collection, ObjectID: f.ObjectID,
			Key: f.Key, Member: f.Member, LedgerSeq: f.Seq, Detail: f.Detail}
		if !f.Version.IsZero() {
			v := f.Version
			out[i].Version = &v
		}
	}
	return out
}
