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

// DecodeEnvelope is ReadEnvelope over a body already in memory. The objects it returns are
// sub-slices of body, which must not change while they are in use.
func DecodeEnvelope(body []byte, maxObjects int) ([]json.RawMessage, error) {
	s := envelopeScanner{maxObjects: maxObjects}
	if err := s.scan(body); err != nil {
		return nil, err // too many objects, which is told before anything else
	}
	if err := s.endOfInput(); err != nil {
		return nil, err
	}
	if !utf8.Valid(body) {
		return nil, &EnvelopeError{Reason: "the body is not UTF-8"}
	}
	return s.finish(body)
}

// ReadEnvelope is ReadEnvelopeSized for a body whose length is not known in advance, nor bounded
// but by the reader.
func ReadEnvelope(r io.Reader, maxObjects int) ([]json.RawMessage, error) {
	return ReadEnvelopeSized(r, -1, 0, maxObjects)
}

// ReadEnvelopeSized reads the objects of an add-objects body: a TAXII envelope {"objects": [...]} or
// a STIX bundle, whose type and id are ignored because push clients such as Splunk's send bundles.
// Each object keeps its exact bytes. Whether each object is acceptable is judged per object later;
// only a body that is not such a document at all is refused here, with an EnvelopeError, or a
// TooManyObjectsError when it holds more than maxObjects objects.
//
// The body is read once, into one buffer of size bytes (its Content-Length, which the caller has
// bounded by limit, max_content_length), and scanned as it arrives. When its size is not known (a
// negative size), the buffer starts at 64 KiB and, should the body be larger, moves once to one of
// limit bytes, which the hub's ingest budget has reserved for such a body anyway: one copy of 64 KiB
// rather than a buffer doubling up to the body's size, which would allocate twice the body. A limit
// of zero or less bounds nothing, and the buffer then doubles. Every object returned is a sub-slice of that
// buffer, capped at its own end so that appending to one cannot overwrite its neighbour: a request
// costs its body once, however large its strings, and not the copies a JSON decoder's growing buffer
// and each object's own copy would add.
//
// Apart from the object limit, which stops reading at once, the body is read to its end whatever it
// holds, so that a body that cannot be read (a ReadError, wrapping for instance an
// *http.MaxBytesError) or is not UTF-8 is reported as such wherever its other problems lie.
func ReadEnvelopeSized(r io.Reader, size, limit int64, maxObjects int) ([]json.RawMessage, error) {
	_, objects, err := readEnvelope(r, size, limit, maxObjects)
	return objects, err
}

// readEnvelope is ReadEnvelopeSized, returning also the buffer its objects are parts of.
func readEnvelope(r io.Reader, size, limit int64, maxObjects int) ([]byte, []json.RawMessage, error) {
	body := &checkedReader{r: r}
	s := envelopeScanner{maxObjects: maxObjects}
	buf := make([]byte, 0, initialBuffer(size, limit))
	for {
		if len(buf) == cap(buf) {
			// Full: a small read first, so that a body that fits exactly is not doubled to find its end.
			var probe [512]byte
			n, err := body.Read(probe[:])
			if n > 0 {
				buf = append(grown(buf, limit), probe[:n]...)
			}
			if done, tooMany := afterRead(&s, buf, err); tooMany != nil {
				return nil, nil, tooMany
			} else if done {
				break
			}
			continue
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if done, tooMany := afterRead(&s, buf, err); tooMany != nil {
			return nil, nil, tooMany
		} else if done {
			break
		}
		if s.state == scanFailed || s.trailing {
			// The verdict is known; the rest is read only to find a read error or bytes that are not
			// UTF-8, which take precedence, so it need not be kept.
			_, _ = io.Copy(io.Discard, body) // a read error is kept in body.err
			break
		}
	}
	switch {
	case body.err != nil:
		return nil, nil, &ReadError{Err: body.err}
	case !body.utf8.complete():
		return nil, nil, &EnvelopeError{Reason: "the body is not UTF-8"}
	}
	objects, err := s.finish(buf)
	return buf, objects, err
}

// afterRead scans what a read added, unless the read failed: a body that cannot be read is reported
// as such, not by what part of it arrived. It reports whether the body has ended, and a
// TooManyObjectsError as soon as the scan finds one.
func afterRead(s *envelopeScanner, buf []byte, err error) (done bool, tooMany error) {
	if err != nil && !errors.Is(err, io.EOF) {
		return true, nil
	}
	if scanErr := s.scan(buf); scanErr != nil {
		return true, scanErr
	}
	if err != nil { // the end of the body: a number that ends it may be the object over the limit
		return true, s.endOfInput()
	}
	return false, nil
}

// initialBuffer is the buffer's first capacity: the declared length, bounded by the limit, and one
// byte more, so that the end of the body is seen without growing it, or 64 KiB when the length is not
// known.
func initialBuffer(size, limit int64) int64 {
	if size < 0 {
		return 64 << 10
	}
	if limit > 0 {
		size = min(size, limit) // a body over the limit fails to be read before it fills the buffer
	}
	return size + 1
}

// grown is buf in a larger buffer, for a body longer than declared or of unknown length: one of
// limit bytes and one to see the end, or twice the capacity when that is not larger or there is no
// limit (a body over the limit fails to be read before it fills the buffer).
func grown(buf []byte, limit int64) []byte {
	size := max(2*int64(cap(buf)), 64<<10)
	if limit+1 > int64(cap(buf)) {
		size = limit + 1
	}
	bigger := make([]byte, len(buf), size)
	copy(bigger, buf)
	return bigger
}

// notObject begins every reason about a body of the wrong shape.
const notObject = "the body is not a JSON object with an objects list: "

// maxNesting is the deepest nesting of arrays and objects accepted within a member of the envelope
// or an object in its list, counted from that value, as encoding/json accepts it.
const maxNesting = 10_000

// scanState is where an envelopeScanner is in the grammar of JSON.
type scanState uint8

const (
	scanValue        scanState = iota // a value must begin
	scanValueOrClose                  // after '[': a value or ']'
	scanKeyOrClose                    // after '{': a key or '}'
	scanKey                           // after ',' in an object: a key
	scanColon                         // after a key
	scanAfterValue                    // ',' or the closing bracket of the container
	scanString                        // within a string
	scanEscape                        // after a backslash in a string
	scanUnicode                       // within the four hex digits of \u
	scanMinus                         // after the sign of a number
	scanZero                          // after a leading 0
	scanInteger                       // within the digits of an integer part
	scanDot                           // after the decimal point
	scanFraction                      // within the digits of a fraction
	scanExponentMark                  // after e or E
	scanExponentSign                  // after the sign of an exponent
	scanExponent                      // within the digits of an exponent
	scanLiteral                       // within true, false or null
	scanDone                          // the document has ended; only whitespace may follow
	scanFailed                        // a syntax error at failedAt
)

// envelopeScanner checks a body as JSON (RFC 8259, as encoding/json does, save for UTF-8, which is
// checked as the body is read) while noting where the envelope's objects begin and end. It is
// hand-written rather than built on a tokenizer for two reasons. encoding/json's Decoder copies every
// value out of a buffer that grows by doubling, which for one 30 MiB string allocated about three
// times the body. The Go team's jsontext tokenizer (github.com/go-json-experiment/json, in the
// standard library only behind GOEXPERIMENT=jsonv2) returns values without copying only when it
// reads from a bytes.Buffer that already holds the whole body, and refuses one that grows while it
// reads, so it could not scan the body as it arrives and stop at the first object over the limit.
// This scanner keeps its place in the buffer by offset, so the buffer may grow between calls to
// scan, and returns the objects as sub-slices of the buffer once it is complete.
//
// The syntax error it reports is at the byte encoding/json reports (counted from 1, as
// json.Unmarshal counts it), and it refuses the same inputs: FuzzScannerAgreesWithDecoder checks it
// against the encoding/json reader it replaced.
type envelopeScanner struct {
	maxObjects int

	pos      int       // the next byte to scan
	state    scanState // what that byte may be
	failedAt int       // the offset of the byte that broke the grammar
	stack    []byte    // the open containers, '{' or '['
	inKey    bool      // the string being scanned is an object's key
	keyStart int       // offset of the opening quote of the key being scanned
	literal  string    // the literal being scanned, and how much of it has been seen
	seen     int
	hexLeft  int // hex digits still due in a \u escape

	// What the document holds, as the scan has found it so far.
	isObjects bool     // the member whose value comes next is the objects list
	found     bool     // an objects member has been seen
	inList    bool     // the open container at depth 2 is the objects list
	listed    bool     // the objects list is a list (not null), possibly empty
	objects   [][2]int // start and end offsets of the objects in the list
	start     int      // offset of the object being scanned in the list
	verdict   string   // the first problem of shape, reported if the JSON is sound
	trailing  bool     // something other than whitespace follows the document
}

// jsonSpace tells the bytes JSON allows between tokens.
var jsonSpace = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

// plainInString tells the bytes a string may hold as they are: not its end, an escape or a control
// character.
var plainInString = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

// scan scans buf from where the last call stopped; buf holds the same bytes as before, and maybe
// more. It stops at the first syntax error, noted in the state, or at the end of the document's
// value followed by something other than whitespace; it returns a TooManyObjectsError at once.
func (s *envelopeScanner) scan(buf []byte) error {
	for s.pos < len(buf) {
		c := buf[s.pos]
		switch s.state {
		case scanDone:
			if !jsonSpace[c] {
				s.trailing = true
				return nil
			}
			s.pos++
		case scanFailed:
			return nil
		case scanValue, scanValueOrClose:
			switch {
			case jsonSpace[c]:
				s.pos++
			case c == ']' && s.state == scanValueOrClose:
				if err := s.close(); err != nil {
					return err
				}
			default:
				if err := s.begin(c); err != nil {
					return err
				}
			}
		case scanKeyOrClose, scanKey:
			switch {
			case jsonSpace[c]:
				s.pos++
			case c == '}' && s.state == scanKeyOrClose:
				if err := s.close(); err != nil {
					return err
				}
			case c == '"':
				s.inKey, s.keyStart, s.state = true, s.pos, scanString
				s.pos++
			default:
				s.fail()
			}
		case scanColon:
			switch {
			case jsonSpace[c]:
				s.pos++
			case c == ':':
				s.state = scanValue
				s.pos++
			default:
				s.fail()
			}
		case scanAfterValue:
			open := s.stack[len(s.stack)-1]
			switch {
			case jsonSpace[c]:
				s.pos++
			case c == ',':
				s.state = scanValue
				if open == '{' {
					s.state = scanKey
				}
				s.pos++
			case c == '}' && open == '{', c == ']' && open == '[':
				if err := s.close(); err != nil {
					return err
				}
			default:
				s.fail()
			}
		case scanString:
			// The bulk of a large body is strings: their plain bytes are passed over in one loop.
			for s.pos < len(buf) && plainInString[buf[s.pos]] {
				s.pos++
			}
			if s.pos == len(buf) {
				return nil
			}
			switch buf[s.pos] {
			case '"':
				s.pos++
				if err := s.endString(buf); err != nil {
					return err
				}
			case '\\':
				s.state = scanEscape
				s.pos++
			default: // a control character
				s.fail()
			}
		case scanEscape:
			switch c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.state = scanString
			case 'u':
				s.state, s.hexLeft = scanUnicode, 4
			default:
				s.fail()
				continue
			}
			s.pos++
		case scanUnicode:
			if !isHex(c) {
				s.fail()
				continue
			}
			if s.hexLeft--; s.hexLeft == 0 {
				s.state = scanString
			}
			s.pos++
		case scanLiteral:
			if c != s.literal[s.seen] {
				s.fail()
				continue
			}
			s.pos++
			if s.seen++; s.seen == len(s.literal) {
				if err := s.end(); err != nil {
					return err
				}
			}
		default: // within a number
			if next, ok := numberStep(s.state, c); ok {
				s.state = next
				s.pos++
			} else if numberComplete(s.state) {
				// The number ended just before c, which is scanned again in the state after a value.
				if err := s.end(); err != nil {
					return err
				}
			} else {
				s.fail()
			}
		}
	}
	return nil
}

// endOfInput is called once the body has ended: a number is complete at the end of the input.
func (s *envelopeScanner) endOfInput() error {
	if numberComplete(s.state) {
		return s.end()
	}
	return nil
}

// finish tells what the scanned body holds, once all of it has been scanned: syntax errors first,
// then problems of shape, then more than one document, then no objects list.
func (s *envelopeScanner) finish(buf []byte) ([]json.RawMessage, error) {
	if err := s.endOfInput(); err != nil {
		return nil, err
	}
	switch {
	case s.state == scanFailed:
		return nil, &EnvelopeError{Reason: fmt.Sprintf(notObject+"invalid JSON at byte %d", s.failedAt+1)}
	case s.state != scanDone:
		return nil, &EnvelopeError{Reason: notObject + "the JSON ends early"}
	case s.verdict != "":
		return nil, &EnvelopeError{Reason: s.verdict}
	case s.trailing:
		return nil, &EnvelopeError{Reason: "the body holds more than one JSON document"}
	case !s.listed:
		return nil, &EnvelopeError{Reason: "the body has no objects list"}
	}
	objects := make([]json.RawMessage, len(s.objects))
	for i, o := range s.objects {
		objects[i] = buf[o[0]:o[1]:o[1]]
	}
	return objects, nil
}

// fail notes a syntax error at the current byte and stops the scan.
func (s *envelopeScanner) fail() {
	s.failedAt, s.state = s.pos, scanFailed
}

// begin starts the value whose first byte, c, is at s.pos.
func (s *envelopeScanner) begin(c byte) error {
	switch c {
	case '{', '[', '"', '-', 't', 'f', 'n', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
	default:
		s.fail()
		return nil
	}
	if err := s.noteBegin(c); err != nil {
		return err
	}
	switch c {
	case '{', '[':
		if s.tooDeep() {
			s.fail()
			return nil
		}
		s.stack = append(s.stack, c)
		s.state = scanKeyOrClose
		if c == '[' {
			s.state = scanValueOrClose
		}
	case '"':
		s.inKey, s.state = false, scanString
	case '-':
		s.state = scanMinus
	case '0':
		s.state = scanZero
	case 't', 'f', 'n':
		s.literal, s.seen, s.state = literalOf(c), 1, scanLiteral
	default:
		s.state = scanInteger
	}
	s.pos++
	return nil
}

// literalOf is the literal that begins with c, one of t, f and n.
func literalOf(c byte) string {
	switch c {
	case 't':
		return "true"
	case 'f':
		return "false"
	}
	return "null"
}

// tooDeep reports whether opening one more container would nest deeper than maxNesting within the
// member or the object it belongs to. A top-level value other than an object has no such limit, as
// the reader this scanner replaced walked it token by token.
func (s *envelopeScanner) tooDeep() bool {
	if len(s.stack) == 0 || s.stack[0] != '{' {
		return false
	}
	base := 1 // a member's value
	if s.inList {
		base = 2 // an object in the list
	}
	return len(s.stack)+1-base > maxNesting
}

// noteBegin notes what the value starting with c, at s.pos, means for the envelope.
func (s *envelopeScanner) noteBegin(c byte) error {
	depth := len(s.stack)
	switch {
	case depth == 0:
		if c != '{' && c != 'n' { // a null is no objects list, as decoding the body into a struct took it
			s.verdict = notObject + "expected a JSON object, found a JSON " + kindOf(c)
		}
	case depth == 1 && s.stack[0] == '{' && s.isObjects:
		if s.found && s.verdict == "" {
			// Which of two lists a client meant cannot be known; taking either would drop the other.
			s.verdict = "the body has more than one objects member"
		}
		s.found = true
		switch c {
		case '[':
			s.inList, s.listed, s.objects = true, true, s.objects[:0]
		case 'n':
			s.listed = false
		default:
			if s.verdict == "" {
				s.verdict = notObject + "objects must be a list, not a JSON " + kindOf(c)
			}
		}
	case depth == 2 && s.inList:
		// An object or list over the limit is refused as it opens; a scalar once it is whole, as it
		// is read as one token.
		if (c == '{' || c == '[') && len(s.objects) == s.maxObjects {
			return &TooManyObjectsError{Max: s.maxObjects}
		}
		s.start = s.pos
	}
	return nil
}

// kindOf names the kind of JSON value that begins with c, as encoding/json's type errors do.
func kindOf(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	default:
		return "number"
	}
}

// close closes the container whose closing bracket is at s.pos.
func (s *envelopeScanner) close() error {
	s.stack = s.stack[:len(s.stack)-1]
	if len(s.stack) == 1 && s.inList {
		s.inList = false
	}
	s.pos++
	return s.end()
}

// endString ends the string whose closing quote is just before s.pos.
func (s *envelopeScanner) endString(buf []byte) error {
	if !s.inKey {
		return s.end()
	}
	s.state = scanColon
	if len(s.stack) == 1 && s.stack[0] == '{' {
		s.isObjects = isObjectsKey(buf[s.keyStart:s.pos])
	}
	return nil
}

// end ends the value that ends just before s.pos.
func (s *envelopeScanner) end() error {
	depth := len(s.stack)
	if depth == 2 && s.inList {
		if len(s.objects) == s.maxObjects {
			return &TooManyObjectsError{Max: s.maxObjects}
		}
		s.objects = append(s.objects, [2]int{s.start, s.pos})
	}
	s.state = scanAfterValue
	if depth == 0 {
		s.state = scanDone
	}
	return nil
}

// longestObjectsKey is the longest a key naming the objects list can be, quotes included: seven
// characters, each at most six bytes as a \u escape (no character outside the Basic Multilingual
// Plane folds to an ASCII letter).
const longestObjectsKey = 2 + 7*6

// isObjectsKey reports whether a key, quoted as in the body, names the objects list: matched without
// regard to case, as decoding the body into a struct matched it, once its escapes are decoded.
func isObjectsKey(quoted []byte) bool {
	if len(quoted) > longestObjectsKey {
		return false
	}
	if bytes.IndexByte(quoted, '\\') < 0 {
		return bytes.EqualFold(quoted[1:len(quoted)-1], []byte("objects"))
	}
	var name string
	if err := json.Unmarshal(quoted, &name); err != nil {
		return false // not reached: the key was scanned as a string
	}
	return strings.EqualFold(name, "objects")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// numberStep is the state after c within a number in state st, and whether c continues the number.
func numberStep(st scanState, c byte) (scanState, bool) {
	digit := '0' <= c && c <= '9'
	switch st {
	case scanMinus:
		switch {
		case c == '0':
			return scanZero, true
		case digit:
			return scanInteger, true
		}
	case scanZero, scanInteger:
		switch {
		case digit && st == scanInteger:
			return scanInteger, true
		case c == '.':
			return scanDot, true
		case c == 'e' || c == 'E':
			return scanExponentMark, true
		}
	case scanDot, scanFraction:
		switch {
		case digit:
			return scanFraction, true
		case st == scanFraction && (c == 'e' || c == 'E'):
			return scanExponentMark, true
		}
	case scanExponentMark:
		switch {
		case c == '+' || c == '-':
			return scanExponentSign, true
		case digit:
			return scanExponent, true
		}
	case scanExponentSign, scanExponent:
		if digit {
			return scanExponent, true
		}
	}
	return st, false
}

// numberComplete reports whether a number in state st may end there.
func numberComplete(st scanState) bool {
	return st == scanZero || st == scanInteger || st == scanFraction || st == scanExponent
}

// checkedReader reads the body while checking that it is UTF-8, which the scanner leaves to it, and
// keeps the first read error other than the end of the body.
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
