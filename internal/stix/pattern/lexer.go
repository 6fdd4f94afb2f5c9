package pattern

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

type tokenKind uint8

const (
	tokEOF     tokenKind = iota
	tokInvalid           // a lexical error; the lexer holds its description

	tokLBracket
	tokRBracket
	tokLParen
	tokRParen
	tokColon
	tokDot
	tokComma
	tokAsterisk
	// The grammar defines these operator tokens but no rule uses them; they exist so that a
	// stray '+' or '/' is reported as an unexpected token rather than an unknown character.
	tokPlus
	tokMinus
	tokPower
	tokDivide

	tokEQ
	tokNEQ
	tokLT
	tokLE
	tokGT
	tokGE

	tokIdent       // [a-zA-Z_][a-zA-Z0-9_]*: object types and property names
	tokIdentHyphen // [a-zA-Z_][a-zA-Z0-9_-]* with a hyphen: object types only

	tokString
	tokInt
	tokFloat
	tokBool
	tokHex
	tokBinary
	tokTimestamp

	tokAND
	tokOR
	tokNOT
	tokFOLLOWEDBY
	tokLIKE
	tokMATCHES
	tokISSUPERSET
	tokISSUBSET
	tokEXISTS
	tokLAST // reserved by the grammar, used by no rule
	tokIN
	tokSTART
	tokSTOP
	tokSECONDS
	tokWITHIN
	tokREPEATS
	tokTIMES
)

type token struct {
	kind     tokenKind
	pos, end int // byte offsets of the token's text in the source
}

// keywordKind maps a word to its keyword token. Keywords are exact and case-sensitive, and the
// grammar lists them before identifiers, so these words can never be object types or properties.
func keywordKind(word string) (tokenKind, bool) {
	switch word {
	case "AND":
		return tokAND, true
	case "OR":
		return tokOR, true
	case "NOT":
		return tokNOT, true
	case "FOLLOWEDBY":
		return tokFOLLOWEDBY, true
	case "LIKE":
		return tokLIKE, true
	case "MATCHES":
		return tokMATCHES, true
	case "ISSUPERSET":
		return tokISSUPERSET, true
	case "ISSUBSET":
		return tokISSUBSET, true
	case "EXISTS":
		return tokEXISTS, true
	case "LAST":
		return tokLAST, true
	case "IN":
		return tokIN, true
	case "START":
		return tokSTART, true
	case "STOP":
		return tokSTOP, true
	case "SECONDS":
		return tokSECONDS, true
	case "WITHIN":
		return tokWITHIN, true
	case "REPEATS":
		return tokREPEATS, true
	case "TIMES":
		return tokTIMES, true
	case "true", "false":
		return tokBool, true
	}
	return 0, false
}

func isKeyword(k tokenKind) bool { return k >= tokAND }

// lexer splits a pattern into tokens on demand. Like the ANTLR lexer it takes the longest match
// at each position, so "5SECONDS" is two tokens and "ANDROID" is one identifier.
type lexer struct {
	src string
	pos int
	// err describes the lexical error behind the last tokInvalid token. Once set it stays set
	// and every later call returns tokInvalid again: nothing after a lexical error is trusted.
	err *Problem
}

func (lx *lexer) next() token {
	if lx.err != nil {
		return token{kind: tokInvalid, pos: lx.err.Offset, end: lx.err.Offset}
	}
	if bad, ok := lx.skipSpaceAndComments(); !ok {
		return bad
	}
	src, start := lx.src, lx.pos
	if start >= len(src) {
		return token{kind: tokEOF, pos: start, end: start}
	}
	c := src[start]
	single := func(k tokenKind) token { lx.pos = start + 1; return token{k, start, start + 1} }
	double := func(k tokenKind) token { lx.pos = start + 2; return token{k, start, start + 2} }
	following := func(i int) byte {
		if i < len(src) {
			return src[i]
		}
		return 0
	}
	switch {
	case c == '[':
		return single(tokLBracket)
	case c == ']':
		return single(tokRBracket)
	case c == '(':
		return single(tokLParen)
	case c == ')':
		return single(tokRParen)
	case c == ':':
		return single(tokColon)
	case c == ',':
		return single(tokComma)
	case c == '*':
		return single(tokAsterisk)
	case c == '^':
		return single(tokPower)
	case c == '/':
		return single(tokDivide)
	case c == '=':
		if following(start+1) == '=' {
			return double(tokEQ)
		}
		return single(tokEQ)
	case c == '!':
		if following(start+1) == '=' {
			return double(tokNEQ)
		}
		return lx.fail(CodeSyntax, start, "unexpected character '!'; the not-equal operator is != and negation is the keyword NOT")
	case c == '<':
		switch following(start + 1) {
		case '=':
			return double(tokLE)
		case '>':
			return double(tokNEQ)
		}
		return single(tokLT)
	case c == '>':
		if following(start+1) == '=' {
			return double(tokGE)
		}
		return single(tokGT)
	case c == '\'':
		return lx.stringLiteral(start)
	case c == '.':
		if isDigit(following(start + 1)) {
			return lx.number(start)
		}
		return single(tokDot)
	case c == '+' || c == '-':
		if startsNumber(src, start+1) {
			return lx.number(start)
		}
		if c == '+' {
			return single(tokPlus)
		}
		return single(tokMinus)
	case isDigit(c):
		return lx.number(start)
	case isIdentStart(c):
		return lx.word(start)
	}
	r, size := utf8.DecodeRuneInString(src[start:])
	switch {
	case r == utf8.RuneError && size == 1:
		return lx.fail(CodeSyntax, start, "the pattern is not valid UTF-8")
	case r == '"':
		return lx.fail(CodeSyntax, start, "unexpected character '\"': strings are written in single quotes")
	}
	return lx.fail(CodeSyntax, start, "unexpected character %s", describeRune(r))
}

func (lx *lexer) fail(code Code, offset int, format string, args ...any) token {
	p := newProblem(lx.src, code, offset, format, args...)
	lx.err = &p
	return token{kind: tokInvalid, pos: offset, end: offset}
}

// skipSpaceAndComments skips the grammar's whitespace set and its /* */ and // comments. It fails
// only on a block comment that is never closed.
func (lx *lexer) skipSpaceAndComments() (token, bool) {
	src := lx.src
	for lx.pos < len(src) {
		c := src[lx.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f':
			lx.pos++
		case c == '/' && strings.HasPrefix(src[lx.pos:], "/*"):
			closing := strings.Index(src[lx.pos+2:], "*/")
			if closing < 0 {
				return lx.fail(CodeSyntax, lx.pos, "the comment opened here is never closed with */"), false
			}
			lx.pos += 2 + closing + 2
		case c == '/' && strings.HasPrefix(src[lx.pos:], "//"):
			end := strings.IndexAny(src[lx.pos:], "\r\n")
			if end < 0 {
				lx.pos = len(src)
			} else {
				lx.pos += end
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(src[lx.pos:])
			if !isUnicodeSpace(r) {
				return token{}, true
			}
			lx.pos += size
		default:
			return token{}, true
		}
	}
	return token{}, true
}

// isUnicodeSpace is the non-ASCII part of the grammar's WS rule.
func isUnicodeSpace(r rune) bool {
	switch r {
	case 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isHexDigit(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isIdentStart(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '-' }
func isBase64Char(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '+' || c == '/'
}

// startsNumber reports whether a number begins at i once a sign has been read: a digit, or a
// '.' followed by a digit (floats may omit the integer part).
func startsNumber(src string, i int) bool {
	if i >= len(src) {
		return false
	}
	if isDigit(src[i]) {
		return true
	}
	return src[i] == '.' && i+1 < len(src) && isDigit(src[i+1])
}

// number lexes IntPosLiteral, IntNegLiteral, FloatPosLiteral and FloatNegLiteral.
func (lx *lexer) number(start int) token {
	src := lx.src
	i := start
	if src[i] == '+' || src[i] == '-' {
		i++
	}
	digits := i
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	if i+1 < len(src) && src[i] == '.' && isDigit(src[i+1]) {
		i++
		for i < len(src) && isDigit(src[i]) {
			i++
		}
		lx.pos = i
		return token{tokFloat, start, i}
	}
	if i-digits > 1 && src[digits] == '0' {
		return lx.fail(CodeLiteral, start, "integer %s has a leading zero, which the pattern grammar does not allow", src[start:i])
	}
	lx.pos = i
	return token{tokInt, start, i}
}

// word lexes identifiers, keywords, booleans, and the typed constants h'...', b'...' and t'...',
// whose one-letter prefix would otherwise read as an identifier.
func (lx *lexer) word(start int) token {
	src := lx.src
	i := start + 1
	for i < len(src) && isIdentChar(src[i]) {
		i++
	}
	if i == start+1 && i < len(src) && src[i] == '\'' {
		switch src[start] {
		case 'h':
			return lx.hexLiteral(start)
		case 'b':
			return lx.binaryLiteral(start)
		case 't':
			return lx.timestampLiteral(start)
		}
	}
	lx.pos = i
	word := src[start:i]
	if kind, ok := keywordKind(word); ok {
		return token{kind, start, i}
	}
	if strings.IndexByte(word, '-') >= 0 {
		return token{tokIdentHyphen, start, i}
	}
	return token{tokIdent, start, i}
}

// stringLiteral lexes '...' where the only escapes are \' and \\.
func (lx *lexer) stringLiteral(start int) token {
	src := lx.src
	i := start + 1
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\'':
			lx.pos = i + 1
			return token{tokString, start, i + 1}
		case c == '\\':
			if i+1 < len(src) && (src[i+1] == '\'' || src[i+1] == '\\') {
				i += 2
				continue
			}
			if i+1 >= len(src) {
				return lx.fail(CodeLiteral, i, "the string ends in a lone backslash")
			}
			r, _ := utf8.DecodeRuneInString(src[i+1:])
			return lx.fail(CodeLiteral, i, `invalid escape \%c in a string: only \' and \\ are allowed, so a backslash meant for a regular expression is written \\`, r)
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && size == 1 {
				return lx.fail(CodeSyntax, i, "the pattern is not valid UTF-8")
			}
			i += size
		}
	}
	return lx.fail(CodeLiteral, start, "the string opened here has no closing quote (a quote inside a string is written \\')")
}

func (lx *lexer) hexLiteral(start int) token {
	src := lx.src
	i := start + 2
	for i < len(src) && isHexDigit(src[i]) {
		i++
	}
	switch {
	case i >= len(src):
		return lx.fail(CodeLiteral, start, "the hex constant opened here has no closing quote")
	case src[i] != '\'':
		return lx.fail(CodeLiteral, start, "hex constant contains %s; only the digits 0-9, a-f and A-F are allowed", describeRuneAt(src, i))
	case (i-start-2)%2 != 0:
		return lx.fail(CodeLiteral, start, "hex constant has %d digits; it needs an even number, two per byte", i-start-2)
	}
	lx.pos = i + 1
	return token{tokHex, start, i + 1}
}

func (lx *lexer) binaryLiteral(start int) token {
	src := lx.src
	i := start + 2
	for i < len(src) && (isBase64Char(src[i]) || src[i] == '=') {
		i++
	}
	if i >= len(src) {
		return lx.fail(CodeLiteral, start, "the binary constant opened here has no closing quote")
	}
	if src[i] != '\'' {
		return lx.fail(CodeLiteral, start, "binary constant contains %s; it must be base64 (A-Z, a-z, 0-9, '+', '/', '=' padding)", describeRuneAt(src, i))
	}
	if msg := base64Problem(src[start+2 : i]); msg != "" {
		return lx.fail(CodeLiteral, start, "binary constant is not valid base64: %s", msg)
	}
	lx.pos = i + 1
	return token{tokBinary, start, i + 1}
}

// base64Problem checks the shape the grammar requires of b'...': whole groups of four characters,
// at least one group, and '=' only as one or two characters of final padding.
func base64Problem(data string) string {
	if data == "" {
		return "it is empty"
	}
	if len(data)%4 != 0 {
		return fmt.Sprintf("its length, %d, is not a multiple of 4", len(data))
	}
	body := strings.TrimRight(data, "=")
	if padding := len(data) - len(body); padding > 2 {
		return fmt.Sprintf("it ends in %d '=' characters; padding is at most two", padding)
	}
	if strings.IndexByte(body, '=') >= 0 {
		return "'=' is padding and may appear only at the end"
	}
	return ""
}

func (lx *lexer) timestampLiteral(start int) token {
	src := lx.src
	closing := strings.IndexByte(src[start+2:], '\'')
	if closing < 0 {
		return lx.fail(CodeLiteral, start, "the timestamp constant opened here has no closing quote")
	}
	end := start + 2 + closing
	if msg := timestampShapeProblem(src[start+2 : end]); msg != "" {
		return lx.fail(CodeLiteral, start, "timestamp constant %s: %s", truncate(src[start:end+1]), msg)
	}
	lx.pos = end + 1
	return token{tokTimestamp, start, end + 1}
}

func describeRune(r rune) string {
	if r < 0x20 || r == 0x7F || r >= utf8.RuneSelf && !isPrintable(r) {
		return fmt.Sprintf("U+%04X", r)
	}
	return fmt.Sprintf("%q", r)
}

func isPrintable(r rune) bool { return r != utf8.RuneError && !isUnicodeSpace(r) }

func describeRuneAt(src string, i int) string {
	r, _ := utf8.DecodeRuneInString(src[i:])
	return describeRune(r)
}

// truncate shortens source text quoted in messages so one long constant cannot flood a report.
func truncate(s string) string {
	const limit = 48
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
