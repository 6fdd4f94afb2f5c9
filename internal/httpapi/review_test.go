package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"taxiihub/internal/admin"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// TestReviewPolicyAdvertised: the review rule an operator sets through the admin API is advertised
// in the collection resource, so that a publisher knows its objects wait for a reviewer; a
// collection without one says nothing of review.
func TestReviewPolicyAdvertised(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		h.ok("set review", h.call("PATCH", "/admin/partnerships/eu-japan/collections/cyber-threats/policy/",
			map[string]any{"review": "own-member", "review_timeout": "2d"}), 200, nil)

		var coll map[string]any
		h.hub.get(collectionPath("eu-japan", "cyber-threats"), h.tokens["jpcert-cc"]).json(t, &coll)
		if coll["x_taxiihub_review"] != "own-member" || coll["x_taxiihub_review_timeout_seconds"] != float64(2*24*3600) {
			t.Errorf("review advertised as %v, %v; want own-member, 172800", coll["x_taxiihub_review"], coll["x_taxiihub_review_timeout_seconds"])
		}
		coll = nil
		h.hub.get(collectionPath("eu-immigration-ct", "administrative-records"), h.tokens["frontex"]).json(t, &coll)
		if _, ok := coll["x_taxiihub_review"]; ok {
			t.Errorf("a collection without review advertises %v", coll["x_taxiihub_review"])
		}
		if _, ok := coll["x_taxiihub_review_timeout_seconds"]; ok {
			t.Errorf("a collection without review advertises a timeout %v", coll["x_taxiihub_review_timeout_seconds"])
		}

		h.refused("drop review unconfirmed", h.call("PATCH", "/admin/partnerships/eu-japan/collections/cyber-threats/policy/",
			map[string]any{"review": nil, "review_timeout": nil}), 409, "weakens-rules")

		// Partnership review: the partnership names its moderators; naming one is a weakening (one
		// more party may release), and the collection advertises who they are.
		h.ok("partnership review", h.call("PATCH", "/admin/partnerships/eu-japan/collections/cyber-threats/policy/",
			map[string]any{"review": "partnership"}), 200, nil)
		h.refused("name a moderator unconfirmed", h.call("PATCH", "/admin/partnerships/eu-japan/policy/",
			map[string]any{"reviewers": []string{"jpcert-cc"}}), 409, "weakens-rules")
		h.refused("name too many moderators", h.call("PATCH", "/admin/partnerships/eu-japan/policy/?confirm_weaken=true",
			map[string]any{"reviewers": manyMembers(admin.MaxReviewers + 1)}), 400, "invalid-request")
		h.ok("name a moderator", h.call("PATCH", "/admin/partnerships/eu-japan/policy/?confirm_weaken=true",
			map[string]any{"reviewers": []string{"jpcert-cc"}}), 200, nil)
		coll = nil
		h.hub.get(collectionPath("eu-japan", "cyber-threats"), h.tokens["cert-eu"]).json(t, &coll)
		if got, _ := coll["x_taxiihub_reviewers"].([]any); coll["x_taxiihub_review"] != "partnership" || len(got) != 1 || got[0] != "jpcert-cc" {
			t.Errorf("partnership review advertised as %v by %v; want partnership by [jpcert-cc]", coll["x_taxiihub_review"], coll["x_taxiihub_reviewers"])
		}
		h.ok("remove the moderator", h.call("PATCH", "/admin/partnerships/eu-japan/policy/",
			map[string]any{"reviewers": nil}), 200, nil)
	})
}

var errorID = regexp.MustCompile(`"error_id":"[^"]*"`)

// TestReviewHoldsThenReleases: a post to a collection under own-member review is held, invisible to
// every reader (the publisher included) exactly as if it had not been posted; a reviewer token of
// the publishing member releases half of it and rejects the rest, and a client polling the status
// until it is complete, as taxii2-client's wait_until_final does, stops then.
func TestReviewHoldsThenReleases(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		h.ok("set review", h.call("PATCH", "/admin/partnerships/eu-china-cyber/collections/indicators/policy/",
			map[string]any{"review": "own-member"}), 200, nil)
		var issued admin.IssuedToken
		h.ok("reviewer token", h.call("POST", "/admin/tokens/", admin.TokenRequest{Subject: "cert-eu", Role: "reviewer"}), 201, &issued)
		reviewer := issued.JWT
		var cn admin.IssuedToken
		h.ok("cncert reviewer token", h.call("POST", "/admin/tokens/", admin.TokenRequest{Subject: "cncert-cc", Role: "reviewer"}), 201, &cn)
		coll := collectionPath("eu-china-cyber", "indicators")
		eu, china := h.tokens["cert-eu"], h.tokens["cncert-cc"]

		type view struct{ objects, manifest, object, versions response }
		look := func(token string) view {
			return view{h.hub.get(coll+"objects/", token), h.hub.get(coll+"manifest/", token),
				h.hub.get(coll+"objects/"+stixID("indicator", 1)+"/", token), h.hub.get(coll+"objects/"+stixID("indicator", 1)+"/versions/", token)}
		}
		same := func(what string, a, b view) {
			t.Helper()
			for i, pair := range [][2]response{{a.objects, b.objects}, {a.manifest, b.manifest}, {a.object, b.object}, {a.versions, b.versions}} {
				// Every error carries an id of its own; all else must be the same.
				if pair[0].status != pair[1].status || !bytes.Equal(errorID.ReplaceAll(pair[0].body, nil), errorID.ReplaceAll(pair[1].body, nil)) {
					t.Errorf("%s: answer %d differs: %d %s, was %d %s", what, i, pair[1].status, pair[1].body, pair[0].status, pair[0].body)
				}
			}
		}
		beforeEU, beforeCN := look(eu), look(china)

		st := postStatus(t, h.hub, coll, eu, sdo("indicator", 1, indicatorOf(1)), sdo("indicator", 2, indicatorOf(2)))
		if st.Status != "pending" || st.PendingCount != 2 || st.SuccessCount != 0 {
			t.Fatalf("post under review: %+v; want pending with two pendings", st)
		}
		same("the publisher's own reads with objects held", beforeEU, look(eu))
		same("the partner's reads with objects held", beforeCN, look(china))

		queue := func(token string) (int, []map[string]any) {
			r := h.hub.get("/eu-china-cyber/x-taxiihub-review/", token)
			var body struct {
				Held []map[string]any `json:"held"`
			}
			if r.status == 200 {
				r.json(t, &body)
			}
			return r.status, body.Held
		}
		if status, _ := queue(eu); status != 403 {
			t.Errorf("the publishing token lists the queue: %d, want 403", status)
		}
		if status, held := queue(cn.JWT); status != 200 || len(held) != 0 {
			t.Errorf("another member's reviewer sees %d held objects (status %d), want none under own-member", len(held), status)
		}
		status, held := queue(reviewer)
		if status != 200 || len(held) != 2 || held[0]["publisher"] != "cert-eu" {
			t.Fatalf("the reviewer's queue: %d %v", status, held)
		}
		decide := func(body string) response {
			return h.hub.post("/eu-china-cyber/x-taxiihub-review/"+st.ID+"/", reviewer, []byte(body))
		}
		if r := decide(`{"decision":"reject"}`); r.status != 400 {
			t.Errorf("a rejection without a reason: %d %s", r.status, r.body)
		}

		// The publisher polls its status until it is final; the reviewer decides meanwhile.
		polls := 0
		for final := false; !final; polls++ {
			if polls > 10 {
				t.Fatalf("the status never became complete")
			}
			var now taxii.Status
			h.hub.get("/eu-china-cyber/status/"+st.ID+"/", eu).json(t, &now)
			final = now.Status == "complete"
			switch polls {
			case 1:
				if r := decide(`{"decision":"approve","objects":["` + stixID("indicator", 1) + `"]}`); r.status != 200 {
					t.Fatalf("approve: %d %s", r.status, r.body)
				}
			case 2:
				if now.PendingCount != 1 || now.SuccessCount != 1 || now.Status != "pending" {
					t.Errorf("after releasing one: %+v", now)
				}
				if r := decide(`{"decision":"reject","reason":"source not cleared for release"}`); r.status != 200 {
					t.Fatalf("reject: %d %s", r.status, r.body)
				}
			}
			if final && (now.SuccessCount != 1 || now.FailureCount != 1 ||
				now.Failures[0].Message != "rejected: [rejected-in-review] source not cleared for release" ||
				!strings.Contains(now.Successes[0].Message, "released by cert-eu")) {
				t.Errorf("the final status: %+v", now)
			}
		}
		if polls != 4 {
			t.Errorf("polled %d times; the status should be final on the poll after the last decision", polls)
		}
		var page taxii.Envelope
		h.hub.get(coll+"objects/", china).json(t, &page)
		if len(page.Objects) != 1 {
			t.Errorf("the partner reads %d objects after the release, want the one released", len(page.Objects))
		}
		if got := value(h.hub.scrape(t), "taxiihub_review_release_seconds", nil); got != 1 {
			t.Errorf("releases timed: %v, want the one released", got)
		}
	})
}

// TestReleaseNeedsThePublishersRightAtRelease: a release stores on the publisher's behalf with
// the rights it has then. CERT-EU posts twice under review; its write grant is taken away before
// the first release and its posting token revoked before the second: both fail with the reason,
// and CNCERT never reads either.
func TestReleaseNeedsThePublishersRightAtRelease(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		h.ok("set review", h.call("PATCH", "/admin/partnerships/eu-china-cyber/collections/indicators/policy/",
			map[string]any{"review": "own-member"}), 200, nil)
		var reviewer, publisher admin.IssuedToken
		h.ok("reviewer token", h.call("POST", "/admin/tokens/", admin.TokenRequest{Subject: "cert-eu", Role: "reviewer"}), 201, &reviewer)
		h.ok("publishing token", h.call("POST", "/admin/tokens/", admin.TokenRequest{Subject: "cert-eu"}), 201, &publisher)
		coll := collectionPath("eu-china-cyber", "indicators")
		first := postStatus(t, h.hub, coll, publisher.JWT, sdo("indicator", 1, indicatorOf(1)))
		second := postStatus(t, h.hub, coll, publisher.JWT, sdo("indicator", 2, indicatorOf(2)))
		approve := func(st taxii.Status) string {
			t.Helper()
			r := h.hub.post("/eu-china-cyber/x-taxiihub-review/"+st.ID+"/", reviewer.JWT, []byte(`{"decision":"approve"}`))
			if r.status != 200 {
				t.Fatalf("approve: %d %s", r.status, r.body)
			}
			var now taxii.Status
			h.hub.get("/eu-china-cyber/status/"+st.ID+"/", h.tokens["cert-eu"]).json(t, &now)
			if now.Status != "complete" || now.FailureCount != 1 {
				t.Fatalf("status after the release: %+v; want one failure", now)
			}
			return now.Failures[0].Message
		}
		grant := func(write bool) {
			h.ok("grant", h.call("PUT", "/admin/partnerships/eu-china-cyber/collections/indicators/grants/cert-eu/",
				map[string]bool{"read": true, "write": write}), 200, nil)
		}

		grant(false)
		if msg := approve(first); !strings.HasPrefix(msg, "rejected: [write-revoked]") {
			t.Errorf("released after the write grant was taken away: %q", msg)
		}
		grant(true)
		h.ok("revoke", h.call("POST", "/admin/tokens/"+publisher.Token.ID+"/revoke/", nil), 200, nil)
		if msg := approve(second); !strings.HasPrefix(msg, "rejected: [token-revoked]") {
			t.Errorf("released after the posting token was revoked: %q", msg)
		}
		var page taxii.Envelope
		h.hub.get(coll+"objects/", h.tokens["cncert-cc"]).json(t, &page)
		if len(page.Objects) != 0 {
			t.Errorf("CNCERT reads %d objects, want none released", len(page.Objects))
		}
	})
}

// TestPartnershipReviewByItsModerators: under partnership review only the reviewer tokens of the
// members the partnership names decide; CERT-EU's own reviewer, not named, sees nothing held and
// may decide nothing, CNCERT's, named, releases.
func TestPartnershipReviewByItsModerators(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		h.ok("set review", h.call("PATCH", "/admin/partnerships/eu-china-cyber/collections/indicators/policy/",
			map[string]any{"review": "partnership"}), 200, nil)
		h.ok("name the moderator", h.call("PATCH", "/admin/partnerships/eu-china-cyber/policy/?confirm_weaken=true",
			map[string]any{"reviewers": []string{"cncert-cc"}}), 200, nil)
		var eu, cn admin.IssuedToken
		h.ok("cert-eu reviewer", h.call("POST", "/admin/tokens/", admin.TokenRequest{Subject: "cert-eu", Role: "reviewer"}), 201, &eu)
		h.ok("cncert reviewer", h.call("POST", "/admin/tokens/", admin.TokenRequest{Subject: "cncert-cc", Role: "reviewer"}), 201, &cn)
		st := postStatus(t, h.hub, collectionPath("eu-china-cyber", "indicators"), h.tokens["cert-eu"], sdo("indicator", 1, indicatorOf(1)))
		held := func(token string) int {
			var body struct{ Held []json.RawMessage }
			h.hub.get("/eu-china-cyber/x-taxiihub-review/", token).json(t, &body)
			return len(body.Held)
		}
		if n := held(eu.JWT); n != 0 {
			t.Errorf("CERT-EU's reviewer, no moderator, sees %d held objects", n)
		}
		if n := held(cn.JWT); n != 1 {
			t.Errorf("CNCERT's reviewer, the moderator, sees %d held objects, want 1", n)
		}
		decide := func(token string) response {
			return h.hub.post("/eu-china-cyber/x-taxiihub-review/"+st.ID+"/", token, []byte(`{"decision":"approve"}`))
		}
		if r := decide(eu.JWT); r.status != 404 {
			t.Errorf("CERT-EU's reviewer decides: %d %s; want 404", r.status, r.body)
		}
		if r := decide(cn.JWT); r.status != 200 || !strings.Contains(string(r.body), "released by cncert-cc") {
			t.Errorf("the moderator's release: %d %s", r.status, r.body)
		}
	})
}

// manyMembers names n distinct members.
func manyMembers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("member-%d", i)
	}
	return out
}
