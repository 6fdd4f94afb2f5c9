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
