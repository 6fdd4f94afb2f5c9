package policy

import (
	"cmp"
	"encoding/hex"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"taxiihub/internal/stix"
	"taxiihub/internal/stix/pattern"
)

// The canonical forms content fingerprints are taken of. They are written here rather than taken
// from a library because none canonicalises STIX patterns; the Unicode and IDNA steps use
// golang.org/x/text and golang.org/x/net.

// foldText is free text in one spelling: NFC, lower case (Unicode simple folding), and every run of
// white space one space, none at the ends.
func foldText(s string) string {
	s = norm.NFC.String(s)
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), unicode.IsSpace), " ")
}

// canonicalNumber writes a number the shortest way that reads back to the same float64, so that
// 3, 3.0 and 3e0 are one number. Integers beyond float64's exact range keep their digits.
func canonicalNumber(s string) string {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(i, 10)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// identifyingProperties returns the properties that identify what an observable of type typ
// observes, and whether typ is a cyber-observable type: those STIX derives its deterministic id
// from. A process has none in STIX (its ids are random), so its own defining properties stand in.
func identifyingProperties(typ string) ([]string, bool) {
	if typ == "process" {
		return []string{"pid", "command_line", "cwd", "created_time", "image_ref"}, true
	}
	return stix.IDContributing(typ)
}

func observableContent(typ string, obj map[string]any) map[string]any {
	out := map[string]any{}
	props, _ := identifyingProperties(typ)
	for _, p := range props {
		v, ok := obj[p]
		if !ok {
			continue
		}
		switch {
		case p == "hashes":
			out[p] = canonicalHashes(v)
		case p == "value":
			s, _ := v.(string)
			out[p] = normaliseObservable(typ, s)
		case typ == "windows-registry-key" && p == "key":
			s, _ := v.(string)
			out[p] = strings.ToLower(norm.NFC.String(s)) // registry keys are case-insensitive
		default:
			out[p] = foldValue(v)
		}
	}
	return out
}

// canonicalHashes is a hashes dictionary with algorithm names in one spelling (upper case, no
// hyphens: SHA-256, sha256 and 'SHA256' are one algorithm, as the STIX validator reads them) and
// hex digests in lower case.
func canonicalHashes(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return foldValue(v)
	}
	out := make(map[string]any, len(m))
	for k, h := range m {
		s, _ := h.(string)
		out[hashName(k)] = hashValue(s)
	}
	return out
}

func hashName(k string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", "_", "", "'", "").Replace(strings.TrimSpace(k)))
}

// hashValue lower-cases a hex digest; other digests (ssdeep, TLSH's "T1" prefix) are case-sensitive
// in part and kept as written, trimmed.
func hashValue(s string) string {
	s = strings.TrimSpace(s)
	if _, err := hex.DecodeString(s); err == nil {
		return strings.ToLower(s)
	}
	return s
}

// normaliseObservable writes the identifying value of an observable in one form:
//
//   - domain-name: lower case, IDNA A-label (punycode) form, no trailing dot;
//   - ipv4-addr, ipv6-addr: the address's canonical text (IPv6 compressed, lower case, IPv4 without
//     leading zeros are refused by the parser and kept as written), a CIDR with its host bits
//     cleared, and a single-address CIDR (/32, /128) as the bare address;
//   - url: scheme and host lower case, the host as domain-name above, the scheme's default port
//     and an empty path (as "/") removed; path, query and fragment as written;
//   - email-addr: the domain as domain-name above, the local part as written;
//   - mac-addr: lower case with colons.
//
// Anything else, and a value that does not parse, is trimmed and kept.
func normaliseObservable(typ, s string) string {
	s = strings.TrimSpace(s)
	switch typ {
	case "domain-name":
		return canonicalDomain(s)
	case "ipv4-addr", "ipv6-addr":
		return canonicalIP(s)
	case "url":
		return canonicalURL(s)
	case "email-addr":
		if at := strings.LastIndexByte(s, '@'); at > 0 {
			return s[:at+1] + canonicalDomain(s[at+1:])
		}
	case "mac-addr":
		return strings.ToLower(strings.ReplaceAll(s, "-", ":"))
	}
	return s
}

func canonicalDomain(s string) string {
	s = strings.TrimSuffix(strings.ToLower(norm.NFC.String(strings.TrimSpace(s))), ".")
	if a, err := idna.Lookup.ToASCII(s); err == nil {
		return a
	}
	return s
}

func canonicalIP(s string) string {
	if p, err := netip.ParsePrefix(s); err == nil {
		p = p.Masked()
		if p.IsSingleIP() {
			return p.Addr().Unmap().String()
		}
		return p.String()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String()
	}
	return s
}

func canonicalURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host, port := u.Hostname(), u.Port()
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.String()
		if a.Is6() {
			host = "[" + host + "]"
		}
	} else {
		host = canonicalDomain(host)
	}
	if port == "" || port == "80" && u.Scheme == "http" || port == "443" && u.Scheme == "https" {
		u.Host = host
	} else {
		u.Host = host + ":" + port
	}
	if u.Path == "" && u.RawPath == "" {
		u.Path = "/"
	}
	return u.String()
}

// canonicalPattern renders a parsed STIX pattern in one form for every way of writing it: spacing
// and keyword case as the parser reads them; string literals by their value (quoting and escapes
// aside); numbers by value (3 = 3.0); timestamps to the nanosecond in UTC; hex and binary literals
// by their bytes; hash algorithm names and hex digests in one case; observable values compared with
// = or != normalised as the observables themselves are (normaliseObservable); redundant
// parentheses dropped; and the operands of AND and OR, which commute, sorted, nested operations of
// the same operator flattened and duplicates dropped. FOLLOWEDBY keeps its order, and qualifiers
// keep their groups.
func canonicalPattern(p *pattern.Pattern) string {
	return canonicalObservation(p.Root)
}

func canonicalObservation(e pattern.ObservationExpr) string {
	switch e := e.(type) {
	case *pattern.Observation:
		return "[" + canonicalComparison(e.Comparison) + "]" + canonicalQualifiers(e.Qualifiers)
	case *pattern.ObservationGroup:
		if len(e.Qualifiers) == 0 {
			return canonicalObservation(e.Inner)
		}
		return "(" + canonicalObservation(e.Inner) + ")" + canonicalQualifiers(e.Qualifiers)
	case *pattern.ObservationOperation:
		// Nested operations of the same operator (in groups without qualifiers) join this one,
		// except under FOLLOWEDBY, whose grouping is kept; another operator keeps its parentheses.
		var parts []string
		var flatten func(ops []pattern.ObservationExpr)
		flatten = func(ops []pattern.ObservationExpr) {
			for _, o := range ops {
				inner := unwrapObservation(o)
				switch {
				case inner != nil && inner.Op == e.Op && e.Op != pattern.FollowedBy:
					flatten(inner.Operands)
				case inner != nil:
					parts = append(parts, "("+canonicalObservation(inner)+")")
				default:
					parts = append(parts, canonicalObservation(o))
				}
			}
		}
		flatten(e.Operands)
		return joinOperands(parts, e.Op)
	}
	return ""
}

func unwrapObservation(o pattern.ObservationExpr) *pattern.ObservationOperation {
	for {
		switch e := o.(type) {
		case *pattern.ObservationGroup:
			if len(e.Qualifiers) > 0 {
				return nil
			}
			o = e.Inner
		case *pattern.ObservationOperation:
			return e
		default:
			return nil
		}
	}
}

func canonicalComparison(e pattern.ComparisonExpr) string {
	switch e := e.(type) {
	case *pattern.Comparison:
		return canonicalTest(e)
	case *pattern.ComparisonGroup:
		return canonicalComparison(e.Inner)
	case *pattern.ComparisonOperation:
		var parts []string
		var flatten func(ops []pattern.ComparisonExpr)
		flatten = func(ops []pattern.ComparisonExpr) {
			for _, o := range ops {
				inner := unwrapComparison(o)
				switch {
				case inner != nil && inner.Op == e.Op:
					flatten(inner.Operands)
				case inner != nil:
					parts = append(parts, "("+canonicalComparison(inner)+")")
				default:
					parts = append(parts, canonicalComparison(o))
				}
			}
		}
		flatten(e.Operands)
		return joinOperands(parts, e.Op)
	}
	return ""
}

func unwrapComparison(o pattern.ComparisonExpr) *pattern.ComparisonOperation {
	for {
		switch e := o.(type) {
		case *pattern.ComparisonGroup:
			o = e.Inner
		case *pattern.ComparisonOperation:
			return e
		default:
			return nil
		}
	}
}

// joinOperands joins rendered operands; those of AND and OR are sorted and deduplicated first.
func joinOperands(parts []string, op pattern.LogicalOp) string {
	if op != pattern.FollowedBy {
		slices.Sort(parts)
		parts = slices.Compact(parts)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts, " "+op.String()+" ")
}

func canonicalTest(c *pattern.Comparison) string {
	var b strings.Builder
	path, hashes := canonicalPath(c.Path)
	if c.Operator == pattern.Exists {
		if c.Negated {
			b.WriteString("NOT ")
		}
		b.WriteString("EXISTS " + path)
		return b.String()
	}
	b.WriteString(path)
	if c.Negated {
		b.WriteString(" NOT")
	}
	b.WriteString(" " + c.Operator.String() + " ")
	value := func(l pattern.Literal) string {
		s := canonicalLiteral(l)
		if l.Kind != pattern.StringLit {
			return s
		}
		switch {
		case hashes:
			return strconv.Quote(hashValue(l.Str))
		case c.Operator == pattern.Equal || c.Operator == pattern.NotEqual || c.Operator == pattern.In:
			if len(c.Path.Steps) == 1 && c.Path.Steps[0].Key == "value" {
				return strconv.Quote(normaliseObservable(c.Path.ObjectType, l.Str))
			}
		}
		return s
	}
	if c.Operator != pattern.In {
		b.WriteString(value(c.Value))
		return b.String()
	}
	set := make([]string, len(c.Set))
	for i, l := range c.Set {
		set[i] = value(l)
	}
	slices.Sort(set)
	b.WriteString("(" + strings.Join(slices.Compact(set), ", ") + ")")
	return b.String()
}

// canonicalPath renders an object path with every key quoted (so that hashes.SHA256 and
// hashes.'SHA-256' meet once the algorithm name is canonical) and reports whether it names a hash.
func canonicalPath(p pattern.ObjectPath) (string, bool) {
	var b strings.Builder
	b.WriteString(p.ObjectType + ":")
	hashes := false
	for i, s := range p.Steps {
		switch s.Kind {
		case pattern.KeyStep:
			key := s.Key
			// The last key after "hashes" names the algorithm.
			hashes = i == len(p.Steps)-1 && i > 0 && p.Steps[i-1].Kind == pattern.KeyStep && p.Steps[i-1].Key == "hashes"
			if hashes {
				key = hashName(key)
			}
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(strconv.Quote(key))
		case pattern.IndexStep:
			if n, err := s.IndexValue(); err == nil {
				b.WriteString("[" + strconv.FormatInt(n, 10) + "]")
			} else {
				b.WriteString("[" + s.Index + "]")
			}
		case pattern.AnyIndexStep:
			b.WriteString("[*]")
		}
	}
	return b.String(), hashes
}

func canonicalLiteral(l pattern.Literal) string {
	switch l.Kind {
	case pattern.StringLit:
		return strconv.Quote(l.Str)
	case pattern.IntLit, pattern.FloatLit:
		return canonicalNumber(strings.TrimPrefix(l.Raw, "+"))
	case pattern.HexLit, pattern.BinaryLit:
		return "h" + strconv.Quote(hex.EncodeToString(l.Bytes))
	case pattern.TimestampLit:
		if t, err := l.Time(); err == nil {
			return "t" + strconv.Quote(t.UTC().Format(time.RFC3339Nano))
		}
	}
	return l.Raw
}

func canonicalQualifiers(qs []pattern.Qualifier) string {
	out := make([]string, len(qs))
	for i, q := range qs {
		switch q.Kind {
		case pattern.Within:
			out[i] = " WITHIN " + canonicalLiteral(q.Value) + " SECONDS"
		case pattern.Repeats:
			out[i] = " REPEATS " + canonicalLiteral(q.Value) + " TIMES"
		case pattern.StartStop:
			out[i] = " START " + canonicalLiteral(q.Start) + " STOP " + canonicalLiteral(q.Stop)
		}
	}
	// Qualifiers of one observation apply together, in any order.
	slices.SortFunc(out, func(a, b string) int { return cmp.Compare(a, b) })
	return strings.Join(out, "")
}
