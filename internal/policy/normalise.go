package policy

import (
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// judgedText is a string as the personal-data rule reads it, with the way back to what was sent:
// the detectors look at text, and stripping cuts spans out of the original string.
type judgedText struct {
	text string
	// start and end give, for each byte of text, the span of the original string it came from;
	// both are nil when text is the original (pure ASCII needs no normalising).
	start, end []int32
}

// normaliseForJudging folds away what changes how text looks to a program but not what it says to
// a reader, so that a partner cannot slip personal data past the detectors by spelling it
// differently:
//   - NFKC, which turns full-width and other compatibility forms into their plain letters, digits
//     and signs (＠ into @, ０ into 0, the ligature ﬁ into fi);
//   - format characters and other default-ignorable code points dropped: zero-width spaces and
//     joiners, the soft hyphen, bidirectional controls, variation selectors;
//   - every Unicode decimal digit (Arabic-Indic, Devanagari, …) mapped to its ASCII digit;
//   - the ideographic full stops that IDNA reads as the dot between labels mapped to ".";
//   - other non-ASCII characters replaced by their Unicode TR39 confusable skeleton (Cyrillic
//     "а" becomes Latin "a"), with combining marks then dropped (so "é" judges as "e").
//
// ASCII characters are left as they are: the TR39 table also folds ASCII into ASCII ("1" into
// "l", "0" into "O"), which would turn digits into letters and hide the very numbers the rule
// looks for. Pure ASCII strings, nearly every string of threat intelligence, are returned as they
// are without any work.
func normaliseForJudging(s string) judgedText {
	if isASCII(s) {
		return judgedText{text: s}
	}
	var (
		out        = make([]byte, 0, len(s))
		start, end = make([]int32, 0, len(s)), make([]int32, 0, len(s))
		it         norm.Iter
	)
	it.InitString(norm.NFKC, s)
	for !it.Done() {
		from := it.Pos()
		segment := string(it.Next())
		to := it.Pos()
		for _, r := range segment {
			before := len(out)
			out = appendFolded(out, r)
			for range len(out) - before {
				start, end = append(start, int32(from)), append(end, int32(to))
			}
		}
	}
	return judgedText{text: string(out), start: start, end: end}
}

// appendFolded appends what one character of NFKC text judges as.
func appendFolded(out []byte, r rune) []byte {
	switch {
	case r < utf8.RuneSelf:
		return append(out, byte(r))
	case ignorable(r):
		return out
	case unicode.Is(unicode.Nd, r):
		return append(out, byte('0'+digitValue(r)))
	case unicode.IsSpace(r):
		return append(out, ' ')
	case r == '。' || r == '｡':
		return append(out, '.')
	case unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana):
		// Letters of these scripts are confusable, if at all, with each other and with signs, not
		// with the Latin letters and digits addresses and numbers are made of; and CJK text can be
		// long: it is kept as it is, without asking the confusables table rune by rune.
		return utf8.AppendRune(out, r)
	}
	for _, f := range confusables.Skeleton(string(r)) {
		switch {
		case unicode.Is(unicode.Mn, f) || ignorable(f):
		case unicode.Is(unicode.Nd, f) && f >= utf8.RuneSelf:
			out = append(out, byte('0'+digitValue(f)))
		default:
			out = utf8.AppendRune(out, f)
		}
	}
	return out
}

// ignorable reports the characters that take no room on screen: a partner may put them anywhere
// in an address or a number.
func ignorable(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Variation_Selector, r) ||
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// digitValue is the value of a Unicode decimal digit (category Nd). Unicode encodes every decimal
// digit in runs of ten from zero to nine, and the Nd table's ranges each start at a zero, so the
// value is the distance from the start of its range, modulo ten.
func digitValue(r rune) int {
	for _, rg := range unicode.Nd.R16 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	return 0
}

// original maps a span of the judged text back onto the string that was sent.
func (t judgedText) original(from, to int) (int, int) {
	if t.start == nil {
		return from, to
	}
	return int(t.start[from]), int(t.end[to-1])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
