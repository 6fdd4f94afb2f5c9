package pattern

import "slices"

// ValidateIndicatorPattern checks s as the pattern of an indicator whose pattern_type is "stix":
// everything [Parse] checks, then [Pattern.CheckIndicator]. This mirrors the OASIS STIX
// validator, which runs the indicator checks only once the pattern itself is valid. The error is
// nil or a [Problems].
func ValidateIndicatorPattern(s string) error {
	_, err := ParseIndicatorPattern(s)
	return err
}

// ParseIndicatorPattern is ValidateIndicatorPattern returning the parsed pattern when it is valid,
// for callers that read the pattern further (the hub fingerprints it), so that it is parsed once.
func ParseIndicatorPattern(s string) (*Pattern, error) {
	p, err := Parse(s)
	if err != nil {
		return nil, err
	}
	if problems := p.CheckIndicator(); len(problems) > 0 {
		return nil, problems
	}
	return p, nil
}

// CheckIndicator reports what the OASIS STIX validator adds, with its default options, when the
// pattern belongs to an indicator: every object type that is not one of the 18 STIX 2.1
// cyber-observable types must be 3-250 characters of lowercase letters, digits and hyphens, and
// the first property of every object path must be 3-250 characters of lowercase letters, digits
// and underscores ("id" is also accepted on the 18 types, where it is a defined property).
// Each type and each type:property pair is reported once, at its first occurrence.
//
// Custom types and properties need no x- or x_ prefix: in STIX 2.1 they are declared through
// extensions, and the validator checks prefixes only when extension checks are turned off.
func (p *Pattern) CheckIndicator() Problems {
	// reported remembers what each problem was about, to report it once. It is searched linearly:
	// it never grows past maxProblems, and valid patterns, the common case, leave it empty.
	var problems Problems
	var reported []string
	report := func(code Code, key, name string, offset int, format string) {
		if len(problems) < maxProblems && !slices.Contains(reported, key) {
			reported = append(reported, key)
			problems = append(problems, newProblem(p.src, code, offset, format, truncate(name)))
		}
	}
	walkObservations(p.Root, func(c *Comparison) {
		typ, prop := c.Path.ObjectType, c.Path.Property()
		sco := isSCOType(typ)
		if !sco && !isValidTypeName(typ) {
			report(CodeObjectType, typ, typ, c.Path.Pos,
				"'%s' is not a valid observable type name: it must be 3 to 250 characters of lowercase letters, digits and hyphens")
		}
		if !(sco && prop == "id") && !isValidPropertyName(prop) {
			// The key includes the type, as the validator checks properties type by type. A
			// type name holds no ':', so the key cannot collide with a type's key.
			report(CodePropertyName, typ+":"+prop, prop, c.Path.Steps[0].Pos,
				"'%s' is not a valid observable property name: it must be 3 to 250 characters of lowercase letters, digits and underscores")
		}
	})
	return problems
}

// isSCOType reports whether t is one of the cyber-observable object types STIX 2.1 defines.
func isSCOType(t string) bool {
	switch t {
	case "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
		"file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
		"software", "url", "user-account", "windows-registry-key", "x509-certificate":
		return true
	}
	return false
}

// isValidTypeName is the validator's type-name rule: ^-?[a-z0-9]+(-[a-z0-9]+)*-?$ and 3 to 250
// characters. Written out because it is a hot path and the rule is small.
func isValidTypeName(t string) bool {
	if len(t) < 3 || len(t) > 250 {
		return false
	}
	core := t
	if core[0] == '-' {
		core = core[1:]
	}
	if core != "" && core[len(core)-1] == '-' {
		core = core[:len(core)-1]
	}
	if core == "" || core[0] == '-' || core[len(core)-1] == '-' {
		return false
	}
	for i := 0; i < len(core); i++ {
		c := core[i]
		switch {
		case 'a' <= c && c <= 'z', isDigit(c):
		case c == '-' && core[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// isValidPropertyName is the validator's property-name rule: ^[a-z0-9_]{3,250}$.
func isValidPropertyName(name string) bool {
	if len(name) < 3 || len(name) > 250 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || isDigit(c) || c == '_') {
			return false
		}
	}
	return true
}
