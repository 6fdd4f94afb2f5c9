package taxii

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// offsetIn is where part begins in buf, found by comparing addresses, or -1 when part is not a
// sub-slice of buf's bytes.
func offsetIn(buf, part []byte) int {
	if len(part) == 0 {
		return -1
	}
	for i := range buf {
		if &buf[i] == &part[0] {
			if i+len(part) > len(buf) {
				return -1
			}
			return i
		}
	}
	return -1
}

func TestScannedObjectsArePartsOfTheBody(t *testing.T) {
	objects := []string{`{"type":"note","content":"` + strings.Repeat("s", 100_000) + `"}`, `{"type":"x"}`, `[1,2]`, `"s"`, `-1.5e3`, `null`}
	body := []byte("{\"id\":\"bundle--1\",\"objects\":[ " + strings.Join(objects, " , ") + " ]}")
	for name, read := range pieces {
		for _, size := range []int64{int64(len(body)), -1, 10} { // declared exactly, unknown, declared too small
			buf, raws, err := readEnvelope(read(body), size, 1<<20, 10)
			if err != nil || len(raws) != len(objects) {
				t.Fatalf("%s, size %d: %d objects, %v", name, size, len(raws), err)
			}
			for i, raw := range raws {
				at := offsetIn(buf, raw)
				if at < 0 || string(raw) != objects[i] {
					t.Errorf("%s, size %d: object %d (%.20q) is at %d of the body buffer; want a part of it", name, size, i, raw, at)
				}
				if cap(raw) != len(raw) {
					t.Errorf("%s, size %d: object %d has room for %d more bytes: appending would overwrite the body", name, size, i, cap(raw)-len(raw))
				}
			}
			if size == int64(len(body)) && cap(buf) != len(body)+1 {
				t.Errorf("a body of declared length %d was read into a buffer of %d bytes; want the length and one byte to see its end", len(body), cap(buf))
			}
		}
	}
	// DecodeEnvelope hands out parts of the caller's body: changing the body changes the object.
	raws, err := DecodeEnvelope(body, 10)
	if err != nil {
		t.Fatal(err)
	}
	if offsetIn(body, raws[1]) < 0 {
		t.Fatal("DecodeEnvelope copied an object")
	}
	raws[1][2] = 'T'
	if !bytes.Contains(body, []byte(`{"Type":"x"}`)) {
		t.Error("an object is not a view of the body")
	}
	// Appending to one object leaves its neighbour as it was.
	_ = append(raws[1], "xxxx"...)
	if string(raws[2]) != `[1,2]` {
		t.Errorf("appending to an object changed the next: %q", raws[2])
	}
}

// TestScannerNestsAsEncodingJSON checks the nesting limit encoding/json applies to each value it
// decodes: 10,000 levels within a member or an object of the list, none for a top-level array.
func TestScannerNestsAsEncodingJSON(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for name, body := range map[string]string{
		"an object at the limit":       `{"objects":[` + nest(maxNesting) + `]}`,
		"an object over the limit":     `{"objects":[` + nest(maxNesting+1) + `]}`,
		"a member at the limit":        `{"x":` + nest(maxNesting) + `,"objects":[]}`,
		"a member over the limit":      `{"x":` + nest(maxNesting+1) + `,"objects":[]}`,
		"a list far over the limit":    nest(3 * maxNesting),
		"objects in an object, deep":   `{"objects":[{"a":` + nest(maxNesting-1) + `}]}`,
		"objects in an object, deeper": `{"objects":[{"a":` + nest(maxNesting) + `}]}`,
	} {
		sameAsDecoder(t, name, []byte(body), 3)
	}
}

// sameAsDecoder fails unless the scanner, given body whole and in pieces, returns what the
// encoding/json reader it replaced returns: the same objects, or the same error.
func sameAsDecoder(t *testing.T, name string, body []byte, maxObjects int) {
	t.Helper()
	want, wantErr := decoderReadEnvelope(bytes.NewReader(body), maxObjects)
	check := func(how string, got []json.RawMessage, err error) {
		t.Helper()
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("%s, %s: %.300q: %v; encoding/json: %v", name, how, body, err, wantErr)
		}
		if len(got) != len(want) || (got == nil) != (want == nil) {
			t.Fatalf("%s, %s: %.300q: %d objects (nil %t); encoding/json: %d (nil %t)", name, how, body, len(got), got == nil, len(want), want == nil)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%s, %s: %.300q: object %d is %q; encoding/json: %q", name, how, body, i, got[i], want[i])
			}
		}
	}
	got, err := DecodeEnvelope(body, maxObjects)
	check("in memory", got, err)
	for how, read := range pieces {
		got, err := ReadEnvelopeSized(read(body), int64(len(body)), 0, maxObjects)
		check(how+", declared length", got, err)
		got, err = ReadEnvelope(read(body), maxObjects)
		check(how+", unknown length", got, err)
	}
}

// FuzzScannerAgreesWithDecoder checks the scanner against encoding/json twice: against the
// decoder-based reader it replaced (the same objects or the same error, to the byte an error is
// at), and, for what it accepts, against encoding/json's own view of the body.
func FuzzScannerAgreesWithDecoder(f *testing.F) {
	for _, s := range []string{`{"objects":[{"type":"x"}]}`, `{"objects":[]}`, `{"type":"bundle","objects":[1,2]}`, `[]`,
		`{"objects":null}`, `{"objects":[{"a" 1}]}`, `{"objects":[1,2,3,4]}`, `{"objects":[1,2,3,"x`, `{"objects":[1,2,3,4`,
		`{"objects":[1,2,3,[`, `{"objects":[1,2,3,tru`, `{"objects":[1,2,3,-]}`, "{\"objects\":[\"é\xff\"]}", `{"objects":[]} x`,
		`{"\u006fbjects":[{}]}`, `{"objectſ":[{}]}`, `{"OBJECTS":[],"objects":[]}`, `{"objects":[],"objects":[{},{},{},{}]}`,
		`{"objects":[0,-0,1.5,1e5,1E+5,-1.0e-5,01]}`, `{"objects":["\u00e9\n\"\\\/\b\f\r\t", "\uD83D\uDE00"]}`, `{"objects":["\x"]}`,
		`{"objects":["a` + "\x01" + `"]}`, `123`, `1.`, `-`, `nul`, `{"objects":[]}]`, `{"objects":{}} {}`, `{"objects":[true,false,null]}`,
		` { "objects" : [ { } , [ ] ] } `, `{"a":{"objects":[1]},"objects":[2]}`, `{"objects":[1e400]}`, `{"x":1 "objects":[]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sameAsDecoder(t, "fuzz", body, 3)
		raws, err := DecodeEnvelope(body, 3)
		if err != nil {
			return
		}
		// What the scanner accepts, encoding/json reads as one document holding exactly these objects.
		if !json.Valid(body) || !utf8.Valid(body) {
			t.Fatalf("%q accepted, but it is not JSON to encoding/json", body)
		}
		var env struct{ Objects []json.RawMessage }
		if err := json.Unmarshal(body, &env); err != nil || len(env.Objects) != len(raws) {
			t.Fatalf("%q: encoding/json reads %d objects (%v); the scanner %d", body, len(env.Objects), err, len(raws))
		}
		for i := range raws {
			if !bytes.Equal(raws[i], env.Objects[i]) {
				t.Fatalf("%q: object %d is %q; encoding/json reads %q", body, i, raws[i], env.Objects[i])
			}
		}
	})
}

// TestScannerReadsAHugeStringOnce reads a body holding one 30 MiB string through a reader that
// hands it over in small pieces, as a socket does: the string is scanned once, not again at each
// piece, and the object is the body's own bytes.
func TestScannerReadsAHugeStringOnce(t *testing.T) {
	body := []byte(`{"objects":[{"type":"note","content":"` + strings.Repeat("s", 30<<20) + `"},{"type":"note"}]}`)
	buf, raws, err := readEnvelope(iotest.HalfReader(&smallReads{r: bytes.NewReader(body), n: 32 << 10}), int64(len(body)), DefaultMaxContentLength, 10)
	if err != nil || len(raws) != 2 {
		t.Fatalf("%d objects, %v", len(raws), err)
	}
	if offsetIn(buf, raws[0]) != len(`{"objects":[`) {
		t.Error("the large object is not a part of the body buffer")
	}
}

// smallReads gives at most n bytes a read.
type smallReads struct {
	r io.Reader
	n int
}

func (s *smallReads) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }

func TestScannerStopsAtTheObjectOverTheLimit(t *testing.T) {
	// A scalar is read whole before it counts, as the decoder read it as one token; a container
	// counts as it opens.
	for body, wantTooMany := range map[string]bool{
		`{"objects":[1,2,3,4`:     true,
		`{"objects":[1,2,3,"x`:    false,
		`{"objects":[1,2,3,"x"`:   true,
		`{"objects":[1,2,3,{`:     true,
		`{"objects":[1,2,3,tru`:   false,
		`{"objects":[1,2,3,true`:  true,
		`{"objects":[1,2,3,}`:     false,
		`{"objects":[1,2,3 4]}`:   false,
		`{"objects":[1,2,3,]}`:    false,
		`{"objects":[1,2,3]}`:     false,
		`{"objects":[1,2,3],"x":`: false,
	} {
		_, err := ReadEnvelope(strings.NewReader(body), 3)
		var tm *TooManyObjectsError
		if errors.As(err, &tm) != wantTooMany {
			t.Errorf("%s: %v; too many objects: %t", body, err, wantTooMany)
		}
		sameAsDecoder(t, body, []byte(body), 3)
	}
}

// TestReadEnvelopeBoundsTheBufferByTheLimit checks that a declared length over the limit does not
// size the buffer: the limit does, and the reader's own bound refuses the body.
func TestReadEnvelopeBoundsTheBufferByTheLimit(t *testing.T) {
	body := []byte(`{"objects":[{}]}`)
	buf, raws, err := readEnvelope(bytes.NewReader(body), 1<<40, 64, 10)
	if err != nil || len(raws) != 1 || cap(buf) != 65 {
		t.Errorf("a declared length of 1 TiB under a limit of 64: a buffer of %d bytes, %d objects, %v", cap(buf), len(raws), err)
	}
}
