package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"taxiihub/internal/admin"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// markingDefinition is a marking definition with id n and the given body.
func markingDefinition(n int, body string) string {
	return fmt.Sprintf(`{"type":"marking-definition","spec_version":"2.1","id":"%s","created":"2026-01-01T00:00:00.000Z",%s}`,
		stixID("marking-definition", n), body)
}

// Marking definitions that are not the predefined TLP ones but claim a level.
var (
	// tlp2RedLookalike carries the TLP 2.0 extension with tlp_2_0 red under a fresh id.
	tlp2RedLookalike = markingDefinition(1, `"name":"TLP:RED","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":`+
		`{"extension_type":"property-extension","tlp_2_0":"red"}}`)
	statementRed   = markingDefinition(2, `"definition_type":"statement","definition":{"statement":"TLP:RED. For the named recipients only."}`)
	statementAmber = markingDefinition(3, `"name":"tlp:amber","definition_type":"statement","definition":{"statement":"Limited disclosure."}`)
	copyright      = markingDefinition(4, `"definition_type":"statement","definition":{"statement":"Copyright 2026 CERT-EU"}`)
	// upperTLP1Red is the TLP 1.0 RED id in upper case, which names the same definition.
	upperTLP1Red = "marking-definition--" + strings.ToUpper(tlp1Red[len("marking-definition--"):])
	// unknownMarking is a marking definition the hub never sees.
	unknownMarking = stixID("marking-definition", 99)
)

func markedBy(n int, refs ...string) string {
	return sdo("indicator", n, indicatorOf(n)+`,"object_marking_refs":["`+strings.Join(refs, `","`)+`"]`)
}

// TestTLPLoopholes posts each way of passing content above a collection's ceiling that the rules
// used to miss, under EU–Japan's AMBER ceiling, and reads under an AMBER clearance: each object is
// refused on write and hidden on read, and its valid neighbours are stored.
func TestTLPLoopholes(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		japan := collectionPath("eu-japan", "cyber-threats")
		infra := collectionPath("eu-japan", "critical-infrastructure")

		// Marking definitions stored earlier in the partnership, in a collection without a ceiling.
		h.ok("lift the ceiling", h.call("PUT", "/admin/partnerships/eu-japan/collections/critical-infrastructure/policy/?confirm_weaken=true",
			admin.CollectionPolicy{}), 200, nil)
		if st := postStatus(t, h.hub, infra, h.tokens["cert-eu"], statementRed, statementAmber, copyright); st.SuccessCount != 3 {
			t.Fatalf("storing the marking definitions: %+v", st)
		}

		rows := []struct {
			name    string
			objects []string
			want    map[string][]string
		}{
			{"a TLP 2.0 lookalike under a fresh id, same envelope", []string{tlp2RedLookalike, markedBy(10, stixID("marking-definition", 1))},
				map[string][]string{stixID("indicator", 10): {"[tlp-above-ceiling] /object_marking_refs/0"}}},
			{"a TLP 2.0 lookalike under a fresh id, later envelope (never stored: unclassifiable)", []string{markedBy(11, stixID("marking-definition", 1))},
				map[string][]string{stixID("indicator", 11): {"[tlp-unclassifiable] /object_marking_refs/0"}}},
			{"a statement reading TLP:RED, same envelope", []string{
				markingDefinition(5, `"definition_type":"statement","definition":{"statement":"TLP:RED"}`), markedBy(12, stixID("marking-definition", 5))},
				map[string][]string{stixID("marking-definition", 5): {"[tlp-above-ceiling]"}, stixID("indicator", 12): {"[tlp-above-ceiling] /object_marking_refs/0"}}},
			{"a statement reading TLP:RED, stored earlier", []string{markedBy(13, stixID("marking-definition", 2))},
				map[string][]string{stixID("indicator", 13): {"[tlp-above-ceiling] /object_marking_refs/0"}}},
			{"a statement reading TLP:RED in a granular marking", []string{
				sdo("indicator", 14, indicatorOf(14)+`,"granular_markings":[{"marking_ref":"`+stixID("marking-definition", 2)+`","selectors":["name"]}]`)},
				map[string][]string{stixID("indicator", 14): {"[tlp-above-ceiling] /granular_markings/0/marking_ref"}}},
			{"the upper-case spelling of TLP 1.0 RED", []string{markedBy(15, upperTLP1Red)},
				map[string][]string{stixID("indicator", 15): {"[tlp-above-ceiling] /object_marking_refs/0"}}},
			{"a marking the hub does not know", []string{markedBy(16, tlp2Amber, unknownMarking)},
				map[string][]string{stixID("indicator", 16): {"[tlp-unclassifiable] /object_marking_refs/1"}}},
			{"a definition claiming AMBER is within the ceiling", []string{markedBy(17, stixID("marking-definition", 3))},
				map[string][]string{stixID("indicator", 17): {"stored"}}},
			{"a copyright statement is no TLP marking", []string{markedBy(18, stixID("marking-definition", 4), tlp2Green)},
				map[string][]string{stixID("indicator", 18): {"stored"}}},
		}
		for i, row := range rows {
			n := 100 + i
			st := postStatus(t, h.hub, japan, h.tokens["jpcert-cc"], append(row.objects, sdo("indicator", n, indicatorOf(n)))...)
			got := reasons(st)
			for id, want := range row.want {
				if !slices.Equal(got[id], want) {
					t.Errorf("%s: %s: %v, want %v\n%+v", row.name, id, got[id], want, st)
				}
			}
			if g := got[stixID("indicator", n)]; len(g) != 1 || g[0] != "stored" {
				t.Errorf("%s: the valid neighbour was not stored: %v", row.name, g)
			}
		}
		// The lookalike itself never gets in: the validator keeps the TLP 2.0 extension to the five
		// published definitions.
		st := postStatus(t, h.hub, infra, h.tokens["cert-eu"], tlp2RedLookalike)
		if st.FailureCount != 1 || !strings.Contains(st.Failures[0].Message, "[tlp-mismatch]") {
			t.Errorf("the TLP 2.0 lookalike: %+v", st)
		}

		// Read: where there is no ceiling, the same objects are stored at the level they claim, or
		// at a level no clearance admits, and an AMBER clearance does not see them.
		hidden := []string{markedBy(20, stixID("marking-definition", 2)), markedBy(21, upperTLP1Red), markedBy(22, unknownMarking)}
		seen := []string{markedBy(23, stixID("marking-definition", 3)), markedBy(24, stixID("marking-definition", 4)), sdo("indicator", 25, indicatorOf(25))}
		if st := postStatus(t, h.hub, infra, h.tokens["cert-eu"], append(hidden, seen...)...); st.SuccessCount != 6 {
			t.Fatalf("posting without a ceiling: %+v", st)
		}
		visible := func(token string) []string {
			var env taxii.Envelope
			r := h.hub.get(infra+"objects/?limit=100&match[type]=indicator", token)
			if r.status != http.StatusOK {
				t.Fatalf("read: %d %s", r.status, r.body)
			}
			r.json(t, &env)
			var ids []string
			for _, o := range env.Objects {
				var obj struct{ ID string }
				if err := json.Unmarshal(o, &obj); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, obj.ID)
			}
			slices.Sort(ids)
			return ids
		}
		want := []string{stixID("indicator", 23), stixID("indicator", 24), stixID("indicator", 25)}
		if got := visible(h.tokens["jpcert-cc"]); !slices.Equal(got, want) {
			t.Errorf("an AMBER clearance reads %v, want %v", got, want)
		}
		for _, n := range []int{20, 21, 22} {
			if r := h.hub.get(infra+"objects/"+stixID("indicator", n)+"/", h.tokens["jpcert-cc"]); r.status != http.StatusNotFound {
				t.Errorf("indicator %d above an AMBER clearance: %d at its object endpoint, want 404", n, r.status)
			}
		}
		// The marking definition claiming RED is itself at RED.
		if r := h.hub.get(infra+"objects/"+stixID("marking-definition", 2)+"/", h.tokens["jpcert-cc"]); r.status != http.StatusNotFound {
			t.Errorf("the definition claiming RED under an AMBER clearance: %d, want 404", r.status)
		}
		// Without a clearance, everything.
		h.ok("no clearance", h.call("PUT", "/admin/partnerships/eu-japan/memberships/jpcert-cc/?confirm_weaken=true", map[string]string{"role": "both"}), 200, nil)
		if got := visible(h.tokens["jpcert-cc"]); len(got) != 6 {
			t.Errorf("without a clearance: %v, want all six", got)
		}
	})
}

// TestUnmarkedRule: a collection that refuses unmarked objects refuses them, predefined TLP
// definitions aside, and says so in its collection resource with its allowed properties.
func TestUnmarkedRule(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		japan := collectionPath("eu-japan", "cyber-threats")
		h.ok("refuse unmarked", h.call("PUT", "/admin/partnerships/eu-japan/collections/cyber-threats/policy/",
			admin.CollectionPolicy{TLPMax: "amber", Unmarked: admin.UnmarkedRefuse}), 200, nil)
		tlpDefinition := `{"type":"marking-definition","spec_version":"2.1","id":"` + tlp1Amber + `","created":"2017-01-20T00:00:00.000Z",` +
			`"definition_type":"tlp","name":"TLP:AMBER","definition":{"tlp":"amber"}}`
		st := postStatus(t, h.hub, japan, h.tokens["jpcert-cc"], sdo("indicator", 1, indicatorOf(1)), copyright,
			markedBy(2, stixID("marking-definition", 4)), markedBy(3, tlp2Green), tlpDefinition)
		got := reasons(st)
		for id, want := range map[string][]string{
			stixID("indicator", 1): {"[tlp-unmarked] /object_marking_refs"},
			// A marking that is not TLP leaves an object unmarked, and a definition is an object too.
			stixID("marking-definition", 4): {"[tlp-unmarked] /object_marking_refs"},
			stixID("indicator", 2):          {"[tlp-unmarked] /object_marking_refs"},
			stixID("indicator", 3):          {"stored"},
			tlp1Amber:                       {"stored"},
		} {
			if !slices.Equal(got[id], want) {
				t.Errorf("%s: %v, want %v", id, got[id], want)
			}
		}

		var coll map[string]any
		h.hub.get(japan, h.tokens["jpcert-cc"]).json(t, &coll)
		if coll["x_taxiihub_unmarked"] != "refuse" {
			t.Errorf("x_taxiihub_unmarked = %v, want refuse", coll["x_taxiihub_unmarked"])
		}
		h.hub.get(collectionPath("eu-immigration-ct", "administrative-records"), h.tokens["frontex"]).json(t, &coll)
		props, _ := coll["x_taxiihub_allowed_properties"].(map[string]any)
		if identity, _ := props["identity"].([]any); !slices.Contains(identity, any("x_legal_status.status")) || slices.Contains(identity, any("description")) {
			t.Errorf("x_taxiihub_allowed_properties = %v", coll["x_taxiihub_allowed_properties"])
		}
		if coll["x_taxiihub_unmarked"] != "clear" {
			t.Errorf("x_taxiihub_unmarked = %v, want clear (the default)", coll["x_taxiihub_unmarked"])
		}
	})
}
