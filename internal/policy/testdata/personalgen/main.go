// Command personalgen writes the labelled set the personal-data rule is measured on
// (../personal-data.jsonl): STIX objects with personal data put in by construction, each labelled
// with what was put where, and objects of ordinary threat intelligence with the numbers and words
// that look like personal data and are not. The labels come from how each object is built, never
// from running the detector.
//
// Phone numbers are the numbering plans' own example numbers (libphonenumber's metadata), so that
// every one is a number that can be dialled; IBANs and card numbers get their check digits
// computed here.
//
//	go run ./testdata/personalgen > testdata/personal-data.jsonl
package main

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// entry is one line of the set.
type entry struct {
	// Personal says whether the object carries personal data.
	Personal bool `json:"personal"`
	// Where is the JSON pointer of the personal data; empty when there is none.
	Where string `json:"where,omitempty"`
	// Kind and Spelling say what was put there and how it was written.
	Kind     string         `json:"kind"`
	Spelling string         `json:"spelling"`
	Object   map[string]any `json:"object"`
}

type gen struct {
	rnd *rand.Rand
	n   int
	out []entry
}

func main() {
	g := &gen{rnd: rand.New(rand.NewPCG(13, 2026))}
	g.positives()
	g.negatives()
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	for _, e := range g.out {
		if err := enc.Encode(e); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func (g *gen) id(typ string) string {
	g.n++
	return fmt.Sprintf("%s--%08x-%04x-4%03x-8%03x-%012x", typ, g.n, g.rnd.IntN(1<<16), g.rnd.IntN(1<<12), g.rnd.IntN(1<<12), g.rnd.Int64N(1<<48))
}

func (g *gen) sdo(typ string, props map[string]any) map[string]any {
	o := map[string]any{"type": typ, "spec_version": "2.1", "id": g.id(typ),
		"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z"}
	for k, v := range props {
		o[k] = v
	}
	return o
}

func (g *gen) sco(typ string, props map[string]any) map[string]any {
	o := map[string]any{"type": typ, "spec_version": "2.1", "id": g.id(typ)}
	for k, v := range props {
		o[k] = v
	}
	return o
}

func (g *gen) add(personal bool, where, kind, spelling string, o map[string]any) {
	g.out = append(g.out, entry{Personal: personal, Where: where, Kind: kind, Spelling: spelling, Object: o})
}

// value is a piece of personal data as written, with the kind and spelling it stands for.
type value struct{ text, kind, spelling string }

// place puts a sentence into an object: it returns the object and the pointer of the string.
type place func(g *gen, sentence string) (map[string]any, string)

var places = []struct {
	name string
	put  place
}{
	{"indicator description", func(g *gen, s string) (map[string]any, string) {
		return g.indicator(map[string]any{"description": s}), "/description"
	}},
	{"malware name", func(g *gen, s string) (map[string]any, string) {
		return g.sdo("malware", map[string]any{"name": s, "is_family": false}), "/name"
	}},
	{"label", func(g *gen, s string) (map[string]any, string) {
		return g.indicator(map[string]any{"labels": []any{"phishing", s}}), "/labels/1"
	}},
	{"note content", func(g *gen, s string) (map[string]any, string) {
		return g.sdo("note", map[string]any{"content": s, "object_refs": []any{g.id("indicator")}}), "/content"
	}},
	{"opinion explanation", func(g *gen, s string) (map[string]any, string) {
		return g.sdo("opinion", map[string]any{"opinion": "agree", "explanation": s, "object_refs": []any{g.id("report")}}), "/explanation"
	}},
	{"external reference", func(g *gen, s string) (map[string]any, string) {
		return g.sdo("report", map[string]any{"name": "Weekly summary", "published": "2026-01-02T00:00:00Z",
			"object_refs":         []any{g.id("indicator")},
			"external_references": []any{map[string]any{"source_name": "ticket", "description": s}}}), "/external_references/0/description"
	}},
	{"custom property", func(g *gen, s string) (map[string]any, string) {
		return g.indicator(map[string]any{"x_analyst_comment": s}), "/x_analyst_comment"
	}},
	{"nested custom property", func(g *gen, s string) (map[string]any, string) {
		return g.indicator(map[string]any{"x_case": map[string]any{"history": []any{map[string]any{"entry": s}}}}), "/x_case/history/0/entry"
	}},
	{"extension", func(g *gen, s string) (map[string]any, string) {
		return g.indicator(map[string]any{"extensions": map[string]any{"x-acme-case-ext": map[string]any{
			"extension_type": "property-extension", "case_summary": s}}}), "/extensions/x-acme-case-ext/case_summary"
	}},
	{"email subject", func(g *gen, s string) (map[string]any, string) {
		return g.sco("email-message", map[string]any{"is_multipart": false, "subject": s}), "/subject"
	}},
	{"identity contact", func(g *gen, s string) (map[string]any, string) {
		return g.sdo("identity", map[string]any{"name": "Ministry of Transport", "identity_class": "organization",
			"contact_information": s}), "/contact_information"
	}},
}

func (g *gen) indicator(props map[string]any) map[string]any {
	p := map[string]any{"name": "Phishing sender", "indicator_types": []any{"malicious-activity"},
		"pattern": "[domain-name:value = 'login-verify.example.net']", "pattern_type": "stix",
		"valid_from": "2026-01-01T00:00:00Z"}
	for k, v := range props {
		p[k] = v
	}
	return g.sdo("indicator", p)
}

// Sentences around personal data, in the styles of reports, tickets and notes.
var carriers = []string{
	"Reported by %s on Monday.",
	"contact: %s",
	"%s",
	"The victim (%s) forwarded the lure.",
	"Escalated to %s; awaiting reply",
	"Owner of the account: %s.",
	"see also %s for details",
}

func (g *gen) positives() {
	var vals []value
	vals = append(vals, emails()...)
	vals = append(vals, phones()...)
	vals = append(vals, g.ibans()...)
	vals = append(vals, g.cards()...)
	vals = append(vals, cued()...)
	for i, v := range vals {
		p := places[i%len(places)]
		sentence := fmt.Sprintf(carriers[i%len(carriers)], v.text)
		if v.kind == "cued" {
			sentence = v.text
		}
		o, where := p.put(g, sentence)
		g.add(true, where, v.kind, v.spelling+" in "+p.name, o)
	}

	// Properties whose name says what they hold.
	named := []struct{ key, val, kind string }{
		{"x_date_of_birth", "1980-03-12", "birth"}, {"x_dob", "12/03/1980", "birth"}, {"x_birth_date", "12 March 1980", "birth"},
		{"x_passport_number", "P4366918", "passport"}, {"x_passport", "AB1234567", "passport"},
		{"x_national_id", "850312-1234", "national-id"}, {"x_ssn", "078-05-1120", "national-id"},
		{"x_street_address", "12 Rue de la Loi", "address"}, {"x_home_address", "Hauptstraße 5, 10115 Berlin", "address"},
		{"x_postal_code", "1040", "address"}, {"x_phone", "02 299 11 11", "phone"}, {"x_mobile", "+81 90-1234-5678", "phone"},
	}
	for _, n := range named {
		o := g.sdo("identity", map[string]any{"name": "Case 4471", "identity_class": "organization", n.key: n.val})
		g.add(true, "/"+n.key, n.kind, "named property "+n.key, o)
		o = g.sdo("note", map[string]any{"content": "case file", "object_refs": []any{g.id("identity")},
			"x_subject": map[string]any{strings.TrimPrefix(n.key, "x_"): n.val}})
		g.add(true, "/x_subject/"+strings.TrimPrefix(n.key, "x_"), n.kind, "nested named property "+n.key, o)
	}
	for _, addr := range []map[string]any{
		{"street_address": "12 Rue de la Loi", "city": "Brussels", "country": "BE"},
		{"street_address": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin", "country": "DE"},
		{"street_address": "1-2-3 Kasumigaseki, Chiyoda-ku", "country": "JP"},
	} {
		g.add(true, "/street_address", "address", "location street address", g.sdo("location", addr))
	}

	// Objects that are personal data as a whole.
	for _, class := range []string{"individual", "Individual", "INDIVIDUAL", " individual ", "person", "unknown", "\u0456ndividual", "ｉｎｄｉｖｉｄｕａｌ"} {
		g.add(true, "/identity_class", "identity-class", fmt.Sprintf("identity_class %q", class),
			g.sdo("identity", map[string]any{"name": "Case 42", "identity_class": class}))
	}
	for _, e := range []string{"jane.doe@example.org", "ops@cert.example"} {
		g.add(true, "/type", "email-addr", "email-addr object", g.sco("email-addr", map[string]any{"value": e}))
	}
	g.add(true, "/type", "user-account", "user-account object", g.sco("user-account", map[string]any{"user_id": "jdoe", "account_login": "jdoe"}))

	// Places that hold one kind only.
	for _, e := range []string{"phish@example.org", "j.smith@gov.example", "ceo@xn--80ak6aa92e.com", "jane@exаmple.org"} {
		o := g.indicator(map[string]any{"pattern": "[email-message:from_ref.value = '" + e + "']"})
		g.add(true, "/pattern", "email", "pattern literal", o)
	}
	g.add(true, "/pattern", "phone", "pattern literal", g.indicator(map[string]any{"pattern": "[x-acme-phone:number = '+32 2 299 11 11']"}))
	for _, s := range []string{"C=BE, O=Example, CN=Jane Doe/emailAddress=jane.doe@example.org", "emailAddress=ops@cert.example, CN=ops"} {
		g.add(true, "/subject", "email", "x509 subject", g.sco("x509-certificate", map[string]any{"subject": s}))
	}
	for _, u := range []string{"mailto:jane.doe@example.org", "https://portal.example.net/reset?user=jane.doe%40example.org", "tel:+3222991111", "https://jane.doe@portal.example.net/"} {
		g.add(true, "/value", "url", "url value", g.sco("url", map[string]any{"value": u}))
	}
}

func emails() []value {
	return []value{
		{"jane.doe@example.org", "email", "plain"},
		{"Jane.Doe@Example.ORG", "email", "upper case"},
		{"jane.doe+phish@example.org", "email", "sub-address"},
		{"jane.doe＠example.org", "email", "full-width at"},
		{"jane.doe﹫example.org", "email", "small at"},
		{"ja\u200bne.doe@exam\u200bple.org", "email", "zero-width spaces"},
		{"jane.doe@exam\u00adple.org", "email", "soft hyphen"},
		{"jane\u200d.doe@example.org", "email", "zero-width joiner"},
		{"jane.doe@ex\u0430mple.org", "email", "Cyrillic a in domain"},
		{"j\u0430ne.doe@example.org", "email", "Cyrillic a in local part"},
		{"jane@пример.рф", "email", "Cyrillic IDN"},
		{"jane@xn--e1afmkfd.xn--p1ai", "email", "punycode IDN"},
		{"jürgen@müller.de", "email", "accented IDN"},
		{"王伟@例子.中国", "email", "CJK IDN"},
		{"王伟@例子。中国", "email", "ideographic full stop"},
		{`"jane doe"@example.org`, "email", "quoted local part"},
		{"jane[at]example[.]org", "email", "defanged [at]"},
		{"jane.doe[@]example[.]org", "email", "defanged [@]"},
		{"jane (at) example (dot) org", "email", "defanged (at)"},
		{"jane.doe%40example.org", "email", "percent-encoded"},
		{"jane.doe&#64;example.org", "email", "HTML entity"},
		{"ｊａｎｅ＠ｅｘａｍｐｌｅ．ｏｒｇ", "email", "all full-width"},
		{"mailto:jane.doe@example.org", "email", "mailto"},
		{"<jane.doe@example.org>", "email", "angle brackets"},
		{"jane_doe-77@mail.example.co.uk", "email", "digits and sub-domains"},
	}
}

// phones returns example numbers of several numbering plans in the ways people write them.
func phones() []value {
	var out []value
	arabic := strings.NewReplacer("0", "٠", "1", "١", "2", "٢", "3", "٣", "4", "٤", "5", "٥", "6", "٦", "7", "٧", "8", "٨", "9", "٩")
	full := strings.NewReplacer("0", "０", "1", "１", "2", "２", "3", "３", "4", "４", "5", "５", "6", "６", "7", "７", "8", "８", "9", "９", "+", "＋")
	deva := strings.NewReplacer("0", "०", "1", "१", "2", "२", "3", "३", "4", "४", "5", "५", "6", "६", "7", "७", "8", "८", "9", "९")
	for i, region := range []string{"BE", "DE", "FR", "NL", "GB", "IT", "ES", "PL", "JP", "CN", "US", "CH", "SE", "AT", "IE", "KR"} {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE} {
			num := phonenumbers.GetExampleNumberForType(region, typ)
			if num == nil {
				continue
			}
			intl := phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
			e164 := phonenumbers.Format(num, phonenumbers.E164)
			national := phonenumbers.Format(num, phonenumbers.NATIONAL)
			var v value
			switch (i*2 + int(typ)) % 9 {
			case 0:
				v = value{intl, "phone", "international " + region}
			case 1:
				v = value{e164, "phone", "E.164 " + region}
			case 2:
				v = value{"00" + e164[1:], "phone", "00 prefix " + region}
			case 3:
				v = value{strings.ReplaceAll(intl, " ", "/"), "phone", "slashes " + region}
			case 4:
				v = value{strings.ReplaceAll(intl, " ", "."), "phone", "dots " + region}
			case 5:
				v = value{arabic.Replace(intl), "phone", "Arabic-Indic digits " + region}
			case 6:
				v = value{full.Replace(intl), "phone", "full-width digits " + region}
			case 7:
				v = value{"tel. " + national, "phone", "national after a cue " + region}
			case 8:
				v = value{deva.Replace(intl), "phone", "Devanagari digits " + region}
			}
			out = append(out, v)
		}
	}
	out = append(out,
		value{"+32/2/299/11/11", "phone", "slashes BE"},
		value{"+32 2 29\u200b9 11 11", "phone", "zero-width space"},
		value{"(030) 1234 5678", "phone", "area code in parentheses"},
		value{"tel:+3222991111", "phone", "tel link"},
		value{"+1 (212) 736-5000", "phone", "NANP international"},
		value{"212-736-5000", "phone", "NANP national"},
	)
	return out
}

// ibans builds valid IBANs for several countries, their check digits computed here.
func (g *gen) ibans() []value {
	formats := []struct{ country, bban string }{
		{"BE", "nnnnnnnnnnnn"}, {"DE", "nnnnnnnnnnnnnnnnnn"}, {"FR", "nnnnnnnnnnnnnnnnnnnnnnn"}, {"NL", "AAAAnnnnnnnnnn"},
		{"GB", "AAAAnnnnnnnnnnnnnn"}, {"ES", "nnnnnnnnnnnnnnnnnnnn"}, {"IT", "Annnnnnnnnnnnnnnnnnnnnn"}, {"PL", "nnnnnnnnnnnnnnnnnnnnnnnn"},
	}
	var out []value
	for i, f := range formats {
		for k := range 2 {
			code := g.iban(f.country, f.bban)
			v := value{code, "iban", "compact " + f.country}
			switch (i + k) % 4 {
			case 1:
				v = value{group4(code), "iban", "groups of four " + f.country}
			case 2:
				v = value{"IBAN " + group4(code), "iban", "after IBAN " + f.country}
			case 3:
				v = value{strings.ToLower(group4(code)), "iban", "lower case " + f.country}
			}
			out = append(out, v)
		}
	}
	return out
}

func (g *gen) iban(country, format string) string {
	bban := make([]byte, len(format))
	for i, c := range format {
		if c == 'A' {
			bban[i] = byte('A' + g.rnd.IntN(26))
		} else {
			bban[i] = byte('0' + g.rnd.IntN(10))
		}
	}
	var digits strings.Builder
	for _, c := range string(bban) + country + "00" {
		if c >= 'A' && c <= 'Z' {
			fmt.Fprintf(&digits, "%d", c-'A'+10)
		} else {
			digits.WriteRune(c)
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	check := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("%s%02d%s", country, check, bban)
}

func group4(s string) string {
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), " ")
}

// cards builds Luhn-valid numbers of several schemes.
func (g *gen) cards() []value {
	schemes := []struct {
		prefix string
		length int
	}{{"4", 16}, {"51", 16}, {"55", 16}, {"2221", 16}, {"34", 15}, {"37", 15}, {"6011", 16}, {"4", 13}, {"35", 16}, {"62", 16}}
	var out []value
	for i, s := range schemes {
		num := g.luhnNumber(s.prefix, s.length)
		v := value{num, "card", "compact"}
		switch i % 4 {
		case 1:
			v = value{group4(num), "card", "groups of four"}
		case 2:
			v = value{strings.ReplaceAll(group4(num), " ", "-"), "card", "hyphens"}
		case 3:
			v = value{strings.NewReplacer("0", "０", "1", "１", "2", "２", "3", "３", "4", "４", "5", "５", "6", "６", "7", "７", "8", "８", "9", "９").Replace(group4(num)),
				"card", "full-width digits"}
		}
		out = append(out, v)
	}
	return out
}

func (g *gen) luhnNumber(prefix string, length int) string {
	b := []byte(prefix)
	for len(b) < length-1 {
		b = append(b, byte('0'+g.rnd.IntN(10)))
	}
	sum := 0
	for i := range b {
		d := int(b[len(b)-1-i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return string(append(b, byte('0'+(10-sum%10)%10)))
}

// cued is personal data that only the words around it make so.
func cued() []value {
	return []value{
		{"DOB: 12.03.1980", "cued", "date of birth"},
		{"d.o.b. 1980-03-12", "cued", "date of birth"},
		{"Date of birth: 03/12/1980, nationality unknown", "cued", "date of birth"},
		{"The suspect was born on 12 March 1980 in Kyiv.", "cued", "date of birth"},
		{"born 1980-03-12", "cued", "date of birth"},
		{"né le 12/03/1980 à Lyon", "cued", "date of birth"},
		{"geboren am 12.03.1980", "cued", "date of birth"},
		{"birth date ١٢.٠٣.١٩٨٠", "cued", "date of birth in Arabic-Indic digits"},
		{"Passport No. P4366918, issued 2019", "cued", "passport number"},
		{"passport number: AB1234567", "cued", "passport number"},
		{"travelled on passeport 12AB34567", "cued", "passport number"},
		{"Reisepass C01X00T47", "cued", "passport number"},
		{"national ID 850312-1234", "cued", "national identity number"},
		{"SSN: 078-05-1120", "cued", "national identity number"},
		{"BSN 123456782", "cued", "national identity number"},
		{"PESEL 44051401359", "cued", "national identity number"},
		{"personnummer 19850312-1234", "cued", "national identity number"},
		{"identity card 591-8806-12", "cued", "national identity number"},
		{"national insurance QQ123456C", "cued", "national identity number"},
		{"lives at 12 Rue de la Loi, 1040 Brussels.", "cued", "postal address"},
		{"home address: Hauptstraße 5, 10115 Berlin", "cued", "postal address"},
		{"resides at 221B Baker Street, London NW1 6XE; moved 2024", "cued", "postal address"},
		{"postal address Keizersgracht 123, 1015 CJ Amsterdam", "cued", "postal address"},
		{"wohnhaft in Musterweg 7, 80331 München", "cued", "postal address"},
	}
}

// negatives are objects of ordinary threat intelligence, with the numbers and words that look
// like personal data and are not.
func (g *gen) negatives() {
	texts := []string{
		"MD5 d41d8cd98f00b204e9800998ecf8427e",
		"SHA-256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"SHA-1 da39a3ee5e6b4b0d3255bfef95601890afd80709 dropped by the loader",
		"C2 at 198.51.100.23:8443",
		"beacons to 203.0.113.50 every 300 seconds",
		"scanning from 192.0.2.0/24 and 198.51.100.0/22",
		"IPv6 C2 2001:db8:85a3::8a2e:370:7334 port 443",
		"first seen 2026-01-01T00:00:00.000Z",
		"last seen 2026-03-14 12:00:05 UTC",
		"uses T1059.001 (PowerShell) and T1566.002",
		"tactic TA0002, technique T1204.002",
		"exploits CVE-2024-12345 and CVE-2023-4863",
		"affects version 10.2.1.4471 and earlier",
		"build 20260101.1 of the agent, version 4.1.7",
		"epoch 1700000000000 in the beacon header",
		"12345678 events in 24 hours",
		"10 000 000 hits across 2 500 hosts",
		"sample 00000000-0000-4000-8000-000000000001",
		"see report 9f1c2d3e-4b5a-4978-8695-a4b3c2d1e0f9",
		"Passport-themed phishing campaign of 2024 targeting visa applicants",
		"the loader was born in 2019 as a fork of Emotet",
		"@apt_watcher posted about it; package left-pad@1.3.0 was swapped",
		"ransom of 0.5 BTC to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
		"home address space of the process at 0x7ffd4e2a1000",
		"registry key HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\updater",
		"writes C:\\Users\\Public\\Libraries\\svc64.dll (184320 bytes)",
		"MAC 00:1A:2B:3C:4D:5E seen on the segment",
		"hosted in AS13335 and AS16509",
		"domain login-verify.example.net resolves to 198.51.100.7",
		"URL https://cdn.example.net/assets/v2/loader.js?id=88123",
		"payload size 2 097 152 bytes, entropy 7.98",
		"YARA rule APT_Loader_2026_01 matched 14 of 15 strings",
		"Windows build 10.0.19045.3803",
		"the DGA produces 1 000 domains a day, seed 0x5eed1234",
		"TLP:AMBER+STRICT, PAP:GREEN",
		"timeline: 2026-01-04 initial access, 2026-01-06 lateral movement",
		"port range 49152-65535 used for exfiltration",
		"JA3 e7d705a3286e19ea42f587b344ee6865",
		"certificate serial 0c:e7:e0:e5:17:d8:46:fe:8f:e5:60:fc:1b:f0:30:39",
		"GUID {4590F811-1D3A-11D0-891F-00AA004B2E24} used for persistence",
		"mutex Global\\9a3c1f57-0001",
		"the campaign hit 3 ministries and 12 agencies in 2025",
		"CVSS 9.8, EPSS 0.97, KEV since 2024-11-19",
		"callback interval 3600000 ms",
		"victims in 27 countries, 1 234 organisations",
		"ASN 4134 routes 218.92.0.0/16",
		"malware family Agent Tesla, variant 3.2.1",
		"score 85 out of 100 (confidence 70)",
		"IOC batch 2026-11 of 2 500 entries",
		"the installer is 15 728 640 bytes",
		"ticket INC-2026-004711 closed",
		"the implant listens on 0.0.0.0:31337",
		"ISO 27001 controls A.12.4.1 and A.16.1.2",
		"order 66 was executed at 04:00",
		"Firmware 2.11.0.1234 on 40 routers",
		"spear phishing aimed at the Ministry's press office",
		"the group rents servers from a bulletproof host",
		"address 0x00401000 is the entry point",
		"reachable at hxxps://login-verify[.]example[.]net",
		"email security gateway blocked 4 400 messages",
	}
	for i, text := range texts {
		for j, p := range places[:4] {
			if (i+j)%2 == 1 {
				continue
			}
			o, _ := p.put(g, text)
			g.add(false, "", "none", "hard negative in "+p.name, o)
		}
		if i%3 == 0 {
			o, _ := places[6+i%5].put(g, text)
			g.add(false, "", "none", "hard negative in "+places[6+i%5].name, o)
		}
	}
	for _, class := range []string{"organization", "Organization", "group", "class", "system"} {
		g.add(false, "", "none", "identity_class "+class, g.sdo("identity", map[string]any{"name": "CERT-EU", "identity_class": class,
			"contact_information": "via the TAXII hub"}))
	}
	for _, loc := range []map[string]any{
		{"country": "BE", "region": "europe"}, {"latitude": 50.85, "longitude": 4.35}, {"city": "Brussels", "country": "BE"},
	} {
		g.add(false, "", "none", "location without an address", g.sdo("location", loc))
	}
	for _, pat := range []string{
		"[ipv4-addr:value = '198.51.100.23']", "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
		"[domain-name:value = 'c2-4471.example.net'] OR [url:value = 'https://c2.example.net:8443/gate.php?id=2026']",
		"[network-traffic:dst_port = 31337 AND network-traffic:dst_ref.value = '203.0.113.5']",
		"[process:pid = 4471] WITHIN 300 SECONDS", "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Run']",
	} {
		g.add(false, "", "none", "pattern", g.indicator(map[string]any{"pattern": pat}))
	}
	for _, u := range []string{"https://cdn.example.net/a/b/2026/01/loader.bin", "http://198.51.100.23:8080/gate.php?bot=0001"} {
		g.add(false, "", "none", "url value", g.sco("url", map[string]any{"value": u}))
	}
	for _, s := range []string{"C=US, O=Let's Encrypt, CN=R3", "CN=*.example.net, O=Example Hosting Ltd, L=Dublin, C=IE"} {
		g.add(false, "", "none", "x509 subject", g.sco("x509-certificate", map[string]any{"subject": s, "serial_number": "03:a1:7c:44:90:12"}))
	}
}
