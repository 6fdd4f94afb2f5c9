package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var adminCases = []testCase{
	{"UpdatesReplaceDescriptions", updatesReplace},
	{"VerificationKeysSaveListRetire", verificationKeys},
	{"AuditIsAppendOnlyAndOrdered", auditLog},
	{"AnEmptyAuditTrailHasNoHead", emptyAuditHead},
	{"SeedsAreRecordedOnce", seedsRecordedOnce},
	{"AuditKeepsBeforeAndAfter", auditBeforeAfter},
}

// auditBeforeAfter: an entry's before and after states come back as appended and are covered by its
// hash, beside entries without them.
func auditBeforeAfter(t *testing.T, s store.Store) {
	ctx := t.Context()
	at := time.Now().UTC()
	appended := []store.AuditEntry{
		{At: at, Actor: "alice", Action: "collection.update", Target: "collection p/c", Detail: "policy: up to TLP:RED",
			Before: `{"tlp_max":"amber"}`, After: `{"tlp_max":"red"}`},
		{At: at, Actor: "alice", Action: "member.create", Target: "member m"},
	}
	for _, e := range appended {
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	got, err := s.Audit(ctx, 0, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("audit: %d entries, %v", len(got), err)
	}
	for i, e := range got {
		if e.Before != appended[i].Before || e.After != appended[i].After {
			t.Errorf("entry %d: before %q after %q, want %q %q", i, e.Before, e.After, appended[i].Before, appended[i].After)
		}
		if !bytes.Equal(e.Hash, e.ComputeHash()) {
			t.Errorf("entry %d does not hash to what it records", i)
		}
	}
	changed := got[0]
	changed.After = `{"tlp_max":"amber"}`
	if bytes.Equal(changed.ComputeHash(), got[0].Hash) {
		t.Error("the hash does not cover the state after the change")
	}
	RequireAuditVerifies(t, s, 2)
}

// seedsRecordedOnce: a hub applies a seed file only to a store without a seed record, so the record
// must survive a second recording unchanged and list in the order applied.
func seedsRecordedOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.Seeds(ctx); err != nil || len(got) != 0 {
		t.Fatalf("seeds of a new store: %v, %v; want none", got, err)
	}
	first := store.Seed{Digest: "aa", Path: "/etc/seed.yaml", AppliedAt: time.UnixMicro(1_700_000_000_000_001).UTC()}
	second := store.Seed{Digest: "bb", Path: "other.yaml", AppliedAt: first.AppliedAt.Add(time.Hour)}
	for _, sd := range []store.Seed{second, first} {
		if err := s.RecordSeed(ctx, sd); err != nil {
			t.Fatalf("record %s: %v", sd.Digest, err)
		}
	}
	again := first
	again.Path, again.AppliedAt = "changed.yaml", second.AppliedAt.Add(time.Hour)
	if err := s.RecordSeed(ctx, again); err != nil {
		t.Fatalf("record %s again: %v", again.Digest, err)
	}
	got, err := s.Seeds(ctx)
	if err != nil {
		t.Fatalf("seeds: %v", err)
	}
	if want := []store.Seed{first, second}; !reflect.DeepEqual(got, want) {
		t.Errorf("seeds = %+v; want %+v (oldest first, the first record of a digest kept)", got, want)
	}
	if err := s.RecordSeed(ctx, store.Seed{Path: "x"}); err == nil {
		t.Error("a seed without a digest was recorded")
	}
}

func updatesReplace(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCollection(t, s)
	root := rootOf(t, s, c)
	other := newCollectionIn(t, s, root)

	r := store.APIRoot{Slug: root, Title: "Renamed", Description: "Now with a description"}
	if err := s.UpdateAPIRoot(ctx, r); err != nil {
		t.Fatalf("update root: %v", err)
	}
	if got, err := s.APIRoot(ctx, root); err != nil || !reflect.DeepEqual(got, r) {
		t.Errorf("root after update: %+v, %v; want %+v", got, err, r)
	}
	wantErrIs(t, "update a missing root", s.UpdateAPIRoot(ctx, store.APIRoot{Slug: "missing", Title: "x"}), store.ErrNotFound)

	updated := store.Collection{ID: c, APIRoot: root, Title: "Indicators", Alias: "indicators",
		Description: "Updated", MediaTypes: []string{"application/stix+json;version=2.1"}}
	if err := s.UpdateCollection(ctx, updated); err != nil {
		t.Fatalf("update collection: %v", err)
	}
	if got, err := s.Collection(ctx, root, "indicators"); err != nil || !sameCollection(got, updated) {
		t.Errorf("collection after update: %+v, %v; want %+v", got, err, updated)
	}
	wantErrIs(t, "take another collection's alias",
		s.UpdateCollection(ctx, store.Collection{ID: other, APIRoot: root, Title: "Other", Alias: "indicators"}), store.ErrConflict)
	wantErrIs(t, "update a collection through another root",
		s.UpdateCollection(ctx, store.Collection{ID: c, APIRoot: "elsewhere", Title: "x"}), store.ErrNotFound)

	if err := s.CreateMember(ctx, certEU); err != nil {
		t.Fatal(err)
	}
	m := certEU
	m.Contact = "cert-eu@ec.europa.eu"
	if err := s.UpdateMember(ctx, m); err != nil {
		t.Fatalf("update member: %v", err)
	}
	if got, err := s.Member(ctx, m.ID); err != nil || got != m {
		t.Errorf("member after update: %+v, %v", got, err)
	}
	wantErrIs(t, "update a missing member", s.UpdateMember(ctx, store.Member{ID: "nobody"}), store.ErrNotFound)
}

func sameKey(a, b store.VerificationKey) bool {
	return a.KID == b.KID && slices.Equal(a.PublicKey, b.PublicKey) && a.CreatedAt.Equal(b.CreatedAt) && a.RetiredAt.Equal(b.RetiredAt)
}

func verificationKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	second := store.VerificationKey{KID: "kid-b", PublicKey: []byte{2, 2, 2}, CreatedAt: base.Add(time.Hour)}
	first := store.VerificationKey{KID: "kid-a", PublicKey: []byte{1, 1, 1}, CreatedAt: base}
	for _, k := range []store.VerificationKey{second, first} {
		if err := s.SaveVerificationKey(ctx, k); err != nil {
			t.Fatalf("save: %v", err)
		}
	}
	again := first
	again.CreatedAt = base.Add(48 * time.Hour) // a restarted process publishing its key again
	if err := s.SaveVerificationKey(ctx, again); err != nil {
		t.Fatalf("save again: %v", err)
	}
	got, err := s.VerificationKeys(ctx)
	if err != nil || !slices.EqualFunc(got, []store.VerificationKey{first, second}, sameKey) {
		t.Errorf("keys: %+v, %v; want the first then the second, unchanged by saving again", got, err)
	}
	at := base.AddDate(0, 0, 30)
	if err := s.RetireVerificationKey(ctx, "kid-a", at); err != nil {
		t.Fatalf("retire: %v", err)
	}
	if err := s.RetireVerificationKey(ctx, "kid-a", at.Add(time.Hour)); err != nil {
		t.Fatalf("retire again: %v", err)
	}
	if err := s.SaveVerificationKey(ctx, first); err != nil {
		t.Fatalf("save a retired key again: %v", err)
	}
	got, _ = s.VerificationKeys(ctx)
	if len(got) != 2 || !got[0].RetiredAt.Equal(at) || !got[1].RetiredAt.IsZero() {
		t.Errorf("after retiring: %+v; want kid-a retired at %v and staying retired", got, at)
	}
	wantErrIs(t, "retire a missing key", s.RetireVerificationKey(ctx, "nope", at), store.ErrNotFound)
}

func auditLog(t *testing.T, s store.Store) {
	ctx := t.Context()
	const writers, each = 4, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := store.AuditEntry{At: time.Now().UTC(), Actor: fmt.Sprintf("op-%d", w), Action: "grant.add",
					Target: fmt.Sprintf("grant %d/%d", w, i), Detail: "read"}
				if err := s.AppendAudit(ctx, e); err != nil {
					t.Errorf("append: %v", err)
				}
			}
		})
	}
	wg.Wait()
	var all []store.AuditEntry
	for after := int64(0); ; {
		page, err := s.Audit(ctx, after, 7)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	if len(all) != writers*each {
		t.Fatalf("read %d entries, want %d", len(all), writers*each)
	}
	lastByActor := map[string]int{}
	for i, e := range all {
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Errorf("entry %d has seq %d after %d", i, e.Seq, all[i-1].Seq)
		}
		var w, n int
		if _, err := fmt.Sscanf(e.Target, "grant %d/%d", &w, &n); err != nil {
			t.Fatalf("target %q: %v", e.Target, err)
		}
		if prev, ok := lastByActor[e.Actor]; ok && n <= prev {
			t.Errorf("%s's entries are out of the order they were appended", e.Actor)
		}
		lastByActor[e.Actor] = n
		if e.Action != "grant.add" || e.Detail != "read" || e.At.IsZero() {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
	// Concurrent appends stay chained: each entry commits to the one appended before it.
	RequireAuditVerifies(t, s, writers*each)
	last := all[len(all)-1]
	if head, err := s.AuditHead(ctx); err != nil || head.Seq != last.Seq || !bytes.Equal(head.Hash, last.Hash) {
		t.Errorf("audit head: %+v, %v; want entry %d's hash", head, err, last.Seq)
	}
}

// RequireAuditVerifies fails t unless the audit trail of s verifies and holds exactly entries entries.
func RequireAuditVerifies(t *testing.T, s store.Store, entries int64) {
	t.Helper()
	v, err := store.VerifyAudit(t.Context(), s)
	if err != nil {
		t.Fatalf("verify audit trail: %v", err)
	}
	if !v.OK || v.Entries != entries {
		t.Errorf("verify audit trail: %+v, want OK with %d entries", v, entries)
	}
}

func emptyAuditHead(t *testing.T, s store.Store) {
	head, err := s.AuditHead(t.Context())
	if err != nil || head.Seq != 0 || len(head.Hash) != 0 {
		t.Errorf("audit head of an empty trail: %+v, %v; want zero", head, err)
	}
	RequireAuditVerifies(t, s, 0)
}
