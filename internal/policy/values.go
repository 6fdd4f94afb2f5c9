package policy

import (
	"encoding/json"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"taxiihub/internal/stix"
	"taxiihub/internal/stix/pattern"
	"taxiihub/internal/store"
)

// What the value-search index holds of an object, and how a searched value is read. Both use the
// normalisers content fingerprints use (normaliseObservable, hashName, hashValue), so that a value
// is indexed and looked up in the one spelling that also makes two publications the same content.

// IndexValues is the hub's store.ValueIndexer: the observable values an object version names.
//
//   - Indicators with a STIX pattern: the literal of every comparison that says what an observable
//     is (=, IN, and ISSUBSET for networks; not negated ones, nor LIKE or MATCHES, which name no
//     value) on an identifying property of a cyber-observable type: ipv4-addr and ipv6-addr values
//     (a CIDR as its network), domain-name, url, email-addr and mac-addr values, hashes of any
//     object by algorithm, file names, autonomous-system numbers, and the other properties STIX
//     derives observable ids from; and values reached through a reference
//     (email-message:from_ref.value), read by their form.
//   - Cyber observables: their identifying properties, as above.
//   - Vulnerabilities: their CVE id, from the name or a "cve" external reference.
//
// Content that does not decode, or a pattern that does not parse, names nothing.
func IndexValues(typ string, content []byte) []store.IndexedValue {
	var obj map[string]any
	if err := json.Unmarshal(content, &obj); err != nil {
		return nil
	}
	var out []store.IndexedValue
	switch {
	case typ == "indicator":
		if pt, _ := obj["pattern_type"].(string); pt != "stix" {
			return nil
		}
		src, _ := obj["pattern"].(string)
		p, err := pattern.Parse(src)
		if err != nil {
			return nil
		}
		p.EachComparison(func(c *pattern.Comparison) { out = appendComparison(out, c) })
	case typ == "vulnerability":
		out = appendCVEs(out, obj)
	case stix.IsObservable(typ):
		out = appendObservable(out, typ, obj)
	}
	return out
}

func appendComparison(out []store.IndexedValue, c *pattern.Comparison) []store.IndexedValue {
	if c.Negated || len(c.Path.Steps) == 0 || c.Path.Steps[0].Kind != pattern.KeyStep {
		return out
	}
	switch c.Operator {
	case pattern.Equal, pattern.In, pattern.IsSubset:
	default:
		return out
	}
	typ, steps := c.Path.ObjectType, c.Path.Steps
	last := steps[len(steps)-1]
	for _, l := range c.Values() {
		var lit string
		switch l.Kind {
		case pattern.StringLit:
			lit = l.Str
		case pattern.IntLit:
			lit = canonicalNumber(strings.TrimPrefix(l.Raw, "+"))
		default:
			continue
		}
		switch {
		case len(steps) >= 2 && last.Kind == pattern.KeyStep && steps[len(steps)-2].Kind == pattern.KeyStep &&
			steps[len(steps)-2].Key == "hashes":
			alg := hashName(last.Key)
			out = append(out, store.IndexedValue{Kind: typ + ":hashes." + alg, Value: hashValue(lit)})
		case len(steps) == 1:
			out = appendProperty(out, typ, steps[0].Key, lit)
		case last.Kind == pattern.KeyStep && last.Key == "value" && strings.HasSuffix(steps[0].Key, "_ref") ||
			last.Kind == pattern.KeyStep && last.Key == "value" && strings.HasSuffix(steps[0].Key, "_refs"):
			// A value reached through a reference names an observable of a type the path does not
			// say (network-traffic:dst_ref.value is an IP address or a domain): read it by its form.
			kind := kindByForm(lit)
			out = append(out, store.IndexedValue{Kind: kind, Value: normaliseObservable(kind, lit)})
		}
	}
	return out
}

// appendProperty indexes a value an observable of type typ gives its identifying property prop.
func appendProperty(out []store.IndexedValue, typ, prop, v string) []store.IndexedValue {
	props, observable := identifyingProperties(typ)
	if !observable || !slices.Contains(props, prop) {
		return out
	}
	switch {
	case prop == "value":
		return append(out, store.IndexedValue{Kind: typ, Value: normaliseObservable(typ, v)})
	case typ == "autonomous-system":
		return append(out, store.IndexedValue{Kind: typ, Value: canonicalNumber(strings.TrimSpace(v))})
	case typ == "windows-registry-key" && prop == "key":
		return append(out, store.IndexedValue{Kind: typ + ":key", Value: strings.ToLower(strings.TrimSpace(v))})
	}
	return append(out, store.IndexedValue{Kind: typ + ":" + prop, Value: strings.TrimSpace(v)})
}

func appendObservable(out []store.IndexedValue, typ string, obj map[string]any) []store.IndexedValue {
	props, _ := identifyingProperties(typ)
	for _, p := range props {
		switch v := obj[p].(type) {
		case string:
			out = appendProperty(out, typ, p, v)
		case float64:
			out = appendProperty(out, typ, p, strconv.FormatFloat(v, 'f', -1, 64))
		case map[string]any:
			if p != "hashes" {
				continue
			}
			for alg, h := range v {
				if s, ok := h.(string); ok {
					out = append(out, store.IndexedValue{Kind: typ + ":hashes." + hashName(alg), Value: hashValue(s)})
				}
			}
		}
	}
	return out
}

// cvePattern is a CVE id as MITRE assigns them: the year and a sequence of at least four digits.
var cvePattern = regexp.MustCompile(`(?i)^cve-\d{4}-\d{4,}$`)

func appendCVEs(out []store.IndexedValue, obj map[string]any) []store.IndexedValue {
	add := func(s string) {
		if s = strings.TrimSpace(s); cvePattern.MatchString(s) {
			out = append(out, store.IndexedValue{Kind: "vulnerability:cve", Value: strings.ToUpper(s)})
		}
	}
	if name, ok := obj["name"].(string); ok {
		add(name)
	}
	refs, _ := obj["external_references"].([]any)
	for _, r := range refs {
		ref, _ := r.(map[string]any)
		if src, _ := ref["source_name"].(string); strings.EqualFold(src, "cve") {
			id, _ := ref["external_id"].(string)
			add(id)
		}
	}
	return out
}

// kindByForm guesses the observable type of a value from how it is written.
func kindByForm(s string) string {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return ipKind(p.Addr())
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return ipKind(a)
	}
	switch {
	case strings.Contains(s, "://"):
		return "url"
	case strings.Contains(s, "@"):
		return "email-addr"
	case macPattern.MatchString(s):
		return "mac-addr"
	}
	return "domain-name"
}

func ipKind(a netip.Addr) string {
	if a.Unmap().Is4() {
		return "ipv4-addr"
	}
	return "ipv6-addr"
}

var (
	macPattern = regexp.MustCompile(`^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$`)
	asPattern  = regexp.MustCompile(`(?i)^as ?(\d{1,10})$`)
)

// SearchForms returns the normalised forms under which the index may hold a value someone searches
// for, whose kind the searcher does not say: the value read as each kind it could be (an upper-case
// hash in lower case, a domain in its A-label form, an IP address in canonical text), and for an IP
// address every network containing it (/0 to the address's own length), so that a search for
// 198.51.100.7 finds indicators naming 198.51.100.0/24. At most store.MaxSearchValues forms (an IPv6
// address and its 128 networks is the most). Empty for a blank value.
func SearchForms(value string) []string {
	s := strings.TrimSpace(value)
	if s == "" {
		return nil
	}
	var forms []string
	add := func(f string) {
		if f != "" && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	add(s)
	add(hashValue(s))
	add(strings.ToLower(s))
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		add(a.String())
		for bits := a.BitLen() - 1; bits >= 0; bits-- {
			add(netip.PrefixFrom(a, bits).Masked().String())
		}
		return forms
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		add(canonicalIP(s))
		return forms
	}
	add(canonicalDomain(s))
	if strings.Contains(s, "://") {
		add(canonicalURL(s))
	}
	if strings.Contains(s, "@") {
		add(normaliseObservable("email-addr", s))
	}
	if macPattern.MatchString(s) {
		add(normaliseObservable("mac-addr", s))
	}
	if cvePattern.MatchString(s) {
		add(strings.ToUpper(s))
	}
	if m := asPattern.FindStringSubmatch(s); m != nil {
		add(canonicalNumber(m[1]))
	}
	return forms
}
