package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// trail is an audit trail in memory whose head answers in turn from heads, then stays at the last.
type trail struct {
	entries []AuditEntry
	heads   []AuditHead
}

func (tr *trail) Audit(_ context.Context, after int64, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	for _, e := range tr.entries {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (tr *trail) AuditHead(context.Context) (AuditHead, error) {
	h := tr.heads[0]
	if len(tr.heads) > 1 {
		tr.heads = tr.heads[1:]
	}
	return h, nil
}

func chainedTrail(n int) *trail {
	tr := &trail{}
	prev := GenesisHash()
	for i := range n {
		e := AuditEntry{At: time.Unix(int64(i), 0), Actor: "alice", Action: "a.b"}.Chain(int64(i+1), prev)
		tr.entries = append(tr.entries, e)
		prev = e.Hash
	}
	last := tr.entries[n-1]
	tr.heads = []AuditHead{{Seq: last.Seq, Hash: last.Hash}}
	return tr
}

// TestVerifyAuditTakesEntriesAppendedMeanwhile: an entry appended after the head was read is not
// beyond the end of the trail; the head has moved.
func TestVerifyAuditTakesEntriesAppendedMeanwhile(t *testing.T) {
	tr := chainedTrail(3)
	tr.heads = []AuditHead{{Seq: 2, Hash: tr.entries[1].Hash}, tr.heads[0]}
	if v, err := VerifyAudit(t.Context(), tr); err != nil || !v.OK || v.Entries != 3 {
		t.Errorf("verify with an entry appended meanwhile: %+v, %v", v, err)
	}
	tr = chainedTrail(3)
	tr.heads = []AuditHead{{Seq: 2, Hash: tr.entries[1].Hash}}
	if v, err := VerifyAudit(t.Context(), tr); err != nil || v.OK || v.BrokenAt != 3 || !strings.Contains(v.Problem, "beyond") {
		t.Errorf("verify with an entry beyond a head that stays: %+v, %v", v, err)
	}
}

// TestVerifyAuditNamesTheEntryAfterARemovedOne: audit numbers need not be dense, so a removed entry
// shows in the link of the one after it.
func TestVerifyAuditNamesTheEntryAfterARemovedOne(t *testing.T) {
	tr := chainedTrail(4)
	tr.entries = append(tr.entries[:1], tr.entries[2:]...)
	if v, err := VerifyAudit(t.Context(), tr); err != nil || v.OK || v.BrokenAt != 3 || !strings.Contains(v.Problem, "does not follow entry 1") {
		t.Errorf("verify without entry 2: %+v, %v", v, err)
	}
	tr = chainedTrail(4)
	tr.entries = tr.entries[:3]
	if v, err := VerifyAudit(t.Context(), tr); err != nil || v.OK || v.BrokenAt != 4 || !strings.Contains(v.Problem, "missing") {
		t.Errorf("verify without the last entry: %+v, %v", v, err)
	}
}
