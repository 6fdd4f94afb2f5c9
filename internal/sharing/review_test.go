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

// A release stores on the publisher's behalf, so it needs the publisher's grant to write and the
// token it posted with, as they are at release: removed or revoked while the objects were held,
// they fail them, and nothing reaches the collection.
func TestReviewReleaseNeedsThePublishersGrantAndToken(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "cert-eu", read: true, write: true})
	reviewer := underReview(t, f, 0)
	now := time.Now()
	if err := f.store.SaveToken(t.Context(), store.Token{ID: "tok-cert-eu", Kind: store.PartnerToken, Subject: "cert-eu",
		IssuedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	post := func(n int) string {
		st, err := f.svc.Publish(t.Context(), f.access(t, "cert-eu"), []json.RawMessage{indicator(n, "")}, false)
		if err != nil || len(st.Pendings) != 1 {
			t.Fatalf("post under review: %+v, %v", st, err)
		}
		return st.ID
	}
	approve := func(status string) store.ReviewOutcome {
		out, err := f.svc.Decide(t.Context(), reviewer, "r", Decision{StatusID: status, Approve: true})
		if err != nil || len(out) != 1 {
			t.Fatalf("approve %s: %+v, %v", status, out, err)
		}
		return out[0]
	}
	grant := func(write bool) {
		if err := f.store.PutGrant(t.Context(), store.Grant{MemberID: "cert-eu", APIRoot: "r", CollectionID: f.coll, Read: true, Write: write}); err != nil {
			t.Fatal(err)
		}
	}
	noGrant, fine, revoked := post(1), post(2), post(3)

	grant(false)
	if o := approve(noGrant); o.Outcome.Result.Stored() || !strings.HasPrefix(o.Message, "rejected: [write-revoked]") {
		t.Errorf("released after the publisher's grant to write was removed: %+v", o)
	}
	grant(true)
	if o := approve(fine); !o.Outcome.Result.Stored() {
		t.Errorf("not released with the grant given back and the token valid: %+v", o)
	}
	if err := f.store.RevokeToken(t.Context(), "tok-cert-eu", time.Now()); err != nil {
		t.Fatal(err)
	}
	if o := approve(revoked); o.Outcome.Result.Stored() || !strings.HasPrefix(o.Message, "rejected: [token-revoked]") {
		t.Errorf("released after the posting token was revoked: %+v", o)
	}
	page, err := f.store.Objects(t.Context(), f.coll, store.Query{Limit: 10})
	if err != nil || len(page.Records) != 1 {
		t.Errorf("the collection holds %d objects, want the one released with grant and token", len(page.Records))
	}
}

// Under partnership review only reviewer tokens of the members the partnership names as
// moderators decide: another member's reviewer token, the publisher's own reviewers included, sees
// nothing held; with no moderator named nobody decides.
func TestPartnershipReviewOnlyByNamedModerators(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "cert-eu", read: true, write: true},
		member{id: "cncert-cc", read: true, write: true}, member{id: "kisa", read: true, write: true})
	c, err := f.store.Collection(t.Context(), "r", "c")
	if err != nil {
		t.Fatal(err)
	}
	c.Policy.Review = store.ReviewPartnership
	if err := f.store.UpdateCollection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	reviewerOf := func(id string) auth.Principal {
		p := f.caller(t, id)
		p.TokenID, p.Reviewer = "tok-reviewer-"+id, true
		return p
	}
	moderate := func(members ...string) {
		r, err := f.store.APIRoot(t.Context(), "r")
		if err != nil {
			t.Fatal(err)
		}
		r.Policy.Reviewers = members
		if err := f.store.UpdateAPIRoot(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	st, err := f.svc.Publish(t.Context(), f.access(t, "cert-eu"), []json.RawMessage{indicator(1, ""), indicator(2, "")}, false)
	if err != nil || len(st.Pendings) != 2 {
		t.Fatalf("post under review: %+v, %v", st, err)
	}
	seen := func(id string) int {
		q, err := f.svc.ReviewQueue(t.Context(), reviewerOf(id), "r", ReviewQuery{})
		if err != nil {
			t.Fatalf("queue of %s: %v", id, err)
		}
		return len(q)
	}

	for _, id := range []string{"cert-eu", "cncert-cc", "kisa"} {
		if n := seen(id); n != 0 {
			t.Errorf("with no moderator named, %s's reviewer sees %d held objects", id, n)
		}
	}
	moderate("cncert-cc")
	for id, want := range map[string]int{"cert-eu": 0, "cncert-cc": 2, "kisa": 0} {
		if n := seen(id); n != want {
			t.Errorf("with cncert-cc the moderator, %s's reviewer sees %d held objects, want %d", id, n, want)
		}
	}
	for _, id := range []string{"cert-eu", "kisa"} {
		if _, err := f.svc.Decide(t.Context(), reviewerOf(id), "r", Decision{StatusID: st.ID, Approve: true}); kindOf(err) != NotFound {
			t.Errorf("%s's reviewer, not a moderator, decides: %v; want NotFound", id, err)
		}
	}
	out, err := f.svc.Decide(t.Context(), reviewerOf("cncert-cc"), "r", Decision{StatusID: st.ID, Approve: true,
		ObjectIDs: []string{"indicator--00000000-0000-4000-8000-000000000001"}})
	if err != nil || len(out) != 1 || !strings.Contains(out[0].Message, "released by cncert-cc") {
		t.Errorf("the moderator's release: %+v, %v", out, err)
	}
}
