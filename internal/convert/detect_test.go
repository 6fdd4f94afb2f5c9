package convert_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"taxiihub/internal/convert"
	"taxiihub/internal/stix"
	"taxiihub/internal/stix/pattern"
)

const (
	sha256a = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	sha1a   = "3395856ce81f2b7382dee72602f798b642f14140"
	md5a    = "44d88612fea8a8f36de82e1278abb02f"
	sha512a = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
)

// spellings is the table of IOC spellings: an input line and what it must become, or the issue
// code it must be refused with.
var spellings = []struct {
	in      string
	kind    convert.Kind
	value   string // the normalised value the pattern must match
	pattern string
	issue   string
}{
	// IPv4, plain, defanged, in prose.
	{in: "1.2.3.4", kind: convert.IPv4, value: "1.2.3.4", pattern: "[ipv4-addr:value = '1.2.3.4']"},
	{in: "1[.]2[.]3[.]4", kind: convert.IPv4, value: "1.2.3.4"},
	{in: "1(.)2(.)3(.)4", kind: convert.IPv4, value: "1.2.3.4"},
	{in: "1{.}2{.}3{.}4", kind: convert.IPv4, value: "1.2.3.4"},
	{in: "1[dot]2[dot]3[dot]4", kind: convert.IPv4, value: "1.2.3.4"},
	{in: "1.2.3[.]4", kind: convert.IPv4, value: "1.2.3.4"},
	{in: "  203.0.113.7  ", kind: convert.IPv4, value: "203.0.113.7"},
	{in: "C2 server: 203.0.113.7", kind: convert.IPv4, value: "203.0.113.7"},
	{in: "seen at 203.0.113.7.", kind: convert.IPv4, value: "203.0.113.7"},
	{in: "(203.0.113.7)", kind: convert.IPv4, value: "203.0.113.7"},
	{in: "\"203.0.113.7\",", kind: convert.IPv4, value: "203.0.113.7"},
	{in: "203.0.113.7 # scanner", kind: convert.IPv4, value: "203.0.113.7"},
	{in: "255.255.255.255", kind: convert.IPv4, value: "255.255.255.255"},
	{in: "0.0.0.0", kind: convert.IPv4, value: "0.0.0.0"},
	{in: "198.51.100.1 198.51.100.1", kind: convert.IPv4, value: "198.51.100.1"},
	{in: "198.51.100.1 198[.]51[.]100[.]1", kind: convert.IPv4, value: "198.51.100.1"},
	{in: "1.2.3.256", issue: convert.CodeAmbiguous},
	{in: "1.2.3.04", issue: convert.CodeAmbiguous},
	{in: "1.2.3", issue: convert.CodeUnrecognised},
	// CIDR ranges.
	{in: "10.0.0.0/8", kind: convert.IPv4, value: "10.0.0.0/8", pattern: "[ipv4-addr:value = '10.0.0.0/8']"},
	{in: "192.168.0.0/16", kind: convert.IPv4, value: "192.168.0.0/16"},
	{in: "198.51.100.0/24", kind: convert.IPv4, value: "198.51.100.0/24"},
	{in: "198[.]51[.]100[.]0/24", kind: convert.IPv4, value: "198.51.100.0/24"},
	{in: "198.51.100.7/32", kind: convert.IPv4, value: "198.51.100.7/32"},
	{in: "10.0.0.1/24", issue: convert.CodeAmbiguous},
	{in: "10.0.0.0/33", issue: convert.CodeAmbiguous},
	{in: "2001:db8::/32", kind: convert.IPv6, value: "2001:db8::/32", pattern: "[ipv6-addr:value = '2001:db8::/32']"},
	{in: "2001:DB8:0:0::/64", kind: convert.IPv6, value: "2001:db8::/64"},
	{in: "2001:db8::1/64", issue: convert.CodeAmbiguous},
	// IPv6, compressed and not.
	{in: "2001:db8::1", kind: convert.IPv6, value: "2001:db8::1", pattern: "[ipv6-addr:value = '2001:db8::1']"},
	{in: "2001:0db8:0000:0000:0000:0000:0000:0001", kind: convert.IPv6, value: "2001:db8::1"},
	{in: "2001:DB8::1", kind: convert.IPv6, value: "2001:db8::1"},
	{in: "2001:db8:0:0:1:0:0:1", kind: convert.IPv6, value: "2001:db8::1:0:0:1"},
	{in: "fe80::1", kind: convert.IPv6, value: "fe80::1"},
	{in: "::1", kind: convert.IPv6, value: "::1"},
	{in: "::", kind: convert.IPv6, value: "::"},
	{in: "::ffff:192.0.2.1", kind: convert.IPv6, value: "::ffff:192.0.2.1"},
	{in: "2001[:]db8[:][:]1", kind: convert.IPv6, value: "2001:db8::1"},
	{in: "host 2001:db8:85a3::8a2e:370:7334 seen", kind: convert.IPv6, value: "2001:db8:85a3::8a2e:370:7334"},
	{in: "2001:db8::g", issue: convert.CodeUnrecognised},
	{in: "fe80::1%eth0", issue: convert.CodeUnrecognised},
	// Domains: defanged, upper case, trailing dots, IDNs, public suffixes.
	{in: "evil.com", kind: convert.Domain, value: "evil.com", pattern: "[domain-name:value = 'evil.com']"},
	{in: "evil[.]com", kind: convert.Domain, value: "evil.com"},
	{in: "evil(.)com", kind: convert.Domain, value: "evil.com"},
	{in: "evil[dot]com", kind: convert.Domain, value: "evil.com"},
	{in: "EVIL.COM", kind: convert.Domain, value: "evil.com"},
	{in: "Evil.Example.ORG", kind: convert.Domain, value: "evil.example.org"},
	{in: "evil.com.", kind: convert.Domain, value: "evil.com"},
	{in: "sub.evil.co.uk", kind: convert.Domain, value: "sub.evil.co.uk"},
	{in: "evil.co.uk.", kind: convert.Domain, value: "evil.co.uk"},
	{in: "a-b.example.net", kind: convert.Domain, value: "a-b.example.net"},
	{in: "xn--mnchen-3ya.de", kind: convert.Domain, value: "xn--mnchen-3ya.de"},
	{in: "münchen.de", kind: convert.Domain, value: "xn--mnchen-3ya.de"},
	{in: "MÜNCHEN.DE", kind: convert.Domain, value: "xn--mnchen-3ya.de"},
	{in: "Bücher.DE.", kind: convert.Domain, value: "xn--bcher-kva.de"},
	{in: "2001:0DB8::0001", kind: convert.IPv6, value: "2001:db8::1"},
	{in: "hxxp://evil[.]com:8080/a?b#c", kind: convert.URL, value: "http://evil.com:8080/a?b#c"},
	{in: "C2 server: 198.51.100.23", kind: convert.IPv4, value: "198.51.100.23"},
	{in: "bücher.example", issue: convert.CodeAmbiguous},
	{in: "例え.jp", kind: convert.Domain, value: "xn--r8jz45g.jp"},
	{in: "пример.рф", kind: convert.Domain, value: "xn--e1afmkfd.xn--p1ai"},
	{in: "evil.xn--p1ai", kind: convert.Domain, value: "evil.xn--p1ai"},
	{in: "phish.github.io", kind: convert.Domain, value: "phish.github.io"},
	{in: "domain: bad-site.info", kind: convert.Domain, value: "bad-site.info"},
	{in: "Block bad-site[.]info now", kind: convert.Domain, value: "bad-site.info"},
	{in: "'bad-site.info'", kind: convert.Domain, value: "bad-site.info"},
	{in: "<bad-site.info>", kind: convert.Domain, value: "bad-site.info"},
	{in: "bad-site.info;", kind: convert.Domain, value: "bad-site.info"},
	{in: "invoice.pdf", issue: convert.CodeAmbiguous},
	{in: "invoice.docx", issue: convert.CodeAmbiguous},
	{in: "setup.exe", issue: convert.CodeAmbiguous},
	{in: "report.zip", issue: convert.CodeAmbiguous},
	{in: "movie.mov", issue: convert.CodeAmbiguous},
	{in: "co.uk", issue: convert.CodeUnrecognised},
	{in: "evil..com", issue: convert.CodeUnrecognised},
	{in: "-evil.com", issue: convert.CodeUnrecognised},
	{in: "evil.com invoice.pdf", issue: convert.CodeAmbiguous},
	{in: "evil.com other.org", issue: convert.CodeAmbiguous},
	{in: "e.g. nothing here", issue: convert.CodeUnrecognised},
	// URLs: schemes, defanged, ports, fragments, quotes, backslashes, IDN hosts.
	{in: "http://evil.com/a", kind: convert.URL, value: "http://evil.com/a", pattern: "[url:value = 'http://evil.com/a']"},
	{in: "hxxp://evil[.]com/a", kind: convert.URL, value: "http://evil.com/a"},
	{in: "hXXp://evil[.]com/a", kind: convert.URL, value: "http://evil.com/a"},
	{in: "hxxps://evil[.]com/login", kind: convert.URL, value: "https://evil.com/login"},
	{in: "hxxps[:]//evil[.]com/login", kind: convert.URL, value: "https://evil.com/login"},
	{in: "https[:]//evil[.]com", kind: convert.URL, value: "https://evil.com"},
	{in: "fxp://files.evil.com/x.bin", kind: convert.URL, value: "ftp://files.evil.com/x.bin"},
	{in: "HTTP://EVIL.COM/Path", kind: convert.URL, value: "http://evil.com/Path"},
	{in: "http://evil.com:8080/x", kind: convert.URL, value: "http://evil.com:8080/x"},
	{in: "https://evil.com:443/", kind: convert.URL, value: "https://evil.com:443/"},
	{in: "http://evil.com:99999/", issue: convert.CodeAmbiguous},
	{in: "http://evil.com/#frag", kind: convert.URL, value: "http://evil.com/#frag"},
	{in: "http://evil.com/a?b=c&d=e#top", kind: convert.URL, value: "http://evil.com/a?b=c&d=e#top"},
	{in: "http://evil.com/it's", kind: convert.URL, value: "http://evil.com/it's", pattern: `[url:value = 'http://evil.com/it\'s']`},
	// Bytes a URL may not hold are percent-encoded, as a browser sends them.
	{in: `http://evil.com/a\b`, kind: convert.URL, value: `http://evil.com/a%5Cb`, pattern: `[url:value = 'http://evil.com/a%5Cb']`},
	{in: `http://evil.com/a\'b`, kind: convert.URL, value: `http://evil.com/a%5C'b`, pattern: `[url:value = 'http://evil.com/a%5C\'b']`},
	{in: `http://evil.com/q?x="y"`, kind: convert.URL, value: `http://evil.com/q?x=%22y%22`},
	{in: `http://evil.com/%7Euser/a^b`, kind: convert.URL, value: `http://evil.com/%7Euser/a%5Eb`},
	{in: `"http://evil.com/quoted"`, kind: convert.URL, value: "http://evil.com/quoted"},
	{in: "http://evil.com/a]b", kind: convert.URL, value: "http://evil.com/a%5Db"},
	{in: "http://192.0.2.1/x", kind: convert.URL, value: "http://192.0.2.1/x"},
	{in: "http://[2001:db8::1]:8080/x", kind: convert.URL, value: "http://[2001:db8::1]:8080/x"},
	{in: "http://[2001:DB8:0::1]/", kind: convert.URL, value: "http://[2001:db8::1]/"},
	{in: "http://münchen.de/pfad", kind: convert.URL, value: "http://xn--mnchen-3ya.de/pfad"},
	{in: "http://evil.com./x", kind: convert.URL, value: "http://evil.com/x"},
	{in: "http://update.zip/x", kind: convert.URL, value: "http://update.zip/x"},
	{in: "http://user:pw@evil.com/", kind: convert.URL, value: "http://user:pw@evil.com/"},
	{in: "visit hxxp://evil[.]com/x today", kind: convert.URL, value: "http://evil.com/x"},
	{in: "http://evil.com/x, and more", kind: convert.URL, value: "http://evil.com/x"},
	{in: "http://evil.com", kind: convert.URL, value: "http://evil.com"},
	{in: "https://evil.com/%2e%2e/", kind: convert.URL, value: "https://evil.com/%2e%2e/"},
	{in: "http:///nohost", issue: convert.CodeAmbiguous},
	{in: "http://invoice.pdf/x", issue: convert.CodeAmbiguous},
	{in: "http://evil.com/a http://evil.org/b", issue: convert.CodeAmbiguous},
	// E-mail addresses.
	{in: "bad@evil.com", kind: convert.Email, value: "bad@evil.com", pattern: "[email-addr:value = 'bad@evil.com']"},
	{in: "bad[at]evil[.]com", kind: convert.Email, value: "bad@evil.com"},
	{in: "bad(at)evil(.)com", kind: convert.Email, value: "bad@evil.com"},
	{in: "bad[@]evil.com", kind: convert.Email, value: "bad@evil.com"},
	{in: "Bad.Sender@EVIL.COM", kind: convert.Email, value: "Bad.Sender@evil.com"},
	{in: "from: phish@bank-secure.info", kind: convert.Email, value: "phish@bank-secure.info"},
	{in: "<phish@bank-secure.info>", kind: convert.Email, value: "phish@bank-secure.info"},
	{in: "o'brien@evil.com", kind: convert.Email, value: "o'brien@evil.com", pattern: `[email-addr:value = 'o\'brien@evil.com']`},
	{in: "a+tag@evil.com", kind: convert.Email, value: "a+tag@evil.com"},
	{in: "x@münchen.de", kind: convert.Email, value: "x@xn--mnchen-3ya.de"},
	{in: "bad@invoice.pdf", issue: convert.CodeAmbiguous},
	// Hashes, any case.
	{in: md5a, kind: convert.MD5, value: md5a, pattern: "[file:hashes.MD5 = '" + md5a + "']"},
	{in: strings.ToUpper(md5a), kind: convert.MD5, value: md5a},
	{in: "md5: " + md5a, kind: convert.MD5, value: md5a},
	{in: sha1a, kind: convert.SHA1, value: sha1a, pattern: "[file:hashes.'SHA-1' = '" + sha1a + "']"},
	{in: strings.ToUpper(sha1a), kind: convert.SHA1, value: sha1a},
	{in: sha256a, kind: convert.SHA256, value: sha256a, pattern: "[file:hashes.'SHA-256' = '" + sha256a + "']"},
	{in: strings.ToUpper(sha256a), kind: convert.SHA256, value: sha256a},
	{in: "SHA256=" + sha256a, issue: convert.CodeUnrecognised},
	{in: "sha256 " + sha256a + " dropper", kind: convert.SHA256, value: sha256a},
	{in: sha512a, kind: convert.SHA512, value: sha512a, pattern: "[file:hashes.'SHA-512' = '" + sha512a + "']"},
	{in: strings.ToUpper(sha512a), kind: convert.SHA512, value: sha512a},
	{in: "'" + md5a + "'", kind: convert.MD5, value: md5a},
	{in: md5a + ".", kind: convert.MD5, value: md5a},
	{in: md5a[:31], issue: convert.CodeAmbiguous},
	{in: sha1a + "0", issue: convert.CodeAmbiguous},
	{in: md5a + " " + sha1a, issue: convert.CodeAmbiguous},
	{in: "deadbeef", issue: convert.CodeUnrecognised},
	// ASNs.
	{in: "AS13335", kind: convert.ASN, value: "13335", pattern: "[autonomous-system:number = 13335]"},
	{in: "as13335", kind: convert.ASN, value: "13335"},
	{in: "ASN13335", kind: convert.ASN, value: "13335"},
	{in: "asn:13335", kind: convert.ASN, value: "13335"},
	{in: "AS4294967295", kind: convert.ASN, value: "4294967295"},
	{in: "AS4294967296", issue: convert.CodeUnrecognised},
	{in: "AS0", issue: convert.CodeUnrecognised},
	{in: "AS013335", issue: convert.CodeUnrecognised},
	{in: "hosted in AS64500", kind: convert.ASN, value: "64500"},
	{in: "ASSET", issue: convert.CodeUnrecognised},
	// CVE ids.
	{in: "CVE-2021-44228", kind: convert.Vulnerability, value: "CVE-2021-44228"},
	{in: "cve-2021-44228", kind: convert.Vulnerability, value: "CVE-2021-44228"},
	{in: "exploits CVE-2023-4966.", kind: convert.Vulnerability, value: "CVE-2023-4966"},
	{in: "CVE-2024-123456", kind: convert.Vulnerability, value: "CVE-2024-123456"},
	{in: "CVE-21-1", issue: convert.CodeAmbiguous},
	// File names, only where marked.
	{in: "filename: invoice.pdf", kind: convert.FileName, value: "invoice.pdf", pattern: "[file:name = 'invoice.pdf']"},
	{in: "file: setup.exe", kind: convert.FileName, value: "setup.exe"},
	{in: "FILENAME: Quarterly Report.xlsm", kind: convert.FileName, value: "Quarterly Report.xlsm"},
	{in: "file name: it's.exe", kind: convert.FileName, value: "it's.exe", pattern: `[file:name = 'it\'s.exe']`},
	{in: `filename: C:\Users\x\evil.dll`, kind: convert.FileName, value: `C:\Users\x\evil.dll`, pattern: `[file:name = 'C:\\Users\\x\\evil.dll']`},
	{in: "filename: report.zip", kind: convert.FileName, value: "report.zip"},
	{in: "filename:", issue: convert.CodeInvalid},
	// Garbage and prose.
	{in: "hello world", issue: convert.CodeUnrecognised},
	{in: "12345", issue: convert.CodeUnrecognised},
	{in: "!!!", issue: convert.CodeUnrecognised},
	{in: "[.]", issue: convert.CodeUnrecognised},
	{in: "http", issue: convert.CodeUnrecognised},
	{in: "evil.com 1.2.3.4", issue: convert.CodeAmbiguous},
	{in: "bad@evil.com evil.org", issue: convert.CodeAmbiguous},
	{in: "\x00\x01", issue: convert.CodeUnrecognised},
	{in: "ünïcödé prose only", issue: convert.CodeUnrecognised},
}

func TestDetectSpellings(t *testing.T) {
	if len(spellings) < 150 {
		t.Fatalf("the table has %d spellings; the issue asks for at least 150", len(spellings))
	}
	recognised, refused := 0, 0
	for _, tc := range spellings {
		ioc, issue := convert.DetectLine(tc.in)
		if tc.issue != "" {
			refused++
			if issue == nil {
				t.Errorf("%q: got %s %q, want refused as %s", tc.in, ioc.Kind, ioc.Value, tc.issue)
			} else if issue.Code != tc.issue {
				t.Errorf("%q: refused as %s (%s), want %s", tc.in, issue.Code, issue.Message, tc.issue)
			}
			continue
		}
		recognised++
		if issue != nil {
			t.Errorf("%q: refused: %v", tc.in, issue)
			continue
		}
		if ioc.Kind != tc.kind || ioc.Value != tc.value {
			t.Errorf("%q: got %s %q, want %s %q", tc.in, ioc.Kind, ioc.Value, tc.kind, tc.value)
		}
		if tc.pattern != "" && ioc.Pattern() != tc.pattern {
			t.Errorf("%q: pattern %s, want %s", tc.in, ioc.Pattern(), tc.pattern)
		}
	}
	t.Logf("%d spellings: %d recognised, %d refused", len(spellings), recognised, refused)
}

// Every pattern the converter writes is read back by the hub's pattern parser to the value it was
// made from: the escaping never changes what a pattern matches.
func TestPatternsReadBackToTheirValue(t *testing.T) {
	for _, tc := range spellings {
		ioc, issue := convert.DetectLine(tc.in)
		if issue != nil || ioc.Kind == convert.Vulnerability {
			continue
		}
		p, err := pattern.Parse(ioc.Pattern())
		if err != nil {
			t.Errorf("%q: pattern %s does not parse: %v", tc.in, ioc.Pattern(), err)
			continue
		}
		cmps := p.Comparisons()
		if len(cmps) != 1 {
			t.Errorf("%q: pattern %s has %d comparisons", tc.in, ioc.Pattern(), len(cmps))
			continue
		}
		got := cmps[0].Value.Str
		if cmps[0].Value.Kind == pattern.IntLit {
			got = cmps[0].Value.Raw
		}
		if got != ioc.Value {
			t.Errorf("%q: pattern reads back %q, want %q", tc.in, got, ioc.Value)
		}
	}
}

var validator = sync.OnceValues(stix.NewValidator)

// checkObjects runs every object of a conversion through the hub's validator: no error and no
// warning. The ids are name-based (the same IOC from the same member must get the same id) yet
// laid out as STIX asks of SDOs, so not even the uuid-version warning may appear.
func checkObjects(t *testing.T, items []convert.Item) int {
	t.Helper()
	v, err := validator()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		for _, o := range it.Objects {
			raw, err := o.JSON()
			if err != nil {
				t.Fatal(err)
			}
			vd := v.Object(raw)
			n++
			if len(vd.Errors) > 0 || len(vd.Warnings) > 0 {
				t.Errorf("%s (line %d %q): errors %v warnings %v\n%s", o.ID(), it.Line, it.Input, vd.Errors, vd.Warnings, raw)
			}
		}
	}
	return n
}

func convertAll(t *testing.T, input string, opts convert.Options) []convert.Item {
	t.Helper()
	c, err := convert.New(strings.NewReader(input), opts)
	if err != nil {
		t.Fatal(err)
	}
	var items []convert.Item
	for {
		it, err := c.Next()
		if err == io.EOF {
			return items
		}
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
}

var now = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

func TestEveryObjectPassesTheValidatorWithoutWarning(t *testing.T) {
	var lines []string
	for _, tc := range spellings {
		if tc.issue == "" {
			lines = append(lines, tc.in)
		}
	}
	for _, tlpVersion := range []int{1, 2} {
		for _, observables := range []bool{false, true} {
			opts := convert.Options{Member: "cert-eu", TLP: "green", TLPVersion: tlpVersion, Report: "Campaign X",
				Observables: observables, Description: "from the table", Labels: []string{"test"}, Now: now}
			items := convertAll(t, strings.Join(lines, "\n"), opts)
			n := checkObjects(t, items)
			if n < len(lines) {
				t.Errorf("%d objects for %d lines", n, len(lines))
			}
			t.Logf("TLP %d, observables %v: %d objects valid, no warning", tlpVersion, observables, n)
		}
	}
}

func TestSameListTwiceGivesTheSameObjects(t *testing.T) {
	list := "evil[.]com\n1.2.3.4\n" + md5a + "\n"
	opts := convert.Options{Member: "cert-eu", TLP: "amber", Now: now}
	a := convertAll(t, list, opts)
	b := convertAll(t, list, opts)
	other := convertAll(t, list, convert.Options{Member: "jpcert-cc", TLP: "amber", Now: now})
	for i := range a {
		ra, _ := a[i].Objects[len(a[i].Objects)-1].JSON()
		rb, _ := b[i].Objects[len(b[i].Objects)-1].JSON()
		if !bytes.Equal(ra, rb) {
			t.Errorf("line %d differs between runs:\n%s\n%s", a[i].Line, ra, rb)
		}
		if a[i].ID == other[i].ID {
			t.Errorf("line %d: two members got the same id %s", a[i].Line, a[i].ID)
		}
	}
	changed := convertAll(t, list, convert.Options{Member: "cert-eu", TLP: "amber", Now: now, Description: "new"})
	if changed[0].ID != a[0].ID {
		t.Errorf("a changed description changed the id (%s, %s): it must be a new version of the same object", changed[0].ID, a[0].ID)
	}
}

func TestLinesReportsEveryLineItCannotConvert(t *testing.T) {
	list := "# comment\n\nevil[.]com\ninvoice.pdf\n1.2.3.4 5.6.7.8\n" + strings.Repeat("x", convert.MaxLineLength+10) + "\nhxxp://a[.]b.com/x\n"
	items := convertAll(t, list, convert.Options{Member: "cert-eu", Now: now})
	want := []struct {
		line  int
		issue string
	}{{3, ""}, {4, convert.CodeAmbiguous}, {5, convert.CodeAmbiguous}, {6, convert.CodeInvalid}, {7, ""}}
	if len(items) != len(want) {
		t.Fatalf("got %d items, want %d: %+v", len(items), len(want), items)
	}
	for i, w := range want {
		got := ""
		if items[i].Issue != nil {
			got = items[i].Issue.Code
		}
		if items[i].Line != w.line || got != w.issue {
			t.Errorf("item %d: line %d issue %q, want line %d issue %q", i, items[i].Line, got, w.line, w.issue)
		}
	}
}

func TestCSV(t *testing.T) {
	in := "value,type,description,valid_until,labels,confidence,source\n" +
		"evil[.]com,domain-name,phishing kit,2027-01-01,phishing;kit,80,x\n" +
		"1.2.3.4,,,,,,\n" +
		"1.2.3.4,ipv6-addr,,,,,\n" +
		"5.6.7.8,,,,,101,\n" +
		"invoice.pdf,filename,\"a, quoted, description\",,,,\n"
	items := convertAll(t, in, convert.Options{Member: "cert-eu", TLP: "green", Now: now})
	if len(items) != 6 {
		t.Fatalf("got %d items: %+v", len(items), items)
	}
	if items[0].Line != 1 || !strings.Contains(items[0].Note, `"source"`) {
		t.Errorf("the unknown column is not reported on line 1: %+v", items[0])
	}
	ind := items[1].Objects[len(items[1].Objects)-1].SDO
	if items[1].Line != 2 || ind.Description != "phishing kit" || ind.ValidUntil != "2027-01-01T00:00:00.000Z" ||
		*ind.Confidence != 80 || strings.Join(ind.Labels, "|") != "phishing|kit" {
		t.Errorf("row 2: %+v", ind)
	}
	if items[3].Issue == nil || items[3].Line != 4 {
		t.Errorf("an IPv4 address typed as ipv6-addr was not refused: %+v", items[3])
	}
	if items[4].Issue == nil || items[4].Line != 5 {
		t.Errorf("confidence 101 was not refused: %+v", items[4])
	}
	if items[5].Kind != convert.FileName || items[5].Line != 6 {
		t.Errorf("row 6: %+v", items[5])
	}
	checkObjects(t, items)
}

func TestSTIXPassesThroughUnchanged(t *testing.T) {
	bundle := `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` +
		`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '1.2.3.4']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},` +
		` {"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b89d-13d6226742dd","value":"1.2.3.4"}]}`
	items := convertAll(t, bundle, convert.Options{Member: "cert-eu", TLP: "red", Now: now})
	if len(items) != 2 {
		t.Fatalf("got %d items", len(items))
	}
	for _, it := range items {
		raw, _ := it.Objects[0].JSON()
		if !strings.Contains(bundle, string(raw)) || len(it.Objects) != 1 {
			t.Errorf("%s was changed: %s", it.ID, raw)
		}
	}
}

func TestTLPForms(t *testing.T) {
	for _, tc := range []struct {
		tlp     string
		version int
		marking string
	}{
		{"green", 2, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
		{"TLP:GREEN", 1, "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"},
		{"clear", 2, "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"},
		{"clear", 1, "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
		{"white", 2, "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"},
		{"amber", 2, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"},
		{"amber+strict", 2, "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
		{"red", 1, "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
		{"red", 2, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"},
	} {
		items := convertAll(t, "evil.com\nevil.org\n", convert.Options{Member: "m", TLP: tc.tlp, TLPVersion: tc.version, Now: now})
		// The definition goes out once, before the first object that uses it.
		if len(items[0].Objects) != 2 || items[0].Objects[0].ID() != tc.marking || len(items[1].Objects) != 1 {
			t.Errorf("%s v%d: objects %d/%d, first %s", tc.tlp, tc.version, len(items[0].Objects), len(items[1].Objects), items[0].Objects[0].ID())
		}
		if got := items[1].Objects[0].SDO.ObjectMarkingRefs; len(got) != 1 || got[0] != tc.marking {
			t.Errorf("%s v%d: marked %v", tc.tlp, tc.version, got)
		}
		checkObjects(t, items)
	}
	if _, err := convert.New(strings.NewReader("x"), convert.Options{Member: "m", TLP: "amber+strict", TLPVersion: 1}); err == nil {
		t.Error("TLP:AMBER+STRICT in TLP 1.0 form was accepted")
	}
	if _, err := convert.New(strings.NewReader("x"), convert.Options{Member: "m", TLP: "purple"}); err == nil {
		t.Error("TLP:PURPLE was accepted")
	}
}

func TestLifetimes(t *testing.T) {
	items := convertAll(t, "1.2.3.4\n"+md5a+"\n", convert.Options{Member: "m", Now: now})
	ip, hash := items[0].Objects[0].SDO, items[1].Objects[0].SDO
	if ip.ValidUntil != "2027-01-04T10:00:00.000Z" || hash.ValidUntil != "2027-12-05T10:00:00.000Z" {
		t.Errorf("default lifetimes: IP until %s, hash until %s", ip.ValidUntil, hash.ValidUntil)
	}
	items = convertAll(t, "1.2.3.4\n", convert.Options{Member: "m", Now: now, ValidFor: 48 * time.Hour})
	if got := items[0].Objects[0].SDO.ValidUntil; got != "2026-12-07T10:00:00.000Z" {
		t.Errorf("--valid-for 48h: until %s", got)
	}
	items = convertAll(t, "1.2.3.4\n", convert.Options{Member: "m", Now: now, ValidFor: -1})
	if got := items[0].Objects[0].SDO.ValidUntil; got != "" {
		t.Errorf("no lifetime: until %s", got)
	}
	raw, _ := items[0].Objects[0].JSON()
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if m["valid_from"] != "2026-12-05T10:00:00.000Z" || m["created"] != m["modified"] {
		t.Errorf("times: %s", raw)
	}
}

func TestMISPEvent(t *testing.T) {
	raw, err := os.ReadFile("testdata/misp-event.json")
	if err != nil {
		t.Fatal(err)
	}
	items := convertAll(t, string(raw), convert.Options{Member: "cert-eu", Now: now})
	patterns := map[string]string{}
	verdicts := map[string]string{}
	for _, it := range items {
		patterns[it.Where] = it.Pattern
		switch {
		case it.Issue != nil:
			verdicts[it.Where] = "issue:" + it.Issue.Code
		case it.ID == "":
			verdicts[it.Where] = "note"
		default:
			verdicts[it.Where] = "ok"
		}
	}
	// The patterns MISP's own STIX 2.1 export writes for these attribute types.
	for where, want := range map[string]string{
		"Attribute[0]":  "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.23']",
		"Attribute[1]":  "[network-traffic:src_ref.type = 'ipv6-addr' AND network-traffic:src_ref.value = '2001:db8::bad']",
		"Attribute[2]":  "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.9' AND network-traffic:dst_port = 8443]",
		"Attribute[3]":  "[domain-name:value = 'login-ministry.example.com']",
		"Attribute[5]":  "[domain-name:value = 'mail.login-ministry.example.com' AND domain-name:resolves_to_refs[*].value = '198.51.100.24']",
		"Attribute[6]":  `[url:value = 'https://login-ministry.example.com/o\'auth?x=1#top']`,
		"Attribute[7]":  "[email-message:from_ref.value = 'hr-department@login-ministry.example.com']",
		"Attribute[8]":  `[email-message:subject = 'Updated \'travel\' policy']`,
		"Attribute[9]":  "[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']",
		"Attribute[11]": "[file:name = 'policy.docm' AND file:hashes.'SHA-1' = '3395856ce81f2b7382dee72602f798b642f14140']",
		"Attribute[12]": `[file:name = 'C:\\Users\\Public\\update.exe']`,
		"Attribute[13]": "[autonomous-system:number = 64500]",
		"Attribute[14]": `[mutex:name = 'Global\\wave2-lock']`,
		"Attribute[16]": "[mac-addr:value = 'd2:fb:49:24:37:18']",
		"Attribute[17]": "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Mozilla/5.0 (wave2)']",
		"Object[0]":     "[file:name = 'invoice.pdf.exe' AND file:hashes.MD5 = 'b1de37bf229890ac181bdef1ad8ee0c2' AND file:size = 3712512]",
		"Object[1]":     "[domain-name:value = 'files.login-ministry.example.com' AND domain-name:resolves_to_refs[*].value = '198.51.100.25']",
		"Object[2]":     "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.10' AND network-traffic:dst_port = 443]",
	} {
		if patterns[where] != want {
			t.Errorf("%s: pattern %s, want %s", where, patterns[where], want)
		}
	}
	for where, want := range map[string]string{
		"Attribute[18]": "ok", "Attribute[19]": "note", "Attribute[20]": "issue:unsupported",
		"Attribute[21]": "issue:invalid", "Object[3].Attribute[0]": "note",
	} {
		if verdicts[where] != want {
			t.Errorf("%s: %s, want %s", where, verdicts[where], want)
		}
	}
	// The event's tlp:green marks everything but the attribute tagged tlp:amber.
	for _, it := range items {
		for _, o := range it.Objects {
			if o.SDO == nil || o.SDO.Type != "indicator" {
				continue
			}
			want := "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
			if it.Where == "Attribute[12]" {
				want = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
			}
			if len(o.SDO.ObjectMarkingRefs) != 1 || o.SDO.ObjectMarkingRefs[0] != want {
				t.Errorf("%s marked %v, want %s", it.Where, o.SDO.ObjectMarkingRefs, want)
			}
		}
	}
	n := checkObjects(t, items)
	t.Logf("MISP event: %d items, %d objects", len(items), n)
}
