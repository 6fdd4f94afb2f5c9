package stix

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzObject checks that no input makes the validator panic, and that a verdict is valid
// exactly when it holds no error.
func FuzzObject(f *testing.F) {
	v := newTestValidator(f)
	for _, seed := range []string{indicatorJSON, relationshipJSON, tlpGreenJSON, tlp2AmberJSON, fileJSON, observedJSON} {
		f.Add([]byte(seed))
	}
	if entries, err := os.ReadDir(filepath.Join(corpusDir, "oasis-validator-cases", "valid")); err == nil {
		for _, e := range entries {
			if raw, err := os.ReadFile(filepath.Join(corpusDir, "oasis-validator-cases", "valid", e.Name())); err == nil {
				f.Add(raw)
			}
		}
	}
	if entries, err := os.ReadDir(filepath.Join(corpusDir, "tcm1911-fuzz-crashers")); err == nil {
		for _, e := range entries {
			if raw, err := os.ReadFile(filepath.Join(corpusDir, "tcm1911-fuzz-crashers", e.Name())); err == nil {
				f.Add(raw)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkInvariants(t, v, raw)
	})
}

// FuzzInPlaceDecodesAsEncodingJSON checks that valid JSON decoded where it lies is what a
// json.Decoder with UseNumber makes of it.
func FuzzInPlaceDecodesAsEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e+3,"x\u00e9\"",true,false,null,{}],"b":{"c":[]},"a":0}`, ` [ ] `, `"\ud83d\ude00\ud800"`,
		`0`, `{"":""}`, `[[[[1]]]]`, "{\"k\\n\":\"v\\\\\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) || !utf8.Valid(raw) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		d := inPlace{raw: raw}
		if got := d.value(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decoded in place %#v; encoding/json %#v", raw, got, want)
		}
	})
}
