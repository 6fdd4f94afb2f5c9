package stix

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
