package policy

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/store"
)

// sco builds a cyber observable (no created or modified) from its type and properties.
func sco(typ, props string) []byte {
	return []byte(`{"type":"` + typ + `","spec_version":"2.1","id":"` + typ + `--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",` + props + `}`)
}

// TestPersonalDataBypasses holds every way a partner slipped personal data past the rule as it
// was (issue 13), each now refused in reject mode at the path named.
func TestPersonalDataBypasses(t *testing.T) {
	reject := Rules{Partnership: store.PartnershipPolicy{PersonalData: store.PersonalDataReject}}
	cases := []struct {
		name   string
		object []byte
		path   string
	}{
		{"a full-width at sign", obj("indicator", `"description":"reported by jane.doe＠example.org"`), "/description"},
		{"a small at sign", obj("indicator", `"description":"reported by jane.doe﹫example.org"`), "/description"},
		{"a zero-width space inside an address", obj("indicator", `"description":"reported by jane.d\u200boe@exam\u200bple.org"`), "/description"},
		{"a soft hyphen inside an address", obj("indicator", `"description":"reported by jane.doe@exam\u00adple.org"`), "/description"},
		{"a zero-width joiner before the at sign", obj("note", `"content":"jane\u200d@example.org","object_refs":["indicator--1"]`), "/content"},
		{"a Cyrillic letter in the domain", obj("indicator", `"description":"mail jane@ex\u0430mple.org"`), "/description"},
		{"an IDN domain in Cyrillic", obj("indicator", `"description":"mail jane@пример.рф"`), "/description"},
		{"an IDN domain in punycode", obj("indicator", `"description":"mail jane@xn--e1afmkfd.xn--p1ai"`), "/description"},
		{"an IDN domain in CJK with an ideographic full stop", obj("indicator", `"description":"mail 王@例子。中国"`), "/description"},
		{"a quoted local part", obj("indicator", `"description":"mail \"jane doe\"@example.org"`), "/description"},
		{"a defanged address", obj("indicator", `"description":"sender jane[at]example[.]org"`), "/description"},
		{"a percent-encoded at sign", obj("indicator", `"description":"see https://example.org/?to=jane%40example.org"`), "/description"},
		{"full-width digits in a phone number", obj("indicator", `"description":"call +３２ ２ ２９９ １１ １１"`), "/description"},
		{"Arabic-Indic digits in a phone number", obj("indicator", `"description":"call +٣٢ ٢ ٢٩٩ ١١ ١١"`), "/description"},
		{"Devanagari digits in a phone number", obj("indicator", `"description":"call +३२ २ २९९ ११ ११"`), "/description"},
		{"slashes between the groups of a phone number", obj("indicator", `"description":"call +32/2/299/11/11"`), "/description"},
		{"a national number after a cue", obj("indicator", `"description":"Tel. 02 299 11 11"`), "/description"},
		{"a national number with its trunk prefix", obj("indicator", `"description":"reach him at 030 12345678 at night"`), "/description"},
		{"identity class Individual", obj("identity", `"name":"Case 42","identity_class":"Individual"`), "/identity_class"},
		{"identity class person", obj("identity", `"name":"Case 42","identity_class":"person"`), "/identity_class"},
		{"identity class individual with a Cyrillic i", obj("identity", `"name":"Case 42","identity_class":"\u0456ndividual"`), "/identity_class"},
		{"identity class unknown", obj("identity", `"name":"Case 42","identity_class":"unknown"`), "/identity_class"},
		{"a passport number", obj("note", `"content":"Passport No. P4366918, issued 2019","object_refs":["identity--1"]`), "/content"},
		{"a national identity number", obj("note", `"content":"national ID 850312-1234","object_refs":["identity--1"]`), "/content"},
		{"a social security number", obj("note", `"content":"SSN: 078-05-1120","object_refs":["identity--1"]`), "/content"},
		{"a date of birth", obj("note", `"content":"DOB: 12.03.1980","object_refs":["identity--1"]`), "/content"},
		{"a date of birth in words", obj("note", `"content":"the suspect was born on 12 March 1980 in Kyiv","object_refs":["identity--1"]`), "/content"},
		{"a postal address", obj("note", `"content":"lives at 12 Rue de la Loi, 1040 Brussels.","object_refs":["identity--1"]`), "/content"},
		{"an IBAN in groups", obj("note", `"content":"paid into BE71 0961 2345 6769","object_refs":["identity--1"]`), "/content"},
		{"an IBAN in one word", obj("note", `"content":"IBAN:DE89370400440532013000","object_refs":["identity--1"]`), "/content"},
		{"a payment card number", obj("note", `"content":"card 4111 1111 1111 1111 used","object_refs":["identity--1"]`), "/content"},
		{"an address in an x_ property", obj("indicator", `"x_reporter":"jane@example.org"`), "/x_reporter"},
		{"a phone deep in an x_ property", obj("indicator", `"x_case":{"contacts":[{"phone":"+32 2 299 11 11"}]}`), "/x_case/contacts/0/phone"},
		{"an address in an extension", obj("indicator", `"extensions":{"x-acme-ext":{"extension_type":"property-extension","owner":"jane@example.org"}}`),
			"/extensions/x-acme-ext/owner"},
		{"an address as a dictionary key", obj("indicator", `"x_seen_by":{"jane@example.org":"2026-01-01"}`), "/x_seen_by/jane@example.org"},
		{"a date of birth property", obj("identity", `"name":"Case 42","identity_class":"organization","x_date_of_birth":"1980-03-12"`), "/x_date_of_birth"},
		{"a passport number property", obj("identity", `"name":"Case 42","identity_class":"organization","x_passport_number":"P4366918"`), "/x_passport_number"},
		{"a numeric ssn property", obj("identity", `"name":"Case 42","identity_class":"organization","x_ssn":78051120`), "/x_ssn"},
		{"an address in a pattern literal", obj("indicator", `"pattern":"[email-addr:value = 'phish@example.org']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"`),
			"/pattern"},
		{"a phone in a pattern literal", obj("indicator", `"pattern":"[x-phone:value = '+32 2 299 11 11']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"`),
			"/pattern"},
		{"an x509 subject", sco("x509-certificate", `"subject":"C=BE, O=Example, CN=J Doe/emailAddress=jane@example.org"`), "/subject"},
		{"a url value", sco("url", `"value":"mailto:jane@example.org"`), "/value"},
		{"a url with a phone", sco("url", `"value":"tel:+3222991111"`), "/value"},
		{"a location's street address", obj("location", `"street_address":"12 Rue de la Loi","city":"Brussels","country":"BE"`), "/street_address"},
		{"a location's postal code", obj("location", `"postal_code":"1040","country":"BE"`), "/postal_code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := reject.Check(tc.object)
			if got := codesAndPaths(d.Errors); !slices.Contains(got, CodePersonalData+" "+tc.path) {
				t.Errorf("refusals %v, want one at %s", d.Errors, tc.path)
			}
		})
	}
}

// TestPersonalDataHardNegatives: the numbers and words of threat intelligence that look like
// personal data and are not.
func TestPersonalDataHardNegatives(t *testing.T) {
	reject := Rules{Partnership: store.PartnershipPolicy{PersonalData: store.PersonalDataReject}}
	for _, text := range []string{
		"MD5 d41d8cd98f00b204e9800998ecf8427e, SHA-256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"C2 at 198.51.100.23:8443 and 203.0.113.50/24, port 4443",
		"first seen 2026-01-01T00:00:00.000Z, last seen 2026-03-14 12:00",
		"uses T1059.001 and TA0002, exploits CVE-2024-12345 in version 10.2.1.4471",
		"epoch 1700000000000, 12345678 events, 10 000 000 hits, build 20260101",
		"sample 00000000-0000-4000-8000-000000000001 and 9f1c2d3e-4b5a-4978-8695-a4b3c2d1e0f9",
		"Passport-themed phishing campaign of 2024 targeting visa applicants",
		"the loader was born in 2019 as a fork of Emotet",
		"@apt_watcher posted about pkg@1.2.3 and git tags v2.0.1",
		"the ransomware note asks for 0.5 BTC to wallet bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
		"home address space of the process at 0x7ffd4e2a1000",
	} {
		d := reject.Check(obj("indicator", `"description":`+quote(text)))
		if !d.Valid() {
			t.Errorf("%q refused: %v", text, d.Errors)
		}
	}
	for _, class := range []string{"organization", "Organization", "group", "class", "system"} {
		if d := reject.Check(obj("identity", `"name":"CERT-EU","identity_class":"`+class+`"`)); !d.Valid() {
			t.Errorf("identity class %q refused: %v", class, d.Errors)
		}
	}
}

// TestStripCutsNormalisedFindings: stripping cuts out what was sent, whatever its spelling, at any
// depth, and refuses what cannot be cut out.
func TestStripCutsNormalisedFindings(t *testing.T) {
	strip := Rules{Partnership: store.PartnershipPolicy{PersonalData: store.PersonalDataStrip}}
	d := strip.Check(obj("indicator", `"description":"ask ja\u200bne＠exаmple.org or call +٣٢ ٢ ٢٩٩ ١١ ١١ today",`+
		`"x_case":{"dob":"1980-03-12","notes":["IBAN BE71 0961 2345 6769 (frozen)"]}`))
	if !d.Valid() || !d.Stripped {
		t.Fatalf("verdict %+v", d)
	}
	var got struct {
		Description string `json:"description"`
		Case        struct {
			DOB   string   `json:"dob"`
			Notes []string `json:"notes"`
		} `json:"x_case"`
	}
	if err := json.Unmarshal(d.Content, &got); err != nil {
		t.Fatal(err)
	}
	if want := "ask " + redacted + " or call " + redacted + " today"; got.Description != want {
		t.Errorf("description %q, want %q", got.Description, want)
	}
	if got.Case.DOB != redacted || len(got.Case.Notes) != 1 || got.Case.Notes[0] != "IBAN "+redacted+" (frozen)" {
		t.Errorf("x_case %+v", got.Case)
	}
	if codes := codesAndPaths(d.Warnings); !slices.Equal(codes, []string{"personal-data-removed /description",
		"personal-data-removed /x_case/dob", "personal-data-removed /x_case/notes/0"}) {
		t.Errorf("warnings %v", codes)
	}

	pattern := strip.Check(obj("indicator", `"pattern":"[email-addr:value = 'phish@example.org']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"`))
	if got := codesAndPaths(pattern.Errors); !slices.Equal(got, []string{"personal-data /pattern"}) {
		t.Errorf("a pattern cannot be cut: refusals %v", got)
	}
	for _, f := range append(d.Warnings, pattern.Errors...) {
		if strings.Contains(f.Message, "@") || strings.Contains(f.Message, "299") || strings.Contains(f.Message, "BE71") {
			t.Errorf("finding %q repeats the personal data it found", f)
		}
	}
}

func TestNormaliseMapsEveryDecimalDigit(t *testing.T) {
	for _, s := range []string{"0123456789", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "০১২৩৪৫৬৭৮৯", "０１２３４５６７８９", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗", "๐๑๒๓๔๕๖๗๘๙"} {
		if got := normaliseForJudging(s).text; got != "0123456789" {
			t.Errorf("%q judges as %q", s, got)
		}
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestNumberLikeTextIsBounded: an object made of number-like words costs a bounded number of
// numbering-plan look-ups, and is refused once they are spent rather than judged at any cost.
func TestNumberLikeTextIsBounded(t *testing.T) {
	reject := Rules{Partnership: store.PartnershipPolicy{PersonalData: store.PersonalDataReject}}
	start := time.Now()
	// Each number follows a word announcing a phone number, so the plans must be asked about it
	// in every region.
	d := reject.Check(obj("indicator", `"description":"`+strings.Repeat("tel 0000000 ", 66_667)+`"`))
	elapsed := time.Since(start)
	if got := codesAndPaths(d.Errors); !slices.Equal(got, []string{"personal-data "}) || !strings.Contains(d.Errors[0].Message, "smaller objects") {
		t.Errorf("refusals %v", d.Errors)
	}
	t.Logf("judged %d bytes of number-like text in %v", 800_004, elapsed)
	// A handful of real numbers stays well within the budget.
	if d := reject.Check(obj("indicator", `"description":"`+strings.Repeat("build 20260101, 4.1.7, 10 000 hits. ", 2000)+`"`)); !d.Valid() {
		t.Errorf("ordinary numbers refused: %v", d.Errors)
	}
}

// A run of digits that merely begins with 0 (a run, build or serial number) is not a national
// phone number: only a trunk 0 with its area code set apart, or a word announcing a phone, makes
// one. Test runs whose ids began "0475…" were refused as phone numbers before.
func TestDigitRunsStartingWithZeroAreNotPhones(t *testing.T) {
	reject := Rules{Partnership: store.PartnershipPolicy{PersonalData: store.PersonalDataReject}}
	for _, text := range []string{"indicator 04750001 1", "build 0471234567", "run 01712345 3/12", "serial 030123456789"} {
		if d := reject.Check(obj("indicator", `"description":"`+text+`"`)); !d.Valid() {
			t.Errorf("%q refused: %v", text, d.Errors)
		}
	}
	for _, text := range []string{"030 1234 5678", "call 0301234567"} {
		if d := reject.Check(obj("indicator", `"description":"`+text+`"`)); d.Valid() {
			t.Errorf("%q accepted; it is a phone number", text)
		}
	}
}
