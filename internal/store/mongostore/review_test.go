package mongostore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"taxiihub/internal/store"
)

// TestDecisionFailingMidwayChangesNothing: a decision whose transaction fails after its writes (a
// node stopping, the primary stepping down) leaves the objects held, the status pending, the
// collection and the ledger as they were; retried, it decides each object once, with one ledger
// item each.
func TestDecisionFailingMidwayChangesNothing(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, mongod.Database(t))
	coll := newCollection(t, s)
	v := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	held := []store.Object{obj("indicator", 1, v), obj("indicator", 2, v)}
	now := time.Now()
	plan := &store.StatusPlan{Status: store.Status{ID: "status-1", APIRoot: "root", Submitter: "cert-eu", RequestTimestamp: now}}
	for _, o := range held {
		plan.Details = append(plan.Details, store.PlannedDetail{Detail: store.StatusDetail{ID: o.ID}})
	}
	if err := s.Submit(ctx, store.Submission{Publication: store.Publication{CollectionID: coll, Member: "cert-eu",
		TokenID: "publisher-token", Objects: held, Status: plan}, At: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ledgerLen := func() int {
		entries, err := s.Ledger(ctx, 0, store.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	before := ledgerLen()

	failures := 0
	s.SetDecideTxnHook(func(context.Context, string) error {
		failures++
		return errors.New("the node stops mid-decision")
	})
	for _, d := range []store.ReviewDecision{
		{Approve: true, ObjectIDs: []string{held[0].ID}},
		{Reason: "not cleared"},
	} {
		d.CollectionID, d.StatusID, d.Reviewer, d.ReviewerToken, d.At = coll, "status-1", "cert-eu", "reviewer-token", time.Now()
		if _, err := s.Decide(ctx, d); err == nil {
			t.Fatalf("decision %+v succeeded with its transaction failing", d)
		}
	}
	if failures != 2 {
		t.Errorf("the failing hook ran %d times, want once per decision", failures)
	}
	if left, err := s.PendingObjects(ctx, store.PendingQuery{CollectionID: coll, Limit: 10}); err != nil || len(left) != 2 {
		t.Errorf("after failed decisions %d objects held (%v), want both", len(left), err)
	}
	if page, err := s.Objects(ctx, coll, store.Query{Limit: 10}); err != nil || len(page.Records) != 0 {
		t.Errorf("after failed decisions the collection holds %d objects (%v)", len(page.Records), err)
	}
	if st, err := s.Status(ctx, "root", "status-1"); err != nil || len(st.Pendings) != 2 || len(st.Successes)+len(st.Failures) != 0 {
		t.Errorf("after failed decisions the status is %+v (%v), want both pending", st, err)
	}
	if n := ledgerLen(); n != before {
		t.Errorf("failed decisions left %d ledger entries", n-before)
	}

	s.SetDecideTxnHook(nil)
	for _, d := range []store.ReviewDecision{
		{Approve: true, ObjectIDs: []string{held[0].ID}},
		{Reason: "not cleared"},
		{Reason: "retried after a lost answer"},
	} {
		d.CollectionID, d.StatusID, d.Reviewer, d.ReviewerToken, d.At = coll, "status-1", "cert-eu", "reviewer-token", time.Now()
		if _, err := s.Decide(ctx, d); err != nil {
			t.Fatalf("decision %+v: %v", d, err)
		}
	}
	entries, err := s.Ledger(ctx, 0, store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	items := map[string][]string{}
	for _, e := range entries[before:] {
		for _, it := range e.Items {
			items[it.ID] = append(items[it.ID], string(e.Kind)+" "+it.Verdict)
		}
	}
	if got := items[held[0].ID]; len(got) != 1 || got[0] != "publish added" {
		t.Errorf("ledger items of the released object: %q; want one publish", got)
	}
	if got := items[held[1].ID]; len(got) != 1 || !strings.HasPrefix(got[0], "reject rejected: [rejected-in-review] not cleared") {
		t.Errorf("ledger items of the rejected object: %q; want one reject", got)
	}
	if st, err := s.Status(ctx, "root", "status-1"); err != nil || st.Pending || len(st.Successes) != 1 || len(st.Failures) != 1 {
		t.Errorf("status after the decisions: %+v (%v)", st, err)
	}
}

// TestPendingCountsReadTheIndexOnly: counting what is held, at every scrape, scans the keys of
// the review queue's request index and reads no document, however large the held objects are.
func TestPendingCountsReadTheIndexOnly(t *testing.T) {
	s := openStore(t, mongod.Database(t))
	coll := newCollection(t, s)
	now := time.Now()
	o := obj("indicator", 1, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	plan := &store.StatusPlan{Status: store.Status{ID: "status-1", APIRoot: "root", RequestTimestamp: now},
		Details: []store.PlannedDetail{{Detail: store.StatusDetail{ID: o.ID}}}}
	if err := s.Submit(t.Context(), store.Submission{Publication: store.Publication{CollectionID: coll, Member: "cert-eu",
		Objects: []store.Object{o}, Status: plan}, At: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	raw, err := s.ExplainPendingCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Stages []struct {
			Cursor struct {
				QueryPlanner struct {
					WinningPlan bson.Raw `bson:"winningPlan"`
				} `bson:"queryPlanner"`
			} `bson:"$cursor"`
		} `bson:"stages"`
	}
	if err := bson.Unmarshal(raw, &ex); err != nil || len(ex.Stages) == 0 || ex.Stages[0].Cursor.QueryPlanner.WinningPlan == nil {
		t.Fatalf("explain: %v\n%s", err, raw)
	}
	stages, indexes := planStages(t, ex.Stages[0].Cursor.QueryPlanner.WinningPlan)
	t.Logf("plan: %v on %v", stages, indexes)
	if slices.Contains(stages, "FETCH") || slices.Contains(stages, "COLLSCAN") || !slices.Contains(indexes, "collection_status") {
		t.Errorf("the count's plan: stages %v on indexes %v; want a scan of collection_status without FETCH", stages, indexes)
	}
	if counts, err := s.PendingCounts(t.Context()); err != nil || len(counts) != 1 || counts[0].Objects != 1 {
		t.Errorf("pending counts: %+v, %v", counts, err)
	}
}
