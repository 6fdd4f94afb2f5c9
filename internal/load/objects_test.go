package load

import (
	"encoding/json"
	"regexp"
	"taxiihub/internal/policy"
	"taxiihub/internal/store"
	"testing"
)

var uuidv4 = regexp.MustCompile(`^(indicator|location|identity)--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

var shapes = []shape{{typ: "indicator", green: true}, {typ: "location", green: true}, {typ: "identity"}, {typ: "location", green: true, inName: true}}

func TestIDsRoundTripAndTellRunsApart(t *testing.T) {
	o := objects{run: 0xdeadbeef, created: "2026-03-01T10:00:00.000Z"}
	other := objects{run: 0xdeadbeee, created: o.created}
	for _, s := range shapes {
		for _, k := range []key{newKey(0, 0), newKey(1, 1), newKey(65535, 1<<48-1), newKey(7, 123456789)} {
			id := o.id(k, s)
			if !uuidv4.MatchString(id) {
				t.Errorf("id(%#x, %s) = %q; want a UUIDv4-shaped id", uint64(k), s.typ, id)
			}
			got, ours := o.parseID(id)
			if !ours || got != k {
				t.Errorf("parseID(%q) = %#x, %v; want %#x, true", id, uint64(got), ours, uint64(k))
			}
			if _, ours := other.parseID(id); ours {
				t.Errorf("another run claims %q", id)
			}
		}
	}
	for _, id := range []string{"", "indicator--", "indicator--deadbeef-0001-4000-8000-00000000000g",
		"indicator--deadbeef-0001-4abc-8000-000000000001", "indicator-deadbeef-0001-4000-8000-000000000001"} {
		if _, ours := o.parseID(id); ours {
			t.Errorf("parseID(%q) claims it", id)
		}
	}
}

func TestEnvelopeHoldsTheObjectsItNames(t *testing.T) {
	for _, s := range shapes {
		for _, size := range []int{0, 2000} {
			o := objects{run: 1, created: "2026-03-01T10:00:00.000Z", size: size}
			keys := []key{newKey(3, 0), newKey(3, 1), newKey(3, 70000)}
			var env struct {
				Objects []json.RawMessage `json:"objects"`
			}
			if err := json.Unmarshal(o.envelope(keys, s), &env); err != nil {
				t.Fatalf("%s, size %d: envelope is not JSON: %v", s.typ, size, err)
			}
			if len(env.Objects) != len(keys) {
				t.Fatalf("%s, size %d: %d objects; want %d", s.typ, size, len(env.Objects), len(keys))
			}
			for i, raw := range env.Objects {
				var obj map[string]any
				if err := json.Unmarshal(raw, &obj); err != nil {
					t.Fatalf("object %d: %v", i, err)
				}
				if obj["id"] != o.id(keys[i], s) || obj["type"] != s.typ || obj["modified"] != o.created {
					t.Errorf("object %d = %v", i, obj)
				}
				if _, marked := obj["object_marking_refs"]; marked != s.green {
					t.Errorf("%s object marked %v; want %v", s.typ, marked, s.green)
				}
				if string(raw) != string(o.appendObject(nil, keys[i], s)) {
					t.Errorf("object %d differs from appendObject", i)
				}
				if size > 0 && (len(raw) < size-20 || len(raw) > size+20) {
					t.Errorf("%s object %d is %d bytes; want about %d", s.typ, i, len(raw), size)
				}
			}
		}
	}
}

func TestShapeFollowsTheCollectionsRules(t *testing.T) {
	records := map[string][]string{"identity": {"name", "identity_class"}, "location": {"name", "country"}}
	for _, tc := range []struct {
		allowed []string
		props   map[string][]string
		tlpMax  string
		want    shape
	}{
		{nil, nil, "", shape{typ: "indicator", green: true}},
		{nil, nil, "amber", shape{typ: "indicator", green: true}},
		{nil, nil, "clear", shape{typ: "indicator"}},
		{[]string{"identity", "location", "relationship"}, nil, "", shape{typ: "location", green: true}},
		{[]string{"identity"}, nil, "white", shape{typ: "identity"}},
		{[]string{"malware"}, nil, "", shape{green: true}},
		// Allowed properties without a description: the text goes into the name.
		{[]string{"identity", "location"}, records, "", shape{typ: "location", green: true, inName: true}},
		{nil, map[string][]string{"identity": {"name", "identity_class", "description"}}, "", shape{typ: "identity", green: true}},
		{nil, map[string][]string{"location": {"country"}}, "", shape{green: true}},
	} {
		if got := shapeFor(tc.allowed, tc.props, tc.tlpMax); got != tc.want {
			t.Errorf("shapeFor(%q, %v, %q) = %+v; want %+v", tc.allowed, tc.props, tc.tlpMax, got, tc.want)
		}
	}
}

// Load objects pass a partnership that refuses personal data, whatever digits their run id
// happens to be made of: the numbers in their names must never read as phone numbers.
func TestObjectsCarryNoPersonalData(t *testing.T) {
	reject := policy.Rules{Partnership: store.PartnershipPolicy{PersonalData: store.PersonalDataReject}}
	for _, run := range []uint32{0x03456789, 0x01712345, 0x00441234, 0x12345678} {
		o := objects{run: run, created: "2026-03-01T10:00:00.000Z"}
		for _, s := range shapes {
			for _, k := range []key{newKey(1, 2), newKey(3, 4567), newKey(12, 8912345)} {
				raw := o.appendObject(nil, k, s)
				if d := reject.Check(raw); !d.Valid() {
					t.Errorf("run %08x, %s: refused %v\n%s", run, s.typ, d.Errors, raw)
				}
			}
		}
	}
}
