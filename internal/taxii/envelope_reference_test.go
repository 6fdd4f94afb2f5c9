package taxii

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// decoderReadEnvelope is the reader, built on encoding/json's Decoder, that the envelope scanner
// replaced; it is kept as the oracle the scanner is checked against (sameAsDecoder), since what it
// accepts and the errors it gives are what clients have seen. It reads the objects of an
// add-objects body: a TAXII envelope {"objects": [...]} or a STIX bundle. Each object keeps its
// exact bytes, copied out of the Decoder's buffer, which grows by doubling to hold the largest
// object: for one 30 MiB string, about three times the body in all. Apart from the object limit,
// which stops reading at once, the body is read to its end whatever it holds, so that a body that
// cannot be read (a ReadError) or is not UTF-8 is reported as such wherever its other problems lie.
func decoderReadEnvelope(r io.Reader, maxObjects int) ([]json.RawMessage, error) {
	body := &checkedReader{r: r}
	dec := json.NewDecoder(body)
	// Numbers read as tokens stay text: as float64, one out of range would be an error.
	dec.UseNumber()
	objects, err := decoderEnvelope(dec, maxObjects)
	if tooMany := (*TooManyObjectsError)(nil); errors.As(err, &tooMany) {
		return nil, err
	}
	// What the decoder has buffered was checked when it was read; only the rest passes the check.
	var rest trailingContent
	_, _ = io.Copy(&rest, io.MultiReader(dec.Buffered(), body)) // a read error is kept in body.err
	switch {
	case body.err != nil:
		return nil, &ReadError{Err: body.err}
	case !body.utf8.complete():
		return nil, &EnvelopeError{Reason: "the body is not UTF-8"}
	case err != nil:
		return nil, err
	case rest.found:
		return nil, &EnvelopeError{Reason: "the body holds more than one JSON document"}
	case objects == nil:
		return nil, &EnvelopeError{Reason: "the body has no objects list"}
	}
	return objects, nil
}

// decoderEnvelope walks the top-level value token by token and decodes the objects list element by
// element, skipping every other member. Syntax errors are reported first, as reading the body whole
// did: a value of the wrong kind, or a second objects member, is reported only once the rest of the
// document is known to be JSON. No objects list is not an error here but nil objects, since that
// verdict comes after the check for a second document.
func decoderEnvelope(dec *json.Decoder, maxObjects int) ([]json.RawMessage, error) {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return nil, decoderNotJSON(dec, err)
	case tok == nil: // a null is no objects list, as decoding the body into a struct took it
		return nil, nil
	case tok != json.Delim('{'):
		if err := decoderSkipValue(dec, tok); err != nil {
			return nil, err
		}
		return nil, &EnvelopeError{Reason: notObject + "expected a JSON object, found a JSON " + decoderKindOf(tok)}
	}
	var objects []json.RawMessage
	var skipped json.RawMessage
	var verdict error // the first problem of shape, reported if the JSON is sound
	seen := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, decoderNotJSON(dec, err)
		}
		// Matched without regard to case, as decoding the body into a struct matched it.
		if name, _ := key.(string); !strings.EqualFold(name, "objects") {
			// Decoded rather than walked, to check it is JSON, into a buffer that is reused.
			if err := dec.Decode(&skipped); err != nil {
				return nil, decoderNotJSON(dec, err)
			}
			continue
		}
		if seen && verdict == nil {
			// Which of two lists a client meant cannot be known; taking either would drop the other.
			verdict = &EnvelopeError{Reason: "the body has more than one objects member"}
		}
		seen = true
		tok, err := dec.Token()
		switch {
		case err != nil:
			return nil, decoderNotJSON(dec, err)
		case tok == json.Delim('['):
			if objects, err = decoderObjects(dec, maxObjects); err != nil {
				return nil, err
			}
		case tok == nil:
			objects = nil
		default:
			if err := decoderSkipValue(dec, tok); err != nil {
				return nil, err
			}
			if verdict == nil {
				verdict = &EnvelopeError{Reason: notObject + "objects must be a list, not a JSON " + decoderKindOf(tok)}
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, decoderNotJSON(dec, err)
	}
	if verdict != nil {
		return nil, verdict
	}
	return objects, nil
}

// decoderObjects decodes the elements of the objects list, whose opening bracket has been read; it
// returns a non-nil slice, also when the list is empty.
func decoderObjects(dec *json.Decoder, maxObjects int) ([]json.RawMessage, error) {
	objects := []json.RawMessage{}
	for dec.More() {
		if len(objects) == maxObjects {
			// More does not look for the comma; reading one token does, and starts the next object.
			if _, err := dec.Token(); err != nil {
				return nil, decoderNotJSON(dec, err)
			}
			return nil, &TooManyObjectsError{Max: maxObjects}
		}
		// Decoding into a RawMessage copies exactly the element's bytes, without re-encoding them.
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, decoderNotJSON(dec, err)
		}
		objects = append(objects, raw)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, decoderNotJSON(dec, err)
	}
	return objects, nil
}

// decoderSkipValue reads the rest of a value whose first token is tok, token by token so that it is checked
// as JSON without being held.
func decoderSkipValue(dec *json.Decoder, tok json.Token) error {
	depth := 0
	for {
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, err = dec.Token(); err != nil {
			return decoderNotJSON(dec, err)
		}
	}
}

// decoderKindOf names the kind of JSON value a token begins, as encoding/json's type errors do.
func decoderKindOf(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case bool:
		return "bool"
	default:
		return "number"
	}
}

// decoderNotJSON describes a decoding error without echoing the client's data back at length. Errors of
// reading are reported by ReadEnvelope from the reader itself, so whatever is said here about them
// is never seen.
func decoderNotJSON(dec *json.Decoder, err error) error {
	reason := "the JSON ends early"
	if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
		reason = fmt.Sprintf("invalid JSON at byte %d", decoderSyntaxOffset(dec, se))
	}
	return &EnvelopeError{Reason: notObject + reason}
}

// decoderSyntaxOffset is the position in the body, counted from 1, of the byte a syntax error is about, as
// reading the body as one value counts it. The decoder's offsets differ: an error between tokens
// points just before the byte, and one inside a value, read whole, counts only the bytes of the
// values read so far. The decoder keeps an error inside a value and returns it again, which tells
// the two apart; it stops at the start of that value, so reading the value again from there places
// its error. Asking again reads nothing further, and the decoder is done with after an error.
func decoderSyntaxOffset(dec *json.Decoder, se *json.SyntaxError) int64 {
	if dec.Decode(new(json.RawMessage)) != error(se) {
		return se.Offset + 1
	}
	err := json.NewDecoder(dec.Buffered()).Decode(new(json.RawMessage))
	if again := (*json.SyntaxError)(nil); errors.As(err, &again) {
		return dec.InputOffset() + again.Offset
	}
	return dec.InputOffset() + 1 // not reached: the same bytes hold the same error
}

// trailingContent notes whether anything but JSON whitespace follows the document.
type trailingContent struct{ found bool }

func (t *trailingContent) Write(p []byte) (int, error) {
	t.found = t.found || len(bytes.TrimLeft(p, " \t\r\n")) > 0
	return len(p), nil
}
