package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var ledgerCases = []testCase{
	{"PublishRecordsOriginsAndItsLedgerEntry", publishRecords},
	{"PublishDryRunCommitsNothing", publishDryRun},
	{"PublishSavesTheStatusItIsGiven", publishSavesStatus},
	{"OnlyTheFirstPublisherVersionsAnObject", onlyTheOwnerVersions},
	{"OneOfTwoMembersFirstPublishingAnIDAtOnceOwnsIt", ownershipRace},
	{"MemberDeletionsAreRecordedAndSpareTombstones", memberDeletions},
	{"TransferOwnershipMovesOriginsAndWithdrawals", transferOwnership},
	{"WithdrawLeavesATombstoneAndIsNeverUndone", withdrawTombstone},
	{"PullsOfAPublishersObjects", pullsOfMine},
	{"ConcurrentAppendsStayChained", concurrentAppends},
	{"LedgerItemsKeepDigestsAndFingerprints", ledgerKeepsDigests},
}

func mustPublish(t *testing.T, s store.Store, p store.Publication) []store.Outcome {
	t.Helper()
	out, err := s.Publish(t.Context(), p)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if len(out) != len(p.Objects) {
		t.Fatalf("publish: %d outcomes for %d objects", len(out), len(p.Objects))
	}
	return out
}

func results(out []store.Outcome) []store.Result {
	rs := make([]store.Result, len(out))
	for i, o := range out {
		rs[i] = o.Result
	}
	return rs
}

func fingerprinted(o store.Object, fp string) store.Object {
	o.Fingerprint = fp
	return o
}

func ledgerAll(t *testing.T, s store.Store) []store.LedgerEntry {
	t.Helper()
	var all []store.LedgerEntry
	for after := int64(0); ; {
		batch, err := s.Ledger(t.Context(), after, 3)
		if err != nil {
			t.Fatalf("read ledger: %v", err)
		}
		all = append(all, batch...)
		if len(batch) < 3 {
			return all
		}
		after = batch[len(batch)-1].Seq
	}
}

// RequireLedgerVerifies fails t unless the ledger of s verifies and holds exactly entries entries.
func RequireLedgerVerifies(t *testing.T, s store.Store, entries int64) {
	t.Helper()
	v, err := store.VerifyLedger(t.Context(), s)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !v.OK || v.Entries != entries {
		t.Errorf("verify: %+v, want OK with %d entries", v, entries)
	}
}

func publishRecords(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	root := rootOf(t, s, coll)
	a := fingerprinted(tlpObject(1, "2026-01-01T00:00:00.000Z", store.TLPGreen), "fp-a")
	b := fingerprinted(tlpObject(2, "2026-01-01T00:00:00.000Z", store.TLPAmber), "fp-b")
	refused := store.LedgerItem{ID: "email-addr--00000000-0000-4000-8000-000000000000", Verdict: "refused: personal-data"}
	out := mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", TokenID: "tok-1",
		Objects: []store.Object{a, b}, Refused: []store.Refusal{{ID: refused.ID, Codes: []string{"personal-data"}}}})
	if got := results(out); !slices.Equal(got, []store.Result{store.Added, store.Added}) {
		t.Errorf("first publication: %v", got)
	}
	// Another member publishing the same version and content becomes no origin of it.
	out = mustPublish(t, s, store.Publication{CollectionID: coll, Member: "jpcert", TokenID: "tok-2",
		Objects: []store.Object{a, fingerprinted(tlpObject(3, "2026-01-01T00:00:00.000Z", store.TLPNone), "fp-a")}})
	if got := results(out); !slices.Equal(got, []store.Result{store.Unchanged, store.Added}) {
		t.Errorf("second publication: %v", got)
	}
	origins, err := s.Origins(ctx, []string{store.OriginKeyID(a.ID), store.OriginKeyFingerprint("fp-a"),
		store.OriginKeyID(b.ID), store.OriginKeyID(indicatorID(3)), "id:unknown"})
	if err != nil {
		t.Fatalf("origins: %v", err)
	}
	slices.SortFunc(origins, func(x, y store.Origin) int { return strings.Compare(x.Key, y.Key) })
	origins = withoutTimes(origins) // OriginsCarryTheTimeTheyWereRecorded checks them
	want := []store.Origin{
		{Key: store.OriginKeyFingerprint("fp-a"), APIRoot: root, Member: "cert-eu"},
		{Key: store.OriginKeyID(a.ID), APIRoot: root, Member: "cert-eu"},
		{Key: store.OriginKeyID(b.ID), APIRoot: root, Member: "cert-eu"},
		{Key: store.OriginKeyID(indicatorID(3)), APIRoot: root, Member: "jpcert"},
	}
	if !slices.Equal(origins, want) {
		t.Errorf("origins:\n got %+v\nwant %+v", origins, want)
	}
	// AddObjects publishes on nobody's behalf: no origin, no ledger entry.
	mustAdd(t, s, coll, tlpObject(4, "2026-01-01T00:00:00.000Z", store.TLPNone))
	if o, _ := s.Origins(ctx, []string{store.OriginKeyID(indicatorID(4))}); len(o) != 0 {
		t.Errorf("AddObjects recorded origins %+v", o)
	}
	// The TLP level is kept with each version.
	page, err := s.Manifest(ctx, coll, store.Query{Limit: 10, IDs: []string{b.ID}})
	if err != nil || len(page.Records) != 1 || page.Records[0].TLP != store.TLPAmber {
		t.Errorf("manifest of %s: %+v, %v; want its level amber", b.ID, page.Records, err)
	}

	entries := ledgerAll(t, s)
	if len(entries) != 2 {
		t.Fatalf("ledger holds %d entries, want 2: %+v", len(entries), entries)
	}
	e := entries[0]
	if e.Seq != 1 || e.Kind != store.LedgerPublish || e.Member != "cert-eu" || e.TokenID != "tok-1" ||
		e.APIRoot != root || e.Collection != coll || e.At.IsZero() || !bytes.Equal(e.PrevHash, store.GenesisHash()) {
		t.Errorf("first entry: %+v", e)
	}
	wantItems := []store.LedgerItem{
		{ID: a.ID, Version: a.Version, Verdict: store.VerdictAdded},
		{ID: b.ID, Version: b.Version, Verdict: store.VerdictAdded},
		refused,
	}
	if !sameItems(e.Items, wantItems) {
		t.Errorf("first entry's items:\n got %+v\nwant %+v", e.Items, wantItems)
	}
	if entries[1].Seq != 2 || !bytes.Equal(entries[1].PrevHash, e.Hash) || entries[1].Items[0].Verdict != store.VerdictUnchanged {
		t.Errorf("second entry: %+v", entries[1])
	}
	head, err := s.LedgerHead(ctx)
	if err != nil || head.Seq != 2 || !bytes.Equal(head.Hash, entries[1].Hash) {
		t.Errorf("head: %+v, %v", head, err)
	}
	RequireLedgerVerifies(t, s, 2)
}

func sameItems(a, b []store.LedgerItem) bool {
	return slices.EqualFunc(a, b, func(x, y store.LedgerItem) bool {
		return x.ID == y.ID && x.Verdict == y.Verdict && x.Version.Equal(y.Version)
	})
}

func publishDryRun(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	objs := []store.Object{tlpObject(1, "2026-01-01T00:00:00.000Z", 0), tlpObject(1, "2026-01-01T00:00:00.000Z", 0)}
	dry := store.Publication{CollectionID: coll, Member: "cert-eu", Objects: objs, DryRun: true}
	if got := results(mustPublish(t, s, dry)); !slices.Equal(got, []store.Result{store.Added, store.Unchanged}) {
		t.Errorf("dry run: %v", got)
	}
	if got := readAll(t, s, coll, store.Query{Limit: 10}, false); len(got) != 0 {
		t.Errorf("a dry run stored %d versions", len(got))
	}
	if head, _ := s.LedgerHead(ctx); head.Seq != 0 {
		t.Errorf("a dry run appended to the ledger: head %+v", head)
	}
	if o, _ := s.Origins(ctx, []string{store.OriginKeyID(objs[0].ID)}); len(o) != 0 {
		t.Errorf("a dry run recorded origins %+v", o)
	}
	real := dry
	real.DryRun = false
	mustPublish(t, s, real)
	if got := results(mustPublish(t, s, dry)); !slices.Equal(got, []store.Result{store.Unchanged, store.Unchanged}) {
		t.Errorf("dry run after the real one: %v", got)
	}
	_, err := s.Publish(ctx, store.Publication{CollectionID: newUUID(), DryRun: true})
	wantErrIs(t, "dry run into a missing collection", err, store.ErrNotFound)
	_, err = s.Publish(ctx, store.Publication{CollectionID: newUUID(), Refused: []store.Refusal{{ID: "x"}}})
	wantErrIs(t, "publication into a missing collection", err, store.ErrNotFound)
	RequireLedgerVerifies(t, s, 1)
}

// onlyTheOwnerVersions checks ownership: in a partnership, only the member that first published an
// id adds versions of it, in any of the partnership's collections, also in a dry run; others' objects
// are left as they were. Observables are facts anyone may publish, and another partnership is
// another ownership.
func onlyTheOwnerVersions(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	root := rootOf(t, s, coll)
	sibling := newCollectionIn(t, s, root)
	elsewhere := newCollection(t, s)
	v1 := tlpObject(1, "2026-01-01T00:00:00.000Z", 0)
	v2 := tlpObject(1, "2026-02-01T00:00:00.000Z", 0)
	v2.Content = append(v2.Content[:len(v2.Content)-1], `,"revoked":true}`...)
	fact := object("ipv4-addr", "ipv4-addr--00000000-0000-5000-8000-000000000001", "2.1", "", "198.51.100.1")
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{v1, fact}})

	for _, p := range []store.Publication{
		{CollectionID: coll, Member: "cncert", Objects: []store.Object{v2, v1, fact}},
		{CollectionID: coll, Member: "cncert", Objects: []store.Object{v2, v1, fact}, DryRun: true},
		{CollectionID: sibling, Member: "cncert", Objects: []store.Object{v2, v1, fact}},
	} {
		got := results(mustPublish(t, s, p))
		// A copy of a version the owner holds changes nothing, and says so.
		want := []store.Result{store.NotOwner, store.Unchanged, store.Unchanged}
		if p.CollectionID == sibling {
			want = []store.Result{store.NotOwner, store.NotOwner, store.Added}
		}
		if !slices.Equal(got, want) {
			t.Errorf("another member publishing cert-eu's object (dry run %v, sibling %v): %v, want %v",
				p.DryRun, p.CollectionID == sibling, got, want)
		}
	}
	page, err := s.Objects(ctx, coll, store.Query{Limit: 10, VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 || !bytes.Equal(page.Records[0].Content, v1.Content) || page.Records[1].ID != fact.ID {
		t.Errorf("the owner's collection changed: %d versions", len(page.Records))
	}
	if got := results(mustPublish(t, s, store.Publication{CollectionID: sibling, Member: "cert-eu", Objects: []store.Object{v2}})); !slices.Equal(got, []store.Result{store.Added}) {
		t.Errorf("the owner versioning its object in another collection of the partnership: %v", got)
	}
	if got := results(mustPublish(t, s, store.Publication{CollectionID: elsewhere, Member: "cncert", Objects: []store.Object{v1}})); !slices.Equal(got, []store.Result{store.Added}) {
		t.Errorf("the same id in another partnership: %v", got)
	}
	// Loading on nobody's behalf is an operator's act, not a partner's: AddObjects knows no owners.
	if got := results(mustAdd(t, s, coll, tlpObject(1, "2026-03-01T00:00:00.000Z", 0))); !slices.Equal(got, []store.Result{store.Added}) {
		t.Errorf("AddObjects: %v", got)
	}
	RequireLedgerVerifies(t, s, 5) // cert-eu's, cncert's two real ones, cert-eu's second, cncert's elsewhere
}

// memberDeletions checks Delete: the versions selected go, with a delete ledger entry naming them in
// the same write; a selection holding a withdrawal's tombstone removes nothing.
func memberDeletions(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	root := rootOf(t, s, coll)
	v1 := tlpObject(1, "2026-01-01T00:00:00.000Z", 0)
	v2 := tlpObject(1, "2026-02-01T00:00:00.000Z", 0)
	gone := tlpObject(2, "2026-01-01T00:00:00.000Z", 0)
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{v1, v2, gone}})
	if _, err := s.Withdraw(ctx, store.Withdrawal{CollectionID: coll, ObjectID: gone.ID, Member: "cert-eu", Tombstone: tombstone}); err != nil {
		t.Fatal(err)
	}

	first := store.VersionFilter{Versions: store.VersionMatch{First: true}}
	n, err := s.Delete(ctx, store.Deletion{CollectionID: coll, ObjectID: v1.ID, Filter: first, Member: "cert-eu", TokenID: "tok-9"})
	if err != nil || n != 1 {
		t.Fatalf("delete the first version: %d, %v", n, err)
	}
	entries, err := s.Ledger(ctx, 0, store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Kind != store.LedgerDelete || last.Member != "cert-eu" || last.TokenID != "tok-9" || last.APIRoot != root ||
		last.Collection != coll || len(last.Items) != 1 || last.Items[0].ID != v1.ID || !last.Items[0].Version.Equal(v1.Version) ||
		last.Items[0].Verdict != store.VerdictDeleted {
		t.Errorf("delete entry: %+v", last)
	}

	all := store.VersionFilter{Versions: store.VersionMatch{All: true}}
	_, err = s.Delete(ctx, store.Deletion{CollectionID: coll, ObjectID: gone.ID, Filter: all, Member: "cert-eu"})
	wantErrIs(t, "a member deleting a tombstone", err, store.ErrTombstone)
	page, err := s.Manifest(ctx, coll, store.Query{Limit: 10, IDs: []string{gone.ID}, VersionFilter: all})
	if err != nil || len(page.Records) != 1 || !page.Records[0].Withdrawn {
		t.Errorf("the tombstone after a refused deletion: %+v, %v", page.Records, err)
	}
	// An operator's deletion may remove it, and is recorded under the operator's name.
	if n, err := s.Delete(ctx, store.Deletion{CollectionID: coll, ObjectID: gone.ID, Filter: all, Operator: "alice"}); err != nil || n != 1 {
		t.Errorf("an operator deleting the tombstone: %d, %v", n, err)
	}
	if e := ledgerAll(t, s); e[len(e)-1].Kind != store.LedgerDelete || e[len(e)-1].TokenID != "alice" || e[len(e)-1].Member != "" {
		t.Errorf("operator's delete entry: %+v", e[len(e)-1])
	}
	_, err = s.Delete(ctx, store.Deletion{CollectionID: coll, ObjectID: indicatorID(99), Filter: all, Member: "cert-eu"})
	wantErrIs(t, "deleting what is not there", err, store.ErrNotFound)
	RequireLedgerVerifies(t, s, 4) // the publication, the withdrawal, the two deletions
	if v := verifyDeep(t, s, store.DeepOptions{}); !v.OK || v.ProblemCount != 0 {
		t.Errorf("deep verification after deletions: %+v", v.Problems)
	}
}

// transferOwnership checks TransferOwnership: one object, then everything, moves to the new owner,
// who may then version it while the former owner may not; a withdrawal moves with its object; each
// transfer is a ledger entry, and another partnership is untouched.
func transferOwnership(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	root := rootOf(t, s, coll)
	elsewhere := newCollection(t, s)
	a, b, gone := fingerprinted(tlpObject(1, "2026-01-01T00:00:00.000Z", 0), "fp-a"), tlpObject(2, "2026-01-01T00:00:00.000Z", 0), tlpObject(3, "2026-01-01T00:00:00.000Z", 0)
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "old-name", Objects: []store.Object{a, b, gone}})
	mustPublish(t, s, store.Publication{CollectionID: elsewhere, Member: "old-name", Objects: []store.Object{a}})
	if _, err := s.Withdraw(ctx, store.Withdrawal{CollectionID: coll, ObjectID: gone.ID, Member: "old-name", Tombstone: tombstone}); err != nil {
		t.Fatal(err)
	}

	n, err := s.TransferOwnership(ctx, store.Transfer{APIRoot: root, From: "old-name", To: "new-name", ObjectID: a.ID, Operator: "alice"})
	if err != nil || n != 1 {
		t.Fatalf("transfer one object: %d, %v", n, err)
	}
	// next is a later version of object n.
	next := func(n int) store.Object { return tlpObject(n, "2026-02-01T00:00:00.000Z", 0) }
	got := results(mustPublish(t, s, store.Publication{CollectionID: coll, Member: "old-name", Objects: []store.Object{next(1), next(2)}, DryRun: true}))
	if !slices.Equal(got, []store.Result{store.NotOwner, store.Added}) {
		t.Errorf("the former owner after one object moved: %v", got)
	}
	got = results(mustPublish(t, s, store.Publication{CollectionID: coll, Member: "new-name", Objects: []store.Object{next(1), next(2)}, DryRun: true}))
	if !slices.Equal(got, []store.Result{store.Added, store.NotOwner}) {
		t.Errorf("the new owner after one object moved: %v", got)
	}

	n, err = s.TransferOwnership(ctx, store.Transfer{APIRoot: root, From: "old-name", To: "new-name", Operator: "alice"})
	if err != nil || n != 2 {
		t.Fatalf("transfer the rest: %d, %v", n, err)
	}
	got = results(mustPublish(t, s, store.Publication{CollectionID: coll, Member: "new-name", Objects: []store.Object{next(2), next(3)}, DryRun: true}))
	if !slices.Equal(got, []store.Result{store.Added, store.Withdrawn}) {
		t.Errorf("the new owner after everything moved: %v; want its object open and its withdrawal binding", got)
	}
	got = results(mustPublish(t, s, store.Publication{CollectionID: elsewhere, Member: "old-name", Objects: []store.Object{next(1)}, DryRun: true}))
	if !slices.Equal(got, []store.Result{store.Added}) {
		t.Errorf("the former owner in another partnership: %v", got)
	}
	if n, err := s.TransferOwnership(ctx, store.Transfer{APIRoot: root, From: "old-name", To: "new-name"}); err != nil || n != 0 {
		t.Errorf("transferring nothing: %d, %v", n, err)
	}
	var transfers [][]string
	for _, e := range ledgerAll(t, s) {
		if e.Kind == store.LedgerTransfer {
			if e.Member != "new-name" || e.Endpoint != "old-name" || e.TokenID != "alice" || e.APIRoot != root {
				t.Errorf("transfer entry %+v", e)
			}
			var ids []string
			for _, it := range e.Items {
				ids = append(ids, it.ID)
			}
			transfers = append(transfers, ids)
		}
	}
	// The second moves the fingerprint's origin too, listed by fingerprint rather than by id.
	if len(transfers) != 2 || !slices.Equal(transfers[0], []string{a.ID}) || !slices.Equal(transfers[1], []string{"", b.ID, gone.ID}) {
		t.Errorf("transfer entries list %v", transfers)
	}
	RequireLedgerVerifies(t, s, int64(len(ledgerAll(t, s))))
	// Deep verification follows the transfers: the origins and the withdrawal it finds moved are
	// the ones the ledger moved.
	if v := verifyDeep(t, s, store.DeepOptions{}); !v.OK || v.ProblemCount != 0 {
		t.Errorf("deep verification after transfers: %+v", v.Problems)
	}
}

// publishSavesStatus checks Publication.Status: the plan is completed with the outcomes and saved
// with the write, and neither a dry run nor a failed publication saves one.
func publishSavesStatus(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	requested := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	statusOf := func(id string) *store.StatusPlan {
		plan := &store.StatusPlan{Status: store.Status{ID: id, APIRoot: "r", Submitter: "cert-eu", RequestTimestamp: requested}}
		for range 2 {
			plan.Details = append(plan.Details, store.PlannedDetail{Detail: store.StatusDetail{ID: indicatorID(1)}})
		}
		return plan
	}
	objs := []store.Object{tlpObject(1, "2026-01-01T00:00:00.000Z", 0), tlpObject(1, "2026-01-01T00:00:00.000Z", 0)}
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: objs, Status: statusOf("s-real")})
	st, err := s.Status(ctx, "r", "s-real")
	if err != nil {
		t.Fatalf("status of the publication: %v", err)
	}
	want := statusOf("s-real").Complete([]store.Outcome{{Result: store.Added}, {Result: store.Unchanged}})
	if got := []string{st.Successes[0].Message, st.Successes[1].Message}; len(st.Successes) != 2 ||
		got[0] != want.Successes[0].Message || got[1] != want.Successes[1].Message || st.Submitter != "cert-eu" {
		t.Errorf("saved status %+v; want the outcomes added, unchanged", st)
	}

	dry := store.Publication{CollectionID: coll, Member: "cert-eu", Objects: objs, DryRun: true, Status: statusOf("s-dry")}
	mustPublish(t, s, dry)
	if _, err := s.Status(ctx, "r", "s-dry"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a dry run saved its status (%v)", err)
	}
	_, err = s.Publish(ctx, store.Publication{CollectionID: newUUID(), Objects: objs, Status: statusOf("s-failed")})
	wantErrIs(t, "publication into a missing collection", err, store.ErrNotFound)
	if _, err := s.Status(ctx, "r", "s-failed"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed publication saved its status: %v", err)
	}
}

// tombstone stands in for the TAXII layer's tombstone builder.
func tombstone(newest []byte, at time.Time) ([]byte, time.Time, error) {
	v := at.UTC().Truncate(time.Millisecond)
	return fmt.Appendf(nil, `{"withdrawn":%q,"was":%d}`, v.Format(time.RFC3339Nano), len(newest)), v, nil
}

func withdrawTombstone(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	other := newCollection(t, s)
	v1 := tlpObject(1, "2026-01-01T00:00:00.000Z", store.TLPGreen)
	v2 := tlpObject(1, "2026-02-01T00:00:00.000Z", store.TLPAmber)
	keep := tlpObject(2, "2026-01-01T00:00:00.000Z", 0)
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{v1, v2, keep}})
	mustPublish(t, s, store.Publication{CollectionID: other, Member: "cert-eu", Objects: []store.Object{v1}})

	w := store.Withdrawal{CollectionID: coll, ObjectID: v1.ID, Member: "cert-eu", TokenID: "tok", Tombstone: tombstone}
	out, err := s.Withdraw(ctx, w)
	if err != nil || out.Result != store.Added || out.Version.IsZero() {
		t.Fatalf("withdraw: %+v, %v", out, err)
	}
	all := readAll(t, s, coll, store.Query{Limit: 10, IDs: []string{v1.ID},
		VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}}}, false)
	if len(all) != 1 || !all[0].Withdrawn || !all[0].Version.Equal(out.Version) || all[0].TLP != store.TLPAmber ||
		!strings.HasPrefix(string(all[0].Content), `{"withdrawn":`) {
		t.Errorf("versions after withdrawal: %+v; want the tombstone alone, at the newest version's level", all)
	}
	// The tombstone is the newest thing in the collection, so pollers resuming find it.
	page, err := s.Manifest(ctx, coll, store.Query{Limit: 10})
	if err != nil || len(page.Records) != 2 || page.Records[1].ID != v1.ID || !page.Records[1].Withdrawn {
		t.Errorf("manifest after withdrawal: %+v, %v", page.Records, err)
	}
	// Other collections keep their copies: the withdrawal is the publisher's, per collection.
	if got := readAll(t, s, other, store.Query{Limit: 10}, false); len(got) != 1 || got[0].Withdrawn {
		t.Errorf("other collection after withdrawal: %+v", got)
	}

	again, err := s.Withdraw(ctx, w)
	if err != nil || again.Result != store.Unchanged || !again.Version.Equal(out.Version) {
		t.Errorf("withdraw again: %+v, %v", again, err)
	}
	_, err = s.Withdraw(ctx, store.Withdrawal{CollectionID: coll, ObjectID: "indicator--missing", Tombstone: tombstone})
	wantErrIs(t, "withdraw a missing object", err, store.ErrNotFound)

	// Never accepted again in the partnership, in any version: the publisher is barred by its
	// withdrawal, anyone else by the object being the publisher's. Other partnerships are not
	// barred, not even for the publisher.
	v3 := tlpObject(1, "2026-03-01T00:00:00.000Z", 0)
	for member, want := range map[string]store.Result{"cert-eu": store.Withdrawn, "jpcert": store.NotOwner} {
		got := results(mustPublish(t, s, store.Publication{CollectionID: coll, Member: member, Objects: []store.Object{v3, keep}}))
		if got[0] != want || !got[1].Stored() {
			t.Errorf("%s publishing a withdrawn id into its partnership: %v, want %v first", member, got, want)
		}
	}
	for c, member := range map[string]string{other: "cert-eu", newCollection(t, s): "jpcert"} {
		if got := results(mustPublish(t, s, store.Publication{CollectionID: c, Member: member, Objects: []store.Object{v3}})); got[0] != store.Added {
			t.Errorf("%s publishing the id in another partnership: %v", member, got)
		}
	}
	dry := results(mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{v1}, DryRun: true}))
	if dry[0] != store.Withdrawn {
		t.Errorf("dry run of a withdrawn id: %v", dry)
	}
	// An observable is a fact: its publisher's withdrawal bars the publisher, not the others.
	fact := object("ipv4-addr", "ipv4-addr--00000000-0000-5000-8000-000000000009", "2.1", "", "198.51.100.9")
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{fact}})
	if _, err := s.Withdraw(ctx, store.Withdrawal{CollectionID: coll, ObjectID: fact.ID, Member: "cert-eu", Tombstone: tombstone}); err != nil {
		t.Fatal(err)
	}
	for member, want := range map[string]store.Result{"cert-eu": store.Withdrawn, "jpcert": store.Added} {
		if got := results(mustPublish(t, s, store.Publication{CollectionID: coll, Member: member, Objects: []store.Object{fact}})); got[0] != want {
			t.Errorf("%s publishing a withdrawn observable: %v, want %v", member, got, want)
		}
	}
	entries := ledgerAll(t, s)
	var withdrawals int
	for _, e := range entries {
		if e.Kind == store.LedgerWithdraw && e.Items[0].ID == v1.ID {
			withdrawals++
			if e.Member != "cert-eu" || e.TokenID != "tok" || len(e.Items) != 1 ||
				!e.Items[0].Version.Equal(out.Version) {
				t.Errorf("withdraw entry: %+v", e)
			}
		}
		if e.Kind == store.LedgerPublish && e.Member == "cert-eu" && e.Collection == coll && e.Items[0].Version.Equal(v3.Version) &&
			e.Items[0].Verdict != "refused: "+store.VerdictWithdrawn {
			t.Errorf("publish entry of a withdrawn id: %+v", e.Items)
		}
	}
	if withdrawals != 1 {
		t.Errorf("%d withdraw entries, want 1 (withdrawing again changes nothing)", withdrawals)
	}
	RequireLedgerVerifies(t, s, int64(len(entries)))
}

// ledgerKeepsDigests: the digests and fingerprints of ledger items come back as they were chained,
// so that the chain still verifies and deep verification can compare them with what is stored.
func ledgerKeepsDigests(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	a := fingerprinted(tlpObject(1, "2026-01-01T00:00:00.000Z", 0), "fp-a")
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{a}})
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{a}})
	out, err := s.Withdraw(ctx, store.Withdrawal{CollectionID: coll, ObjectID: a.ID, Member: "cert-eu", Tombstone: tombstone})
	if err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	stored := readAll(t, s, coll, store.Query{Limit: 10, IDs: []string{a.ID}}, false)
	if len(stored) != 1 {
		t.Fatalf("versions after withdrawal: %+v", stored)
	}
	digest := func(content []byte) []byte { sum := sha256.Sum256(content); return sum[:] }
	entries := ledgerAll(t, s)
	if len(entries) != 3 {
		t.Fatalf("ledger holds %d entries, want 3", len(entries))
	}
	want := []store.LedgerItem{
		{Verdict: store.VerdictAdded, SHA256: digest(a.Content), Fingerprint: "fp-a"},
		{Verdict: store.VerdictUnchanged, SHA256: digest(a.Content)},
		{Verdict: store.VerdictWithdrawn, SHA256: digest(stored[0].Content), Version: out.Version},
	}
	for i, e := range entries {
		got := e.Items[0]
		if got.Verdict != want[i].Verdict || !bytes.Equal(got.SHA256, want[i].SHA256) || got.Fingerprint != want[i].Fingerprint {
			t.Errorf("entry %d's item: %s %x %q; want %s %x %q", e.Seq, got.Verdict, got.SHA256, got.Fingerprint,
				want[i].Verdict, want[i].SHA256, want[i].Fingerprint)
		}
	}
	RequireLedgerVerifies(t, s, 3)
}

func pullsOfMine(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	root := rootOf(t, s, coll)
	otherColl := newCollection(t, s)
	otherRoot := rootOf(t, s, otherColl)
	mine := tlpObject(1, "2026-01-01T00:00:00.000Z", 0)
	theirs := tlpObject(2, "2026-01-01T00:00:00.000Z", 0)
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{mine}})
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "jpcert", Objects: []store.Object{theirs}})
	// The same id published first by someone else in another partnership is not cert-eu's there.
	mustPublish(t, s, store.Publication{CollectionID: otherColl, Member: "jpcert", Objects: []store.Object{mine}})

	pull := func(member, r, c string, objs ...store.Object) {
		e := store.LedgerEntry{Member: member, TokenID: member + "-tok", APIRoot: r, Collection: c, Endpoint: "objects"}
		for _, o := range objs {
			e.Items = append(e.Items, store.LedgerItem{ID: o.ID, Version: o.Version})
		}
		if err := s.RecordPull(ctx, e); err != nil {
			t.Fatalf("record pull: %v", err)
		}
	}
	pull("jpcert", root, coll, mine, theirs)
	pull("cert-eu", root, coll, theirs)
	pull("other", otherRoot, otherColl, mine)
	pull("other", root, coll)

	page, err := store.Pulls(ctx, s, store.PullQuery{Publisher: "cert-eu", Limit: 10})
	if err != nil {
		t.Fatalf("pulls: %v", err)
	}
	if len(page.Entries) != 1 || page.More {
		t.Fatalf("pulls of cert-eu's objects: %+v", page)
	}
	e := page.Entries[0]
	if e.Member != "jpcert" || e.TokenID != "jpcert-tok" || e.Kind != store.LedgerPull || len(e.Items) != 1 || e.Items[0].ID != mine.ID {
		t.Errorf("pull of cert-eu's objects: %+v", e)
	}
	page, err = store.Pulls(ctx, s, store.PullQuery{Publisher: "jpcert", Limit: 10})
	if err != nil || len(page.Entries) != 3 {
		t.Errorf("pulls of jpcert's objects: %+v, %v; want 3", page.Entries, err)
	}
	// Operators see every pull; paging resumes where the last page ended.
	var seen []int64
	for q := (store.PullQuery{Limit: 1}); ; {
		page, err := store.Pulls(ctx, s, q)
		if err != nil {
			t.Fatalf("all pulls: %v", err)
		}
		for _, e := range page.Entries {
			seen = append(seen, e.Seq)
		}
		if !page.More {
			break
		}
		q.After = page.Next
	}
	if len(seen) != 4 {
		t.Errorf("all pulls: %v, want 4 entries", seen)
	}
	page, err = store.Pulls(ctx, s, store.PullQuery{APIRoot: otherRoot, Limit: 10})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Member != "other" {
		t.Errorf("pulls from %s: %+v, %v", otherRoot, page.Entries, err)
	}
	RequireLedgerVerifies(t, s, 7)
}

// concurrentAppends: publications into two collections, withdrawals and pulls, all at once, leave a
// ledger numbered without gaps in which each entry commits to the one before.
func concurrentAppends(t *testing.T, s store.Store) {
	ctx := t.Context()
	colls := []string{newCollection(t, s), newCollection(t, s)}
	const writers, rounds = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds*2)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				n := w*rounds + r
				coll := colls[n%2]
				o := tlpObject(n, "2026-01-01T00:00:00.000Z", 0)
				if _, err := s.Publish(ctx, store.Publication{CollectionID: coll, Member: "m", Objects: []store.Object{o}}); err != nil {
					errs <- err
					return
				}
				if err := s.RecordPull(ctx, store.LedgerEntry{Member: "r", Collection: coll, Endpoint: "objects",
					Items: []store.LedgerItem{{ID: o.ID, Version: o.Version}}}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent append: %v", err)
	}
	RequireLedgerVerifies(t, s, writers*rounds*2)
}

// Tamper changes a backend's ledger behind the store's back, as someone with write access to the
// database could. Each function changes the entry or entries with the given sequence numbers.
type Tamper struct {
	// Alter changes the member an entry names.
	Alter func(t *testing.T, seq int64)
	// Delete removes an entry.
	Delete func(t *testing.T, seq int64)
	// Swap exchanges two entries' places, each keeping its content.
	Swap func(t *testing.T, a, b int64)
}

// RunLedgerTampering checks that VerifyLedger names the first broken entry after each kind of
// tampering. open returns a fresh, empty store and a Tamper acting on the same database.
func RunLedgerTampering(t *testing.T, open func(t *testing.T) (store.Store, Tamper)) {
	fill := func(t *testing.T, s store.Store) {
		coll := newCollection(t, s)
		for i := range 6 {
			o := tlpObject(i, "2026-01-01T00:00:00.000Z", 0)
			mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{o}})
		}
		RequireLedgerVerifies(t, s, 6)
	}
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, tp Tamper)
		broken int64
		says   string
	}{
		{"ChangeOneEntry", func(t *testing.T, tp Tamper) { tp.Alter(t, 3) }, 3, "altered"},
		{"ChangeTheFirstEntry", func(t *testing.T, tp Tamper) { tp.Alter(t, 1) }, 1, "altered"},
		{"DeleteOneEntry", func(t *testing.T, tp Tamper) { tp.Delete(t, 4) }, 4, "missing"},
		{"DeleteTheLastEntry", func(t *testing.T, tp Tamper) { tp.Delete(t, 6) }, 6, "missing"},
		{"ReorderTwoEntries", func(t *testing.T, tp Tamper) { tp.Swap(t, 2, 5) }, 2, "does not follow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, tp := open(t)
			fill(t, s)
			tc.tamper(t, tp)
			v, err := store.VerifyLedger(t.Context(), s)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if v.OK || v.BrokenAt != tc.broken || !strings.Contains(v.Problem, tc.says) {
				t.Errorf("verify after tampering: %+v; want entry %d named broken (%q)", v, tc.broken, tc.says)
			}
		})
	}
}

// ownershipRace has two members publish the same new ids at once into two collections of one
// partnership: for each id exactly one wins and the other is told not-owner, on every backend and
// however the writes interleave.
func ownershipRace(t *testing.T, s store.Store) {
	coll := newCollection(t, s)
	sibling := newCollectionIn(t, s, rootOf(t, s, coll))
	const ids = 20
	results := make([][]store.Outcome, 2)
	var wg sync.WaitGroup
	for i, p := range []struct{ member, coll string }{{"cert-eu", coll}, {"cncert", sibling}} {
		wg.Go(func() {
			for n := range ids {
				out, err := s.Publish(t.Context(), store.Publication{CollectionID: p.coll, Member: p.member,
					Objects: []store.Object{tlpObject(500+n, "2026-01-01T00:00:00.000Z", 0)}})
				if err != nil {
					t.Errorf("%s publishing: %v", p.member, err)
					return
				}
				results[i] = append(results[i], out[0])
			}
		})
	}
	wg.Wait()
	if len(results[0]) != ids || len(results[1]) != ids {
		t.Fatalf("outcomes %d and %d, want %d each", len(results[0]), len(results[1]), ids)
	}
	for n := range ids {
		a, b := results[0][n].Result, results[1][n].Result
		if (a == store.Added) == (b == store.Added) || (a != store.Added && a != store.NotOwner) || (b != store.Added && b != store.NotOwner) {
			t.Errorf("id %d: %v and %v; want one added and one not-owner", n, a, b)
		}
	}
}
