package stix

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDocumentKinds(t *testing.T) {
	v := newTestValidator(t)
	bundle := `{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": [` + indicatorJSON + `, ` + fileJSON + `]}`
	for _, tc := range []struct {
		name     string
		raw      string
		kind     DocumentKind
		objects  int
		valid    bool
		docError string // a document-level error code expected
	}{
		{"bundle", bundle, KindBundle, 2, true, ""},
		{"envelope", `{"objects": [` + indicatorJSON + `], "more": false}`, KindEnvelope, 1, true, ""},
		{"empty envelope", `{"more": false, "objects": []}`, KindEnvelope, 0, true, ""},
		{"single object", indicatorJSON, KindObject, 1, true, ""},
		{"list", `[` + indicatorJSON + `, ` + fileJSON + `]`, KindList, 2, true, ""},
		{"bundle of STIX 2.0", `{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "spec_version": "2.0", "objects": [` + indicatorJSON + `]}`, KindBundle, 1, false, CodeNotSTIX21},
		{"bundle with a bad id", `{"type": "bundle", "id": "indicator--44af6c39-c09b-49c5-9de2-394224b04982"}`, KindBundle, 0, false, CodeIDTypeMismatch},
		{"bundle with empty objects", `{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": []}`, KindBundle, 0, false, CodeEmptyList},
		{"envelope whose objects is not a list", `{"objects": {}}`, KindEnvelope, 0, false, CodeWrongType},
		{"not JSON", `{"objects": [`, "", 0, false, CodeInvalidJSON},
		{"not UTF-8", "[\"\xc3\x28\"]", "", 0, false, CodeInvalidUTF8},
		{"a string", `"bundle"`, "", 0, false, CodeNotAnObject},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := v.Document([]byte(tc.raw))
			if d.Kind != tc.kind || len(d.Objects) != tc.objects || d.Valid() != tc.valid {
				t.Fatalf("got kind %q, %d objects, valid %v (%+v); want %q, %d, %v", d.Kind, len(d.Objects), d.Valid(), d, tc.kind, tc.objects, tc.valid)
			}
			if tc.docError != "" && !slices.Contains(codes(d.Errors), tc.docError) {
				t.Errorf("document errors %v, want %s", d.Errors, tc.docError)
			}
		})
	}
}

func TestDocumentPathsAreAbsolute(t *testing.T) {
	v := newTestValidator(t)
	bad := edit(t, indicatorJSON, map[string]any{"kill_chain_phases": []any{map[string]any{"kill_chain_name": "lockheed"}}})
	d := v.Document([]byte(`{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": [` + fileJSON + `, ` + string(bad) + `, 7]}`))
	if d.Valid() {
		t.Fatal("want invalid")
	}
	if d.Objects[1].Pointer != "/objects/1" || d.Objects[1].Errors[0].Path != "/objects/1/kill_chain_phases/0/phase_name" {
		t.Errorf("object 1: pointer %q, errors %+v", d.Objects[1].Pointer, d.Objects[1].Errors)
	}
	if d.Objects[2].Valid() || d.Objects[2].Errors[0].Code != CodeNotAnObject || d.Objects[2].Errors[0].Path != "/objects/2" {
		t.Errorf("object 2 (a number): %+v", d.Objects[2])
	}
}

func TestDocumentDuplicates(t *testing.T) {
	v := newTestValidator(t)
	d := v.Document([]byte(`[` + indicatorJSON + `, ` + indicatorJSON + `]`))
	if !d.Valid() || !slices.Contains(codes(d.Warnings), CodeDuplicateID) {
		t.Errorf("want a valid document with a duplicate warning, got %+v", d)
	}
}

func TestNestedBundleIsRefused(t *testing.T) {
	v := newTestValidator(t)
	inner := `{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": [` + indicatorJSON + `]}`
	d := v.Document([]byte(`{"objects": [` + inner + `]}`))
	if d.Valid() || d.Objects[0].Errors[0].Code != CodeNestedBundle {
		t.Errorf("got %+v, want a nested-bundle error", d.Objects)
	}
}

// TestFuzzCrashers feeds the inputs that crashed another Go STIX library: they must be refused,
// not panic.
func TestFuzzCrashers(t *testing.T) {
	v := newTestValidator(t)
	dir := filepath.Join(corpusDir, "tcm1911-fuzz-crashers")
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no fuzz crashers at %s: %v", dir, err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if d := v.Document(raw); d.Valid() {
			t.Errorf("%s: document accepted", e.Name())
		}
		if vd := v.Object(raw); vd.Valid() {
			t.Errorf("%s: object accepted", e.Name())
		}
		checkInvariants(t, v, raw)
	}
}

// checkInvariants holds for every input: no panic, Valid exactly when there is no error, and
// well-formed problems.
func checkInvariants(t *testing.T, v *Validator, raw []byte) {
	t.Helper()
	vd := v.Object(raw)
	if vd.Valid() != (len(vd.Errors) == 0) {
		t.Fatalf("Valid() = %v with %d errors", vd.Valid(), len(vd.Errors))
	}
	d := v.Document(raw)
	all := slices.Concat(vd.Errors, vd.Warnings, d.Errors, d.Warnings)
	errorsInObjects := false
	for _, o := range d.Objects {
		all = slices.Concat(all, o.Errors, o.Warnings)
		errorsInObjects = errorsInObjects || len(o.Errors) > 0
	}
	if d.Valid() != (len(d.Errors) == 0 && !errorsInObjects) {
		t.Fatalf("document Valid() = %v, document errors %v", d.Valid(), d.Errors)
	}
	for _, p := range all {
		if p.Code == "" || p.Message == "" || (p.Path != "" && !strings.HasPrefix(p.Path, "/")) {
			t.Fatalf("malformed problem %+v", p)
		}
	}
}
