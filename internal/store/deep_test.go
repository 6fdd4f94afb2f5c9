package store

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"testing"
	"time"
)

// hubInMemory is a DeepSource over plain values: enough to check what VerifyDeep makes of ledgers
// no current backend writes any more.
type hubInMemory struct {
	trail
	ledger []LedgerEntry
	// ledgerHeads, while there are any, answer LedgerHead in turn, in place of the ledger's end.
	ledgerHeads []LedgerHead
	collections map[string][]StoredVersion // by collection id, in date-added order; all in root "r"
	origins     []Origin                   // in key, root order
	withdrawals []WithdrawnObject
}

func (h *hubInMemory) Ledger(_ context.Context, after int64, limit int) ([]LedgerEntry, error) {
	var out []LedgerEntry
	for _, e := range h.ledger {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (h *hubInMemory) LedgerHead(context.Context) (LedgerHead, error) {
	if len(h.ledgerHeads) > 0 {
		head := h.ledgerHeads[0]
		h.ledgerHeads = h.ledgerHeads[1:]
		return head, nil
	}
	if len(h.ledger) == 0 {
		return LedgerHead{}, nil
	}
	last := h.ledger[len(h.ledger)-1]
	return LedgerHead{Seq: last.Seq, Hash: last.Hash}, nil
}

func (h *hubInMemory) APIRoots(context.Context) ([]APIRoot, error) {
	return []APIRoot{{Slug: "r"}}, nil
}

func (h *hubInMemory) Collections(context.Context, string) ([]Collection, error) {
	var out []Collection
	for id := range h.collections {
		out = append(out, Collection{ID: id, APIRoot: "r"})
	}
	return out, nil
}

func (h *hubInMemory) StoredVersions(_ context.Context, id string, after time.Time, limit int, _ bool) ([]StoredVersion, error) {
	var out []StoredVersion
	for _, v := range h.collections[id] {
		if v.DateAdded.After(after) && len(out) < limit {
			out = append(out, v)
		}
	}
	return out, nil
}

func (h *hubInMemory) OriginsAfter(_ context.Context, after Origin, limit int) ([]Origin, error) {
	var out []Origin
	for _, o := range h.origins {
		if (o.Key > after.Key || o.Key == after.Key && o.APIRoot > after.APIRoot) && len(out) < limit {
			out = append(out, o)
		}
	}
	return out, nil
}

func (h *hubInMemory) WithdrawalsAfter(_ context.Context, after WithdrawnObject, limit int) ([]WithdrawnObject, error) {
	var out []WithdrawnObject
	for _, w := range h.withdrawals {
		if (w.APIRoot > after.APIRoot || w.APIRoot == after.APIRoot && w.ObjectID > after.ObjectID) && len(out) < limit {
			out = append(out, w)
		}
	}
	return out, nil
}

// appendEntry chains e onto the ledger.
func (h *hubInMemory) appendEntry(e LedgerEntry) {
	seq, prev := int64(0), GenesisHash()
	if n := len(h.ledger); n > 0 {
		seq, prev = h.ledger[n-1].Seq, h.ledger[n-1].Hash
	}
	h.ledger = append(h.ledger, e.Chain(seq, prev, time.Unix(seq, 0)))
}

// store keeps content as a version of id in collection c.
func (h *hubInMemory) store(c, id string, version time.Time, content string) {
	sum := sha256.Sum256([]byte(content))
	added := time.Unix(int64(len(h.collections[c])+1), 0).UTC()
	h.collections[c] = append(h.collections[c], StoredVersion{Record: Record{ID: id, Version: version, DateAdded: added,
		Content: []byte(content)}, SHA256: sum[:]})
}

// TestDeepVerificationOfALedgerFromBeforeDigests: entries written before items recorded digests and
// fingerprints still account for what they stored: presence is checked, content cannot be, and
// fingerprint origins of their publishers are counted rather than taken for made up.
func TestDeepVerificationOfALedgerFromBeforeDigests(t *testing.T) {
	v1 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	h := &hubInMemory{trail: trail{heads: []AuditHead{{}}}, collections: map[string][]StoredVersion{"c": nil}}
	h.appendEntry(LedgerEntry{Kind: LedgerPublish, Member: "cert-eu", APIRoot: "r", Collection: "c", Items: []LedgerItem{
		{ID: "indicator--1", Version: v1, Verdict: VerdictAdded}, {ID: "indicator--2", Version: v1, Verdict: VerdictAdded}}})
	h.store("c", "indicator--1", v1, `{"n":1}`)
	h.store("c", "indicator--2", v1, `{"n":2}`)
	// A later publication by another member, recorded with its digest and fingerprint, of content
	// whose fingerprint cert-eu's earlier publication made its own.
	h.appendEntry(PublishEntry(Publication{CollectionID: "c", Member: "jpcert", Objects: []Object{
		{ID: "indicator--3", Version: v1, Content: []byte(`{"n":3}`), Fingerprint: "fp-1"}}}, "r", []Outcome{{Result: Added, Version: v1}}))
	h.store("c", "indicator--3", v1, `{"n":3}`)
	h.origins = []Origin{{Key: "fp:fp-1", APIRoot: "r", Member: "cert-eu"}, {Key: "fp:fp-2", APIRoot: "r", Member: "cert-eu"},
		{Key: "id:indicator--1", APIRoot: "r", Member: "cert-eu"}, {Key: "id:indicator--2", APIRoot: "r", Member: "cert-eu"},
		{Key: "id:indicator--3", APIRoot: "r", Member: "jpcert"}}

	v, err := VerifyDeep(t.Context(), h, DeepOptions{})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !v.OK || v.ProblemCount != 0 || v.LegacyVersions != 2 || v.LegacyOrigins != 2 || v.Versions != 3 || v.Origins != 5 {
		t.Errorf("a ledger from before digests: %+v; want OK with 2 legacy versions and 2 legacy origins", v)
	}

	// Presence is still checked.
	h.collections["c"] = h.collections["c"][1:]
	v, err = VerifyDeep(t.Context(), h, DeepOptions{})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if v.OK || v.ProblemCount != 1 || v.Problems[0].Kind != FindingMissing || v.Problems[0].ObjectID != "indicator--1" {
		t.Errorf("a legacy version removed: %+v", v.Problems)
	}
}

// TestDeepVerificationListsABoundedNumberOfFindings: the counts are complete, the lists bounded.
func TestDeepVerificationListsABoundedNumberOfFindings(t *testing.T) {
	h := &hubInMemory{trail: trail{heads: []AuditHead{{}}}, collections: map[string][]StoredVersion{"c": nil}}
	for i := range 5 {
		h.store("c", "indicator--"+string(rune('a'+i)), time.Unix(int64(i), 0), "{}")
		h.origins = append(h.origins, Origin{Key: "id:x" + string(rune('a'+i)), APIRoot: "r", Member: "m"})
	}
	v, err := VerifyDeep(t.Context(), h, DeepOptions{MaxFindings: 2})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if v.UnrecordedCount != 5 || len(v.Unrecorded) != 2 || v.ProblemCount != 5 || len(v.Problems) != 2 {
		t.Errorf("%d unrecorded, %d listed; %d problems, %d listed; want 5, 2, 5, 2",
			v.UnrecordedCount, len(v.Unrecorded), v.ProblemCount, len(v.Problems))
	}
}

func TestCheckpointsReadBackAsWritten(t *testing.T) {
	hash := GenesisHash()
	hash[0] = 0xab
	s := FormatCheckpoint(42, hash)
	cp, err := ParseCheckpoint(s)
	if err != nil || cp.Seq != 42 || !slices.Equal(cp.Hash, hash) {
		t.Errorf("ParseCheckpoint(%q) = %+v, %v", s, cp, err)
	}
	for _, bad := range []string{"", "42", "0:" + strings.Repeat("00", 32), "x:" + strings.Repeat("00", 32), "42:abcd", "42:zz"} {
		if _, err := ParseCheckpoint(bad); err == nil {
			t.Errorf("ParseCheckpoint(%q) succeeded", bad)
		}
	}
}

// TestVerifyLedgerTakesEntriesAppendedMeanwhile: an entry appended after the head was read is not
// beyond the end of the ledger; the head has moved. One beyond a head that stays is.
func TestVerifyLedgerTakesEntriesAppendedMeanwhile(t *testing.T) {
	h := &hubInMemory{}
	for range 3 {
		h.appendEntry(LedgerEntry{Kind: LedgerPull, Member: "jpcert"})
	}
	before := LedgerHead{Seq: 2, Hash: h.ledger[1].Hash}
	h.ledgerHeads = []LedgerHead{before}
	if v, err := VerifyLedger(t.Context(), h); err != nil || !v.OK || v.Entries != 3 {
		t.Errorf("verify with an entry appended meanwhile: %+v, %v", v, err)
	}
	h.ledgerHeads = []LedgerHead{before, before}
	if v, err := VerifyLedger(t.Context(), h); err != nil || v.OK || v.BrokenAt != 3 {
		t.Errorf("verify with an entry beyond a head that stays: %+v, %v", v, err)
	}
}

// TestDeepVerificationLeavesOutWhatIsWrittenWhileItRuns: versions added after the check began are
// not checked, and a ledger that grew while it ran is reported, so that findings about recent
// writes can be confirmed by a second run.
func TestDeepVerificationLeavesOutWhatIsWrittenWhileItRuns(t *testing.T) {
	h := &hubInMemory{trail: trail{heads: []AuditHead{{}}}, collections: map[string][]StoredVersion{"c": nil}}
	h.appendEntry(LedgerEntry{Kind: LedgerPull, Member: "jpcert"})
	sum := sha256.Sum256([]byte("{}"))
	h.collections["c"] = append(h.collections["c"], StoredVersion{Record: Record{ID: "indicator--1",
		Version: time.Now().Add(time.Hour), DateAdded: time.Now().Add(time.Hour), Content: []byte("{}")}, SHA256: sum[:]})
	first := LedgerHead{Seq: 1, Hash: h.ledger[0].Hash}
	h.appendEntry(LedgerEntry{Kind: LedgerPull, Member: "jpcert"})
	// The check reads the head first when it begins, then the verification of the chain, which finds
	// it moved, then at the end.
	h.ledgerHeads = []LedgerHead{first, first}
	v, err := VerifyDeep(t.Context(), h, DeepOptions{})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !v.OK || v.UnrecordedCount != 0 || v.Versions != 0 || !v.LedgerMoved || v.LedgerHead != 1 {
		t.Errorf("a check that ran beside writes: %+v; want OK, the new version left out, and the ledger moved", v)
	}
}
