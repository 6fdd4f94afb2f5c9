package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// What the personal-data rule detects, exactly (the README repeats it for partners).
//
// Objects that are personal data as a whole, refused whether the partnership rejects or strips:
//   - email-addr and user-account objects;
//   - identity objects whose identity_class, compared after normalising (below) and without case,
//     is not one of the identity-class-ov values for collectives and things: organization, group,
//     class and system. "individual" is a person; "unknown" may be one; any other value ("person",
//     "Individual" with a Cyrillic "І") is refused too. A group is a collective, not a person; the
//     names of its members in its text are not detected (below).
//
// Properties that carry personal data, refused, or removed when the partnership strips:
//   - of email-message objects, from_ref, sender_ref, to_refs, cc_refs and bcc_refs (removed whole);
//   - every string of the object at any depth (custom x_ properties, extensions, dictionaries,
//     external references, x509 subjects, url values, indicator patterns and the rest), and every
//     key of a nested dictionary, in which one of the following is found after normalising;
//   - every value of a property whose name says it holds a date of birth, a passport number, a
//     national identity number or a postal address (see propertyKind: x_date_of_birth, dob,
//     passport_number, national_id, ssn, street_address, postal_code, zip, address, ...), a
//     location's street_address and postal_code among them.
//
// When stripping, each finding in a string is replaced by "[personal data removed]"; a finding in an
// indicator pattern, a dictionary key or a value that is not a string cannot be cut out and refuses
// the object, as does one whose removal leaves the object invalid STIX.
//
// Normalising (see normaliseForJudging): NFKC, format characters (zero-width, soft hyphen, bidi
// controls) dropped, every Unicode decimal digit read as ASCII, TR39 confusables folded, accents
// dropped. Then:
//   - an e-mail address is a local part (letters of any script, digits, . _ % + - and a few more
//     signs; or quoted) and an "@" (also %40, &#64;, [@], [at], (at)) before dot-separated labels
//     (letters of any script, digits, hyphens; dots also as [.] or (dot)) ending in a letters-only
//     top-level domain or an xn-- label, or an address literal in brackets;
//   - a phone number is a run of number words (digits and + ( ) . - / between groups) that the
//     numbering plans of libphonenumber accept as valid: in international form (+ or 00) in its
//     country's plan; in national form if it starts with a trunk 0 and an area code set apart, or an area code in parentheses,
//     has the North American 3-3-4 grouping, or follows a word such as tel, phone, call or fax, in
//     the plan of one of nationalRegions;
//   - an IBAN is two letters, two check digits and the account number, whole or in groups, with the
//     country's length and format and the mod-97 check;
//   - a payment card number is 13 to 19 digits, whole or in groups separated by spaces or hyphens,
//     with a card scheme's issuer prefix and length, and the Luhn check;
//   - a date of birth, passport number, national identity number or postal address is found after
//     words that announce it (see textCues: "DOB:", "born on", "passport no.", "national ID",
//     "lives at", ...) or in a property whose name announces it.
//
// Numbers are only judged as whole words of digits: digits inside hashes, identifiers, UUIDs, CVE
// and ATT&CK ids, versions, timestamps, IPv4 addresses and dates are never taken for numbers. At most
// MaxPlanLookups numbering-plan look-ups are spent on one object; one that needs more is refused.
//
// What is a library's and what is written here: the numbering plans are libphonenumber's
// (github.com/nyaruka/phonenumbers, Parse and IsValidNumber), the confusables table TR39's
// (github.com/mtibben/confusables), NFKC golang.org/x/text's, and the IBAN countries' lengths and
// formats github.com/almerlucke/go-iban's. Finding candidate numbers in text is written here because
// the Go port's PhoneNumberMatcher is not implemented (NewPhoneNumberMatcher returns nil); the
// mod-97 check is repeated here, without allocating, only to spare the library's regular expressions
// the candidates that fail it, nearly all; the Luhn check and card-scheme prefixes are a few lines no
// library would make clearer.
//
// Not detected: names of people, anywhere; addresses written out in words (jane at example dot
// org); phone numbers in national form without trunk prefix, parentheses or a cue, and those valid
// only in a region outside nationalRegions; dates of birth, document numbers and postal addresses
// without a cue; document numbers without digits; personal data in property names of the object
// itself (STIX restricts them to a-z, 0-9 and _), or hidden by encodings other than those above
// (base64, hex, other percent-escapes).

// redacted replaces each finding when the partnership strips personal data.
const redacted = "[personal data removed]"

// organisationalClasses are the identity classes that describe no person: a collective or a thing.
var organisationalClasses = []string{"organization", "group", "class", "system"}

// emailRefs are the email-message properties that point at senders and recipients.
var emailRefs = []string{"from_ref", "sender_ref", "to_refs", "cc_refs", "bcc_refs"}

// unjudged are the top-level properties whose syntax the STIX validator fixes (a type name, an
// identifier, a version, timestamps), so that no personal data fits in them.
var unjudged = []string{"type", "id", "spec_version", "created", "modified"}

// personalMatch is personal data found in one place of an object.
type personalMatch struct {
	path string
	// whole means the finding cannot be removed from the object: stripping refuses it too.
	whole   bool
	message string
	removed string
	// remove takes the personal data out of the decoded object; nil when whole.
	remove func()
}

func findPersonalData(obj map[string]any) []personalMatch {
	typ, _ := obj["type"].(string)
	switch typ {
	case "email-addr":
		return []personalMatch{{path: "/type", whole: true, message: "an e-mail address object is personal data"}}
	case "user-account":
		return []personalMatch{{path: "/type", whole: true, message: "a user account object is personal data"}}
	case "identity":
		if class, ok := obj["identity_class"].(string); ok {
			folded := strings.ToLower(strings.TrimSpace(normaliseForJudging(class).text))
			if !slices.Contains(organisationalClasses, folded) {
				return []personalMatch{{path: "/identity_class", whole: true,
					message: "an identity whose class is not organization, group, class or system may describe a person, which is personal data"}}
			}
		}
	}
	var found []personalMatch
	if typ == "email-message" {
		for _, k := range emailRefs {
			if _, ok := obj[k]; ok {
				found = append(found, personalMatch{path: "/" + k,
					message: "the message refers to the e-mail addresses of its sender or recipients",
					removed: "the reference to e-mail addresses was removed",
					remove:  func() { delete(obj, k) }})
			}
		}
	}
	w := walker{found: found, plans: planBudget{left: MaxPlanLookups}}
	for k := range obj {
		if slices.Contains(unjudged, k) || (typ == "email-message" && slices.Contains(emailRefs, k)) {
			continue
		}
		whole := typ == "indicator" && k == "pattern"
		w.segments = append(w.segments[:0], k)
		w.value(obj[k], slot{m: obj, k: k}, propertyKind(k), whole)
	}
	if w.plans.exhausted {
		w.found = append(w.found, personalMatch{path: "", whole: true, message: fmt.Sprintf(
			"the object holds more number-like text than the hub judges (%d numbering-plan look-ups); send it in smaller objects", MaxPlanLookups)})
	}
	// Findings in the order of their paths, whatever the order of the map.
	slices.SortStableFunc(w.found, func(a, b personalMatch) int { return strings.Compare(a.path, b.path) })
	return w.found
}

// walker judges every value of an object, keeping the path to where it is as a list of
// segments, made into a JSON pointer only for a finding: most values hold nothing, and building
// every path would cost more than judging.
type walker struct {
	segments []string
	found    []personalMatch
	plans    planBudget
}

func (w *walker) path() string {
	var b strings.Builder
	for _, s := range w.segments {
		b.WriteByte('/')
		b.WriteString(pointerEscape(s))
	}
	return b.String()
}

// slot is where a value sits, to replace it when it is a string: a key of an object or an index of
// a list.
type slot struct {
	m map[string]any
	k string
	a []any
	i int
}

func (s slot) set(v string) {
	if s.m != nil {
		s.m[s.k] = v
	} else {
		s.a[s.i] = v
	}
}

// value looks for personal data in v, at any depth. named is the kind of personal data the
// property's name (or an enclosing one's) announces; whole says that findings here cannot be cut
// out.
func (w *walker) value(v any, at slot, named personalKind, whole bool) {
	switch v := v.(type) {
	case string:
		if named != "" {
			if strings.TrimSpace(v) == "" {
				return
			}
			w.found = append(w.found, personalMatch{path: w.path(), whole: whole,
				message: "the property's name says it holds " + string(named) + ", which is personal data",
				removed: string(named) + " was removed",
				remove:  func() { at.set(redacted) }})
			return
		}
		if m, ok := textMatch(v, w, whole, at, true); ok {
			w.found = append(w.found, m)
		}
	case []any:
		n := len(w.segments)
		for i, e := range v {
			w.segments = append(w.segments[:n], strconv.Itoa(i))
			w.value(e, slot{a: v, i: i}, named, whole)
		}
		w.segments = w.segments[:n]
	case map[string]any:
		n := len(w.segments)
		for k := range v {
			w.segments = append(w.segments[:n], k)
			if m, ok := textMatch(k, w, true, slot{}, false); ok {
				m.message = "the property's name contains " + strings.TrimPrefix(m.message, "the text contains ")
				w.found = append(w.found, m)
			}
			kind := named
			if kind == "" {
				kind = propertyKind(k)
			}
			w.value(v[k], slot{m: v, k: k}, kind, whole)
		}
		w.segments = w.segments[:n]
	case nil, bool:
	default:
		// A number under a name that announces personal data (x_ssn: 123456789) cannot be cut out
		// of a string; it can only be refused.
		if named != "" {
			w.found = append(w.found, personalMatch{path: w.path(), whole: true,
				message: "the property's name says it holds " + string(named) + ", which is personal data"})
		}
	}
}

// textMatch judges one string, at the walker's path; settable says whether at can take a
// redacted string in its place.
func textMatch(s string, w *walker, whole bool, at slot, settable bool) (personalMatch, bool) {
	t, spans := judgeText(s, &w.plans)
	if len(spans) == 0 {
		return personalMatch{}, false
	}
	var kinds []string
	for _, sp := range spans {
		if !slices.Contains(kinds, string(sp.kind)) {
			kinds = append(kinds, string(sp.kind))
		}
	}
	what := kinds[0]
	if n := len(kinds); n > 1 {
		what = strings.Join(kinds[:n-1], ", ") + " and " + kinds[n-1]
	}
	m := personalMatch{path: w.path(), whole: whole || !settable,
		message: "the text contains " + what + ", which is personal data",
		removed: what + " was removed from the text"}
	if !m.whole {
		m.remove = func() { at.set(redact(s, t, spans)) }
	}
	return m, true
}

// judgeText returns s as judged and the spans of personal data found in it, in order and without
// overlaps.
func judgeText(s string, plans *planBudget) (judgedText, []span) {
	if isASCII(s) && !hasDigit(s) && !mightHoldEmail(s) || looksLikeIdentifier(s) {
		return judgedText{text: s}, nil
	}
	t := normaliseForJudging(s)
	var found []span
	if mightHoldEmail(t.text) {
		found = append(found, findEmails(t.text)...)
	}
	if hasDigit(t.text) && !plans.exhausted {
		words := tokens(t.text)
		found = append(found, findNumbers(t.text, words, plans)...)
		found = append(found, findCued(t.text, asciiLower(t.text), words)...)
	}
	if len(found) == 0 {
		return t, nil
	}
	slices.SortFunc(found, func(a, b span) int { return a.from - b.from })
	merged := found[:1]
	for _, sp := range found[1:] {
		if last := &merged[len(merged)-1]; sp.from < last.to {
			last.to = max(last.to, sp.to)
			continue
		}
		merged = append(merged, sp)
	}
	return t, merged
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			return true
		}
	}
	return false
}

// looksLikeIdentifier reports a STIX identifier (type--UUID), as references carry: there is no
// room in one for personal data, and skipping them saves judging most of an object's strings.
func looksLikeIdentifier(s string) bool {
	i := strings.Index(s, "--")
	if i <= 0 || len(s)-i-2 != 36 {
		return false
	}
	for _, c := range []byte(s[i+2:]) {
		if !isDigit(c) && !(c|0x20 >= 'a' && c|0x20 <= 'f') && c != '-' {
			return false
		}
	}
	for _, c := range []byte(s[:i]) {
		if !isLetter(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// asciiLower lowers ASCII letters only, so that offsets stay those of text.
func asciiLower(text string) string {
	if !strings.ContainsFunc(text, func(r rune) bool { return r >= 'A' && r <= 'Z' }) {
		return text
	}
	b := []byte(text)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// redact replaces each span of personal data in s, given in judged text t, with the redaction
// mark.
func redact(s string, t judgedText, spans []span) string {
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		from, to := t.original(sp.from, sp.to)
		if from < last {
			from = last
		}
		b.WriteString(s[last:from])
		b.WriteString(redacted)
		last = max(last, to)
	}
	b.WriteString(s[last:])
	return b.String()
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
