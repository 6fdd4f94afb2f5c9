package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// The operator audit trail is hash-chained like the ledger, so that an operator action cannot be
// removed or reworded unseen by someone who can write to the database: each entry commits to the
// one before, and the store keeps the hash of the last one apart from the entries. Unlike the
// ledger's, audit sequence numbers need not be dense (the contract promises only that they
// increase): the link to the entry before is what shows one removed.
//
// Trails written before they were chained are chained in place, oldest first, when a store that
// chains them first opens the database; from then on every entry verifies.

// auditHashVersion names the encoding AuditEntry.ComputeHash hashes; a new encoding needs a new name.
const auditHashVersion = "taxiihub-audit-v1"

// hashedAuditEntry is what AuditEntry.ComputeHash encodes: strings and integers in a fixed order,
// so that the encoding is the same on every platform and backend.
type hashedAuditEntry struct {
	V      string `json:"v"`
	Seq    int64  `json:"seq"`
	At     int64  `json:"at"` // Unix microseconds, the precision the store keeps
	Actor  string `json:"actor"`
	Action string `json:"action"`
	Target string `json:"target"`
	Detail string `json:"detail"`
	// Before and After are left out when empty, so that entries written before they existed hash
	// as they did.
	Before   string `json:"before,omitempty"`
	After    string `json:"after,omitempty"`
	PrevHash string `json:"prev"`
}

// ComputeHash is the SHA-256 of the entry's fields other than Hash, PrevHash included.
func (e AuditEntry) ComputeHash() []byte {
	body, err := json.Marshal(hashedAuditEntry{V: auditHashVersion, Seq: e.Seq, At: micros(e.At), Actor: e.Actor,
		Action: e.Action, Target: e.Target, Detail: e.Detail, Before: e.Before, After: e.After, PrevHash: hex.EncodeToString(e.PrevHash)})
	if err != nil {
		// Strings and integers only: Marshal cannot fail.
		panic(fmt.Sprintf("store: encode audit entry: %v", err))
	}
	sum := sha256.Sum256(body)
	return sum[:]
}

// Chain completes an entry about to be appended under sequence number seq after the entry whose hash
// is prevHash (GenesisHash for the first): it sets Seq, PrevHash and Hash, and keeps At to the
// microsecond, the precision the store keeps. Backends call it under the lock that serializes their
// appends.
func (e AuditEntry) Chain(seq int64, prevHash []byte) AuditEntry {
	e.Seq = seq
	if !e.At.IsZero() {
		e.At = time.UnixMicro(e.At.UnixMicro()).UTC()
	}
	e.PrevHash = bytes.Clone(prevHash)
	e.Hash = e.ComputeHash()
	return e
}

// AuditHead is where the audit trail ends, as the store keeps it apart from the entries: the sequence
// number and hash of the last entry appended; zero and empty before the first.
type AuditHead struct {
	Seq  int64
	Hash []byte
}

// AuditReader is what VerifyAudit reads.
type AuditReader interface {
	// Audit returns up to limit entries with a sequence number above after, in order.
	Audit(ctx context.Context, after int64, limit int) ([]AuditEntry, error)
	// AuditHead returns where the audit trail ends.
	AuditHead(ctx context.Context) (AuditHead, error)
}

// VerifyAudit walks the whole audit trail in order and checks that each entry commits to the hash of
// the entry before it and hashes to what it records, and that the last entry is the head the store
// recorded. It reports the first entry that fails. Entries appended while it reads are not taken
// for tampering.
//
// Editing an entry breaks its own hash; removing one breaks the link of the entry after it, or,
// for the last, the head; moving one breaks both. Rewriting the whole trail from some entry on,
// head included, needs a copy of a later hash kept elsewhere to be seen (see VerifyDeep).
func VerifyAudit(ctx context.Context, src AuditReader) (Verification, error) {
	head, err := src.AuditHead(ctx)
	if err != nil {
		return Verification{}, fmt.Errorf("store: read audit head: %w", err)
	}
	v := Verification{OK: true}
	prevSeq, prevHash := int64(0), GenesisHash()
	broken := func(seq int64, format string, args ...any) (Verification, error) {
		v.OK, v.BrokenAt, v.Problem = false, seq, fmt.Sprintf(format, args...)
		return v, nil
	}
	for {
		batch, err := src.Audit(ctx, prevSeq, verifyBatch)
		if err != nil {
			return Verification{}, fmt.Errorf("store: read audit trail after %d: %w", prevSeq, err)
		}
		for _, e := range batch {
			v.Entries++
			switch {
			case !bytes.Equal(e.PrevHash, prevHash):
				if prevSeq == 0 {
					return broken(e.Seq, "entry %d does not follow the start of the trail: an entry before it was removed, or it was moved", e.Seq)
				}
				return broken(e.Seq, "entry %d does not follow entry %d: an entry between them was removed, or one of them was moved",
					e.Seq, prevSeq)
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
		if head, err = src.AuditHead(ctx); err != nil {
			return Verification{}, fmt.Errorf("store: read audit head: %w", err)
		}
		if head.Seq > prevSeq {
			return v, nil
		}
	}
	switch {
	case head.Seq > prevSeq:
		return broken(head.Seq, "entry %d, the last the store appended, is missing: the trail ends at %d", head.Seq, prevSeq)
	case head.Seq < prevSeq:
		return broken(prevSeq, "entry %d lies beyond the recorded end of the trail (%d)", prevSeq, head.Seq)
	case head.Seq > 0 && !bytes.Equal(head.Hash, prevHash):
		return broken(prevSeq, "entry %d is not the entry the store appended last: the hashes differ", prevSeq)
	}
	return v, nil
}
