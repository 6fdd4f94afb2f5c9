package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDuplicateKeysAreRefused(t *testing.T) {
	v := newTestValidator(t)
	base := indicatorJSON[:len(indicatorJSON)-1] // without its closing brace
	const ext = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"
	for _, tc := range []struct {
		name  string
		raw   string
		paths []string // where duplicate-key is expected, in document order
	}{
		{"top level", base + `, "description": "clean"}`, []string{"/description"}},
		{"marking refs, red then green", base + `, "object_marking_refs": ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],
			"object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}`, []string{"/object_marking_refs"}},
		{"in an object of a list", base + `, "external_references": [{"source_name": "a", "url": "https://a.example/"},
			{"source_name": "b", "url": "https://b.example/", "url": "https://c.example/"}]}`, []string{"/external_references/1/url"}},
		{"in an extension", base + `, "extensions": {"` + ext + `": {"extension_type": "property-extension", "rank": 1, "rank": 2}}}`,
			[]string{"/extensions/" + ext + "/rank"}},
		{"an extension twice", base + `, "extensions": {"` + ext + `": {"extension_type": "property-extension"},
			"` + ext + `": {"extension_type": "property-extension"}}}`, []string{"/extensions/" + ext}},
		{"equal once unescaped", base + `, "d\u0065scription": "clean"}`, []string{"/description"}},
		{"both escaped", base + `, "x_\u00e9": 1, "x_\u00E9": 2}`, []string{"/x_é"}},
		{"escaped and raw UTF-8", base + `, "x_\u00e9": 1, "x_é": 2}`, []string{"/x_é"}},
		{"escaped quote in the name", base + `, "x_\"q": 1, "x_\u0022q": 2}`, []string{`/x_"q`}},
		{"pointer escapes", base + `, "extensions": {"` + ext + `": {"extension_type": "property-extension", "a/b~c": 1, "a/b~c": 2}}}`,
			[]string{"/extensions/" + ext + "/a~1b~0c"}},
		{"three times, reported once", base + `, "name": "a", "name": "b"}`, []string{"/name"}},
		{"several", base + `, "name": "a", "labels": ["x"], "labels": ["y"]}`, []string{"/name", "/labels"}},
		{"the empty name", base + `, "x_d": {"": 1, "": 2}}`, []string{"/x_d/"}},
		{"same name in two objects of a list", base + `, "external_references": [{"source_name": "a"}, {"source_name": "b"}]}`, nil},
		{"same name at two depths", base + `, "extensions": {"` + ext + `": {"extension_type": "property-extension", "name": "x"}}}`, nil},
		{"names that differ only in case", base + `, "Description": "x"}`, nil},
		{"a name equal to a string value", base + `, "x_a": "x_b", "x_b": "x_a"}`, nil},
		{"escaped backslash before a quote", base + `, "x_a\\": 1, "x_a": 2}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vd := v.Object([]byte(tc.raw))
			var got []string
			for _, p := range vd.Errors {
				if p.Code == CodeDuplicateKey {
					got = append(got, p.Path)
					name := p.Path[strings.LastIndexByte(p.Path, '/')+1:]
					name = strings.NewReplacer("~1", "/", "~0", "~").Replace(name)
					if !strings.Contains(p.Message, strconv.Quote(name)) {
						t.Errorf("message %q does not name %q", p.Message, name)
					}
				}
			}
			if !slices.Equal(got, tc.paths) {
				t.Fatalf("duplicate-key at %q, want %q (errors %v)", got, tc.paths, vd.Errors)
			}
			if len(tc.paths) > 0 && (vd.Valid() || len(vd.Errors) != len(tc.paths) || vd.Object != nil) {
				t.Errorf("want only the duplicate-key errors and no decoded object, got %v, object %v", vd.Errors, vd.Object != nil)
			}
			if vd.ID != "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" || vd.Type != "indicator" || vd.SpecVersion != "2.1" {
				t.Errorf("verdict lost the object's id, type or spec_version: %q %q %q", vd.ID, vd.Type, vd.SpecVersion)
			}
		})
	}
}

// TestDuplicateIdentity checks that a verdict names no id when the id itself is repeated: the
// status would otherwise name one of two.
func TestDuplicateIdentity(t *testing.T) {
	v := newTestValidator(t)
	vd := v.Object([]byte(indicatorJSON[:len(indicatorJSON)-1] + `, "id": "indicator--0a1e7a10-1b48-4f0a-8d80-5a38e3c6f3c2"}`))
	if vd.Valid() || vd.ID != "" || vd.Type != "indicator" || codes(vd.Errors)[0] != CodeDuplicateKey || vd.Errors[0].Path != "/id" {
		t.Errorf("got id %q, type %q, errors %v", vd.ID, vd.Type, vd.Errors)
	}
}

func TestDuplicateKeysInDocuments(t *testing.T) {
	v := newTestValidator(t)
	dup := indicatorJSON[:len(indicatorJSON)-1] + `, "description": "clean"}`
	bundle := func(objects string) string {
		return `{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": [` + objects + `]}`
	}
	for _, tc := range []struct {
		name, raw string
		kind      DocumentKind
		// object is the index of the member refused for a repeated name, -1 for the document.
		object int
		path   string
	}{
		{"bundle", bundle(fileJSON + `, ` + relationshipJSON + `, ` + tlpGreenJSON + `, ` + dup), KindBundle, 3, "/objects/3/description"},
		{"envelope", `{"objects": [` + fileJSON + `, ` + dup + `], "more": false}`, KindEnvelope, 1, "/objects/1/description"},
		{"list", `[` + dup + `, ` + fileJSON + `]`, KindList, 0, "/0/description"},
		{"single object", dup, KindObject, 0, "/description"},
		{"bundle member of a bundle member", bundle(fileJSON + `, {"type": "x-a", "x_l": [{"k": 1, "k": 2}]}`), KindBundle, 1, "/objects/1/x_l/0/k"},
		{"bundle property", `{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [` + fileJSON + `]}`, "", -1, "/id"},
		{"objects twice", `{"objects": [` + fileJSON + `], "objects": [` + fileJSON + `]}`, "", -1, "/objects"},
		{"outside the objects", `{"objects": [` + fileJSON + `], "x": [{"a": 1, "a": 2}]}`, "", -1, "/x/0/a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := v.Document([]byte(tc.raw))
			if d.Valid() {
				t.Fatalf("document accepted: %+v", d)
			}
			problems := d.Errors
			if tc.object >= 0 {
				if d.Kind != tc.kind || len(d.Errors) > 0 || tc.object >= len(d.Objects) {
					t.Fatalf("kind %q, document errors %v, %d objects", d.Kind, d.Errors, len(d.Objects))
				}
				problems = d.Objects[tc.object].Errors
				for i, o := range d.Objects {
					if i != tc.object && slices.Contains(codes(o.Errors), CodeDuplicateKey) {
						t.Errorf("object %d: %v", i, o.Errors)
					}
				}
			} else if len(d.Objects) > 0 {
				t.Errorf("a document in doubt has no object verdicts, got %+v", d.Objects)
			}
			if len(problems) != 1 || problems[0].Code != CodeDuplicateKey || problems[0].Path != tc.path {
				t.Errorf("got %v, want one duplicate-key at %s", problems, tc.path)
			}
			checkInvariants(t, v, []byte(tc.raw))
		})
	}
}

// TestDuplicateKeysOthersStillChecked checks that in a document, the objects beside one that
// repeats a name are checked as usual.
func TestDuplicateKeysOthersStillChecked(t *testing.T) {
	v := newTestValidator(t)
	dup := indicatorJSON[:len(indicatorJSON)-1] + `, "description": "clean"}`
	bad := edit(t, fileJSON, map[string]any{"name": 7})
	d := v.Document([]byte(`[` + indicatorJSON + `, ` + dup + `, ` + string(bad) + `]`))
	if len(d.Objects) != 3 || !d.Objects[0].Valid() || d.Objects[1].Valid() || !slices.Contains(codes(d.Objects[2].Errors), CodeWrongType) {
		t.Errorf("got %+v", d.Objects)
	}
	if d.Objects[1].ID != "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" {
		t.Errorf("the refused object lost its id: %+v", d.Objects[1])
	}
}

// TestDuplicateKeysManyMembers covers objects too large to compare names one by one.
func TestDuplicateKeysManyMembers(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"x": {`)
	for i := range 3 * linearMembers {
		fmt.Fprintf(&b, `"k%d": %d, `, i, i)
	}
	b.WriteString(`"k\u0031": 0, "k5": 0, "k5": 0, "k70": 0, "z": {"k1": 1}, "k2": 0}, "k1": 0}`)
	var got []string
	dups, _ := scanRaw([]byte(b.String()), 0)
	for _, p := range dups {
		got = append(got, p.Path)
	}
	if want := []string{"/x/k1", "/x/k5", "/x/k70", "/x/k2"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestDuplicateKeysAreBounded checks that a hostile document gets a bounded report for each of
// its objects, and that every object is still refused.
func TestDuplicateKeysAreBounded(t *testing.T) {
	v := newTestValidator(t)
	many := indicatorJSON[:len(indicatorJSON)-1] + strings.Repeat(`, "x_a": {"b": 1, "b": 1}`, 10_000) + `}`
	vd := v.Object([]byte(many))
	if len(vd.Errors) != maxProblems+1 || vd.Errors[maxProblems].Code != CodeTooManyProblems {
		t.Fatalf("got %d errors, ending with %v", len(vd.Errors), vd.Errors[len(vd.Errors)-1])
	}
	d := v.Document([]byte(`[` + strings.Repeat(many+`, `, 3) + indicatorJSON + `]`))
	for i, o := range d.Objects {
		if i < 3 && (len(o.Errors) != maxProblems+1 || o.Errors[maxProblems].Path != "/"+strconv.Itoa(i)) {
			t.Errorf("object %d: %d errors, last %v", i, len(o.Errors), o.Errors[len(o.Errors)-1])
		}
		if i == 3 && !o.Valid() {
			t.Errorf("object %d refused: %v", i, o.Errors)
		}
	}
}

// TestCorpusDuplicateKeys compares the scan with an independent one over every input of the
// corpus, and checks that no object without repeated names is refused for them: neither as
// found nor once re-encoded, which drops any repetition. Each object with a name repeated on
// purpose must be refused, at the right place.
func TestCorpusDuplicateKeys(t *testing.T) {
	v := newTestValidator(t)
	for _, c := range loadCorpus(t) {
		if _, p := decode(c.input); p != nil {
			continue
		}
		if got, want := scannedPaths(c.input), referenceDuplicates(t, c.input); !slices.Equal(got, want) {
			t.Errorf("%s/%s: scan finds %q, reference finds %q", c.group, c.name, got, want)
		}
	}
	for i, raw := range corpusObjects(t) {
		if len(referenceDuplicates(t, raw)) > 0 {
			t.Logf("corpus object %d repeats a name: %s", i, raw)
			continue
		}
		vd := v.Object(raw)
		if slices.Contains(codes(vd.Errors), CodeDuplicateKey) {
			t.Errorf("corpus object %d refused for a repeated name: %v", i, vd.Errors)
		}
		if vd.Object == nil {
			continue // not JSON, not UTF-8, not an object or a number too big: refused before the scan
		}
		again, _ := json.Marshal(vd.Object)
		if vd := v.Object(again); slices.Contains(codes(vd.Errors), CodeDuplicateKey) {
			t.Errorf("corpus object %d, re-encoded, refused for a repeated name: %v", i, vd.Errors)
		}
		names := slices.Sorted(maps.Keys(vd.Object))
		if len(names) == 0 || names[0][0] >= utf8.RuneSelf {
			continue
		}
		// Repeat the first name, its first letter escaped, at the end: the repetition is found
		// however the name is written.
		lit, _ := json.Marshal(names[0])
		escaped := fmt.Sprintf(`"\u%04x`, names[0][0]) + string(lit[2:])
		trimmed := bytes.TrimSpace(raw)
		dup := fmt.Appendf(nil, "%s, %s: null}", trimmed[:len(trimmed)-1], escaped)
		vd = v.Object(dup)
		if vd.Valid() || len(vd.Errors) != 1 || vd.Errors[0].Code != CodeDuplicateKey || vd.Errors[0].Path != "/"+escapePointer(names[0]) {
			t.Errorf("corpus object %d with %s repeated as %s: %v", i, names[0], escaped, vd.Errors)
		}
	}
}

// FuzzScanRaw compares the scan with independent ones on any input decode accepts: the
// repeated names with referenceDuplicates, the numbers with a walk of the decoded value.
func FuzzScanRaw(f *testing.F) {
	for _, seed := range []string{indicatorJSON, observedJSON, `{"a": 1, "\u0061": [{"b": {}, "b": "\"}"}]}`, `[{"":1,"":2},"a"]`,
		`{"a": [1, -2.5e+3, {"b": 1e401}]}`, `{"e": "1e999", "n": 1E-400}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, p := decode(raw)
		if p != nil {
			return
		}
		dups, huge := scanRaw(raw, 0)
		if huge != nil {
			if dups != nil || huge.Code != CodeNumberTooBig {
				t.Fatalf("huge number %v with repetitions %v", huge, dups)
			}
			if lit, ok := pointed(doc, huge.Path).(json.Number); !ok || !numberTooBig([]byte(lit)) {
				t.Errorf("%s points at %v, not a number too big", huge.Path, pointed(doc, huge.Path))
			}
		} else if hasHugeNumber(doc) {
			t.Errorf("the scan misses a number too big")
		}
		if huge == nil {
			if got, want := scannedPaths(raw), referenceDuplicates(t, raw); !slices.Equal(got, want) {
				t.Errorf("scan finds %q, reference finds %q", got, want)
			}
		}
	})
}

func TestNumbersTooBig(t *testing.T) {
	v := newTestValidator(t)
	base := indicatorJSON[:len(indicatorJSON)-1]
	for _, tc := range []struct{ name, raw, path string }{
		{"long literal", base + `, "x_n": ` + strings.Repeat("9", maxNumberLen+1) + `}`, "/x_n"},
		{"large exponent", base + `, "x_n": 1e401}`, "/x_n"},
		{"small exponent", base + `, "x_n": -2.5E-401}`, "/x_n"},
		{"in a list", base + `, "x_l": [1, 2, {"a": [0, 1e100000]}]}`, "/x_l/2/a/1"},
		{"the first of two", base + `, "x_a": 1e999, "x_b": 1e999}`, "/x_a"},
		{"before a repeated name", base + `, "x_a": 1e999, "name": "x"}`, "/x_a"},
		{"alone", `1e999`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vd := v.Object([]byte(tc.raw))
			if len(vd.Errors) != 1 || vd.Errors[0].Code != CodeNumberTooBig || vd.Errors[0].Path != tc.path {
				t.Errorf("got %v, want number-too-big at %q", vd.Errors, tc.path)
			}
		})
	}
	for _, tc := range []struct{ name, raw string }{
		{"bounds", base + `, "x_n": [` + strings.Repeat("9", maxNumberLen) + `, 1e400, 1E-400, -0.5e+400]}`},
		{"in strings", base + `, "x_n": "1e999", "x_1e999": 0}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if vd := v.Object([]byte(tc.raw)); slices.Contains(codes(vd.Errors), CodeNumberTooBig) {
				t.Errorf("got %v", vd.Errors)
			}
		})
	}
	d := v.Document([]byte(`{"objects": [` + indicatorJSON + `, ` + base + `, "x_n": 1e999}]}`))
	if d.Valid() || len(d.Errors) != 1 || d.Errors[0].Code != CodeNumberTooBig || d.Errors[0].Path != "/objects/1/x_n" || d.Kind != "" {
		t.Errorf("document: kind %q, errors %v", d.Kind, d.Errors)
	}
}

// pointed returns the value at the JSON Pointer path in doc.
func pointed(doc any, path string) any {
	if path == "" {
		return doc
	}
	for _, token := range strings.Split(path[1:], "/") {
		token = strings.NewReplacer("~1", "/", "~0", "~").Replace(token)
		switch d := doc.(type) {
		case map[string]any:
			doc = d[token]
		case []any:
			i, err := strconv.Atoi(token)
			if err != nil || i >= len(d) {
				return nil
			}
			doc = d[i]
		default:
			return nil
		}
	}
	return doc
}

func hasHugeNumber(v any) bool {
	switch v := v.(type) {
	case json.Number:
		return numberTooBig([]byte(v))
	case map[string]any:
		for _, e := range v {
			if hasHugeNumber(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasHugeNumber(e) {
				return true
			}
		}
	}
	return false
}

func scannedPaths(raw []byte) []string {
	var out []string
	dups, _ := scanRaw(raw, 0)
	for _, p := range dups {
		if p.Code == CodeDuplicateKey {
			out = append(out, p.Path)
		}
	}
	return out
}

// referenceDuplicates finds repeated names with encoding/json's tokenizer: the pointers of the
// second occurrence of each name repeated in an object, at most maxProblems of them.
func referenceDuplicates(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		names   map[string]int // 1 seen, 2 reported
		current string
		index   int
		object  bool
	}
	var stack []*frame
	var out []string
	pointer := func() string {
		var b strings.Builder
		for _, f := range stack {
			b.WriteByte('/')
			if f.object {
				b.WriteString(escapePointer(f.current))
			} else {
				b.WriteString(strconv.Itoa(f.index - 1))
			}
		}
		return b.String()
	}
	expectName := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			expectName = len(stack) > 0 && stack[len(stack)-1].object
			continue
		}
		if expectName {
			f := stack[len(stack)-1]
			name := tok.(string)
			f.current = name
			f.names[name]++
			if f.names[name] == 2 && len(out) < maxProblems {
				out = append(out, pointer())
			}
			expectName = false
			continue
		}
		if len(stack) > 0 && !stack[len(stack)-1].object {
			stack[len(stack)-1].index++
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, names: map[string]int{}})
			expectName = true
		case json.Delim('['):
			stack = append(stack, &frame{})
		default:
			expectName = len(stack) > 0 && stack[len(stack)-1].object
		}
	}
	return out
}
