package stix

import (
	"slices"
	"testing"
)

// TestPropertyNameCase covers property names with upper-case letters: STIX 2.1 allows them
// (they SHOULD be lower case), MISP's STIX export writes them, and one that differs from
// another name only in case is refused.
func TestPropertyNameCase(t *testing.T) {
	v := newTestValidator(t)
	// mispIndicator is shaped like the indicators of MISP's STIX 2.1 export, whose custom
	// properties keep the case of MISP's attribute and object relation names.
	const mispIndicator = `{"type": "indicator", "spec_version": "2.1", "id": "indicator--91ae1a21-c7ae-4c8c-8e6e-1b1f7d5e3c3a",
		"created": "2020-10-25T16:22:00.000Z", "modified": "2020-10-25T16:22:00.000Z", "name": "Domain", "description": "MISP attribute",
		"pattern_type": "stix", "pattern": "[domain-name:value = 'circl.lu']", "valid_from": "2020-10-25T16:22:00Z",
		"labels": ["misp:type=\"domain\"", "misp:category=\"Network activity\""],
		"x_misp_category": "Network activity", "x_misp_IDS_flag": true, "x_misp_Comment_Text": "seen in phishing"}`
	for _, tc := range []struct {
		name         string
		obj          string
		wantErr      string
		wantWarnings []string // codes that must be among the warnings
		noWarning    string   // a code that must not be among the warnings
	}{
		{name: "MISP custom properties with upper-case letters", obj: mispIndicator, wantWarnings: []string{CodePropertyNameCase}},
		{name: "lower-case custom property", obj: indicatorJSON, noWarning: CodePropertyNameCase},
		{name: "upper-case first letter", obj: patch(indicatorJSON, `"X_acme_score": 5`), wantWarnings: []string{CodePropertyNameCase}},
		{name: "digit first is still refused", obj: patch(indicatorJSON, `"1x_acme": 5`), wantErr: CodeInvalidPropertyName},
		{name: "hyphen is still refused", obj: patch(indicatorJSON, `"x_Acme-score": 5`), wantErr: CodeInvalidPropertyName},
		{name: "differs only in case from a STIX property", obj: patch(indicatorJSON, `"Object_Marking_Refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]`), wantErr: CodeInvalidPropertyName},
		{name: "differs only in case from another custom property", obj: patch(indicatorJSON, `"x_acme_Score": 5, "x_ACME_score": 6`), wantErr: CodeInvalidPropertyName},
		{name: "upper-case property in a predefined extension", obj: `{"type": "file", "spec_version": "2.1", "id": "file--9704eca1-8efd-542c-a626-77d7cbcfe49f",
			"name": "a.exe", "extensions": {"windows-pebinary-ext": {"pe_type": "exe", "x_misp_Authentihash": "abc"}}}`, wantWarnings: []string{CodePropertyNameCase}},
		{name: "predefined extension property in another case", obj: `{"type": "file", "spec_version": "2.1", "id": "file--9704eca1-8efd-542c-a626-77d7cbcfe49f",
			"name": "a.exe", "extensions": {"windows-pebinary-ext": {"pe_type": "exe", "PE_type": "dll"}}}`, wantErr: CodeInvalidPropertyName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vd := v.Object([]byte(tc.obj))
			if tc.wantErr == "" && !vd.Valid() {
				t.Fatalf("refused: %v", vd.Errors)
			}
			if tc.wantErr != "" && !slices.Contains(codes(vd.Errors), tc.wantErr) {
				t.Fatalf("errors %v, want %s", vd.Errors, tc.wantErr)
			}
			for _, w := range tc.wantWarnings {
				if !slices.Contains(codes(vd.Warnings), w) {
					t.Errorf("warnings %v, want %s", vd.Warnings, w)
				}
			}
			if tc.noWarning != "" && slices.Contains(codes(vd.Warnings), tc.noWarning) {
				t.Errorf("warnings %v, want no %s", vd.Warnings, tc.noWarning)
			}
		})
	}
}

// patch adds members, given as JSON text, to the object obj.
func patch(obj, members string) string {
	return obj[:len(obj)-1] + ", " + members + "}"
}
