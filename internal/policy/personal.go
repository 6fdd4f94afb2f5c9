package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// What the personal-data rule detects, exactly (the README repeats it for partners):
//
// Objects that are personal data as a whole, refused whether the partnership rejects or strips:
//   - email-addr and user-account objects;
//   - identity objects with identity_class "individual".
//
// Properties that carry personal data, refused, or removed when the partnership strips:
//   - of email-message objects, the references to senders and recipients: from_ref, sender_ref,
//     to_refs, cc_refs and bcc_refs (removed whole);
//   - free text containing an e-mail address or a phone number (each match replaced by
//     "[personal data removed]"), in: name, description, aliases, labels, abstract and content (notes),
//     authors (notes and opinions), explanation (opinions), contact_information (identities);
//     subject, body, body_multipart[].body and additional_header_fields of email-message objects;
//     and source_name, description, url and external_id of every external reference.
//
// An e-mail address is text of the form local@domain.tld. A phone number is one of: a "+" followed by
// 8 to 15 digits, which spaces, dots, hyphens or parentheses may separate (+32 2 299 11 11); "00"
// followed by a country code and national number, 10 to 17 digits in all (0032 2 299 11 11); an area
// code in parentheses followed by 7 or more digits in all ((030) 1234 5678); three, three and four
// digits separated by hyphens, dots or spaces (555-123-4567); or a tel: link.
//
// Not detected: names of people in free text; national numbers written without "+", "00" or
// parentheses (030 12345678); addresses written to dodge detection (jane at example dot org); personal
// data in properties not listed above, such as custom x_ properties, indicator patterns (an
// e-mail address in a pattern is an indicator of a phishing sender, not someone's contact) or
// hashes; and personal data in objects of types not named above, such as a location's street
// address.

// redacted replaces each match when the partnership strips personal data.
const redacted = "[personal data removed]"

var (
	emailPattern  = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	phonePatterns = []struct {
		re                   *regexp.Regexp
		minDigits, maxDigits int
	}{
		{regexp.MustCompile(`(?i)\btel:\+?[0-9][0-9().\-]{5,}[0-9]`), 6, 20},
		{regexp.MustCompile(`\+[1-9][0-9 ().\-]{6,22}[0-9]`), 8, 15},
		{regexp.MustCompile(`\b00[1-9][0-9 ().\-]{6,22}[0-9]`), 10, 17},
		{regexp.MustCompile(`\(\d{2,5}\)[ \-]?\d{2,5}(?:[ \-]?\d{2,5}){1,3}`), 9, 15},
		{regexp.MustCompile(`\b\d{3}[\-. ]\d{3}[\-. ]\d{4}\b`), 10, 10},
	}
)

// personalSpans returns the spans of e-mail addresses and phone numbers in s, in order and without
// overlaps, and says which kinds it found.
func personalSpans(s string) (spans [][2]int, email, phone bool) {
	for _, m := range emailPattern.FindAllStringIndex(s, -1) {
		spans = append(spans, [2]int{m[0], m[1]})
		email = true
	}
	for _, p := range phonePatterns {
		for _, m := range p.re.FindAllStringIndex(s, -1) {
			digits := strings.Count(strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return 'd'
				}
				return -1
			}, s[m[0]:m[1]]), "d")
			if digits >= p.minDigits && digits <= p.maxDigits {
				spans = append(spans, [2]int{m[0], m[1]})
				phone = true
			}
		}
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var merged [][2]int
	for _, sp := range spans {
		if n := len(merged); n > 0 && sp[0] < merged[n-1][1] {
			merged[n-1][1] = max(merged[n-1][1], sp[1])
			continue
		}
		merged = append(merged, sp)
	}
	return merged, email, phone
}

func redact(s string, spans [][2]int) string {
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp[0]])
		b.WriteString(redacted)
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// personalMatch is personal data found in one place of an object.
type personalMatch struct {
	path string
	// whole means the object is personal data as a whole: nothing can be removed from it.
	whole   bool
	message string
	removed string
	// remove takes the personal data out of the decoded object; nil when whole.
	remove func()
}

// freeText lists the properties scanned for e-mail addresses and phone numbers, by object type; ""
// applies to every type.
var freeText = map[string][]string{
	"":              {"name", "description", "aliases", "labels", "abstract", "content", "authors", "explanation", "contact_information"},
	"email-message": {"subject", "body", "additional_header_fields"},
}

var externalReferenceText = []string{"source_name", "description", "url", "external_id"}

// emailRefs are the email-message properties that point at senders and recipients.
var emailRefs = []string{"from_ref", "sender_ref", "to_refs", "cc_refs", "bcc_refs"}

func findPersonalData(obj map[string]any) []personalMatch {
	typ, _ := obj["type"].(string)
	switch {
	case typ == "email-addr":
		return []personalMatch{{path: "/type", whole: true, message: "an e-mail address object is personal data"}}
	case typ == "user-account":
		return []personalMatch{{path: "/type", whole: true, message: "a user account object is personal data"}}
	case typ == "identity" && obj["identity_class"] == "individual":
		return []personalMatch{{path: "/identity_class", whole: true,
			message: "an identity of class individual describes a person, which is personal data"}}
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
		if parts, ok := obj["body_multipart"].([]any); ok {
			for i, p := range parts {
				if part, ok := p.(map[string]any); ok {
					found = append(found, scanText(part, "body", fmt.Sprintf("/body_multipart/%d", i))...)
				}
			}
		}
	}
	for _, k := range append(slices.Clone(freeText[""]), freeText[typ]...) {
		found = append(found, scanText(obj, k, "")...)
	}
	if refs, ok := obj["external_references"].([]any); ok {
		for i, r := range refs {
			if ref, ok := r.(map[string]any); ok {
				for _, k := range externalReferenceText {
					found = append(found, scanText(ref, k, fmt.Sprintf("/external_references/%d", i))...)
				}
			}
		}
	}
	return found
}

// scanText looks for e-mail addresses and phone numbers in the property k of parent, which may hold a
// string, a list of strings, or (for header fields) an object of strings and lists of strings.
func scanText(parent map[string]any, k, prefix string) []personalMatch {
	v, ok := parent[k]
	if !ok {
		return nil
	}
	path := prefix + "/" + pointerEscape(k)
	var found []personalMatch
	switch v := v.(type) {
	case string:
		if f, ok := textMatch(v, path, func(s string) { parent[k] = s }); ok {
			found = append(found, f)
		}
	case []any:
		for i, e := range v {
			if s, ok := e.(string); ok {
				if f, ok := textMatch(s, fmt.Sprintf("%s/%d", path, i), func(s string) { v[i] = s }); ok {
					found = append(found, f)
				}
			}
		}
	case map[string]any:
		for _, name := range sortedKeys(v) {
			found = append(found, scanText(v, name, path)...)
		}
	}
	return found
}

func textMatch(s, path string, set func(string)) (personalMatch, bool) {
	spans, email, phone := personalSpans(s)
	if len(spans) == 0 {
		return personalMatch{}, false
	}
	what := "an e-mail address"
	switch {
	case email && phone:
		what = "an e-mail address and a phone number"
	case phone:
		what = "a phone number"
	}
	return personalMatch{path: path,
		message: "the text contains " + what + ", which is personal data",
		removed: what + " was removed from the text",
		remove:  func() { set(redact(s, spans)) }}, true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
