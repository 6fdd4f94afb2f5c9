package sharing

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"taxiihub/internal/store"
)

// definition is a statement marking definition numbered n.
func definition(n int, statement string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--00000000-0000-4000-8000-%012d",`+
		`"created":"2026-01-01T00:00:00.000Z","definition_type":"statement","definition":{"statement":%q}}`, n, statement))
}

func definitionID(n int) string {
	return fmt.Sprintf("marking-definition--00000000-0000-4000-8000-%012d", n)
}

// amberFixture is a fixture whose collection has a TLP:AMBER ceiling.
func amberFixture(t *testing.T) (fixture, Access) {
	t.Helper()
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "m", read: true, write: true})
	coll, err := f.store.Collection(t.Context(), "r", "c")
	if err != nil {
		t.Fatal(err)
	}
	coll.Policy.MaxTLP = store.TLPAmber
	if err := f.store.UpdateCollection(t.Context(), coll); err != nil {
		t.Fatal(err)
	}
	return f, f.access(t, "m")
}

func messages(st store.Status) map[string]string {
	out := map[string]string{}
	for _, d := range st.Successes {
		out[d.ID] = "stored"
	}
	for _, d := range st.Failures {
		out[d.ID] = d.Message
	}
	return out
}

// TestMarkingsAreClassifiedForTheWholeEnvelope: an object in the first part of a request refers
// to definitions in its last part, and takes their levels.
func TestMarkingsAreClassifiedForTheWholeEnvelope(t *testing.T) {
	f, acc := amberFixture(t)
	raws := []json.RawMessage{
		indicator(0, `,"object_marking_refs":["`+definitionID(1)+`"]`),
		indicator(1, `,"object_marking_refs":["`+definitionID(2)+`"]`),
	}
	for i := 2; len(raws) < publishPart+1; i++ {
		raws = append(raws, indicator(i, ""))
	}
	raws = append(raws, definition(1, "TLP:RED"), definition(2, "Copyright 2026"))
	st, err := f.svc.Publish(t.Context(), acc, raws, false)
	if err != nil {
		t.Fatal(err)
	}
	got := messages(st)
	if m := got[`indicator--00000000-0000-4000-8000-000000000000`]; !strings.Contains(m, "[tlp-above-ceiling] /object_marking_refs/0") {
		t.Errorf("the object marked by a definition claiming RED, further on: %q", m)
	}
	if m := got[`indicator--00000000-0000-4000-8000-000000000001`]; m != "stored" {
		t.Errorf("the object marked by a copyright statement, further on: %q", m)
	}
	if m := got[definitionID(1)]; !strings.Contains(m, "[tlp-above-ceiling]") {
		t.Errorf("the definition claiming RED: %q", m)
	}
	if len(st.Successes) != len(raws)-2 {
		t.Errorf("%d stored, want all but two of %d", len(st.Successes), len(raws))
	}
}

// TestMarkingLookupsAreBounded: a request refers to at most MaxMarkingDefinitions definitions the
// hub classifies; beyond them, references are unclassifiable, even to a definition in the envelope.
func TestMarkingLookupsAreBounded(t *testing.T) {
	f, acc := amberFixture(t)
	refs := make([]string, MaxMarkingDefinitions)
	for i := range refs {
		refs[i] = definitionID(1000 + i)
	}
	raws := []json.RawMessage{
		indicator(0, `,"object_marking_refs":["`+strings.Join(refs, `","`)+`"]`),
		indicator(1, `,"object_marking_refs":["`+definitionID(1)+`"]`),
		definition(1, "Copyright 2026"),
	}
	// Publish lets go of what it judged: each call gets its own slice.
	st, err := f.svc.Publish(t.Context(), acc, slices.Clone(raws), true)
	if err != nil {
		t.Fatal(err)
	}
	got := messages(st)
	if m := got[`indicator--00000000-0000-4000-8000-000000000001`]; !strings.Contains(m, "[tlp-unclassifiable] /object_marking_refs/0") {
		t.Errorf("a reference beyond the bound: %q", m)
	}
	// Within the bound, the same envelope classifies it.
	st, err = f.svc.Publish(t.Context(), acc, raws[1:], true)
	if err != nil {
		t.Fatal(err)
	}
	if m := messages(st)[`indicator--00000000-0000-4000-8000-000000000001`]; m != "stored" {
		t.Errorf("a reference within the bound: %q", m)
	}
}
