package policy

import (
	"regexp"
	"slices"
	"strings"

	"github.com/almerlucke/go-iban/iban"
	"github.com/nyaruka/phonenumbers"
)

// personalKind names a kind of personal data, as the refusal and warning messages say it; they
// never repeat the data itself.
type personalKind string

const (
	kindEmail      personalKind = "an e-mail address"
	kindPhone      personalKind = "a phone number"
	kindIBAN       personalKind = "a bank account number (IBAN)"
	kindCard       personalKind = "a payment card number"
	kindBirth      personalKind = "a date of birth"
	kindPassport   personalKind = "a passport number"
	kindNationalID personalKind = "a national identity number"
	kindAddress    personalKind = "a postal address"
)

// span is a finding in judged text: bytes [from, to) and what they are.
type span struct {
	from, to int
	kind     personalKind
}

// emailPattern matches an e-mail address in judged text: an unquoted local part of letters (any
// script), digits and the usual signs, ending in a letter, digit or underscore (".*@example.com" is
// a regular expression, not an address), or a quoted one; the "@" also as written to dodge matching
// (%40 as in URLs, &#64; as in HTML, and the defanged [@], [at], (at)); then labels of letters (any
// script), digits and hyphens, separated by dots (also defanged: [.], (dot)), ending in a top-level
// domain of letters or an A-label (xn--…), or an address literal in brackets.
var emailPattern = regexp.MustCompile(`(?i)` +
	`(?:[\p{L}\p{N}._%+\-!#$&*=?^~]*[\p{L}\p{N}_]|"(?:[^"\\\r\n]|\\.){1,64}")` +
	`(?:@|%40|&#0*64;|&#x0*40;|\s?[\[\(\{]\s?(?:@|at)\s?[\]\)\}]\s?)` +
	`(?:(?:[\p{L}\p{N}](?:[\p{L}\p{N}\-]{0,61}[\p{L}\p{N}])?(?:\.|\s?[\[\(\{]\s?(?:\.|dot)\s?[\]\)\}]\s?))+` +
	`(?:xn--[a-z0-9\-]{1,59}|\p{L}{2,63})|\[[0-9a-f:.]{2,45}\])`)

// mightHoldEmail is a cheap test that text may contain an address, before the regular expression
// runs.
func mightHoldEmail(text string) bool {
	if strings.ContainsAny(text, "@%&") {
		return true
	}
	for i := 0; i+2 < len(text); i++ {
		if (text[i] == 'a' || text[i] == 'A') && (text[i+1] == 't' || text[i+1] == 'T') &&
			(text[i+2] == ']' || text[i+2] == ')' || text[i+2] == '}') {
			return true
		}
	}
	return false
}

func findEmails(text string) []span {
	var found []span
	for _, m := range emailPattern.FindAllStringIndex(text, -1) {
		found = append(found, span{m[0], m[1], kindEmail})
	}
	return found
}

// token is a whitespace-separated word of judged text, with its punctuation trimmed: [from, to)
// is what remains.
type token struct{ from, to int }

// tokens splits text at white space, and trims each word of the quotes, brackets and final
// punctuation that surround numbers in prose, and of a label such as "tel:" or "IBAN:".
func tokens(text string) []token {
	var out []token
	i := 0
	for i < len(text) {
		for i < len(text) && isSpace(text[i]) {
			i++
		}
		from := i
		for i < len(text) && !isSpace(text[i]) {
			i++
		}
		if from == i {
			break
		}
		t := trimToken(text, token{from, i})
		if t.from < t.to {
			out = append(out, t)
		}
	}
	return out
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func trimToken(text string, t token) token {
	// A label before a colon or equals sign: "tel:+32…", "IBAN:BE71…", "phone=…".
	for j := t.from; j < t.to; j++ {
		c := text[j]
		if c == ':' || c == '=' {
			if j > t.from && j+1 < t.to {
				t.from = j + 1
			}
			break
		}
		if !isLetter(c) && c != '.' {
			break
		}
	}
	for t.from < t.to && strings.IndexByte(`"'[{<`, text[t.from]) >= 0 {
		t.from++
	}
	for t.from < t.to && strings.IndexByte(`"'.,;:!?]}>`, text[t.to-1]) >= 0 {
		t.to--
	}
	// Parentheses around a number in prose go; those around an area code, "(030) 1234 5678",
	// belong to the number.
	if t.from < t.to && text[t.to-1] == ')' && !strings.Contains(text[t.from:t.to], "(") {
		t.to--
	}
	if t.from < t.to && text[t.from] == '(' {
		inner := strings.IndexByte(text[t.from:t.to], ')')
		switch {
		case inner < 0:
			t.from++
		case inner == t.to-t.from-1 && (inner > 6 || !isDigit(text[t.from+1])):
			t.from++
			t.to--
		}
	}
	return t
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// isNumberToken reports a word that can be part of a phone or card number: digits, maybe a
// leading "+", and the separators people write between groups.
func isNumberToken(w string) bool {
	digits := 0
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case isDigit(c):
			digits++
		case c == '+' && i == 0:
		case c == '(' || c == ')' || c == '.' || c == '-' || c == '/':
		default:
			return false
		}
	}
	return digits > 0
}

var (
	// ipv4Token and dateToken are numbers that are never a phone number, and a sequence of number
	// words ends at them: "seen 2026-01-01 +32 2 …" is a date, then a phone number.
	ipv4Token = regexp.MustCompile(`^\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?$`)
	dateToken = regexp.MustCompile(`^(?:\d{4}[./\-]\d{1,2}[./\-]\d{1,2}|\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4})$`)
	// nanpShape is a North American number written without country code: 555-123-4567,
	// (555) 123-4567, 555.123.4567.
	nanpShape = regexp.MustCompile(`^\(?\d{3}\)?[ .\-]?\d{3}[ .\-]\d{4}$`)
)

// nationalRegions are the numbering plans a phone number written without its country code is
// tried against, in order: the hub's partners' regions (EU members and neighbours, the partner
// states of the example arrangements) first. A national number valid in none of them is not
// found; one valid in some other plan only is a limit the README states.
var nationalRegions = []string{
	"BE", "DE", "FR", "NL", "LU", "IT", "ES", "PT", "AT", "IE", "FI", "SE", "DK", "PL", "CZ", "SK",
	"HU", "SI", "HR", "RO", "BG", "GR", "CY", "MT", "EE", "LV", "LT", "GB", "CH", "NO", "IS", "UA",
	"US", "JP", "CN", "KR", "IN", "AU", "TR", "IL",
}

// phoneCues are words that announce a phone number, after which a number is judged in any
// national form.
var phoneCues = []string{"tel", "tel.", "tél", "phone", "telephone", "téléphone", "telefon", "telefono",
	"mobile", "mob", "mob.", "cell", "fax", "call", "whatsapp", "signal", "sms", "ph", "ph."}

// findNumbers finds phone numbers, IBANs and payment card numbers among the words of text.
// Numbers are recognised by their own rules (a numbering plan, a checksum), never by their shape
// alone, and only among words made of digits: digits inside hashes, identifiers, CVE and ATT&CK
// ids, versions and timestamps are part of words with letters and are never judged.
func findNumbers(text string, words []token, plans *planBudget) []span {
	var found []span
	for i := 0; i < len(words) && !plans.exhausted; i++ {
		if s, n, ok := ibanAt(text, words, i); ok {
			found = append(found, s)
			i += n - 1
			continue
		}
		w := text[words[i].from:words[i].to]
		if !isNumberToken(w) || ipv4Token.MatchString(w) || dateToken.MatchString(w) {
			continue
		}
		// The longest run of number words from here, ending before the next "+" (a new
		// international number) or a word that is not a number.
		j := i + 1
		for j < len(words) && j-i < 8 {
			v := text[words[j].from:words[j].to]
			if v[0] == '+' || !isNumberToken(v) || ipv4Token.MatchString(v) || dateToken.MatchString(v) {
				break
			}
			j++
		}
		if s, n, ok := numberIn(text, words[i:j], plans); ok {
			found = append(found, s)
			i += n - 1
		}
	}
	return found
}

// numberIn judges the longest phone or card number that the run of words starts with, trying
// shorter runs when the whole is none, and says how many words it took.
func numberIn(text string, run []token, plans *planBudget) (span, int, bool) {
	cued, asked := false, false
	for n := len(run); n >= 1; n-- {
		from, to := run[0].from, run[n-1].to
		candidate := text[from:to]
		digits := countDigits(candidate)
		if digits < 7 {
			break
		}
		if digits > 19 {
			continue
		}
		if isCard(candidate, run[:n], text) {
			return span{from, to, kindCard}, n, true
		}
		if !asked {
			cued, asked = cuedPhone(text, from), true
		}
		if digits <= 17 && isPhone(candidate, cued, plans) {
			return span{from, to, kindPhone}, n, true
		}
	}
	return span{}, 0, false
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	return n
}

// isPhone asks the numbering plans whether candidate is a phone number that can be dialled: in
// international form ("+" or "00" and a country code) it must be valid in its country's plan; in
// national form it must begin as national numbers do (a trunk "0" with its area code set apart, an
// area code in parentheses, the North American 3-3-4 grouping) or follow a word such as "tel" or "call", and be valid in one of
// nationalRegions.
func isPhone(candidate string, cued bool, plans *planBudget) bool {
	switch {
	case candidate[0] == '+':
		return plans.valid(candidate, "ZZ")
	case strings.HasPrefix(candidate, "00") && !strings.HasPrefix(candidate, "000"):
		return plans.valid("+"+candidate[2:], "ZZ")
	case nanpShape.MatchString(candidate) && plans.valid(candidate, "US"):
		return true
	case cued || candidate[0] == '(' || trunkAndAreaCode(candidate):
		for _, region := range nationalRegions {
			if plans.valid(candidate, region) {
				return true
			}
		}
	}
	return false
}

// trunkAndAreaCode reports a number written as national numbers are without a word announcing
// them: the trunk "0" and an area code, 2 to 5 digits in all, set apart from the rest (030 1234 5678,
// 02/299 11 11). A run of digits that merely begins with 0 (a serial, a build or run number:
// 04750001 1) is not one, so that identifiers in threat intelligence are not taken for phones.
func trunkAndAreaCode(candidate string) bool {
	if candidate[0] != '0' {
		return false
	}
	first := strings.IndexFunc(candidate, func(r rune) bool { return r < '0' || r > '9' })
	return first >= 2 && first <= 5
}

// MaxPlanLookups bounds the numbering-plan look-ups spent on one object. A look-up costs tens of
// microseconds (the plans are regular expressions), a number in national form up to one per region
// of nationalRegions, and ordinary objects need none or a few; an object crafted with thousands of
// number-like words would otherwise cost seconds. An object that needs more is refused as
// personal data, since it cannot be judged; nothing in the labelled set or the corpus comes near.
const MaxPlanLookups = 256

// planBudget counts the numbering-plan look-ups left for one object.
type planBudget struct {
	left      int
	exhausted bool
}

// valid asks the numbering plan of region whether candidate is a valid number, while the budget
// lasts; once it is spent, every answer is no and exhausted is set.
func (b *planBudget) valid(candidate, region string) bool {
	if b.left <= 0 {
		b.exhausted = true
		return false
	}
	b.left--
	num, err := phonenumbers.Parse(candidate, region)
	return err == nil && phonenumbers.IsValidNumber(num)
}

// cuedPhone reports whether a word announcing a phone number stands just before offset at.
func cuedPhone(text string, at int) bool {
	before := strings.ToLower(text[max(0, at-24):at])
	for _, w := range strings.FieldsFunc(before, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '.' || r > 127) }) {
		if slices.Contains(phoneCues, w) {
			return true
		}
	}
	return false
}

// isCard reports a payment card number: 13 to 19 digits, whole or in groups of digits separated by
// spaces or hyphens, beginning with the issuer prefix of a card scheme, at a length that scheme
// issues, and passing the Luhn check. Separators other than spaces and hyphens (dots, slashes,
// parentheses) are not how card numbers are written.
func isCard(candidate string, run []token, text string) bool {
	digits := make([]byte, 0, 19)
	for i := 0; i < len(candidate); i++ {
		switch c := candidate[i]; {
		case isDigit(c):
			digits = append(digits, c)
		case c == ' ' || c == '-':
		default:
			return false
		}
	}
	if len(digits) < 13 || len(digits) > 19 || !cardIssuerLength(string(digits)) {
		return false
	}
	return luhn(digits)
}

// cardIssuerLength reports whether a number begins with the prefix of a card scheme that issues
// numbers of its length: Visa (4; 13, 16, 19), Mastercard (51–55, 2221–2720; 16), American Express
// (34, 37; 15), Discover (6011, 644–649, 65; 16–19), JCB (3528–3589; 16–19), Diners Club (300–305,
// 36, 38, 39; 14–19), UnionPay (62; 16–19) and Maestro (50, 56–69; 12–19).
func cardIssuerLength(d string) bool {
	n := len(d)
	prefix := func(k int) int {
		v := 0
		for i := 0; i < k; i++ {
			v = v*10 + int(d[i]-'0')
		}
		return v
	}
	p2, p3, p4 := prefix(2), prefix(3), prefix(4)
	switch {
	case d[0] == '4':
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return n == 16
	case p2 == 34 || p2 == 37:
		return n == 15
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65, p2 == 62, p4 >= 3528 && p4 <= 3589:
		return n >= 16
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39:
		return n >= 14
	case p2 == 50, p2 >= 56 && p2 <= 69:
		return n >= 12
	}
	return false
}

func luhn(digits []byte) bool {
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// ibanAt finds an IBAN starting at words[i]: two letters and two check digits, then the rest of the
// account number, whole or in groups separated by spaces, checked with ISO 13616's mod-97 and the
// country's length and format. The library holds the countries' lengths and formats; the mod-97
// check is done here first, without allocating, because nearly every candidate fails it.
func ibanAt(text string, words []token, i int) (span, int, bool) {
	w := text[words[i].from:words[i].to]
	if len(w) < 4 || !isLetter(w[0]) || !isLetter(w[1]) || !isDigit(w[2]) || !isDigit(w[3]) || !isAlnum(w) {
		return span{}, 0, false
	}
	code := make([]byte, 0, 34)
	for j := i; j < len(words) && j-i < 9; j++ {
		v := text[words[j].from:words[j].to]
		if !isAlnum(v) || len(code)+len(v) > 34 {
			break
		}
		code = append(code, strings.ToUpper(v)...)
		if len(code) >= 15 && mod97(code) == 1 {
			if _, err := iban.NewIBAN(string(code)); err == nil {
				return span{words[i].from, words[j].to, kindIBAN}, j - i + 1, true
			}
		}
	}
	return span{}, 0, false
}

func isAlnum(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isLetter(w[i]) && !isDigit(w[i]) {
			return false
		}
	}
	return true
}

// mod97 is ISO 7064 MOD 97-10 over an IBAN in upper case: the first four characters moved to the
// end, letters read as 10 to 35.
func mod97(code []byte) int {
	r := 0
	for k := range code {
		c := code[(k+4)%len(code)]
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A'+10)) % 97
		}
	}
	return r
}
