package sharing

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// underReview puts the fixture's collection under own-member review with the timeout given, and
// returns a reviewer principal of cert-eu with a token of its own.
func underReview(t *testing.T, f fixture, timeout time.Duration) auth.Principal {
	t.Helper()
	c, err := f.store.Collection(t.Context(), "r", "c")
	if err != nil {
		t.Fatal(err)
	}
	c.Policy.Review, c.Policy.ReviewTimeout = store.ReviewOwnMember, timeout
	if err := f.store.UpdateCollection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	grants, err := f.store.Grants(t.Context(), "cert-eu")
	if err != nil {
		t.Fatal(err)
	}
	reviewer := auth.NewPrincipal("cert-eu", "tok-reviewer", grants)
	reviewer.Reviewer = true
	return reviewer
}

// A pending status read after the review timeout shows its objects expired, whenever the sweep ran.
func TestReviewExpiresWhenTheStatusIsRead(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "cert-eu", read: true, write: true})
	underReview(t, f, time.Hour)
	start := time.Now()
	f.svc.now = func() time.Time { return start }
	st, err := f.svc.Publish(t.Context(), f.access(t, "cert-eu"), []json.RawMessage{indicator(1, "")}, false)
	if err != nil || !st.Pending || len(st.Pendings) != 1 {
		t.Fatalf("post under review: %+v, %v", st, err)
	}
	f.svc.now = func() time.Time { return start.Add(59 * time.Minute) }
	if got, err := f.svc.Status(t.Context(), f.caller(t, "cert-eu"), "r", st.ID); err != nil || !got.Pending {
		t.Errorf("before the timeout: %+v, %v; want still pending", got, err)
	}
	f.svc.now = func() time.Time { return start.Add(61 * time.Minute) }
	got, err := f.svc.Status(t.Context(), f.caller(t, "cert-eu"), "r", st.ID)
	if err != nil || got.Pending || len(got.Failures) != 1 || !strings.HasPrefix(got.Failures[0].Message, "rejected: [review-expired]") {
		t.Errorf("after the timeout: %+v, %v; want the object expired", got, err)
	}
}

// A release judges the objects by the rules as they are then, and nobody reviews with the token
// that posted.
func TestReviewChecksRulesAgainAtRelease(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "cert-eu", read: true, write: true})
	reviewer := underReview(t, f, 0)
	st, err := f.svc.Publish(t.Context(), f.access(t, "cert-eu"), []json.RawMessage{indicator(1, ""), indicator(2, "")}, false)
	if err != nil || len(st.Pendings) != 2 {
		t.Fatalf("post under review: %+v, %v", st, err)
	}
	poster := f.caller(t, "cert-eu")
	poster.Reviewer = true // a reviewer token that posted the objects itself
	if _, err := f.svc.Decide(t.Context(), poster, "r", Decision{StatusID: st.ID, Approve: true}); kindOf(err) != NotFound {
		t.Errorf("the posting token decides its own objects: %v; want NotFound", err)
	}
	if _, err := f.svc.ReviewQueue(t.Context(), f.caller(t, "cert-eu"), "r", ReviewQuery{}); kindOf(err) != Forbidden {
		t.Errorf("a token without the reviewer role lists the queue: %v; want Forbidden", err)
	}

	// Meanwhile the collection stops accepting indicators.
	c, _ := f.store.Collection(t.Context(), "r", "c")
	c.Policy.AllowedTypes = []string{"malware"}
	if err := f.store.UpdateCollection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	out, err := f.svc.Decide(t.Context(), reviewer, "r", Decision{StatusID: st.ID, Approve: true})
	if err != nil || len(out) != 2 {
		t.Fatalf("release: %+v, %v", out, err)
	}
	for _, o := range out {
		if o.Outcome.Result.Stored() || !strings.Contains(o.Message, "[type-not-allowed]") {
			t.Errorf("%s released against the rules now: %+v", o.Pending.Object.ID, o)
		}
	}
	page, err := f.store.Objects(t.Context(), f.coll, store.Query{Limit: 10})
	if err != nil || len(page.Records) != 0 {
		t.Errorf("the collection holds %d objects, want none", len(page.Records))
	}
}
