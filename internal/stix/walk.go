package stix

import (
	"encoding/json"
	"math"
	"strconv"
)

// walk visits the values of v that the schema gives a format (see shape) and checks them:
// identifiers and their target types, timestamps, hashes, hex and base64 strings.
func (c *objectCheck) walk(v any, s *shape, where loc) {
	if s == nil {
		return
	}
	if c.r.full() {
		c.r.moreErrors++ // stop: nothing more would be reported
		return
	}
	switch s.format {
	case formatIdentifier:
		c.checkIdentifierValue(where, v)
		return
	case formatTimestamp:
		c.checkTimestamp(where, v)
		return
	case formatHashes:
		c.checkHashes(where, v)
		return
	case formatHex:
		if text, ok := v.(string); ok && !validHex(text) {
			c.r.errorf(CodeInvalidHex, where, "%s must be an even number of hexadecimal digits; %s is not.", where, quote(text))
		}
		return
	case formatBinary:
		if text, ok := v.(string); ok && !validBase64(text) {
			c.r.errorf(CodeInvalidBinary, where, "%s must be base64 (RFC 4648, with padding); %s is not.", where, quote(text))
		}
		return
	case formatDictionary:
		c.checkDictionaryKeys(where, v)
		return
	}
	if n, ok := v.(json.Number); ok && (s.jsonType == "integer" || s.jsonType == "number") {
		c.checkNumber(where, n, s.jsonType == "integer")
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if len(s.props) == 0 {
			return
		}
		for name, e := range v {
			if ps := s.props[name]; ps != nil {
				c.walk(e, ps, where.key(name))
			}
		}
	case []any:
		if s.items == nil {
			return
		}
		for i, e := range v {
			c.walk(e, s.items, where.index(i))
		}
	}
}

// checkIdentifierValue checks a value the schema declares an identifier.
func (c *objectCheck) checkIdentifierValue(where loc, v any) {
	if len(where) == 1 && where[0].name == "id" {
		return // see checkIdentity
	}
	rule := c.referenceRule(where)
	if c.embedded != nil && where[0].name != "object_marking_refs" && where[0].name != "granular_markings" {
		c.checkEmbeddedReference(where, v, rule)
		return
	}
	c.checkReference(where, v, rule)
}

// markingTargets is the rule for object_marking_refs and granular marking_ref.
var markingTargets = targetRule{allow: []string{"marking-definition"}}

// referenceRule finds the target rule of the reference at where, keyed by the property names
// along the way (list indexes left out).
func (c *objectCheck) referenceRule(where loc) targetRule {
	switch first := where[0].name; {
	case first == "object_marking_refs", first == "granular_markings":
		return markingTargets
	case len(where) <= 2: // a top-level reference or a member of a top-level list
		return referenceTargets[c.typ][first]
	}
	key := make([]byte, 0, 64)
	for _, s := range where {
		if s.name == "" {
			continue
		}
		if len(key) > 0 {
			key = append(key, '.')
		}
		key = append(key, s.name...)
	}
	return referenceTargets[c.typ][string(key)]
}

func validHex(s string) bool {
	if len(s) == 0 || len(s)%2 != 0 {
		return false
	}
	for i := range len(s) {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

// validBase64 reports whether s is padded standard base64 (RFC 4648 section 4). It is written
// out rather than decoded because encoding/base64 skips newlines, which STIX does not allow.
func validBase64(s string) bool {
	if len(s) == 0 || len(s)%4 != 0 {
		return false
	}
	pad := 0
	if s[len(s)-1] == '=' {
		pad++
		if s[len(s)-2] == '=' {
			pad++
		}
	}
	for i := range len(s) - pad {
		c := s[i]
		if !isAlnum(c) && c != '+' && c != '/' {
			return false
		}
	}
	return true
}

// checkDictionaryKeys checks the keys of a dictionary (STIX 2.1 section 2.7): ASCII letters,
// digits, hyphens and underscores, 1 to 250 of them. The OASIS schemas say the same.
func (c *objectCheck) checkDictionaryKeys(where loc, v any) {
	d, ok := v.(map[string]any)
	if !ok {
		return // reported by the schema
	}
	for key := range d {
		if !validDictionaryKey(key, 1) {
			p := where.key(key)
			c.r.errorf(CodeInvalidDictionaryKey, p,
				"The dictionary key %s must be 1 to 250 ASCII letters, digits, hyphens and underscores.", quote(key))
		}
	}
}

// maxSafeInteger is the largest magnitude of a STIX integer: unless a property says otherwise,
// integers MUST be representable as signed 54-bit values (STIX 2.1 section 2.11), so that
// every reader, including those holding numbers as IEEE 754 doubles, reads the same value.
const maxSafeInteger = 1<<53 - 1

// checkNumber checks that n, which the schema has found to be of its type, fits that type:
// an integer within ±(2^53 - 1), or a float within the range of an IEEE 754 double.
func (c *objectCheck) checkNumber(where loc, n json.Number, integer bool) {
	f, err := strconv.ParseFloat(n.String(), 64)
	switch {
	case integer && err == nil && f != math.Trunc(f):
		// Not an integer at all, which the schema reports.
	case integer && (err != nil || math.Abs(f) > maxSafeInteger):
		c.r.errorf(CodeOutOfRange, where, "%s must be an integer from -(2^53 - 1) to 2^53 - 1, so that every reader reads the same value; %s is not.", where, shorten(n.String()))
	case err != nil:
		c.r.errorf(CodeOutOfRange, where, "%s must be a number within the range of a double (IEEE 754); %s is not.", where, shorten(n.String()))
	}
}
