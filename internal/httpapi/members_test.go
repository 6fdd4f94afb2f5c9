package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"taxiihub/internal/admin"
	"taxiihub/internal/identity"
	"taxiihub/internal/store"
)

// Every partnership serves its members' identities in its members collection: its readers pull
// them like any objects, nobody adds to them, and other partnerships' members do not see them.
func TestPartnersReadTheirPartnershipsMembers(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		v, err := validator()
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			root, reader string
			members      []string
		}{
			{"eu-japan", "jpcert-cc", []string{"cert-eu", "jpcert-cc"}},
			{"eu-china-cyber", "cncert-cc", []string{"cert-eu", "cncert-cc"}},
			{"eu-immigration-ct", "europol-ectc", []string{"europol-ectc", "frontex", "nl-ind", "nl-nctv"}},
		} {
			r := h.hub.get(collectionPath(tc.root, "members")+"objects/", h.tokens[tc.reader])
			if r.status != http.StatusOK {
				t.Fatalf("%s reads %s/members: %d %s", tc.reader, tc.root, r.status, r.body)
			}
			var env struct {
				Objects []map[string]any `json:"objects"`
			}
			r.json(t, &env)
			var want, got []string
			for _, m := range tc.members {
				want = append(want, identity.OfMember(m))
			}
			for _, o := range env.Objects {
				got = append(got, o["id"].(string))
				if o["type"] != "identity" || o["identity_class"] != "organization" || o["name"] == "" {
					t.Errorf("%s/members holds %v", tc.root, o)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s/members holds %v, want the identities of %v: %v", tc.root, got, tc.members, want)
			}
		}
		// Served byte for byte as the hub wrote them: valid STIX 2.1.
		r := h.hub.get(collectionPath("eu-japan", "members")+"objects/"+identity.OfMember("cert-eu")+"/", h.tokens["jpcert-cc"])
		var env struct {
			Objects []json.RawMessage `json:"objects"`
		}
		r.json(t, &env)
		if len(env.Objects) != 1 || !v.Object(env.Objects[0]).Valid() {
			t.Errorf("cert-eu's identity: %s", r.body)
		}

		// Nobody adds to it, its members included.
		post := h.hub.post(collectionPath("eu-japan", "members")+"objects/", h.tokens["cert-eu"], envelope(string(env.Objects[0])))
		if post.status != http.StatusForbidden {
			t.Errorf("cert-eu posts into eu-japan/members: %d %s", post.status, post.body)
		}
		// A publisher reads nothing in its partnership; another partnership's member sees nothing.
		if r := h.hub.get(collectionPath("eu-immigration-ct", "members")+"objects/", h.tokens["frontex"]); r.status != http.StatusForbidden {
			t.Errorf("frontex, a publisher, reads eu-immigration-ct/members: %d", r.status)
		}
		if r := h.hub.get(collectionPath("eu-japan", "members")+"objects/", h.tokens["cncert-cc"]); r.status != http.StatusNotFound {
			t.Errorf("cncert-cc reads eu-japan/members: %d", r.status)
		}
	})
}

// The ledger, as operators and publishers read it, names each member by its identity as well, the
// one its partnerships serve.
func TestLedgerAndPullsNameTheMembersIdentity(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		japan := collectionPath("eu-japan", "cyber-threats")
		postStatus(t, h.hub, japan, h.tokens["cert-eu"], sdo("indicator", 1, indicatorOf(1)))
		h.hub.get(japan+"objects/", h.tokens["jpcert-cc"])

		var mine struct {
			Pulls []map[string]any `json:"pulls"`
		}
		h.hub.get("/eu-japan/pulls/", h.tokens["cert-eu"]).json(t, &mine)
		if len(mine.Pulls) != 1 || mine.Pulls[0]["member"] != "jpcert-cc" ||
			mine.Pulls[0]["member_identity"] != identity.OfMember("jpcert-cc") {
			t.Errorf("pulls of cert-eu's objects: %+v", mine.Pulls)
		}
		var entries struct{ Entries []admin.LedgerEntry }
		h.ok("ledger", h.call("GET", "/admin/ledger/?limit=1000", nil), 200, &entries)
		if len(entries.Entries) != 2 {
			t.Fatalf("ledger: %+v", entries.Entries)
		}
		for _, e := range entries.Entries {
			if e.MemberIdentity != identity.OfMember(e.Member) {
				t.Errorf("%s entry of %s names identity %q", e.Kind, e.Member, e.MemberIdentity)
			}
		}
	})
}
