package pattern

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LiteralKind is the type of a constant in a pattern.
type LiteralKind uint8

// The kinds of constants the grammar defines.
const (
	StringLit    LiteralKind = iota + 1 // 'text'
	IntLit                              // 42, -7, +3
	FloatLit                            // 7.0, -.5
	BoolLit                             // true, false
	HexLit                              // h'ffd8'
	BinaryLit                           // b'dGVzdA=='
	TimestampLit                        // t'2016-06-01T01:30:00.123Z'
)

func (k LiteralKind) String() string {
	switch k {
	case StringLit:
		return "string"
	case IntLit:
		return "integer"
	case FloatLit:
		return "float"
	case BoolLit:
		return "boolean"
	case HexLit:
		return "hex"
	case BinaryLit:
		return "binary"
	case TimestampLit:
		return "timestamp"
	}
	return fmt.Sprintf("LiteralKind(%d)", uint8(k))
}

// Literal is a constant as written in a pattern.
type Literal struct {
	Kind LiteralKind
	Pos  int // byte offset in the pattern
	// Raw is the constant exactly as written, quotes and prefix included: `'it\'s'`, `+7`, `h'ff'`.
	Raw string
	// Str is the value of a StringLit with its escapes resolved.
	Str string
	// Bytes is the decoded value of a HexLit or BinaryLit.
	Bytes []byte
}

// Bool returns the value of a BoolLit.
func (l Literal) Bool() bool { return l.Kind == BoolLit && l.Raw == "true" }

// Int64 returns the value of an IntLit. The grammar puts no bound on integers, so this fails for
// values outside the int64 range.
func (l Literal) Int64() (int64, error) {
	if l.Kind != IntLit {
		return 0, fmt.Errorf("pattern: %s constant %s is not an integer", l.Kind, l.Raw)
	}
	n, err := strconv.ParseInt(l.Raw, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("pattern: integer constant %s: %w", l.Raw, err)
	}
	return n, nil
}

// Float64 returns the value of a FloatLit or IntLit.
func (l Literal) Float64() (float64, error) {
	if l.Kind != FloatLit && l.Kind != IntLit {
		return 0, fmt.Errorf("pattern: %s constant %s is not a number", l.Kind, l.Raw)
	}
	f, err := strconv.ParseFloat(l.Raw, 64)
	if err != nil {
		return 0, fmt.Errorf("pattern: number constant %s: %w", l.Raw, err)
	}
	return f, nil
}

// Time returns the instant a TimestampLit names. A leap second, 23:59:60, is returned as the
// first instant of the next day because time.Time cannot represent it.
func (l Literal) Time() (time.Time, error) {
	if l.Kind != TimestampLit {
		return time.Time{}, fmt.Errorf("pattern: %s constant %s is not a timestamp", l.Kind, l.Raw)
	}
	body := timestampBody(l.Raw)
	if msg := timestampShapeProblem(body); msg != "" {
		return time.Time{}, fmt.Errorf("pattern: timestamp %s: %s", l.Raw, msg)
	}
	if msg := calendarProblem(body); msg != "" {
		return time.Time{}, fmt.Errorf("pattern: timestamp %s: %s", l.Raw, msg)
	}
	f := timestampFields(body)
	var nanos int
	if len(body) > 20 { // ".digits" before the Z
		frac := body[20 : len(body)-1]
		for i := range 9 {
			nanos *= 10
			if i < len(frac) {
				nanos += int(frac[i] - '0')
			}
		}
	}
	return time.Date(f.year, time.Month(f.month), f.day, f.hour, f.minute, f.second, nanos, time.UTC), nil
}

// String returns the constant in the form Parse reads back to the same value.
func (l Literal) String() string {
	if l.Kind == StringLit {
		return quote(l.Str)
	}
	return l.Raw
}

func newLiteral(src string, t token) Literal {
	raw := src[t.pos:t.end]
	lit := Literal{Pos: t.pos, Raw: raw}
	switch t.kind {
	case tokString:
		lit.Kind, lit.Str = StringLit, unescape(raw[1:len(raw)-1])
	case tokInt:
		lit.Kind = IntLit
	case tokFloat:
		lit.Kind = FloatLit
	case tokBool:
		lit.Kind = BoolLit
	case tokHex:
		lit.Kind, lit.Bytes = HexLit, decodeHex(raw[2:len(raw)-1])
	case tokBinary:
		lit.Kind, lit.Bytes = BinaryLit, decodeBase64(raw[2:len(raw)-1])
	case tokTimestamp:
		lit.Kind = TimestampLit
	}
	return lit
}

// unescape resolves \' and \\, the only escapes the lexer lets through.
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// quote is the inverse of unescape.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

func decodeHex(digits string) []byte {
	out := make([]byte, len(digits)/2)
	for i := range out {
		out[i] = hexValue(digits[2*i])<<4 | hexValue(digits[2*i+1])
	}
	return out
}

func hexValue(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// decodeBase64 decodes text whose shape base64Problem has already accepted. It is written out
// rather than delegated to encoding/base64 because that package silently skips newlines, which
// the grammar does not allow, so the shape check could drift from the decoder's idea of validity.
func decodeBase64(data string) []byte {
	body := strings.TrimRight(data, "=")
	out := make([]byte, 0, len(body)*3/4)
	var acc uint32
	var bits uint
	for i := 0; i < len(body); i++ {
		acc = acc<<6 | uint32(base64Value(body[i]))
		bits += 6
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	return out
}

func base64Value(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26
	case isDigit(c):
		return c - '0' + 52
	case c == '+':
		return 62
	}
	return 63
}

// timestampBody strips t' and ' from a timestamp constant.
func timestampBody(raw string) string { return raw[2 : len(raw)-1] }

type timestampParts struct{ year, month, day, hour, minute, second int }

// timestampFields reads the fields of a body that timestampShapeProblem accepted.
func timestampFields(body string) timestampParts {
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			n = n*10 + int(body[i]-'0')
		}
		return n
	}
	return timestampParts{num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)}
}

// timestampShapeProblem checks the TimestampLiteral rule of the grammar:
// YYYY-MM-DDTHH:MM:SS, optional fraction, then Z, with each field in its range (seconds up to 60).
// It returns "" when the body conforms.
func timestampShapeProblem(body string) string {
	const layout = "it must look like t'2016-06-01T01:30:00Z' or t'2016-06-01T01:30:00.123Z' (UTC, ending in Z)"
	if len(body) < 20 {
		return layout
	}
	for i := range 19 {
		want := "dddd-dd-ddTdd:dd:dd"[i]
		if want == 'd' && !isDigit(body[i]) || want != 'd' && body[i] != want {
			return layout
		}
	}
	rest := body[19:]
	if rest[len(rest)-1] != 'Z' {
		return layout
	}
	if frac := rest[:len(rest)-1]; frac != "" {
		if frac[0] != '.' || len(frac) == 1 {
			return layout
		}
		for i := 1; i < len(frac); i++ {
			if !isDigit(frac[i]) {
				return layout
			}
		}
	}
	f := timestampFields(body)
	switch {
	case f.month < 1 || f.month > 12:
		return fmt.Sprintf("month %02d is not between 01 and 12", f.month)
	case f.day < 1 || f.day > 31:
		return fmt.Sprintf("day %02d is not between 01 and 31", f.day)
	case f.hour > 23:
		return fmt.Sprintf("hour %02d is not between 00 and 23", f.hour)
	case f.minute > 59:
		return fmt.Sprintf("minute %02d is not between 00 and 59", f.minute)
	case f.second > 60:
		return fmt.Sprintf("second %02d is not between 00 and 60", f.second)
	}
	return ""
}

// calendarProblem checks what the grammar cannot: that a well-shaped timestamp names a real
// instant. RFC 3339 (section 5.7) limits the day to the length of the month and allows second 60
// only for a leap second, which is inserted at the end of a UTC day.
func calendarProblem(body string) string {
	f := timestampFields(body)
	if days := daysIn(f.year, f.month); f.day > days {
		return fmt.Sprintf("%04d-%02d has only %d days", f.year, f.month, days)
	}
	if f.second == 60 && (f.hour != 23 || f.minute != 59) {
		return "second 60 exists only as a leap second, at 23:59:60"
	}
	return ""
}

// daysIn is the length of the month: day 0 of the next month is its last day.
func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
