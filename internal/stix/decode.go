package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// decode parses raw into the generic form both gojsonschema and the Go checks read: objects as
// map[string]any, arrays as []any and numbers as json.Number. gojsonschema needs json.Number
// (float64 would lose the integer/number distinction), so the decoded value is handed to it
// directly instead of through NewGoLoader, which would marshal and decode it a second time.
// Callers then read raw once more with scanRaw, for what the decoded form cannot show: the
// size of number literals and repeated member names.
func decode(raw []byte) (any, *Problem) {
	// encoding/json silently replaces invalid UTF-8 with U+FFFD; STIX content must be UTF-8.
	if !utf8.Valid(raw) {
		return nil, &Problem{Code: CodeInvalidUTF8, Message: "The input is not valid UTF-8."}
	}
	// Valid JSON, all but what is refused, is decoded where it lies: encoding/json can keep numbers
	// as json.Number only through a Decoder, which copies the input into a buffer grown by doubling,
	// twice the size of an object that may be 8 MiB. Only invalid JSON goes through the Decoder,
	// for its error.
	if json.Valid(raw) {
		d := inPlace{raw: raw}
		return d.value(), nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &Problem{Code: CodeInvalidJSON, Message: "The input is not valid JSON: " + jsonErrorText(err, raw) + "."}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &Problem{Code: CodeInvalidJSON, Message: "The input holds more than one JSON value."}
	}
	return v, nil
}

// inPlace decodes JSON that json.Valid has accepted into what a json.Decoder with UseNumber gives
// for it: the same maps (a repeated name keeps its last value), non-nil slices, strings and
// json.Number, reading raw where it lies. Being valid, the input needs no checks here, and its
// nesting is at most encoding/json's 10,000 levels. FuzzInPlaceDecodesAsEncodingJSON checks it
// against the Decoder.
type inPlace struct {
	raw []byte
	pos int
}

func (d *inPlace) value() any {
	d.space()
	switch d.raw[d.pos] {
	case '{':
		d.pos++
		m := map[string]any{}
		if d.space(); d.raw[d.pos] == '}' {
			d.pos++
			return m
		}
		for {
			d.space()
			name := d.string()
			d.space()
			d.pos++ // the colon
			m[name] = d.value()
			d.space()
			d.pos++ // a comma or the closing brace
			if d.raw[d.pos-1] == '}' {
				return m
			}
		}
	case '[':
		d.pos++
		a := []any{}
		if d.space(); d.raw[d.pos] == ']' {
			d.pos++
			return a
		}
		for {
			a = append(a, d.value())
			d.space()
			d.pos++ // a comma or the closing bracket
			if d.raw[d.pos-1] == ']' {
				return a
			}
		}
	case '"':
		return d.string()
	case 't':
		d.pos += len("true")
		return true
	case 'f':
		d.pos += len("false")
		return false
	case 'n':
		d.pos += len("null")
		return nil
	}
	start := d.pos
	for d.pos < len(d.raw) && inNumber(d.raw[d.pos]) {
		d.pos++
	}
	return json.Number(d.raw[start:d.pos])
}

// string decodes the string that begins at d.pos: its bytes as they are, or, when it holds an
// escape, as encoding/json decodes it.
func (d *inPlace) string() string {
	start := d.pos
	escaped := false
	for d.pos++; d.raw[d.pos] != '"'; d.pos++ {
		if d.raw[d.pos] == '\\' {
			escaped = true
			d.pos++ // the escaped byte, which may be a quote
		}
	}
	d.pos++
	if !escaped {
		return string(d.raw[start+1 : d.pos-1])
	}
	var s string
	_ = json.Unmarshal(d.raw[start:d.pos], &s) // valid, as the whole is
	return s
}

// inNumber tells the bytes a number literal may hold.
func inNumber(c byte) bool {
	return '0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func (d *inPlace) space() {
	for d.pos < len(d.raw) && (d.raw[d.pos] == ' ' || d.raw[d.pos] == '\t' || d.raw[d.pos] == '\n' || d.raw[d.pos] == '\r') {
		d.pos++
	}
}

// jsonErrorText describes a decoding error with its position, which encoding/json only gives
// as a byte offset.
func jsonErrorText(err error, raw []byte) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := lineColumn(raw, syn.Offset)
		return fmt.Sprintf("%s (line %d, column %d)", syn.Error(), line, col)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return err.Error()
}

func lineColumn(raw []byte, offset int64) (line, col int) {
	if offset > int64(len(raw)) {
		offset = int64(len(raw))
	}
	before := raw[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	return line, col
}

// Bounds on number literals. gojsonschema evaluates every number with math/big, whose cost
// grows with the literal's digits and exponent (1e100000 takes about a millisecond); STIX
// integers fit in 64 bits and its floats in a double, so larger literals are refused before
// schema validation.
const (
	maxNumberLen      = 100
	maxNumberExponent = 400
)

func numberTooBig(lit []byte) bool {
	if len(lit) > maxNumberLen {
		return true
	}
	i := bytes.IndexAny(lit, "eE")
	if i < 0 {
		return false
	}
	exp := 0
	for _, c := range lit[i+1:] {
		if c >= '0' && c <= '9' {
			exp = exp*10 + int(c-'0')
			if exp > maxNumberExponent {
				return true
			}
		}
	}
	return false
}

// The helpers below read the generic decoded form. They return the zero value and false when
// the property is absent or of another JSON type; the schemas report wrong types.

func str(obj map[string]any, key string) (string, bool) {
	s, ok := obj[key].(string)
	return s, ok
}

func list(obj map[string]any, key string) ([]any, bool) {
	l, ok := obj[key].([]any)
	return l, ok
}

func dict(obj map[string]any, key string) (map[string]any, bool) {
	d, ok := obj[key].(map[string]any)
	return d, ok
}

func has(obj map[string]any, key string) bool {
	_, ok := obj[key]
	return ok
}

// eachString calls fn with each string member of the list property key and its index.
func eachString(obj map[string]any, key string, fn func(i int, s string)) {
	l, _ := list(obj, key)
	for i, e := range l {
		if s, ok := e.(string); ok {
			fn(i, s)
		}
	}
}
