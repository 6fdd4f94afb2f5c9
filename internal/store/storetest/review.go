package storetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var reviewCases = []testCase{
	{"ReviewHeldObjectsAreInvisible", reviewHeldInvisible},
	{"ReviewReleaseEntersAfterEverythingStored", reviewReleaseOrdering},
	{"ReviewReleasesRacingWritesPageExactly", reviewReleasesRacingWrites},
	{"ReviewRejectAndExpire", reviewRejectAndExpire},
	{"ReviewByAPerson", reviewByAPerson},
	{"ReviewSubmissionByAPerson", reviewSubmissionByAPerson},
	{"ReviewRulesCheckedAgainAtRelease", reviewRulesAtRelease},
	{"ReviewPendingCountsPerCollection", reviewPendingCounts},
	{"ReviewRacingDecisionsDecideOnce", reviewRacingDecisions},
}

// submit holds objs for review as member's request id, expiring after ttl.
func submit(t *testing.T, s store.Store, coll, member, id string, ttl time.Duration, objs ...store.Object) {
	t.Helper()
	plan := &store.StatusPlan{Status: store.Status{ID: id, APIRoot: rootOf(t, s, coll), Submitter: member, RequestTimestamp: time.Now()}}
	for _, o := range objs {
		plan.Details = append(plan.Details, store.PlannedDetail{Detail: store.StatusDetail{ID: o.ID}})
	}
	now := time.Now()
	err := s.Submit(t.Context(), store.Submission{Publication: store.Publication{CollectionID: coll, Member: member,
		TokenID: member + "-token", Objects: objs, Status: plan}, At: now, Expires: now.Add(ttl)})
	if err != nil {
		t.Fatalf("submit %s: %v", id, err)
	}
}

func decide(t *testing.T, s store.Store, d store.ReviewDecision) []store.ReviewOutcome {
	t.Helper()
	if d.At.IsZero() {
		d.At = time.Now()
	}
	out, err := s.Decide(t.Context(), d)
	if err != nil {
		t.Fatalf("decide %+v: %v", d, err)
	}
	return out
}

func reviewHeldInvisible(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	root := rootOf(t, s, coll)
	visible := indicator(indicatorID(1), "2026-01-01T00:00:00.000Z", 1)
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{visible}})
	before := readAll(t, s, coll, store.Query{Limit: 10}, false)
	beforeManifest := readAll(t, s, coll, store.Query{Limit: 10}, true)

	// A new version of the visible object and a new object are held.
	held := []store.Object{indicator(indicatorID(1), "2026-02-01T00:00:00.000Z", 1), indicator(indicatorID(2), "2026-01-01T00:00:00.000Z", 2)}
	submit(t, s, coll, "cert-eu", "status-1", time.Hour, held...)

	for _, q := range []store.Query{{Limit: 10}, {Limit: 10, IDs: []string{indicatorID(2)}}, {Limit: 10, IDs: []string{indicatorID(1)}}} {
		for _, manifest := range []bool{false, true} {
			got := readAll(t, s, coll, q, manifest)
			var want []store.Record
			for _, r := range map[bool][]store.Record{false: before, true: beforeManifest}[manifest] {
				if len(q.IDs) == 0 || slices.Contains(q.IDs, r.ID) {
					want = append(want, r)
				}
			}
			if len(got) != len(want) || (len(got) > 0 && !got[len(got)-1].DateAdded.Equal(want[len(want)-1].DateAdded)) {
				t.Errorf("query %+v (manifest %v) with objects held: %v, want %v as before", q, manifest, ids(got), ids(want))
			}
		}
	}
	versions, err := s.StoredVersions(ctx, coll, time.Time{}, 10, false)
	if err != nil || len(versions) != 1 {
		t.Errorf("stored versions with objects held: %d, %v; want the one published", len(versions), err)
	}
	st, err := s.Status(ctx, root, "status-1")
	if err != nil || !st.Pending || len(st.Pendings) != 2 || len(st.Successes) != 0 {
		t.Errorf("status of a held request: %+v, %v; want two pendings", st, err)
	}
	list, err := s.PendingObjects(ctx, store.PendingQuery{CollectionID: coll, Limit: 10})
	if err != nil || len(list) != 2 || list[0].Member != "cert-eu" || list[0].StatusID != "status-1" ||
		string(list[1].Object.Content) != string(held[1].Content) {
		t.Errorf("pending objects: %+v, %v", list, err)
	}
	if other, err := s.PendingObjects(ctx, store.PendingQuery{Member: "cncert-cc", Limit: 10}); err != nil || len(other) != 0 {
		t.Errorf("pending objects of another member: %+v, %v", other, err)
	}
	if _, err := s.PendingObjects(ctx, store.PendingQuery{Limit: store.MaxLimit + 1}); err == nil {
		t.Errorf("a pending query above MaxLimit was answered")
	}
	entries, err := s.Ledger(ctx, 0, 100)
	if err != nil || entries[len(entries)-1].Kind != store.LedgerSubmit || len(entries[len(entries)-1].Items) != 2 ||
		entries[len(entries)-1].Items[0].Verdict != store.VerdictPending {
		t.Errorf("the submission's ledger entry: %+v, %v", entries[len(entries)-1], err)
	}
}

func reviewReleaseOrdering(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	root := rootOf(t, s, coll)
	held := indicator(indicatorID(1), "2026-01-01T00:00:00.000Z", 1)
	submit(t, s, coll, "cert-eu", "status-1", time.Hour, held)
	later := indicator(indicatorID(2), "2026-01-01T00:00:00.000Z", 2)
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cncert-cc", Objects: []store.Object{later}})
	seen := readAll(t, s, coll, store.Query{Limit: 10}, false)
	if len(seen) != 1 {
		t.Fatalf("before the release: %v", ids(seen))
	}
	poll := seen[0].DateAdded

	out := decide(t, s, store.ReviewDecision{CollectionID: coll, StatusID: "status-1", Approve: true,
		Reviewer: "cert-eu", ReviewerToken: "reviewer-token"})
	if len(out) != 1 || out[0].Outcome.Result != store.Added {
		t.Fatalf("release: %+v", out)
	}
	// A poller that had read everything up to the later object receives the released one.
	got := readAll(t, s, coll, store.Query{Limit: 10, AddedAfter: poll}, false)
	if len(got) != 1 || got[0].ID != held.ID || !got[0].DateAdded.After(poll) {
		t.Errorf("added_after the last object read before the release: %v, want the released object after %v", ids(got), poll)
	}
	st, err := s.Status(ctx, root, "status-1")
	if err != nil || st.Pending || len(st.Pendings) != 0 || len(st.Successes) != 1 ||
		!strings.Contains(st.Successes[0].Message, "released by cert-eu") {
		t.Errorf("status after the release: %+v, %v", st, err)
	}
	if again := decide(t, s, store.ReviewDecision{CollectionID: coll, StatusID: "status-1", Approve: true, Reviewer: "cert-eu"}); len(again) != 0 {
		t.Errorf("a second decision on a decided request decided %+v", again)
	}
	entries, err := s.Ledger(ctx, 0, 100)
	last := entries[len(entries)-1]
	if err != nil || last.Kind != store.LedgerPublish || last.Member != "cert-eu" || last.TokenID != "cert-eu-token" ||
		last.Endpoint != store.ReleaseEndpoint("cert-eu", "reviewer-token", store.Person{}) || last.Items[0].Verdict != store.VerdictAdded {
		t.Errorf("the release's ledger entry: %+v, %v; want a publish of the publisher naming the reviewer", last, err)
	}
}

// reviewReleasesRacingWrites: releases racing publications and a poller paging with added_after;
// the poller receives every object exactly once.
func reviewReleasesRacingWrites(t *testing.T, s store.Store) {
	coll := newCollection(t, s)
	const n = 12
	for i := range n {
		submit(t, s, coll, "cert-eu", fmt.Sprintf("status-%d", i), time.Hour, indicator(indicatorID(i), "2026-01-01T00:00:00.000Z", i))
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range n {
			if _, err := s.Decide(t.Context(), store.ReviewDecision{CollectionID: coll, StatusID: fmt.Sprintf("status-%d", i),
				Approve: true, Reviewer: "cert-eu", At: time.Now()}); err != nil {
				t.Errorf("release %d: %v", i, err)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range n {
			if _, err := s.Publish(t.Context(), store.Publication{CollectionID: coll, Member: "cncert-cc",
				Objects: []store.Object{indicator(indicatorID(100+i), "2026-01-01T00:00:00.000Z", 100+i)}}); err != nil {
				t.Errorf("publish %d: %v", i, err)
			}
		}
	}()
	seen := map[string]int{}
	var last time.Time
	poll := func() {
		for _, r := range readAll(t, s, coll, store.Query{Limit: 3, AddedAfter: last}, false) {
			seen[r.ID]++
			last = r.DateAdded
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		poll()
	}
	poll()
	if len(seen) != 2*n {
		t.Errorf("the poller received %d objects, want %d", len(seen), 2*n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("the poller received %s %d times", id, k)
		}
	}
}

func reviewRejectAndExpire(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	root := rootOf(t, s, coll)
	a, b := indicator(indicatorID(1), "2026-01-01T00:00:00.000Z", 1), indicator(indicatorID(2), "2026-01-01T00:00:00.000Z", 2)
	submit(t, s, coll, "cert-eu", "status-1", time.Hour, a, b)
	decide(t, s, store.ReviewDecision{CollectionID: coll, StatusID: "status-1", ObjectIDs: []string{a.ID}, Approve: true, Reviewer: "cert-eu"})
	st, err := s.Status(ctx, root, "status-1")
	if err != nil || !st.Pending || len(st.Successes) != 1 || len(st.Pendings) != 1 || st.Pendings[0].ID != b.ID {
		t.Errorf("after releasing one of two: %+v, %v; want one success, one pending", st, err)
	}
	decide(t, s, store.ReviewDecision{CollectionID: coll, StatusID: "status-1", Reason: "source not cleared\nfor release",
		Reviewer: "cert-eu", ReviewerToken: "rt"})
	st, err = s.Status(ctx, root, "status-1")
	if err != nil || st.Pending || len(st.Failures) != 1 ||
		st.Failures[0].Message != "rejected: [rejected-in-review] source not cleared for release" {
		t.Errorf("after rejecting the other: %+v, %v", st, err)
	}
	if got := readAll(t, s, coll, store.Query{Limit: 10}, false); len(got) != 1 || got[0].ID != a.ID {
		t.Errorf("after a release and a rejection the collection holds %v, want the released one", ids(got))
	}
	entries, _ := s.Ledger(ctx, 0, 100)
	if last := entries[len(entries)-1]; last.Kind != store.LedgerReject || last.Endpoint != store.ReleaseEndpoint("cert-eu", "rt", store.Person{}) ||
		last.Member != "cert-eu" || len(last.Items) != 1 || last.Items[0].ID != b.ID {
		t.Errorf("the rejection's ledger entry: %+v", last)
	}

	c := indicator(indicatorID(3), "2026-01-01T00:00:00.000Z", 3)
	submit(t, s, coll, "cert-eu", "status-2", time.Minute, c)
	if n, err := store.Expire(ctx, s, store.PendingQuery{Limit: 100}, time.Now()); err != nil || n != 0 {
		t.Errorf("expire before the timeout: %d, %v", n, err)
	}
	if n, err := store.Expire(ctx, s, store.PendingQuery{Limit: 100}, time.Now().Add(2*time.Minute)); err != nil || n != 1 {
		t.Errorf("expire after the timeout: %d, %v", n, err)
	}
	st, err = s.Status(ctx, root, "status-2")
	if err != nil || st.Pending || len(st.Failures) != 1 || !strings.HasPrefix(st.Failures[0].Message, "rejected: [review-expired]") {
		t.Errorf("an expired request: %+v, %v", st, err)
	}
	if left, err := s.PendingObjects(ctx, store.PendingQuery{CollectionID: coll, Limit: 10}); err != nil || len(left) != 0 {
		t.Errorf("held after every decision: %+v, %v", left, err)
	}
}

// reviewRulesAtRelease: ownership and withdrawal are decided again at release, from what the
// partnership holds then.
// reviewByAPerson: a person deciding through the console is named in the ledger entries of the
// release and of the rejection, in place of a token, while the entries stay the publisher's.
func reviewByAPerson(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	a, b := indicator(indicatorID(1), "2026-01-01T00:00:00.000Z", 1), indicator(indicatorID(2), "2026-01-01T00:00:00.000Z", 2)
	submit(t, s, coll, "cert-eu", "status-1", time.Hour, a, b)
	rita := store.Person{Issuer: "https://login.cert-eu.example", Subject: "rita", Name: "rita@cert-eu.example"}
	want := "reviewer:cert-eu/rita@cert-eu.example <rita at https://login.cert-eu.example>"
	if got := store.ReleaseEndpoint("cert-eu", "", rita); got != want {
		t.Fatalf("the endpoint naming a person: %q, want %q", got, want)
	}
	decide(t, s, store.ReviewDecision{CollectionID: coll, StatusID: "status-1", ObjectIDs: []string{a.ID}, Approve: true,
		Reviewer: "cert-eu", ReviewerPerson: rita})
	decide(t, s, store.ReviewDecision{CollectionID: coll, StatusID: "status-1", Reason: "not cleared",
		Reviewer: "cert-eu", ReviewerPerson: rita})
	entries, err := s.Ledger(ctx, 0, 100)
	if err != nil || len(entries) < 2 {
		t.Fatalf("ledger: %d entries, %v", len(entries), err)
	}
	release, reject := entries[len(entries)-2], entries[len(entries)-1]
	if release.Kind != store.LedgerPublish || release.Endpoint != want || release.Member != "cert-eu" || !release.Person.IsZero() ||
		len(release.Items) != 1 || release.Items[0].ID != a.ID {
		t.Errorf("the release's ledger entry: %+v; want the publisher's publish naming rita as reviewer", release)
	}
	if reject.Kind != store.LedgerReject || reject.Endpoint != want || reject.Member != "cert-eu" || len(reject.Items) != 1 || reject.Items[0].ID != b.ID {
		t.Errorf("the rejection's ledger entry: %+v; want a reject naming rita as reviewer", reject)
	}
	if v, err := store.VerifyLedger(ctx, s); err != nil || !v.OK {
		t.Errorf("the ledger with a person's decisions does not verify: %+v, %v", v, err)
	}
}

// reviewSubmissionByAPerson: what a person posts for a member into a reviewed collection is
// recorded, while it waits, as that person's submission, and the chain covers the person.
func reviewSubmissionByAPerson(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	alice := store.Person{Issuer: "https://login.cert-eu.example", Subject: "alice", Name: "alice@cert-eu.example"}
	o := indicator(indicatorID(1), "2026-01-01T00:00:00.000Z", 1)
	plan := &store.StatusPlan{Status: store.Status{ID: "status-1", APIRoot: rootOf(t, s, coll), Submitter: "cert-eu", RequestTimestamp: time.Now()},
		Details: []store.PlannedDetail{{Detail: store.StatusDetail{ID: o.ID}}}}
	now := time.Now()
	if err := s.Submit(ctx, store.Submission{Publication: store.Publication{CollectionID: coll, Member: "cert-eu", Person: alice,
		Objects: []store.Object{o}, Status: plan}, At: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	entries, err := s.Ledger(ctx, 0, 100)
	if err != nil || len(entries) == 0 {
		t.Fatalf("ledger: %d entries, %v", len(entries), err)
	}
	if e := entries[len(entries)-1]; e.Kind != store.LedgerSubmit || e.Person != alice {
		t.Errorf("the submission's ledger entry: kind %s, person %+v; want a submit naming %+v", e.Kind, e.Person, alice)
	}
	if v, err := store.VerifyLedger(ctx, s); err != nil || !v.OK {
		t.Errorf("the ledger with a person's submission does not verify: %+v, %v", v, err)
	}
}

func reviewRulesAtRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	root := rootOf(t, s, coll)
	// cncert-cc's object is held; meanwhile cert-eu publishes the same id first.
	contested := indicator(indicatorID(1), "2026-01-01T00:00:00.000Z", 1)
	submit(t, s, coll, "cncert-cc", "status-1", time.Hour, contested)
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{indicator(indicatorID(1), "2026-01-01T00:00:00.000Z", 7)}})
	// cert-eu's new version is held; meanwhile cert-eu withdraws the object.
	mine := indicator(indicatorID(2), "2026-01-01T00:00:00.000Z", 2)
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{mine}})
	submit(t, s, coll, "cert-eu", "status-2", time.Hour, indicator(indicatorID(2), "2026-03-01T00:00:00.000Z", 2))
	if _, err := s.Withdraw(ctx, store.Withdrawal{CollectionID: coll, ObjectID: mine.ID, Member: "cert-eu", Tombstone: tombstone}); err != nil {
		t.Fatal(err)
	}
	// A rule the caller checked again refuses a third.
	policy := indicator(indicatorID(3), "2026-01-01T00:00:00.000Z", 3)
	submit(t, s, coll, "cert-eu", "status-3", time.Hour, policy)

	for i, want := range []struct {
		status string
		refuse map[string]string
		result store.Result
		msg    string
	}{
		{"status-1", nil, store.NotOwner, "[not-owner]"},
		{"status-2", nil, store.Withdrawn, "[withdrawn]"},
		{"status-3", map[string]string{policy.ID: "rejected: [tlp-above-ceiling] /object_marking_refs: now above the ceiling"}, store.NotStored, "[tlp-above-ceiling]"},
	} {
		out := decide(t, s, store.ReviewDecision{CollectionID: coll, StatusID: want.status, Approve: true, Reviewer: "cert-eu", Refused: want.refuse})
		if len(out) != 1 || out[0].Outcome.Result != want.result {
			t.Errorf("case %d: release: %+v, want %v", i, out, want.result)
		}
		st, err := s.Status(ctx, root, want.status)
		if err != nil || st.Pending || len(st.Failures) != 1 || !strings.Contains(st.Failures[0].Message, want.msg) {
			t.Errorf("case %d: status %+v, %v; want a failure %s", i, st, err, want.msg)
		}
	}
	got := readAll(t, s, coll, store.Query{Limit: 10}, false)
	for _, r := range got {
		if r.ID == policy.ID || (r.ID == contested.ID && string(r.Content) == string(contested.Content)) {
			t.Errorf("an object refused at release was stored: %s", r.ID)
		}
	}
}

// pendingCounts reads the held-object counts of the collections given, as collection id to count.
func pendingCounts(t *testing.T, s store.Store, colls ...string) map[string]int {
	t.Helper()
	all, err := s.PendingCounts(t.Context())
	if err != nil {
		t.Fatalf("pending counts: %v", err)
	}
	out := map[string]int{}
	for i, c := range all {
		if i > 0 && (all[i-1].APIRoot > c.APIRoot || (all[i-1].APIRoot == c.APIRoot && all[i-1].CollectionID >= c.CollectionID)) {
			t.Errorf("pending counts out of order: %+v before %+v", all[i-1], c)
		}
		if slices.Contains(colls, c.CollectionID) {
			if c.APIRoot != rootOf(t, s, c.CollectionID) {
				t.Errorf("pending count of %s names root %s", c.CollectionID, c.APIRoot)
			}
			out[c.CollectionID] = c.Objects
		}
	}
	return out
}

func reviewPendingCounts(t *testing.T, s store.Store) {
	a, b, none := newCollection(t, s), newCollection(t, s), newCollection(t, s)
	submit(t, s, a, "cert-eu", "status-a1", time.Hour, indicator(indicatorID(1), "2026-01-01T00:00:00.000Z", 1),
		indicator(indicatorID(2), "2026-01-01T00:00:00.000Z", 2), indicator(indicatorID(3), "2026-01-01T00:00:00.000Z", 3))
	submit(t, s, a, "cncert-cc", "status-a2", time.Hour, indicator(indicatorID(4), "2026-01-01T00:00:00.000Z", 4))
	submit(t, s, b, "cert-eu", "status-b1", time.Hour, indicator(indicatorID(5), "2026-01-01T00:00:00.000Z", 5))
	// Objects stored at once are not held: they count nowhere.
	mustPublish(t, s, store.Publication{CollectionID: none, Member: "cert-eu", Objects: []store.Object{
		indicator(indicatorID(6), "2026-01-01T00:00:00.000Z", 6)}})
	if got := pendingCounts(t, s, a, b, none); got[a] != 4 || got[b] != 1 || len(got) != 2 {
		t.Errorf("after the submissions: %v; want 4 in a, 1 in b, and no series for the collection holding none", got)
	}

	decide(t, s, store.ReviewDecision{CollectionID: a, StatusID: "status-a1", ObjectIDs: []string{indicatorID(1)}, Approve: true,
		Reviewer: "cert-eu", ReviewerToken: "reviewer-token"})
	decide(t, s, store.ReviewDecision{CollectionID: a, StatusID: "status-a1", ObjectIDs: []string{indicatorID(2)}, Reason: "no",
		Reviewer: "cert-eu", ReviewerToken: "reviewer-token"})
	if got := pendingCounts(t, s, a, b); got[a] != 2 || got[b] != 1 {
		t.Errorf("after one release and one rejection in a: %v; want 2 in a, 1 in b", got)
	}
	if _, err := store.Expire(t.Context(), s, store.PendingQuery{CollectionID: b, Limit: 10}, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatalf("expire: %v", err)
	}
	decide(t, s, store.ReviewDecision{CollectionID: a, StatusID: "status-a1", Approve: true, Reviewer: "cert-eu", ReviewerToken: "reviewer-token"})
	if got := pendingCounts(t, s, a, b); got[a] != 1 || len(got) != 1 {
		t.Errorf("after b expired and a's first request was decided: %v; want 1 in a and no series for b", got)
	}
	if err := s.DeleteCollection(t.Context(), rootOf(t, s, a), a); err != nil {
		t.Fatalf("delete collection: %v", err)
	}
	if got := pendingCounts(t, s, a); len(got) != 0 {
		t.Errorf("after deleting the collection: %v; want nothing counted", got)
	}
}

// decidedInLedger counts, per object id, the items of release and rejection entries (publish
// entries of a reviewer, reject entries) in the ledger of the collection.
func decidedInLedger(t *testing.T, s store.Store, coll string) map[string]int {
	t.Helper()
	entries, err := s.Ledger(t.Context(), 0, store.MaxLimit)
	if err != nil {
		t.Fatalf("ledger: %v", err)
	}
	out := map[string]int{}
	for _, e := range entries {
		decision := e.Kind == store.LedgerReject || (e.Kind == store.LedgerPublish && strings.HasPrefix(e.Endpoint, "reviewer:"))
		if e.Collection != coll || !decision {
			continue
		}
		for _, it := range e.Items {
			out[it.ID]++
		}
	}
	return out
}

// Reviewers deciding the same objects at once, some approving and some rejecting, as a client
// retrying a decision it lost the answer to does: each object is decided exactly once, with one
// ledger item, one status detail, and stored at most once.
func reviewRacingDecisions(t *testing.T, s store.Store) {
	coll := newCollection(t, s)
	root := rootOf(t, s, coll)
	const n, deciders = 6, 8
	var objs []store.Object
	for i := range n {
		objs = append(objs, indicator(indicatorID(i), "2026-01-01T00:00:00.000Z", i))
	}
	submit(t, s, coll, "cert-eu", "status-1", time.Hour, objs...)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		decided = map[string][]string{}
	)
	for g := range deciders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := store.ReviewDecision{CollectionID: coll, StatusID: "status-1", Approve: g%2 == 0, Reason: "racing",
				Reviewer: "cert-eu", ReviewerToken: fmt.Sprintf("reviewer-%d", g), At: time.Now()}
			out, err := s.Decide(t.Context(), d)
			if err != nil {
				t.Errorf("decider %d: %v", g, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, o := range out {
				decided[o.Pending.Object.ID] = append(decided[o.Pending.Object.ID], o.Message)
			}
		}()
	}
	wg.Wait()

	released := 0
	for _, o := range objs {
		if got := decided[o.ID]; len(got) != 1 {
			t.Errorf("%s decided %d times: %q", o.ID, len(got), got)
		} else if !strings.HasPrefix(got[0], "rejected") {
			released++
		}
	}
	ledger := decidedInLedger(t, s, coll)
	for _, o := range objs {
		if ledger[o.ID] != 1 {
			t.Errorf("%s has %d release or rejection ledger items, want 1", o.ID, ledger[o.ID])
		}
	}
	st, err := s.Status(t.Context(), root, "status-1")
	if err != nil || st.Pending || len(st.Pendings) != 0 || len(st.Successes)+len(st.Failures) != n || len(st.Successes) != released {
		t.Errorf("status after racing decisions: %d successes, %d failures, %d pending (%v); want %d decided, %d released",
			len(st.Successes), len(st.Failures), len(st.Pendings), err, n, released)
	}
	if stored := readAll(t, s, coll, store.Query{Limit: 100}, false); len(stored) != released {
		t.Errorf("the collection holds %d objects, want the %d released", len(stored), released)
	}
	if left, err := s.PendingObjects(t.Context(), store.PendingQuery{CollectionID: coll, Limit: 10}); err != nil || len(left) != 0 {
		t.Errorf("still held after the decisions: %d (%v)", len(left), err)
	}
	// Deciding again, as a retry after a lost answer would, changes nothing.
	if out := decide(t, s, store.ReviewDecision{CollectionID: coll, StatusID: "status-1", Reason: "again", Reviewer: "cert-eu",
		ReviewerToken: "reviewer-9"}); len(out) != 0 {
		t.Errorf("a decision retried after all were decided decided %d objects", len(out))
	}
	if again := decidedInLedger(t, s, coll); !maps.Equal(again, ledger) {
		t.Errorf("a retried decision changed the ledger: %v, was %v", again, ledger)
	}
}
