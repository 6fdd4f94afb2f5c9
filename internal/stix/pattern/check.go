package pattern

import (
	"fmt"
	"strings"
)

// validatorProblems applies the rules that the OASIS pattern validator checks after parsing, plus
// the calendar check of timestamps, and returns the problems in source order.
func (p *Pattern) validatorProblems() Problems {
	c := checker{src: p.src}
	c.observation(p.Root)
	return c.problems
}

type checker struct {
	src      string
	problems Problems
}

func (c *checker) add(code Code, offset int, format string, args ...any) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, newProblem(c.src, code, offset, format, args...))
	}
}

func (c *checker) observation(e ObservationExpr) {
	switch e := e.(type) {
	case *Observation:
		walkComparisons(e.Comparison, c.comparison)
		c.qualifiers(e.Qualifiers, true)
	case *ObservationGroup:
		c.observation(e.Inner)
		c.qualifiers(e.Qualifiers, false)
	case *ObservationOperation:
		for _, o := range e.Operands {
			c.observation(o)
		}
	}
}

// qualifiers checks the timestamps of START/STOP and, on a [...] expression, that no qualifier
// type appears twice. The OASIS validator applies the duplicate rule only to qualifiers written
// directly after ']': ([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS is valid, because each WITHIN
// then qualifies a different expression (the group, then the qualified group).
func (c *checker) qualifiers(qs []Qualifier, rejectDuplicates bool) {
	var firstAt [StartStop + 1]int // 1 + offset of the first qualifier of each kind; 0 if none yet
	for _, q := range qs {
		if q.Kind == StartStop {
			c.timestamp(q.Start)
			c.timestamp(q.Stop)
		}
		if !rejectDuplicates {
			continue
		}
		if first := firstAt[q.Kind]; first != 0 {
			c.add(CodeDuplicateQualifier, q.Pos,
				"this observation expression already has a %s qualifier (at %s); a qualifier type may be applied to it only once",
				q.Kind, columnOf(c.src, first-1))
			continue
		}
		firstAt[q.Kind] = q.Pos + 1
	}
}

func (c *checker) comparison(cmp *Comparison) {
	cmp.eachValue(c.timestamp)
	if spec, key, ok := hashSpecFor(cmp.Path); ok {
		cmp.eachValue(func(v Literal) { c.hash(spec, key, v) })
	}
}

func (c *checker) timestamp(lit Literal) {
	if lit.Kind != TimestampLit {
		return
	}
	if msg := calendarProblem(timestampBody(lit.Raw)); msg != "" {
		c.add(CodeInvalidDate, lit.Pos, "%s is not a real date and time: %s", lit.Raw, msg)
	}
}

func (c *checker) hash(spec hashSpec, key string, v Literal) {
	if v.Kind != StringLit {
		c.add(CodeHashFormat, v.Pos, "hash '%s' must be compared with a string, not the %s constant %s", key, v.Kind, truncate(v.Raw))
		return
	}
	if !spec.accepts(v.Str) {
		c.add(CodeHashFormat, v.Pos, "hash '%s' must be %s; got '%s' (%d characters)", key, spec.describe(), truncate(v.Str), len(v.Str))
	}
}

// hashSpec says what a well-formed value of one hash algorithm looks like.
type hashSpec struct {
	hexDigits [6]uint8 // the allowed numbers of hex digits; unused entries are zero
	ssdeep    bool     // an ssdeep digest instead of hex
}

// hashSpecFor returns the spec for comparisons the OASIS validator checks: the path has a step
// named exactly "hashes", and its last step names a known algorithm. The validator identifies the
// algorithm by upper-casing the key and dropping hyphens and quote characters, so 'SHA-256',
// SHA256 and 'sha-256' are all SHA-256; it returns the key as written for messages.
func hashSpecFor(path ObjectPath) (spec hashSpec, key string, ok bool) {
	last := path.Steps[len(path.Steps)-1]
	if last.Kind != KeyStep {
		return hashSpec{}, "", false
	}
	hasHashes := false
	for _, s := range path.Steps {
		if s.Kind == KeyStep && s.Key == "hashes" {
			hasHashes = true
			break
		}
	}
	if !hasHashes {
		return hashSpec{}, "", false
	}
	spec, ok = lookupHashSpec(normalizeHashName(last.Key))
	return spec, last.Key, ok
}

func normalizeHashName(key string) string {
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '-' || c == '\'':
		case 'a' <= c && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// lookupHashSpec holds the algorithm table of the OASIS pattern validator (v21 object_validator).
// It is a switch rather than a map so that the package keeps no mutable global state.
func lookupHashSpec(name string) (hashSpec, bool) {
	hexOf := func(n uint8) hashSpec { return hashSpec{hexDigits: [6]uint8{n}} }
	switch name {
	case "MD5":
		return hexOf(32), true
	case "MD6":
		return hashSpec{hexDigits: [6]uint8{32, 40, 56, 64, 96, 128}}, true
	case "RIPEMD160", "SHA1":
		return hexOf(40), true
	case "SHA224", "SHA3224":
		return hexOf(56), true
	case "SHA256", "SHA3256":
		return hexOf(64), true
	case "SHA384", "SHA3384":
		return hexOf(96), true
	case "SHA512", "SHA3512", "WHIRLPOOL":
		return hexOf(128), true
	case "SSDEEP":
		return hashSpec{ssdeep: true}, true
	}
	return hashSpec{}, false
}

func (s hashSpec) accepts(v string) bool {
	if s.ssdeep {
		if len(v) < 1 || len(v) > 128 {
			return false
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; !isBase64Char(c) && c != ':' && c != '.' {
				return false
			}
		}
		return true
	}
	lengthOK := false
	for _, n := range s.hexDigits {
		lengthOK = lengthOK || n != 0 && int(n) == len(v)
	}
	if !lengthOK {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isHexDigit(v[i]) {
			return false
		}
	}
	return true
}

func (s hashSpec) describe() string {
	if s.ssdeep {
		return "1 to 128 characters of letters, digits, '/', '+', ':' and '.'"
	}
	var lengths []string
	for _, n := range s.hexDigits {
		if n != 0 {
			lengths = append(lengths, fmt.Sprint(n))
		}
	}
	if len(lengths) == 1 {
		return lengths[0] + " hex digits"
	}
	return strings.Join(lengths[:len(lengths)-1], ", ") + " or " + lengths[len(lengths)-1] + " hex digits"
}
