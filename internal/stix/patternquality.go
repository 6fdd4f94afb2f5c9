package stix

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"taxiihub/internal/stix/pattern"
)

// Pattern quality. A pattern that parses, and that the OASIS validator accepts, can still never
// match anything: [ipv4-addr:valu = '198.51.100.1'] names a property no ipv4-addr has,
// [ipv4-addr:value = '2001:db8::1'] compares with an IPv6 address, and
// [file:hashes.SHA256 = '...'] uses a hash key that STIX content never carries (the vocabulary
// spells it SHA-256). Such a pattern silently detects nothing, so each is a warning: the
// verdict of the OASIS validator stays as it is, and the author learns why the indicator will
// not fire.
//
// What a type has is read from the same schemas that validate objects (see shape), so the
// patterns and the objects they describe are judged by one description of STIX. References
// (from_ref.value) are followed to the types referenceTargets permits. Anything the schemas
// cannot describe is left alone rather than guessed: custom (x_) properties, dictionary keys,
// custom extensions and the properties of custom types.

// patternQuality checks the comparisons of one parsed pattern.
type patternQuality struct {
	c *objectCheck
	p *pattern.Pattern
	// reported holds the paths already warned about, so that a path repeated across a long
	// pattern is reported once; it is searched linearly and bounded by the report.
	reported []string
	// bufs back the candidates of the current and of the next step, so that walking a usual
	// path allocates nothing.
	bufs [2][4]candidate
}

// candidate is one object type a path can be at, after following references, and where in it.
type candidate struct {
	typ   string
	shape *shape
	// path is the dotted names of the properties walked since the type's root, as
	// referenceTargets keys them ("body_multipart.body_raw_ref").
	path string
}

func (c *objectCheck) checkPatternQuality(p *pattern.Pattern) {
	q := patternQuality{c: c, p: p}
	p.EachComparison(q.comparison)
}

func (q *patternQuality) warn(code string, offset int, format string, args ...any) {
	if len(q.c.r.warnings) >= maxProblems {
		// Before locating the offset, which reads the pattern up to it: a hostile pattern of
		// many bad comparisons would otherwise cost its length squared.
		q.c.r.moreWarnings++
		return
	}
	line, col := q.p.Position(offset)
	where := fmt.Sprintf("column %d", col)
	if line != 1 {
		where = fmt.Sprintf("line %d, column %d", line, col)
	}
	q.c.r.warnf(code, at("pattern"), "pattern, %s: %s.", where, fmt.Sprintf(format, args...))
}

// once reports whether key has not been reported yet, and records it. Once the report is full
// nothing is recorded, so that the list stays short and its search cheap.
func (q *patternQuality) once(key string) bool {
	if len(q.reported) >= maxProblems {
		return true
	}
	if slices.Contains(q.reported, key) {
		return false
	}
	q.reported = append(q.reported, key)
	return true
}

func (q *patternQuality) comparison(cmp *pattern.Comparison) {
	path := cmp.Path
	typ := path.ObjectType
	sh := q.c.v.schemas.shapes[typ]
	if !slices.Contains(scoTypes, typ) || sh == nil {
		if !strings.HasPrefix(typ, "x-") && q.once(typ) {
			q.warn(CodePatternUnknownType, path.Pos,
				"%s is not a STIX 2.1 cyber-observable type, so no observation can match it; a custom type starts with x-", quote(typ))
		}
		return
	}
	cands := append(q.bufs[0][:0], candidate{typ: typ, shape: sh})
	for i, step := range path.Steps {
		if step.Kind != pattern.KeyStep {
			// A list index: the members of a list. Indexing anything else leaves the schema.
			next := cands[:0] // in place: each candidate gives at most one
			for _, cd := range cands {
				if cd.shape.items != nil {
					next = append(next, candidate{typ: cd.typ, shape: cd.shape.items, path: cd.path})
				}
			}
			if cands = next; len(cands) == 0 {
				return
			}
			continue
		}
		if cands[0].shape.format == formatHashes {
			// Candidates after a reference may differ, but hashes are never reached that way
			// with different shapes: all STIX types spell hashes alike.
			q.hashKey(cmp, step, i == len(path.Steps)-1)
			return
		}
		var stop bool
		if cands, stop = q.property(cmp, cands, step); stop {
			return
		}
	}
	q.literals(cmp, cands)
}

// property moves the candidates one property down, following references. It reports stop when
// the rest of the path cannot be judged, or was reported.
func (q *patternQuality) property(cmp *pattern.Comparison, cands []candidate, step pattern.PathStep) ([]candidate, bool) {
	name := step.Key
	// next goes in whichever buffer cands is not in.
	next := q.bufs[0][:0]
	if len(cands) > 0 && &cands[:1][0] == &q.bufs[0][0] {
		next = q.bufs[1][:0]
	}
	for _, cd := range cands {
		if cd.shape.format == formatIdentifier {
			rule := referenceTargets[cd.typ][cd.path]
			if rule.allow == nil || slices.Contains(rule.allow, "sco") {
				return nil, true // the reference may point anywhere: nothing to judge
			}
			for _, target := range rule.allow {
				if ps := q.c.v.schemas.shapes[target].prop(name); ps != nil {
					next = append(next, candidate{typ: target, shape: ps, path: name})
				}
			}
			continue
		}
		if len(cd.shape.props) == 0 {
			return nil, true // a dictionary or a value: its keys are not the schema's to know
		}
		if ps := cd.shape.props[name]; ps != nil {
			next = append(next, candidate{typ: cd.typ, shape: ps, path: joinPath(cd.path, name)})
		}
	}
	if len(next) > 0 {
		return next, false
	}
	last := cands[0].path
	if i := strings.LastIndexByte(last, '.'); i >= 0 {
		last = last[i+1:]
	}
	switch {
	case strings.HasPrefix(name, "x_"):
		// A custom property: allowed on any object, and described by nobody.
	case last == "extensions" && cands[0].shape.format != formatIdentifier:
		if !strings.HasPrefix(name, "extension-definition--") && !strings.HasPrefix(name, "x-") && q.once(cmp.Path.ObjectType+":extensions."+name) {
			q.warn(CodePatternUnknownProperty, step.Pos,
				"%s is not an extension STIX 2.1 defines for %s; an extension defined by an extension-definition is named by its identifier",
				quote(name), cmp.Path.ObjectType)
		}
	default:
		if q.once(cmp.Path.String()) {
			q.warn(CodePatternUnknownProperty, step.Pos, "%s is not a property of %s, so the comparison can never be true",
				quote(name), joinOr(owners(cands)))
		}
	}
	return nil, true
}

// owners names the types a property was looked for in: those of the candidates, or those
// their references point to.
func owners(cands []candidate) []string {
	var names []string
	for _, cd := range cands {
		if cd.shape.format == formatIdentifier {
			names = append(names, referenceTargets[cd.typ][cd.path].allow...)
		} else {
			names = append(names, cd.typ)
		}
	}
	return dedupe(names)
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func dedupe(names []string) []string {
	slices.Sort(names)
	return slices.Compact(names)
}

// hashKey checks the algorithm named after hashes, and the constants compared with it.
func (q *patternQuality) hashKey(cmp *pattern.Comparison, step pattern.PathStep, last bool) {
	key := step.Key
	i := slices.IndexFunc(hashAlgorithms, func(a hashAlgorithm) bool { return a.name == key })
	if i < 0 {
		if strings.HasPrefix(key, "x_") {
			return // a custom algorithm
		}
		i = slices.IndexFunc(hashAlgorithms, func(a hashAlgorithm) bool { return hashNameFold(a.name) == hashNameFold(key) })
		if !q.once(cmp.Path.String()) {
			return
		}
		if i < 0 {
			q.warn(CodePatternHashAlgorithm, step.Pos,
				"%s is not a hash algorithm of the STIX 2.1 vocabulary (%s), so no STIX object carries it; a custom algorithm starts with x_",
				quote(key), hashAlgorithmNames())
			return
		}
		// Keys are compared exactly, so the comparison can only match content that misspells
		// the key the same way.
		q.warn(CodePatternHashAlgorithm, step.Pos, "the hash key %s is spelled %s in STIX: write hashes.'%s'",
			quote(key), hashAlgorithms[i].name, hashAlgorithms[i].name)
	}
	if !last {
		return
	}
	alg := hashAlgorithms[i]
	q.eachValue(cmp, false, func(lit pattern.Literal) {
		if lit.Kind == pattern.StringLit && !alg.valid(lit.Str) {
			q.warn(CodePatternValue, lit.Pos, "%s cannot be a %s hash, which is %s", quote(lit.Str), alg.name, alg.form)
		}
	})
}

// hashNameFold folds the spellings of a hash algorithm seen in the wild (sha256, SHA_256,
// Sha-256) to one.
func hashNameFold(s string) string {
	return strings.NewReplacer("-", "", "_", "").Replace(strings.ToUpper(s))
}

// eachValue calls fn for the constants a comparison of cmp's kind constrains: those of =, !=
// and IN, and with ordering also those of <, <=, > and >=. LIKE and MATCHES take patterns, and
// ISSUBSET and ISSUPERSET blocks, which the callers judge themselves.
func (q *patternQuality) eachValue(cmp *pattern.Comparison, ordering bool, fn func(pattern.Literal)) {
	switch cmp.Operator {
	case pattern.Equal, pattern.NotEqual:
		fn(cmp.Value)
	case pattern.In:
		for _, l := range cmp.Set {
			fn(l)
		}
	case pattern.Less, pattern.LessOrEqual, pattern.Greater, pattern.GreaterOrEqual:
		if ordering {
			fn(cmp.Value)
		}
	}
}

// literals checks the constants compared with the property the path ends at. With several
// candidates (a reference to one of several types), a constant is reported only when it can be
// the value of none of them.
func (q *patternQuality) literals(cmp *pattern.Comparison, cands []candidate) {
	if cmp.Operator == pattern.IsSubset || cmp.Operator == pattern.IsSuperset {
		// Blocks of addresses: only ipv4-addr and ipv6-addr values take them.
		for _, cd := range cands {
			if cd.path == "value" && (cd.typ == "ipv4-addr" || cd.typ == "ipv6-addr") && cmp.Value.Kind == pattern.StringLit {
				if why := valueProblem(cd.typ, cd.path, cmp.Value.Str); why != "" {
					q.warn(CodePatternValue, cmp.Value.Pos, "%s cannot be a value of %s:value: %s", quote(cmp.Value.Str), cd.typ, why)
				}
			}
		}
		return
	}
	q.eachValue(cmp, true, func(lit pattern.Literal) {
		ordering := cmp.Operator != pattern.Equal && cmp.Operator != pattern.NotEqual && cmp.Operator != pattern.In
		var why string
		for i, cd := range cands {
			w := literalProblem(cd, lit, ordering)
			if w == "" {
				return
			}
			if i == 0 {
				why = w
			}
		}
		if len(cands) > 1 {
			why = "it fits none of the types the reference may point to (" + joinOr(candidateTypes(cands)) + ")"
		}
		q.warn(CodePatternValue, lit.Pos, "%s cannot be a value of %s: %s", shorten(lit.Raw), cmp.Path.String(), why)
	})
}

func candidateTypes(cands []candidate) []string {
	names := make([]string, len(cands))
	for i, cd := range cands {
		names[i] = cd.typ
	}
	return dedupe(names)
}

// literalProblem says why lit cannot be a value of the property cd is at, or "". ordering says
// the comparison is <, <=, > or >=, where only the kind of constant matters.
func literalProblem(cd candidate, lit pattern.Literal, ordering bool) string {
	s := cd.shape
	switch s.format {
	case formatTimestamp:
		switch lit.Kind {
		case pattern.TimestampLit:
		case pattern.StringLit:
			if _, why := parseTimestamp(lit.Str); why != "" && !ordering {
				return "it is a timestamp (such as t'2016-06-19T14:20:40Z'), and " + why
			}
		default:
			return "it is a timestamp, to compare with t'...'"
		}
		return ""
	case formatHex:
		if lit.Kind != pattern.StringLit && lit.Kind != pattern.HexLit {
			return "it holds hexadecimal digits, to compare with h'...' or a string"
		}
		return ""
	case formatBinary:
		if lit.Kind != pattern.StringLit && lit.Kind != pattern.BinaryLit {
			return "it holds binary data, to compare with b'...' or a string"
		}
		return ""
	case formatIdentifier:
		if lit.Kind != pattern.StringLit {
			return "it is an identifier, to compare with a string"
		}
		return ""
	case formatHashes:
		return "it is a dictionary of hashes: name the algorithm, as in hashes.'SHA-256'"
	}
	switch s.jsonType {
	case "integer", "number":
		switch {
		case lit.Kind != pattern.IntLit && lit.Kind != pattern.FloatLit:
			return "it is a number, and " + lit.Kind.String() + " constants never equal a number"
		case ordering:
			return ""
		case s.jsonType == "integer" && lit.Kind == pattern.FloatLit:
			if f, err := lit.Float64(); err != nil || f != math.Trunc(f) {
				return "it is an integer"
			}
		}
		f, err := lit.Float64()
		switch {
		case err != nil:
		case s.hasMin && f < s.min, s.hasMax && f > s.max:
			return fmt.Sprintf("it is %s", rangeText(s))
		}
		return ""
	case "boolean":
		if lit.Kind != pattern.BoolLit && !ordering {
			return "it is true or false"
		}
		return ""
	case "string":
		switch lit.Kind {
		case pattern.IntLit, pattern.FloatLit, pattern.BoolLit:
			return "it is a string, and " + lit.Kind.String() + " constants never equal a string"
		case pattern.StringLit:
			if ordering {
				return ""
			}
			if len(s.enum) > 0 && !slices.Contains(s.enum, lit.Str) {
				return "it is one of " + strings.Join(s.enum, ", ")
			}
			return valueProblem(cd.typ, cd.path, lit.Str)
		}
	}
	return ""
}

func rangeText(s *shape) string {
	switch {
	case s.hasMin && s.hasMax:
		return fmt.Sprintf("from %g to %g", s.min, s.max)
	case s.hasMin:
		return fmt.Sprintf("at least %g", s.min)
	}
	return fmt.Sprintf("at most %g", s.max)
}

// valueProblem says why v cannot be the value of the property at path (dotted names) in an
// observable of type typ, by the rules that objects of that type are held to, or "".
func valueProblem(typ, path, v string) string {
	switch {
	case typ == "windows-registry-key" && path == "key":
		return registryKeyProblem(v)
	case typ == "software" && path == "cpe":
		if why := cpeProblem(v); why != "" {
			return "it is not a CPE 2.3 name: " + why
		}
	case typ == "software" && path == "languages":
		if why := languageTagProblem(v); why != "" {
			return "it is not an RFC 5646 language tag: " + why
		}
	case typ == "artifact" && path == "url":
		if why := uriProblem(v); why != "" {
			return "it is not a URL: " + why
		}
	case path != "value":
		return ""
	}
	switch typ {
	case "ipv4-addr":
		if ipProblem(v, 128) == "" {
			return "it is an IPv6 address; use ipv6-addr:value"
		}
		if why := ipProblem(v, 32); why != "" {
			return "it is not an IPv4 address or CIDR block: " + why
		}
	case "ipv6-addr":
		if ipProblem(v, 32) == "" {
			return "it is an IPv4 address; use ipv4-addr:value"
		}
		if why := ipProblem(v, 128); why != "" {
			return "it is not an IPv6 address or CIDR block: " + why
		}
	case "domain-name":
		if ipProblem(v, 32) == "" || ipProblem(v, 128) == "" {
			return "it is an IP address; use ipv4-addr:value or ipv6-addr:value"
		}
		if why := domainNameProblem(v); why != "" {
			return "it is not a domain name: " + why
		}
	case "mac-addr":
		if why := macProblem(v); why != "" {
			return "it is not a MAC address in the STIX form: " + why
		}
	case "email-addr":
		if why := emailProblem(v); why != "" {
			return "it is not an email address: " + why
		}
	case "url":
		if why := uriProblem(v); why != "" {
			return "it is not a URL: " + why
		}
	}
	return ""
}
