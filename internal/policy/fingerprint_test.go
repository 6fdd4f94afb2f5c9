package policy

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"taxiihub/internal/stix/pattern"
)

// cncertIndicator is the original every variant below is judged against.
const cncertIndicator = `{"type":"indicator","spec_version":"2.1","id":"indicator--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",` +
	`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Café C2 relay",` +
	`"labels":["c2","apt"],"pattern":"[ipv4-addr:value = '198.51.100.1'] AND [file:hashes.'SHA-256' = 'aaaa000000000000000000000000000000000000000000000000000000000000'] AND [network-traffic:dst_port = 3]",` +
	`"pattern_type":"stix","valid_from":"2026-01-01T00:00:00.000Z","created_by_ref":"identity--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f8"}`

// variant returns the original with the changes applied to its decoded form.
func variant(t *testing.T, change func(o map[string]any)) map[string]any {
	t.Helper()
	o, err := decode([]byte(cncertIndicator))
	if err != nil {
		t.Fatal(err)
	}
	change(o)
	return o
}

func TestIndicatorFingerprintSurvivesTrivialEdits(t *testing.T) {
	original := ContentOf(variant(t, func(map[string]any) {}), nil).Fingerprint
	if !strings.HasPrefix(original, FingerprintScheme) {
		t.Fatalf("fingerprint %q lacks the scheme prefix", original)
	}
	same := map[string]func(o map[string]any){
		"another id, author and times": func(o map[string]any) {
			o["id"] = "indicator--11111111-4b5a-4978-8695-a4b3c2d1e0f9"
			o["created_by_ref"] = "identity--22222222-4b5a-4978-8695-a4b3c2d1e0f9"
			o["created"], o["modified"] = "2026-03-01T00:00:00.000Z", "2026-03-02T00:00:00.000Z"
		},
		"whitespace inside the pattern": func(o map[string]any) {
			o["pattern"] = "[ ipv4-addr:value   =   '198.51.100.1' ]\n  AND\t[file:hashes.'SHA-256'='aaaa000000000000000000000000000000000000000000000000000000000000']  AND [network-traffic:dst_port=3]"
		},
		"trailing space in the name": func(o map[string]any) { o["name"] = "Café C2 relay " },
		"upper-case name":            func(o map[string]any) { o["name"] = "CAFÉ C2 RELAY" },
		"NFD name":                   func(o map[string]any) { o["name"] = norm.NFD.String("Café C2 relay") },
		"re-ordered labels":          func(o map[string]any) { o["labels"] = []any{"apt", "c2"} },
		"an extra label":             func(o map[string]any) { o["labels"] = []any{"c2", "apt", "shared"} },
		"valid_from moved by 1 ms":   func(o map[string]any) { o["valid_from"] = "2026-01-01T00:00:00.001Z" },
		"3 written as 3.0":           func(o map[string]any) { o["pattern"] = strings.Replace(o["pattern"].(string), "= 3", "= 3.0", 1) },
		"added kill_chain_phases": func(o map[string]any) {
			o["kill_chain_phases"] = []any{map[string]any{"kill_chain_name": "lockheed", "phase_name": "c2"}}
		},
		"a custom property": func(o map[string]any) { o["x_opencti_score"] = json.Number("50") },
		"operands of AND re-ordered": func(o map[string]any) {
			o["pattern"] = "[network-traffic:dst_port = 3] AND [file:hashes.'SHA-256' = 'aaaa000000000000000000000000000000000000000000000000000000000000'] AND [ipv4-addr:value = '198.51.100.1']"
		},
		"hash name and digest case": func(o map[string]any) {
			o["pattern"] = strings.Replace(strings.Replace(o["pattern"].(string), "'SHA-256'", "SHA256", 1), "aaaa", "AAAA", 1)
		},
		"IPv4 as a /32": func(o map[string]any) {
			o["pattern"] = strings.Replace(o["pattern"].(string), "198.51.100.1'", "198.51.100.1/32'", 1)
		},
		"redundant parentheses": func(o map[string]any) {
			o["pattern"] = "([ipv4-addr:value = '198.51.100.1'] AND [file:hashes.'SHA-256' = 'aaaa000000000000000000000000000000000000000000000000000000000000']) AND ([network-traffic:dst_port = 3])"
		},
		"pattern_type in upper case": func(o map[string]any) { o["pattern_type"] = "STIX" },
	}
	for name, change := range same {
		o := variant(t, change)
		parsed, err := pattern.Parse(o["pattern"].(string))
		if err != nil {
			t.Fatalf("%s: the variant's pattern does not parse: %v", name, err)
		}
		if got := ContentOf(o, parsed).Fingerprint; got != original {
			t.Errorf("%s: fingerprint %s, want the original's %s", name, got, original)
		}
		// The fingerprint is the same whether the caller hands the parse over or not.
		if got := ContentOf(o, nil).Fingerprint; got != original {
			t.Errorf("%s: fingerprint without the parse %s, want %s", name, got, original)
		}
	}
	other := map[string]func(o map[string]any){
		"another address": func(o map[string]any) {
			o["pattern"] = strings.Replace(o["pattern"].(string), "198.51.100.1", "198.51.100.2", 1)
		},
		"OR instead of AND":     func(o map[string]any) { o["pattern"] = strings.ReplaceAll(o["pattern"].(string), "AND", "OR") },
		"another port":          func(o map[string]any) { o["pattern"] = strings.Replace(o["pattern"].(string), "= 3", "= 4", 1) },
		"another pattern type":  func(o map[string]any) { o["pattern_type"] = "sigma" },
		"a string, not a value": func(o map[string]any) { o["pattern"] = strings.Replace(o["pattern"].(string), "= 3", "= '3'", 1) },
	}
	for name, change := range other {
		if got := ContentOf(variant(t, change), nil).Fingerprint; got == original {
			t.Errorf("%s: same fingerprint as the original, want another", name)
		}
	}
}

func TestFollowedByKeepsItsOrder(t *testing.T) {
	a, _ := pattern.Parse("[ipv4-addr:value = '198.51.100.1'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.2']")
	b, _ := pattern.Parse("[ipv4-addr:value = '198.51.100.2'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.1']")
	if canonicalPattern(a) == canonicalPattern(b) {
		t.Errorf("FOLLOWEDBY operands commuted: %s", canonicalPattern(a))
	}
	nested, _ := pattern.Parse("[a:b = 1] AND (([a:b = 2] AND [a:c = 3]) AND [a:d = 4])")
	flat, _ := pattern.Parse("[a:d = 4.0] AND [a:c = 3] AND [a:b = 2] AND [a:b = 1]")
	if canonicalPattern(nested) != canonicalPattern(flat) {
		t.Errorf("nested AND not flattened: %s, %s", canonicalPattern(nested), canonicalPattern(flat))
	}
	inner, _ := pattern.Parse("[a:b = 1 AND (a:c = 2 AND a:d = 3)]")
	innerFlat, _ := pattern.Parse("[a:d = 3 AND a:c = 2 AND a:b = 1]")
	if canonicalPattern(inner) != canonicalPattern(innerFlat) {
		t.Errorf("nested comparisons not flattened: %s, %s", canonicalPattern(inner), canonicalPattern(innerFlat))
	}
	c, _ := pattern.Parse("([a:b = 1] OR [a:b = 2]) AND [a:c = 3]")
	d, _ := pattern.Parse("[a:b = 1] OR ([a:b = 2] AND [a:c = 3])")
	if canonicalPattern(c) == canonicalPattern(d) {
		t.Errorf("grouping lost: %s", canonicalPattern(c))
	}
}

func TestObservableFingerprints(t *testing.T) {
	fp := func(raw string) string {
		o, err := decode([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return ContentOf(o, nil).Fingerprint
	}
	same := [][2]string{
		{`{"type":"domain-name","id":"domain-name--1","value":"Example.COM."}`, `{"type":"domain-name","id":"domain-name--2","value":"example.com"}`},
		{`{"type":"domain-name","id":"domain-name--1","value":"bücher.example"}`, `{"type":"domain-name","id":"domain-name--2","value":"xn--bcher-kva.example"}`},
		{`{"type":"ipv6-addr","id":"ipv6-addr--1","value":"2001:DB8:0:0:0:0:0:1"}`, `{"type":"ipv6-addr","id":"ipv6-addr--2","value":"2001:db8::1"}`},
		{`{"type":"ipv4-addr","id":"ipv4-addr--1","value":"198.51.100.7/24"}`, `{"type":"ipv4-addr","id":"ipv4-addr--2","value":"198.51.100.0/24"}`},
		{`{"type":"file","id":"file--1","hashes":{"SHA-256":"AAAA000000000000000000000000000000000000000000000000000000000000"}}`,
			`{"type":"file","id":"file--2","hashes":{"SHA256":"aaaa000000000000000000000000000000000000000000000000000000000000"},"size":12}`},
		{`{"type":"url","id":"url--1","value":"HTTPS://Evil.Example:443"}`, `{"type":"url","id":"url--2","value":"https://evil.example/"}`},
		{`{"type":"email-addr","id":"email-addr--1","value":"ops@EXAMPLE.org"}`, `{"type":"email-addr","id":"email-addr--2","value":"ops@example.org"}`},
	}
	for _, p := range same {
		if fp(p[0]) != fp(p[1]) {
			t.Errorf("%s and %s: different fingerprints", p[0], p[1])
		}
	}
	differ := [][2]string{
		{`{"type":"url","id":"url--1","value":"https://evil.example/A"}`, `{"type":"url","id":"url--2","value":"https://evil.example/a"}`},
		{`{"type":"email-addr","id":"email-addr--1","value":"Ops@example.org"}`, `{"type":"email-addr","id":"email-addr--2","value":"ops@example.org"}`},
		{`{"type":"domain-name","id":"domain-name--1","value":"example.com"}`, `{"type":"domain-name","id":"domain-name--2","value":"example.org"}`},
	}
	for _, p := range differ {
		if fp(p[0]) == fp(p[1]) {
			t.Errorf("%s and %s: the same fingerprint", p[0], p[1])
		}
	}
}

func TestObjectFingerprintsFoldTextAndIgnoreAnnotations(t *testing.T) {
	fp := func(raw string) string {
		o, err := decode([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return ContentOf(o, nil).Fingerprint
	}
	a := fp(`{"type":"malware","id":"malware--1","name":"Shadow Pad","description":"A modular backdoor.","is_family":true,"malware_types":["backdoor","remote-access-trojan"]}`)
	b := fp(`{"type":"malware","id":"malware--2","name":" shadow  PAD ","description":"A  modular backdoor.","is_family":true,"malware_types":["remote-access-trojan","backdoor"],"aliases":["SP"],"labels":["x"],"first_seen":"2020-01-01T00:00:00Z"}`)
	c := fp(`{"type":"malware","id":"malware--3","name":"Shadow Pad","description":"Another backdoor.","is_family":true,"malware_types":["backdoor","remote-access-trojan"]}`)
	if a != b {
		t.Errorf("the same malware with folded text and annotations has another fingerprint")
	}
	if a == c {
		t.Errorf("another description, the same fingerprint")
	}
	if fp(`{"type":"marking-definition","id":"`+tlp1Amber+`"}`) != "" {
		t.Errorf("a TLP marking definition has a fingerprint: no partnership may own it")
	}
}

func TestEmbeddedOriginalsAreFound(t *testing.T) {
	original, _ := decode([]byte(cncertIndicator))
	want := ContentOf(original, nil).Fingerprint
	escaped, _ := json.Marshal(cncertIndicator)
	for name, raw := range map[string]string{
		"in an x_ property":       `{"type":"note","id":"note--1","content":"see attached","object_refs":["indicator--9"],"x_original":` + cncertIndicator + `}`,
		"as a JSON string":        `{"type":"note","id":"note--1","content":"see attached","object_refs":["indicator--9"],"x_original":` + string(escaped) + `}`,
		"in an extension's list":  `{"type":"note","id":"note--1","content":"c","object_refs":["indicator--9"],"extensions":{"x-ext":{"extension_type":"property-extension","items":[` + cncertIndicator + `]}}}`,
		"without its id":          `{"type":"note","id":"note--1","content":"c","object_refs":["indicator--9"],"x_copy":` + strings.Replace(cncertIndicator, `"id":"indicator--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",`, "", 1) + `}`,
		"in a bundle in a bundle": `{"type":"note","id":"note--1","content":"c","object_refs":["indicator--9"],"x_bundle":{"type":"bundle","id":"bundle--1","objects":[` + cncertIndicator + `]}}`,
	} {
		o, err := decode([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := ContentOf(o, nil)
		keys := strings.Join(c.Keys("note--1"), " ")
		if !strings.Contains(keys, "fp:"+want) || name != "without its id" && !strings.Contains(keys, "id:indicator--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9") {
			t.Errorf("%s: keys %s lack the embedded indicator's", name, keys)
		}
	}
	// Bounded: an object packed with embedded objects is judged on the first MaxEmbedded.
	var b strings.Builder
	b.WriteString(`{"type":"note","id":"note--1","content":"c","object_refs":["indicator--9"],"x_many":[`)
	for i := range 3 * MaxEmbedded {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.Replace(cncertIndicator, "198.51.100.1", "198.51.100."+strings.Repeat("1", 1+i%2), 1))
	}
	b.WriteString(`]}`)
	o, _ := decode([]byte(b.String()))
	if n := len(ContentOf(o, nil).Embedded); n != MaxEmbedded {
		t.Errorf("%d embedded objects fingerprinted, want the bound %d", n, MaxEmbedded)
	}
}

func TestLegacyFingerprintIsTheFirstScheme(t *testing.T) {
	// The first scheme hashed the canonical JSON without the submitter's fields: a new name is
	// new content to it, and its fingerprints carry no scheme prefix.
	a := LegacyFingerprint([]byte(cncertIndicator))
	b := LegacyFingerprint([]byte(strings.Replace(cncertIndicator, "Café C2 relay", "Café C2 relay ", 1)))
	if a == "" || a == b || strings.HasPrefix(a, FingerprintScheme) {
		t.Errorf("legacy fingerprints %q %q", a, b)
	}
}

func TestContentWithoutDefiningPropertiesHasNoCommonFingerprint(t *testing.T) {
	fp := func(raw string) string {
		o, err := decode([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return ContentOf(o, nil).Fingerprint
	}
	// Nothing defines it: no fingerprint, rather than one every such object shares.
	if got := fp(`{"type":"sighting","id":"sighting--1","labels":["x"]}`); got != "" {
		t.Errorf("a sighting without defining properties has fingerprint %s", got)
	}
	a := fp(`{"type":"sighting","id":"sighting--1","sighting_of_ref":"indicator--9","first_seen":"2026-01-01T00:00:00Z"}`)
	b := fp(`{"type":"sighting","id":"sighting--2","sighting_of_ref":"indicator--9","first_seen":"2026-02-01T00:00:00Z"}`)
	if a == "" || a == b {
		t.Errorf("sightings of one indicator at other times: %q %q", a, b)
	}
	// An observable without identifying properties is identified by all it says.
	c := fp(`{"type":"file","id":"file--1","size":1024,"mime_type":"application/zip"}`)
	d := fp(`{"type":"file","id":"file--2","size":2048,"mime_type":"application/zip"}`)
	if c == "" || c == d {
		t.Errorf("files known by size only: %q %q", c, d)
	}
}
