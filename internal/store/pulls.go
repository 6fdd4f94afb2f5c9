package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// Compact pulls.
//
// A pull entry that listed every version served grew the ledger by about 84 bytes per object
// pulled, for good. The store now appends it compact: the entry records how many versions the page
// held, a SHA-256 digest of their ids and versions in page order (PullDigest), and the range of
// dates added the page covered (where the caller gave it); the ids themselves go to the pull
// details, beside the ledger, in the same transaction. The entry's hash commits to the digest, so
// details read back are checked against it (WithPullDetails) and a changed detail shows. The hub
// keeps details for a transparency window (the sweep removes older ones, see admin's sweep) so that
// "who pulled my object" answers within it; after it, the ledger still proves that the member pulled
// that many versions of that collection at that time, and anyone holding the list of ids (the
// member, or an export taken earlier) can prove it was exactly that list.
//
// Entries appended before keep their items and verify as they always did. Pulls that served nothing
// (an empty page, a probe) and attestations are appended as they are.

// DefaultPullDetailRetention is how long the ids of each pull are kept by default: a year, long
// enough for a publisher to ask who received an object it later found to be wrong or sensitive.
const DefaultPullDetailRetention = 365 * 24 * time.Hour

// PullSummary stands for the versions a compact pull entry served.
type PullSummary struct {
	// Count is how many versions the page held.
	Count int
	// SHA256 is PullDigest of the versions, in page order.
	SHA256 []byte
	// FirstAdded and LastAdded are the dates added of the first and last version served: the
	// range of the collection the page covered. Zero when the caller did not give them.
	FirstAdded, LastAdded time.Time
}

// PullDigest is the SHA-256 of the versions of a pull, in order: for each, its id, a zero byte and
// its version in Unix microseconds as eight big-endian bytes. Ids hold no zero byte, so no two lists
// encode alike.
func PullDigest(items []LedgerItem) []byte {
	h := sha256.New()
	var v [8]byte
	for _, it := range items {
		h.Write([]byte(it.ID))
		h.Write([]byte{0})
		binary.BigEndian.PutUint64(v[:], uint64(micros(it.Version)))
		h.Write(v[:])
	}
	return h.Sum(nil)
}

// CompactPull returns the entry RecordPull appends for e, and the items that go to the pull details:
// for a pull that served versions, the entry without items and with its summary; anything else as
// it is, with no details.
func CompactPull(e LedgerEntry) (LedgerEntry, []LedgerItem) {
	if e.Kind != LedgerPull || len(e.Items) == 0 {
		return e, nil
	}
	sum := PullSummary{Count: len(e.Items), SHA256: PullDigest(e.Items)}
	if e.Pulled != nil {
		sum.FirstAdded, sum.LastAdded = e.Pulled.FirstAdded, e.Pulled.LastAdded
	}
	details := e.Items
	e.Items, e.Pulled = nil, &sum
	return e, details
}

// PullDetailReader reads the pull details of compact pull entries.
type PullDetailReader interface {
	// PullDetails returns the items kept for each of the pull entries numbered seqs that still has
	// them; entries whose details are past the transparency window are absent.
	PullDetails(ctx context.Context, seqs []int64) (map[int64][]LedgerItem, error)
}

// WithPullDetails gives each compact pull entry among entries its items back from the pull details,
// when they are still kept and match the digest its hash commits to. Entries whose details are gone,
// or do not match, keep their summary only; mismatched lists the latter, whose details someone
// changed.
func WithPullDetails(ctx context.Context, src PullDetailReader, entries []LedgerEntry) (mismatched []int64, err error) {
	var seqs []int64
	for _, e := range entries {
		if e.Pulled != nil && len(e.Items) == 0 {
			seqs = append(seqs, e.Seq)
		}
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	details, err := src.PullDetails(ctx, seqs)
	if err != nil {
		return nil, fmt.Errorf("store: pull details: %w", err)
	}
	for i, e := range entries {
		items, ok := details[e.Seq]
		if e.Pulled == nil || !ok {
			continue
		}
		if len(items) != e.Pulled.Count || !bytes.Equal(PullDigest(items), e.Pulled.SHA256) {
			mismatched = append(mismatched, e.Seq)
			continue
		}
		entries[i].Items = items
	}
	return mismatched, nil
}
