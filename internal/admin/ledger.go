package admin

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"taxiihub/internal/store"
)

// LedgerEntry is one entry of the hub's ledger of publishes, pulls and withdrawals, as the admin API
// shows it. Hashes are hexadecimal.
type LedgerEntry struct {
	Seq         int64        `json:"seq"`
	At          time.Time    `json:"at"`
	Kind        string       `json:"kind"`
	Member      string       `json:"member"`
	TokenID     string       `json:"token_id,omitempty"`
	Partnership string       `json:"partnership"`
	Collection  string       `json:"collection"`
	Endpoint    string       `json:"endpoint,omitempty"`
	Items       []LedgerItem `json:"items"`
	PrevHash    string       `json:"prev_hash"`
	Hash        string       `json:"hash"`
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
func LedgerEntryOf(e store.LedgerEntry) LedgerEntry {
	out := LedgerEntry{Seq: e.Seq, At: e.At, Kind: string(e.Kind), Member: e.Member, TokenID: e.TokenID,
		Partnership: e.APIRoot, Collection: e.Collection, Endpoint: e.Endpoint, Items: make([]LedgerItem, len(e.Items)),
		PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash)}
	for i, it := range e.Items {
		out.Items[i] = LedgerItem{ID: it.ID, Verdict: it.Verdict, SHA256: hex.EncodeToString(it.SHA256), Fingerprint: it.Fingerprint}
		if !it.Version.IsZero() {
			v := it.Version
			out.Items[i].Version = &v
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
	out := make([]LedgerEntry, len(entries))
	for i, e := range entries {
		out[i] = LedgerEntryOf(e)
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
	if !v.OK {
		s.log.WarnContext(ctx, "ledger verification failed", "broken_at", v.BrokenAt, "problem", v.Problem)
	}
	return LedgerVerification{Entries: v.Entries, OK: v.OK, BrokenAt: v.BrokenAt, Problem: v.Problem}, nil
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
	for i, e := range page.Entries {
		out.Entries[i] = LedgerEntryOf(e)
	}
	return out, nil
}
