package taxii

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"
)

// pieces are the ways a body may reach ReadEnvelope: whole, or in reads that split tokens and
// characters anywhere.
var pieces = map[string]func(body []byte) io.Reader{
	"whole":    func(b []byte) io.Reader { return bytes.NewReader(b) },
	"one byte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
	"halves":   func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
}

func TestReadEnvelopeKeepsExactBytes(t *testing.T) {
	objects := []string{
		`{ "type" : "indicator",  "x": 1.50e2 }`,
		"{\n\t\"spec_version\":\"2.1\",\"type\":\"indicator\",\"n\":1.0e3,\"m\":-0,\"e\":1E-7}",
		`{"name":"\u00e9t\u00c9 \ud83d\ude00 \"q\" \\ \/","type":"x"}`,
		`{"name":"été 😀 中文","z":[ ],"a":{ },"b":null,"c":true}`,
		`"not an object"`, // judged per object later, not here
		`12345678901234567890123456789e400`,
		`[1, [2, {"3": [4]}]]`,
	}
	body := " \r\n{\"type\" : \"bundle\", \"id\":\"bundle--x\" , \"objects\" : [ " + strings.Join(objects, " ,\n") + " ] , \"more\":{\"objects\":1}}\n "
	for name, read := range pieces {
		raws, err := ReadEnvelope(read([]byte(body)), 10)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(raws) != len(objects) {
			t.Fatalf("%s: %d objects, want %d", name, len(raws), len(objects))
		}
		for i, raw := range raws {
			if string(raw) != objects[i] {
				t.Errorf("%s: object %d is %q, want %q", name, i, raw, objects[i])
			}
		}
	}
}

func TestReadEnvelopeAnswers(t *testing.T) {
	for _, c := range []struct {
		name, body string
		objects    int    // when accepted
		reason     string // when refused: the EnvelopeError's reason
	}{
		{name: "empty list", body: `{"objects":[]}`, objects: 0},
		{name: "bundle", body: `{"type":"bundle","id":"bundle--1","objects":[{},{}],"x":[{"y":"z"}]}`, objects: 2},
		{name: "the name in another case", body: `{"Objects":[{}]}`, objects: 1},
		{name: "trailing whitespace", body: "{\"objects\":[{}]} \t\r\n ", objects: 1},
		{name: "empty body", body: ``, reason: notObject + "the JSON ends early"},
		{name: "only whitespace", body: "  \n", reason: notObject + "the JSON ends early"},
		{name: "cut short in the list", body: `{"objects":[{"a":1},`, reason: notObject + "the JSON ends early"},
		{name: "cut short in an object", body: `{"objects":[{"a":1`, reason: notObject + "the JSON ends early"},
		{name: "syntax in an object", body: `{"objects":[{"a" 1}]}`, reason: notObject + "invalid JSON at byte 18"},
		{name: "syntax between objects", body: `{"objects":[{} {}]}`, reason: notObject + "invalid JSON at byte 16"},
		{name: "syntax in a key", body: `{"ob\jects":[]}`, reason: notObject + "invalid JSON at byte 6"},
		{name: "syntax after a key", body: `{"objects" []}`, reason: notObject + "invalid JSON at byte 12"},
		{name: "syntax in a skipped member", body: `{"type":"bundle","x":[1,,2],"objects":[]}`, reason: notObject + "invalid JSON at byte 25"},
		{name: "a list", body: `[{"objects":[]}]`, reason: notObject + "expected a JSON object, found a JSON array"},
		{name: "a string", body: `"objects"`, reason: notObject + "expected a JSON object, found a JSON string"},
		{name: "a huge number", body: `1e400`, reason: notObject + "expected a JSON object, found a JSON number"},
		{name: "a list with a syntax error", body: `[1,2`, reason: notObject + "the JSON ends early"},
		{name: "null", body: `null`, reason: "the body has no objects list"},
		{name: "no objects", body: `{"type":"bundle","id":"bundle--1"}`, reason: "the body has no objects list"},
		{name: "objects null", body: `{"objects":null}`, reason: "the body has no objects list"},
		{name: "objects an object", body: `{"objects":{"a":[1]}}`, reason: notObject + "objects must be a list, not a JSON object"},
		{name: "objects a bool", body: `{"objects":true}`, reason: notObject + "objects must be a list, not a JSON bool"},
		{name: "objects a huge number", body: `{"objects":1e400}`, reason: notObject + "objects must be a list, not a JSON number"},
		{name: "objects not a list, then bad JSON", body: `{"objects":{},"x":tru}`, reason: notObject + "invalid JSON at byte 22"},
		{name: "objects twice", body: `{"objects":[{}],"objects":[{}]}`, reason: "the body has more than one objects member"},
		{name: "objects twice, in two cases", body: `{"objects":[{}],"OBJECTS":[]}`, reason: "the body has more than one objects member"},
		{name: "objects twice, then bad JSON", body: `{"objects":[],"objects":[],}`, reason: notObject + "invalid JSON at byte 28"},
		{name: "two documents", body: `{"objects":[]} {"objects":[]}`, reason: "the body holds more than one JSON document"},
		{name: "a stray bracket after", body: `{"objects":[]}]`, reason: "the body holds more than one JSON document"},
		{name: "two documents, the first without objects", body: `{} {}`, reason: "the body holds more than one JSON document"},
	} {
		for name, read := range pieces {
			raws, err := ReadEnvelope(read([]byte(c.body)), 10)
			if c.reason == "" {
				if err != nil || len(raws) != c.objects || raws == nil {
					t.Errorf("%s, %s: %d objects (nil: %t), %v; want %d", c.name, name, len(raws), raws == nil, err, c.objects)
				}
				continue
			}
			var ee *EnvelopeError
			if !errors.As(err, &ee) || ee.Reason != c.reason {
				t.Errorf("%s, %s: %v; want the reason %q", c.name, name, err, c.reason)
			}
		}
	}
}

func TestReadEnvelopeChecksUTF8Everywhere(t *testing.T) {
	const notUTF8 = "the body is not UTF-8"
	for name, body := range map[string]string{
		"in an object":                   "{\"objects\":[{\"name\":\"\xff\"}]}",
		"in a skipped member":            "{\"type\":\"bundle\xc3\x28\",\"objects\":[]}",
		"in a key":                       "{\"\xe2\x82\":1,\"objects\":[]}",
		"after the document":             "{\"objects\":[]} \xf0",
		"cut short at the end":           "{\"objects\":[]}\xe2\x82",
		"a surrogate":                    "{\"objects\":[\"\xed\xa0\x80\"]}",
		"an overlong encoding":           "{\"objects\":[\"\xc0\xaf\"]}",
		"outside strings":                "{\"objects\":[\xff]}",
		"after a syntax error":           "{\"objects\":[{\"a\" 1}, \"\xff\"]}",
		"after an objects of a bad kind": "{\"objects\":{}, \"x\":\"\xff\"}",
	} {
		for how, read := range pieces {
			_, err := ReadEnvelope(read([]byte(body)), 10)
			var ee *EnvelopeError
			if !errors.As(err, &ee) || ee.Reason != notUTF8 {
				t.Errorf("%s, %s: %v; want the reason %q", name, how, err, notUTF8)
			}
		}
	}
	// Characters of every length, split across reads wherever one-byte reads split them.
	body := `{"objects":[{"name":"a é € 😀 ` + "\ufffd" + `"}]}`
	if _, err := ReadEnvelope(iotest.OneByteReader(strings.NewReader(body)), 10); err != nil {
		t.Errorf("valid UTF-8 in one-byte reads: %v", err)
	}
}

func TestUTF8CheckAgreesWithValid(t *testing.T) {
	samples := []string{"", "abc", "é", "€", "😀", "a😀b€cé", "\ufffd", "\xff", "\xc3", "\xc3\x28", "\xe2\x82", "\xe2\x82\x28",
		"\xf0\x9f\x98", "\xf0\x9f\x98\x80\x80", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "a\x80", "😀\xf0", "\xf8\x88\x80\x80\x80"}
	for _, s := range samples {
		for _, t2 := range samples {
			whole := s + t2
			want := utf8.Valid([]byte(whole))
			// Every split into two pieces, and one byte at a time.
			for i := 0; i <= len(whole); i++ {
				var u utf8Check
				u.write([]byte(whole[:i]))
				u.write([]byte(whole[i:]))
				if u.complete() != want {
					t.Errorf("%q split at %d: %t, want %t", whole, i, u.complete(), want)
				}
			}
			var u utf8Check
			for i := range len(whole) {
				u.write([]byte{whole[i]})
			}
			if u.complete() != want {
				t.Errorf("%q byte by byte: %t, want %t", whole, u.complete(), want)
			}
		}
	}
}

func FuzzUTF8Check(f *testing.F) {
	f.Add([]byte("a😀b€cé"), uint8(3))
	f.Add([]byte("\xe2\x82\x28"), uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, step uint8) {
		n := int(step%7) + 1
		var u utf8Check
		for i := 0; i < len(b); i += n {
			u.write(b[i:min(i+n, len(b))])
		}
		if u.complete() != utf8.Valid(b) {
			t.Fatalf("%q in pieces of %d: %t, utf8.Valid %t", b, n, u.complete(), utf8.Valid(b))
		}
	})
}

// FuzzReadEnvelopePieces checks that how the body arrives changes nothing: the same objects, the
// same refusal.
func FuzzReadEnvelopePieces(f *testing.F) {
	for _, s := range []string{`{"objects":[{"type":"x"}]}`, `{"objects":[]}`, `{"type":"bundle","objects":[1,2]}`, `[]`,
		`{"objects":null}`, `{"objects":[{"a" 1}]}`, `{"objects":[1,2,3,4]}`, "{\"objects\":[\"é\xff\"]}", `{"objects":[]} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want, wantErr := ReadEnvelope(bytes.NewReader(body), 3)
		for name, read := range pieces {
			got, err := ReadEnvelope(read(body), 3)
			if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
				t.Fatalf("%q, %s: %v; whole: %v", body, name, err, wantErr)
			}
			if len(got) != len(want) {
				t.Fatalf("%q, %s: %d objects; whole: %d", body, name, len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("%q, %s: object %d is %q; whole: %q", body, name, i, got[i], want[i])
				}
			}
		}
	})
}

// failingReader gives its bytes, then fails; reading it after the failure is a test failure unless
// allowed.
type failingReader struct {
	r         io.Reader
	err       error
	failed    bool
	readAfter bool
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.failed {
		f.readAfter = true
		return 0, nil // as some readers do: nothing, and no error
	}
	n, err := f.r.Read(p)
	if err == io.EOF {
		f.failed = true
		return n, f.err
	}
	return n, err
}

func TestReadEnvelopeStopsAtTooManyObjects(t *testing.T) {
	cut := errors.New("connection reset")
	// The fourth object starts the limit's breach; what follows is never read.
	r := &failingReader{r: strings.NewReader(`{"objects":[{},{},{},{"a":1},`), err: cut}
	_, err := ReadEnvelope(r, 3)
	var tm *TooManyObjectsError
	if !errors.As(err, &tm) || tm.Max != 3 {
		t.Fatalf("%v; want a TooManyObjectsError of 4 over 3", err)
	}
	if r.failed {
		t.Error("the body was read past the first object over the limit")
	}
	if !strings.Contains(err.Error(), "more than 3 objects") {
		t.Errorf("message %q", err)
	}
	// Exactly the limit is fine, and bad JSON where an object over the limit would start is bad JSON.
	if raws, err := ReadEnvelope(strings.NewReader(`{"objects":[{},{},{}]}`), 3); err != nil || len(raws) != 3 {
		t.Errorf("three objects of three: %d, %v", len(raws), err)
	}
	_, err = ReadEnvelope(strings.NewReader(`{"objects":[{},{},{} {}]}`), 3)
	var ee *EnvelopeError
	if !errors.As(err, &ee) || ee.Reason != notObject+"invalid JSON at byte 22" {
		t.Errorf("a missing comma after the last object allowed: %v", err)
	}
}

func TestReadEnvelopeReportsReadErrorsFirst(t *testing.T) {
	cut := errors.New("connection reset")
	for name, head := range map[string]string{
		"in the list":                 `{"objects":[{"a":1},{"b"`,
		"after a syntax error":        `{"objects":[{"a" 1}, {}, {}`,
		"after objects of a bad kind": `{"objects":{}, "x": [1, 2`,
		"after a complete document":   `{"objects":[]}`,
		"after invalid UTF-8":         "{\"objects\":[\"\xff\"",
		"after a second document":     `{"objects":[]} {}`,
	} {
		r := &failingReader{r: strings.NewReader(head), err: cut}
		done := make(chan error, 1)
		go func() {
			_, err := ReadEnvelope(r, 3)
			done <- err
		}()
		select {
		case err := <-done:
			var re *ReadError
			if !errors.As(err, &re) || !errors.Is(err, cut) {
				t.Errorf("%s: %v; want a ReadError of %v", name, err, cut)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still reading a body that failed", name)
		}
		if r.readAfter {
			t.Errorf("%s: the body was read again after it failed", name)
		}
	}
}

func TestReadEnvelopeHonoursAByteLimit(t *testing.T) {
	const limit = 64
	for name, body := range map[string]string{
		"a document padded past the limit": `{"objects":[]}` + strings.Repeat(" ", limit),
		"bad JSON early, past the limit":   `{"objects":[x` + strings.Repeat(" ", limit),
		"objects past the limit":           `{"objects":[` + strings.Repeat(`{},`, limit) + `{}]}`,
	} {
		r := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(body)), limit)
		_, err := ReadEnvelope(r, 1000)
		var tooBig *http.MaxBytesError
		if !errors.As(err, &tooBig) || tooBig.Limit != limit {
			t.Errorf("%s: %v; want an *http.MaxBytesError", name, err)
		}
	}
	body := `{"objects":[{}]}` + strings.Repeat(" ", limit-16)
	r := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(body)), limit)
	if raws, err := ReadEnvelope(r, 1000); err != nil || len(raws) != 1 {
		t.Errorf("a body of exactly the limit: %d, %v", len(raws), err)
	}
}

// TestReadEnvelopeHoldsTheBodyOnce checks what the scanner is for: reading a large body of a
// declared length allocates the body once, its objects being parts of it. One of unknown length
// costs its first 64 KiB and then a buffer of the limit; without a limit, the buffer's doublings.
func TestReadEnvelopeHoldsTheBodyOnce(t *testing.T) {
	obj := `{"type":"indicator","description":"` + strings.Repeat("x", 3000) + `"}`
	body := []byte(`{"objects":[` + strings.Repeat(obj+",", 999) + obj + `]}`)
	for _, c := range []struct {
		name        string
		size, limit int64
		times       float64 // the body
	}{
		{"declared length", int64(len(body)), 4 << 20, 1},
		{"unknown length, a limit", -1, 4 << 20, float64(4<<20) / float64(len(body))},
		{"unknown length, no limit", -1, 0, 4},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		raws, err := ReadEnvelopeSized(bytes.NewReader(body), c.size, c.limit, 1000)
		runtime.ReadMemStats(&after)
		if err != nil || len(raws) != 1000 {
			t.Fatalf("%s: %d objects, %v", c.name, len(raws), err)
		}
		allocated := after.TotalAlloc - before.TotalAlloc
		// The buffer, the list of objects and a little for the scanner.
		if limit := uint64(float64(len(body))*c.times) + 160<<10; allocated > limit {
			t.Errorf("%s: reading a %d-byte body allocated %d bytes; at most %d expected", c.name, len(body), allocated, limit)
		}
		t.Logf("%s: %d bytes allocated for a %d-byte body (%.2f times)", c.name, allocated, len(body), float64(allocated)/float64(len(body)))
	}
}

func TestDecodeEnvelopeIsReadEnvelope(t *testing.T) {
	body := []byte(`{"objects":[{"a":1}, [2]]}`)
	raws, err := DecodeEnvelope(body, 2)
	if err != nil || len(raws) != 2 || string(raws[0]) != `{"a":1}` || string(raws[1]) != `[2]` {
		t.Errorf("%q, %v", raws, err)
	}
	var tm *TooManyObjectsError
	if _, err := DecodeEnvelope(body, 1); !errors.As(err, &tm) {
		t.Errorf("over the limit: %v", err)
	}
}
