package policy

import (
	"fmt"
	"strings"

	"taxiihub/internal/stix"
	"taxiihub/internal/store"
)

// tlpLevels maps the ids of the predefined TLP marking definitions, TLP 1.0 (STIX 2.1 section 7.2.1.4)
// and TLP 2.0 (published by the OASIS CTI TC), to one scale. WHITE and CLEAR are one level; AMBER
// is AMBER in both.
var tlpLevels = map[string]store.TLP{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": store.TLPClear, // TLP 1.0 WHITE
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": store.TLPGreen, // TLP 1.0 GREEN
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": store.TLPAmber, // TLP 1.0 AMBER
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": store.TLPRed,   // TLP 1.0 RED

	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": store.TLPClear,       // TLP 2.0 CLEAR
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": store.TLPGreen,       // TLP 2.0 GREEN
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": store.TLPAmber,       // TLP 2.0 AMBER
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": store.TLPAmberStrict, // TLP 2.0 AMBER+STRICT
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": store.TLPRed,         // TLP 2.0 RED
}

// tlp2Extension is the extension definition the TLP 2.0 marking definitions use: a public object
// like them.
const tlp2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// LevelOf returns the TLP level of an object's own TLP marking definition id, and whether id is one.
func LevelOf(markingID string) (store.TLP, bool) {
	l, ok := tlpLevels[markingID]
	return l, ok
}

// levelOf returns the highest TLP level among the markings of obj: those in object_marking_refs and
// those granular_markings apply to parts of it, since whoever receives the object receives every
// part. Markings that are not TLP (statements, other marking schemes) do not count; an object with
// no TLP marking is at TLPNone. With a ceiling, it also returns the refusal of the first marking above
// it.
func levelOf(obj map[string]any, ceiling store.TLP) (store.TLP, *stix.Problem) {
	level := store.TLPNone
	var above *stix.Problem
	see := func(ref any, path string) {
		id, _ := ref.(string)
		l, ok := tlpLevels[id]
		if !ok {
			return
		}
		level = max(level, l)
		if above == nil && !ceiling.Admits(l) {
			above = &stix.Problem{Code: CodeAboveCeiling, Path: path, Message: fmt.Sprintf(
				"the object is marked TLP:%s, above TLP:%s, the highest level this collection accepts",
				strings.ToUpper(l.String()), strings.ToUpper(ceiling.String()))}
		}
	}
	if refs, ok := obj["object_marking_refs"].([]any); ok {
		for i, ref := range refs {
			see(ref, fmt.Sprintf("/object_marking_refs/%d", i))
		}
	}
	if gms, ok := obj["granular_markings"].([]any); ok {
		for i, gm := range gms {
			if m, ok := gm.(map[string]any); ok {
				see(m["marking_ref"], fmt.Sprintf("/granular_markings/%d/marking_ref", i))
			}
		}
	}
	return level, above
}
