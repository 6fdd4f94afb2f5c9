package policy

import (
	"crypto/sha256"
	"encoding/hex"
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
	claimsRed = "marking-definition--00000000-0000-4000-8000-0000000000ed"
	// unknownMarking is a marking definition the rules were told nothing of.
	unknownMarking = "marking-definition--00000000-0000-4000-8000-00000000dead"
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
	// The statement marking is known and claims no level; claimsRed is a custom definition claiming
	// RED (the sharing layer found them in the envelope or the partnership).
	known := Markings{statement: store.TLPNone, claimsRed: store.TLPRed}
	amber := Rules{Collection: store.CollectionPolicy{MaxTLP: store.TLPAmber}, Markings: known}
	noCeiling := Rules{Markings: known}
	refuseUnmarked := Rules{Collection: store.CollectionPolicy{Unmarked: store.UnmarkedRefuse}, Markings: known}
	records := Rules{Collection: store.CollectionPolicy{AllowedProperties: map[string][]string{
		"identity": {"name", "identity_class", "x_legal_status", "external_references.source_name", "extensions.extension-definition--0a1b2c3d-4b5a-4978-8695-a4b3c2d1e0f9.nationality"},
		"location": {"country"}}}}
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
		{"a forged withdrawal mark in upper case", Rules{}, obj("indicator", `"revoked":true,"X_TAXIIHUB_Withdrawn":true`),
			[]string{"hub-property /X_TAXIIHUB_Withdrawn"}, nil, 0},
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
		{"phone in an opinion", reject, obj("opinion", `"opinion":"agree","explanation":"called 212-736-5000","object_refs":["indicator--1"]`),
			[]string{"personal-data /explanation"}, nil, 0},
		{"email in an external reference", reject, obj("report", `"name":"r","external_references":[{"source_name":"x","description":"mail ops@example.org"}]`),
			[]string{"personal-data /external_references/0/description"}, nil, 0},
		{"IP addresses, dates and CVE ids are not phone numbers", reject, obj("indicator",
			`"description":"198.51.100.23 seen 2026-01-01 exploiting CVE-2024-12345, 10 000 000 hits"`), nil, nil, 0},
		{"patterns are judged", reject, obj("indicator", `"pattern":"[email-addr:value = 'phish@example.org']"`),
			[]string{"personal-data /pattern"}, nil, 0},
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

		// TLP without loopholes.
		{"upper-case spelling of TLP 1.0 RED", amber, obj("indicator", `"object_marking_refs":["`+strings.ToUpper(tlp1Red[:20])+strings.ToUpper(tlp1Red[20:])+`"]`),
			[]string{"tlp-above-ceiling /object_marking_refs/0"}, nil, store.TLPRed},
		{"upper-case UUID of TLP 2.0 AMBER+STRICT", amber, obj("indicator", `"object_marking_refs":["marking-definition--`+strings.ToUpper(tlp2Plus[20:])+`"]`),
			[]string{"tlp-above-ceiling /object_marking_refs/0"}, nil, store.TLPAmberStrict},
		{"a custom definition claiming RED", amber, obj("indicator", `"object_marking_refs":["`+claimsRed+`"]`),
			[]string{"tlp-above-ceiling /object_marking_refs/0"}, nil, store.TLPRed},
		{"a custom definition claiming RED, granular", amber, obj("indicator", `"granular_markings":[{"marking_ref":"`+claimsRed+`","selectors":["name"]}]`),
			[]string{"tlp-above-ceiling /granular_markings/0/marking_ref"}, nil, store.TLPRed},
		{"an unknown marking under a ceiling", amber, obj("indicator", `"object_marking_refs":["`+unknownMarking+`"]`),
			[]string{"tlp-unclassifiable /object_marking_refs/0"}, nil, store.TLPUnknown},
		{"an unknown marking beside AMBER", amber, obj("indicator", `"object_marking_refs":["`+tlp2Amber+`","`+unknownMarking+`"]`),
			[]string{"tlp-unclassifiable /object_marking_refs/1"}, nil, store.TLPUnknown},
		{"an unknown marking without a ceiling is stored at the unknown level", noCeiling, obj("indicator", `"object_marking_refs":["`+unknownMarking+`"]`),
			nil, nil, store.TLPUnknown},
		{"a statement marking definition reading TLP:RED is RED itself", amber, []byte(`{"type":"marking-definition","spec_version":"2.1","id":"` + claimsRed + `",` +
			`"created":"2026-01-01T00:00:00.000Z","definition_type":"statement","definition":{"statement":"TLP:RED, do not share"}}`),
			[]string{"tlp-above-ceiling "}, nil, store.TLPRed},
		{"the predefined TLP:RED definition itself is public", amber, []byte(`{"type":"marking-definition","spec_version":"2.1","id":"` + tlp1Red + `",` +
			`"created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:RED","definition":{"tlp":"red"}}`), nil, nil, store.TLPNone},
		{"unmarked refused where the collection says so", refuseUnmarked, obj("indicator", ``), []string{"tlp-unmarked /object_marking_refs"}, nil, store.TLPNone},
		{"a non-TLP marking alone is no TLP marking", refuseUnmarked, obj("indicator", `"object_marking_refs":["`+statement+`"]`),
			[]string{"tlp-unmarked /object_marking_refs"}, nil, store.TLPNone},
		{"a TLP marking where unmarked objects are refused", refuseUnmarked, obj("indicator", `"object_marking_refs":["`+tlp2Clear+`"]`), nil, nil, store.TLPClear},
		{"a predefined TLP definition where unmarked objects are refused", refuseUnmarked, []byte(`{"type":"marking-definition","spec_version":"2.1","id":"` + tlp1Red + `",` +
			`"created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:RED","definition":{"tlp":"red"}}`), nil, nil, store.TLPNone},

		// Allowed properties (administrative details only).
		{"allowed properties pass", records, obj("identity", `"name":"Case 42","identity_class":"individual","x_legal_status":{"permit":"B","until":"2027"},`+
			`"object_marking_refs":["`+tlp2Clear+`"],"external_references":[{"source_name":"case-register"}],"revoked":true`), nil, nil, store.TLPClear},
		{"a renamed note", records, obj("identity", `"name":"Case 42","interview_notes":"..."`), []string{"property-not-allowed /interview_notes"}, nil, 0},
		{"a custom note", records, obj("identity", `"name":"Case 42","x_interview_note":"..."`), []string{"property-not-allowed /x_interview_note"}, nil, 0},
		{"notes in the description", records, obj("identity", `"name":"Case 42","description":"interviewed on ..."`), []string{"property-not-allowed /description"}, nil, 0},
		{"a note nested in a listed part", records, obj("identity", `"name":"Case 42","external_references":[{"source_name":"r","description":"interview ..."}]`),
			[]string{"property-not-allowed /external_references/0/description"}, nil, 0},
		{"a note in an unlisted extension", records, obj("identity", `"name":"Case 42","extensions":{"extension-definition--0a1b2c3d-4b5a-4978-8695-a4b3c2d1e0f9":{"extension_type":"property-extension","nationality":"NL","notes":"..."}}`),
			[]string{"property-not-allowed /extensions/extension-definition--0a1b2c3d-4b5a-4978-8695-a4b3c2d1e0f9/notes"}, nil, 0},
		{"a plain value where only parts are allowed", records, obj("identity", `"name":"Case 42","external_references":["interview ..."]`),
			[]string{"property-not-allowed /external_references/0"}, nil, 0},
		{"a dotted key posing as a path", records, obj("identity", `"name":"Case 42","external_references":[{"source_name.notes":"interview ..."}]`),
			[]string{"property-not-allowed /external_references/0/source_name.notes"}, nil, 0},
		{"a type without an entry carries the common properties only", records, obj("marking-definition", `"definition_type":"statement","definition":{"statement":"interview ..."}`),
			[]string{"property-not-allowed /definition", "property-not-allowed /definition_type"}, nil, 0},

		// Allowed content.
		{"type not allowed", admin, obj("note", `"content":"x","object_refs":["identity--1"]`), []string{"type-not-allowed /type"}, nil, 0},
		{"denied property, also nested", admin, obj("identity",
			`"name":"Case 42","x_interview_notes":"...","extensions":{"x-ext":{"x_grounds_of_protection":"..."}}`),
			[]string{"property-denied /extensions/x-ext/x_grounds_of_protection", "property-denied /x_interview_notes"}, nil, 0},
		{"denied property in another case", admin, obj("identity", `"name":"Case 42","X_Interview_Notes":"..."`),
			[]string{"property-denied /X_Interview_Notes"}, nil, 0},
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
		"+32 2 299 11 11": true, "+1 (555) 123-4567": true, "555-123-4567": false, "+1 (212) 736-5000": true,
		"0032 2 299 11 11": true, "(030) 1234 5678": true, "212-736-5000": true, "tel:+3222991111": true,
		"030 12345678": true, "+32/2/299/11/11": true,
		"198.51.100.23": false, "2026-01-01T00:00:00Z": false, "CVE-2024-12345": false, "version 1.2.3": false,
		"+5 points": false, "10 000 000": false, "T1059.001": false, "port 8443": false,
	} {
		_, spans := judgeText("text "+s+" text", &planBudget{left: MaxPlanLookups})
		phone := len(spans) == 1 && spans[0].kind == kindPhone
		if phone != want {
			t.Errorf("%q: phone %v, want %v (%v)", s, phone, want, spans)
		}
	}
}

// TestFingerprintIsTheHashOfTheCanonicalEncoding: first-scheme fingerprints are kept in the store and re-keyed
// from the content at Open, so the way they are computed may change but never their value,
// the SHA-256 of the canonical encoding without the submitter's fields; strings with escapes, HTML
// characters and newlines included.
func TestFingerprintIsTheHashOfTheCanonicalEncoding(t *testing.T) {
	for _, raw := range []string{
		`{"type":"note","spec_version":"2.1","id":"note--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9","content":"a <b> & \"c\"\nline\u2028end","x_tool":1,"abstract":"` +
			strings.Repeat("s", 1<<20) + `"}`,
		`{"type":"indicator","name":"bad","pattern":"[ipv4-addr:value = '198.51.100.1']","confidence":80,"n":1.50,"list":[1,"two",{"z":null,"a":true}]}`,
	} {
		obj, err := decode([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		content := map[string]any{}
		for k, v := range obj {
			if !slices.Contains(submitterFields, k) && !strings.HasPrefix(k, "x_") {
				content[k] = v
			}
		}
		canonical, err := encode(content)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(canonical)
		// The first scheme's fingerprints must come out exactly as before, or the origins recorded
		// under them could not be re-keyed; hashOf streams the encoding into the hash.
		if got, want := LegacyFingerprint([]byte(raw)), hex.EncodeToString(sum[:]); got != want {
			t.Errorf("fingerprint %s; want %s, the hash of %.80s…", got, want, canonical)
		}
	}
}
