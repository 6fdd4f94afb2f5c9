package policy

import (
	"encoding/json"
	"slices"
	"testing"

	"taxiihub/internal/store"
)

// TestClaimedLevel: every way a marking definition can claim a TLP level counts, and text that
// names no level after "TLP" claims none.
func TestClaimedLevel(t *testing.T) {
	cases := []struct {
		def  string
		want store.TLP
	}{
		{`{"name":"TLP:RED","extensions":{"` + tlp2Extension + `":{"extension_type":"property-extension","tlp_2_0":"red"}}}`, store.TLPRed},
		{`{"extensions":{"extension-definition--60A3C5C5-0D10-413E-AAB3-9E08DDE9E88D":{"tlp_2_0":"amber+strict"}}}`, store.TLPAmberStrict},
		{`{"definition_type":"tlp","definition":{"tlp":"RED"}}`, store.TLPRed},
		{`{"definition_type":"statement","definition":{"statement":"TLP:RED, for the named recipients only"}}`, store.TLPRed},
		{`{"name":"tlp:amber+strict"}`, store.TLPAmberStrict},
		{`{"name":"TLP AMBER STRICT"}`, store.TLPAmberStrict},
		{`{"name":"TLP-GREEN"}`, store.TLPGreen},
		{`{"name":"TLP 2.0: CLEAR"}`, store.TLPClear},
		{`{"name":"ＴＬＰ：ＲＥＤ"}`, store.TLPRed},
		{`{"name":"T\u00adLP:R\u200bED"}`, store.TLPRed},
		{`{"name":"TLP:GREEN","x_note":"or TLP:RED for some"}`, store.TLPRed},
		{`{"definition_type":"statement","definition":{"statement":"Copyright 2026, The MITRE Corporation"}}`, store.TLPNone},
		{`{"definition_type":"statement","definition":{"statement":"red team exercise"}}`, store.TLPNone},
	}
	for _, tc := range cases {
		var def map[string]any
		if err := json.Unmarshal([]byte(tc.def), &def); err != nil {
			t.Fatal(err)
		}
		if got := ClaimedLevel(def); got != tc.want {
			t.Errorf("%s: claims %q, want %q", tc.def, got, tc.want)
		}
	}
}

// TestScanMarkingIDs: the ids an envelope's objects refer to are found without decoding them,
// the predefined TLP ids, in any case, left out.
func TestScanMarkingIDs(t *testing.T) {
	raw := []byte(`{"id":"marking-definition--00000000-0000-4000-8000-0000000000ed","object_marking_refs":["` + tlp1Red +
		`","MARKING-DEFINITION--x","marking-definition--5E57C739-391A-4EB3-B6BE-7D15CA92D5ED","` + statement + `"],"x":"marking-definition--short","y":"marking-definition--ééééééééééééééééééééééééééééééééé"}`)
	var got []string
	ScanMarkingIDs(raw, func(id string) { got = append(got, id) })
	if want := []string{claimsRed, statement}; !slices.Equal(got, want) {
		t.Errorf("found %v, want %v", got, want)
	}
}
