package httpapi_test

import (
	"testing"

	"taxiihub/internal/store"
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
	})
}
