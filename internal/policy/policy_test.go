package policy

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"taxiihub/internal/stix"
	"taxiihub/internal/store"
)

const (
	tlp1Amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	tlp1White = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
	tlp1Red   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
	tlp2Clear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	tlp2Amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	tlp2Plus  = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	statement = "marking-definition--00000000-0000-4000-8000-00000000beef"
)

// obj builds an object from a base and extra properties.
func obj(typ string, props string) []byte {
	base := `"type":"` + typ + `","spec_version":"2.1","id":"` + typ + `--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",` +
		`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z"`
	if props != "" {
		base += "," + props
	}
	return []byte("{" + base + "}")
}

func codesAndPaths(fs []stix.Problem) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code+" "+f.Path)
	}
	return out
}

// TestCheck is the table of rules: each row is an object, the rules it meets, and the reason codes
// with the paths they name.
func TestCheck(t *testing.T) {
	reject := Rules{Partnership: store.PartnershipPolicy{PersonalData: store.PersonalDataReject}}
	strip := Rules{Partnership: store.PartnershipPolicy{PersonalData: store.PersonalDataStrip}}
	amber := Rules{Collection: store.CollectionPolicy{MaxTLP: store.TLPAmber}}
	admin := Rules{Collection: store.CollectionPolicy{AllowedTypes: []string{"identity", "location"},
		DeniedProperties: []string{"x_interview_notes", "x_grounds_of_protection"}}}
	cases := []struct {
		name     string
		rules    Rules
		object   []byte
		refusals []string
		warnings []string
		tlp      store.TLP
	}{
		// The hub's own properties, at any depth, whatever the rules.
		{"a forged withdrawal mark", Rules{}, obj("indicator", `"revoked":true,"x_taxiihub_withdrawn":true`),
			[]string{"hub-property /x_taxiihub_withdrawn"}, nil, 0},
		{"a hub property in an extension", Rules{}, obj("indicator", `"extensions":{"x-ext":{"extension_type":"property-extension","x_taxiihub_owner":"cert-eu"}}`),
			[]string{"hub-property /extensions/x-ext/x_taxiihub_owner"}, nil, 0},
		// No personal data.
		{"email-addr object", reject, obj("email-addr", `"value":"jane@example.org"`), []string{"personal-data /type"}, nil, 0},
		{"user-account object", strip, obj("user-account", `"user_id":"jdoe"`), []string{"personal-data /type"}, nil, 0},
		{"identity of an individual", reject, obj("identity", `"name":"Case 42","identity_class":"individual"`),
			[]string{"personal-data /identity_class"}, nil, 0},
		{"identity of an organisation", reject, obj("identity", `"name":"CERT-EU","identity_class":"organization"`), nil, nil, 0},
		{"email message with addresses", reject, obj("email-message", `"is_multipart":false,"from_ref":"email-addr--1","to_refs":["email-addr--2"]`),
			[]string{"personal-data /from_ref", "personal-data /to_refs"}, nil, 0},
		{"email in a description", reject, obj("indicator", `"description":"reported by jane.doe@example.org"`),
			[]string{"personal-data /description"}, nil, 0},
		{"phone in a name", reject, obj("malware", `"name":"call +32 2 299 11 11","is_family":false`),
			[]string{"personal-data /name"}, nil, 0},
		{"phone in a label", reject, obj("indicator", `"labels":["benign","(030) 1234 5678"]`),
			[]string{"personal-data /labels/1"}, nil, 0},
		{"email in a note", reject, obj("note", `"content":"ask j.smith@gov.example","object_refs":["indicator--1"]`),
			[]string{"personal-data /content"}, nil, 0},
		{"phone in an opinion", reject, obj("opinion", `"opinion":"agree","explanation":"called 555-123-4567","object_refs":["indicator--1"]`),
			[]string{"personal-data /explanation"}, nil, 0},
		{"email in an external reference", reject, obj("report", `"name":"r","external_references":[{"source_name":"x","description":"mail ops@example.org"}]`),
			[]string{"personal-data /external_references/0/description"}, nil, 0},
		{"IP addresses, dates and CVE ids are not phone numbers", reject, obj("indicator",
			`"description":"198.51.100.23 seen 2026-01-01 exploiting CVE-2024-12345, 10 000 000 hits"`), nil, nil, 0},
		{"patterns are not scanned", reject, obj("indicator", `"pattern":"[email-addr:value = 'phish@example.org']"`), nil, nil, 0},
		{"strip mode removes and warns", strip, obj("indicator", `"description":"mail jane@example.org or +32 2 299 11 11","labels":["x"]`),
			nil, []string{"personal-data-removed /description"}, 0},
		{"personal data allowed", Rules{}, obj("email-addr", `"value":"jane@example.org"`), nil, nil, 0},

		// TLP ceiling, TLP 1.0 and 2.0 alike.
		{"TLP 1.0 AMBER under an AMBER ceiling", amber, obj("indicator", `"object_marking_refs":["`+tlp1Amber+`"]`), nil, nil, store.TLPAmber},
		{"TLP 2.0 AMBER under an AMBER ceiling", amber, obj("indicator", `"object_marking_refs":["`+tlp2Amber+`"]`), nil, nil, store.TLPAmber},
		{"WHITE and CLEAR are one level", amber, obj("indicator", `"object_marking_refs":["`+tlp1White+`","`+tlp2Clear+`"]`), nil, nil, store.TLPClear},
		{"AMBER+STRICT above AMBER", amber, obj("indicator", `"object_marking_refs":["`+tlp2Plus+`"]`),
			[]string{"tlp-above-ceiling /object_marking_refs/0"}, nil, store.TLPAmberStrict},
		{"RED in a granular marking", amber, obj("indicator",
			`"object_marking_refs":["`+statement+`"],"granular_markings":[{"marking_ref":"`+tlp1Red+`","selectors":["description"]}]`),
			[]string{"tlp-above-ceiling /granular_markings/0/marking_ref"}, nil, store.TLPRed},
		{"unmarked passes every ceiling", amber, obj("indicator", ``), nil, nil, store.TLPNone},

		// Allowed content.
		{"type not allowed", admin, obj("note", `"content":"x","object_refs":["identity--1"]`), []string{"type-not-allowed /type"}, nil, 0},
		{"denied property, also nested", admin, obj("identity",
			`"name":"Case 42","x_interview_notes":"...","extensions":{"x-ext":{"x_grounds_of_protection":"..."}}`),
			[]string{"property-denied /extensions/x-ext/x_grounds_of_protection", "property-denied /x_interview_notes"}, nil, 0},
		{"administrative identity passes", admin, obj("identity", `"name":"Case 42","identity_class":"individual"`), nil, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.rules.Check(tc.object)
			// The hub judges objects the STIX validator decoded already: the same decision.
			decoded, err := decode(tc.object)
			if err != nil {
				t.Fatal(err)
			}
			if again := tc.rules.CheckDecoded(tc.object, decoded); !reflect.DeepEqual(again, d) {
				t.Errorf("CheckDecoded = %+v; Check = %+v", again, d)
			}
			if got := codesAndPaths(d.Errors); !slices.Equal(got, tc.refusals) {
				t.Errorf("refusals %v, want %v", d.Errors, tc.refusals)
			}
			if got := codesAndPaths(d.Warnings); !slices.Equal(got, tc.warnings) {
				t.Errorf("warnings %v, want %v", d.Warnings, tc.warnings)
			}
			if d.TLP != tc.tlp {
				t.Errorf("level %q, want %q", d.TLP, tc.tlp)
			}
			for _, f := range append(d.Errors, d.Warnings...) {
				if strings.Contains(f.Message, "@") || strings.Contains(f.Message, "299") {
					t.Errorf("finding %q repeats the personal data it found", f)
				}
			}
			if !d.Stripped && string(d.Content) != string(tc.object) {
				t.Errorf("content changed without stripping")
			}
		})
	}
}

func TestStripRedactsAndKeepsTheRest(t *testing.T) {
	rules := Rules{Partnership: store.PartnershipPolicy{PersonalData: store.PersonalDataStrip}}
	d := rules.Check(obj("email-message", `"is_multipart":false,"from_ref":"email-addr--1","subject":"from <jane@example.org>","x_n":85.50e1`))
	if !d.Valid() || !d.Stripped {
		t.Fatalf("decision %+v", d)
	}
	var got map[string]any
	if err := json.Unmarshal(d.Content, &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got["from_ref"]; ok {
		t.Errorf("from_ref kept: %s", d.Content)
	}
	if got["subject"] != "from <"+redacted+">" {
		t.Errorf("subject %q", got["subject"])
	}
	if !strings.Contains(string(d.Content), `"x_n":85.50e1`) || strings.Contains(string(d.Content), `\u003c`) {
		t.Errorf("numbers or characters re-encoded: %s", d.Content)
	}
	if codes := codesAndPaths(d.Warnings); !slices.Equal(codes, []string{"personal-data-removed /from_ref", "personal-data-removed /subject"}) {
		t.Errorf("warnings %v", codes)
	}
}

func TestPhoneNumbers(t *testing.T) {
	for s, want := range map[string]bool{
		"+32 2 299 11 11": true, "+1 (555) 123-4567": true, "0032 2 299 11 11": true, "(030) 1234 5678": true,
		"555-123-4567": true, "tel:+3222991111": true,
		"198.51.100.23": false, "2026-01-01T00:00:00Z": false, "CVE-2024-12345": false, "version 1.2.3": false,
		"+5 points": false, "030 12345678": false, "10 000 000": false,
	} {
		_, _, phone := personalSpans("text " + s + " text")
		if phone != want {
			t.Errorf("%q: phone %v, want %v", s, phone, want)
		}
	}
}
