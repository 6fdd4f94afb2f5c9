package taxii

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits on what one add-objects request may carry. MaxContentLength is advertised in every API root
// (max_content_length) and enforced to the byte; MaxObjectsPerEnvelope keeps one request's status
// resource and store transaction bounded. Both leave room for the 10,000-indicator envelopes that
// bulk exports produce.
const (
	DefaultMaxContentLength = 32 << 20
	MaxObjectsPerEnvelope   = 10_000
)

// EnvelopeError reports a body that is not an envelope the hub can process; it is answered with 422.
type EnvelopeError struct{ Reason string }

func (e *EnvelopeError) Error() string { return "taxii: unprocessable envelope: " + e.Reason }

// TooManyObjectsError reports an envelope over MaxObjectsPerEnvelope; it is answered with 413.
// Reading stops at the first object over the limit, so how many the envelope holds is not known.
type TooManyObjectsError struct{ Max int }

func (e *TooManyObjectsError) Error() string {
	return fmt.Sprintf("taxii: the envelope holds more than %d objects, the most accepted per request", e.Max)
}

// ReadError reports a body that could not be read to its end, such as one over a size limit or
// cut short by the client: a fault of the transfer, not of the envelope.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "taxii: read the body: " + e.Err.Error() }

func (e *ReadError) Unwrap() error { return e.Err }

// DecodeEnvelope is ReadEnvelope over a body already in memory.
func DecodeEnvelope(body []byte, maxObjects int) ([]json.RawMessage, error) {
	return ReadEnvelope(bytes.NewReader(body), maxObjects)
}

// ReadEnvelope reads the objects of an add-objects body: a TAXII envelope {"objects": [...]} or a
// STIX bundle, whose type and id are ignored because push clients such as Splunk's send bundles.
// Each object keeps its exact bytes. Whether each object is acceptable is judged per object later;
// only a body that is not such a document at all is refused here, with an EnvelopeError, or a
// TooManyObjectsError when it holds more than maxObjects objects.
//
// The body is decoded as it is read, one object at a time, so that it is never held whole next to
// its objects: a request costs about its objects' size in memory rather than several times the
// body. Apart from the object limit, which stops reading at once, the body is read to its end
// whatever it holds, so that a body that cannot be read (a ReadError, wrapping for instance an
// *http.MaxBytesError) or is not UTF-8 is reported as such wherever its other problems lie.
func ReadEnvelope(r io.Reader, maxObjects int) ([]json.RawMessage, error) {
	body := &checkedReader{r: r}
	dec := json.NewDecoder(body)
	// Numbers read as tokens stay text: as float64, one out of range would be an error.
	dec.UseNumber()
	objects, err := decodeEnvelope(dec, maxObjects)
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

// notObject begins every reason about a body of the wrong shape.
const notObject = "the body is not a JSON object with an objects list: "

// decodeEnvelope walks the top-level value token by token and decodes the objects list element by
// element, skipping every other member. Syntax errors are reported first, as reading the body whole
// did: a value of the wrong kind, or a second objects member, is reported only once the rest of the
// document is known to be JSON. No objects list is not an error here but nil objects, since that
// verdict comes after the check for a second document.
func decodeEnvelope(dec *json.Decoder, maxObjects int) ([]json.RawMessage, error) {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return nil, notJSON(dec, err)
	case tok == nil: // a null is no objects list, as decoding the body into a struct took it
		return nil, nil
	case tok != json.Delim('{'):
		if err := skipValue(dec, tok); err != nil {
			return nil, err
		}
		return nil, &EnvelopeError{Reason: notObject + "expected a JSON object, found a JSON " + kindOf(tok)}
	}
	var objects []json.RawMessage
	var skipped json.RawMessage
	var verdict error // the first problem of shape, reported if the JSON is sound
	seen := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, notJSON(dec, err)
		}
		// Matched without regard to case, as decoding the body into a struct matched it.
		if name, _ := key.(string); !strings.EqualFold(name, "objects") {
			// Decoded rather than walked, to check it is JSON, into a buffer that is reused.
			if err := dec.Decode(&skipped); err != nil {
				return nil, notJSON(dec, err)
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
			return nil, notJSON(dec, err)
		case tok == json.Delim('['):
			if objects, err = decodeObjects(dec, maxObjects); err != nil {
				return nil, err
			}
		case tok == nil:
			objects = nil
		default:
			if err := skipValue(dec, tok); err != nil {
				return nil, err
			}
			if verdict == nil {
				verdict = &EnvelopeError{Reason: notObject + "objects must be a list, not a JSON " + kindOf(tok)}
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, notJSON(dec, err)
	}
	if verdict != nil {
		return nil, verdict
	}
	return objects, nil
}

// decodeObjects decodes the elements of the objects list, whose opening bracket has been read; it
// returns a non-nil slice, also when the list is empty.
func decodeObjects(dec *json.Decoder, maxObjects int) ([]json.RawMessage, error) {
	objects := []json.RawMessage{}
	for dec.More() {
		if len(objects) == maxObjects {
			// More does not look for the comma; reading one token does, and starts the next object.
			if _, err := dec.Token(); err != nil {
				return nil, notJSON(dec, err)
			}
			return nil, &TooManyObjectsError{Max: maxObjects}
		}
		// Decoding into a RawMessage copies exactly the element's bytes, without re-encoding them.
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, notJSON(dec, err)
		}
		objects = append(objects, raw)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, notJSON(dec, err)
	}
	return objects, nil
}

// skipValue reads the rest of a value whose first token is tok, token by token so that it is checked
// as JSON without being held.
func skipValue(dec *json.Decoder, tok json.Token) error {
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
			return notJSON(dec, err)
		}
	}
}

// kindOf names the kind of JSON value a token begins, as encoding/json's type errors do.
func kindOf(tok json.Token) string {
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

// notJSON describes a decoding error without echoing the client's data back at length. Errors of
// reading are reported by ReadEnvelope from the reader itself, so whatever is said here about them
// is never seen.
func notJSON(dec *json.Decoder, err error) error {
	reason := "the JSON ends early"
	if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
		reason = fmt.Sprintf("invalid JSON at byte %d", syntaxOffset(dec, se))
	}
	return &EnvelopeError{Reason: notObject + reason}
}

// syntaxOffset is the position in the body, counted from 1, of the byte a syntax error is about, as
// reading the body as one value counts it. The decoder's offsets differ: an error between tokens
// points just before the byte, and one inside a value, read whole, counts only the bytes of the
// values read so far. The decoder keeps an error inside a value and returns it again, which tells
// the two apart; it stops at the start of that value, so reading the value again from there places
// its error. Asking again reads nothing further, and the decoder is done with after an error.
func syntaxOffset(dec *json.Decoder, se *json.SyntaxError) int64 {
	if dec.Decode(new(json.RawMessage)) != error(se) {
		return se.Offset + 1
	}
	err := json.NewDecoder(dec.Buffered()).Decode(new(json.RawMessage))
	if again := (*json.SyntaxError)(nil); errors.As(err, &again) {
		return dec.InputOffset() + again.Offset
	}
	return dec.InputOffset() + 1 // not reached: the same bytes hold the same error
}

// checkedReader passes the body to the JSON decoder while checking that it is UTF-8, which
// encoding/json does not (it replaces invalid bytes silently), and keeps the first read error other
// than the end of the body, which the decoder would otherwise report as a fault of the JSON.
type checkedReader struct {
	r    io.Reader
	utf8 utf8Check
	err  error
}

func (c *checkedReader) Read(p []byte) (int, error) {
	// Once failed, the body is not read again: some readers return nothing, without an error, after one.
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.utf8.write(p[:n])
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	return n, err
}

// utf8Check checks bytes that arrive in pieces, which may split a character, as utf8.Valid checks
// them whole.
type utf8Check struct {
	pending [utf8.UTFMax]byte // the start of a character split between pieces
	n       int
	invalid bool
}

func (u *utf8Check) write(p []byte) {
	for u.n > 0 && len(p) > 0 && !u.invalid {
		u.pending[u.n] = p[0]
		u.n++
		p = p[1:]
		if utf8.FullRune(u.pending[:u.n]) {
			// A valid start only becomes full with its last byte, so a valid character is all of pending.
			if r, size := utf8.DecodeRune(u.pending[:u.n]); r == utf8.RuneError && size <= 1 {
				u.invalid = true
			}
			u.n = 0
		}
	}
	if u.invalid || len(p) == 0 {
		return
	}
	whole := len(p)
	// Only a character's first byte starts a split one, and it lies within the last UTFMax-1 bytes.
	for i := len(p) - 1; i >= 0 && i >= len(p)-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				whole = i
			}
			break
		}
	}
	if !utf8.Valid(p[:whole]) {
		u.invalid = true
		return
	}
	u.n = copy(u.pending[:], p[whole:])
}

// complete reports whether everything written is UTF-8, with no character left unfinished.
func (u *utf8Check) complete() bool { return !u.invalid && u.n == 0 }

// trailingContent notes whether anything but JSON whitespace follows the document.
type trailingContent struct{ found bool }

func (t *trailingContent) Write(p []byte) (int, error) {
	t.found = t.found || len(bytes.TrimLeft(p, " \t\r\n")) > 0
	return len(p), nil
}
