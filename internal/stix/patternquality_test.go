package stix

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestPatternQuality checks each pattern warning on patterns that carry it and on close
// patterns that must not: a false warning would teach authors to ignore them. The examples of
// the README's STIX validation section are among the cases.
func TestPatternQuality(t *testing.T) {
	v := newTestValidator(t)
	const (
		sha256 = "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'"
		md5    = "'d41d8cd98f00b204e9800998ecf8427e'"
	)
	for _, tc := range []struct {
		pattern string
		want    string // the warning code expected; "" for none of the pattern warnings
		// in must appear in the warning's message.
		in string
	}{
		// Object types.
		{pattern: "[ipv4-addr:value = '198.51.100.1']"},
		{pattern: "[x-acme-sensor:reading = 5]"},
		{pattern: "[ipv4addr:value = '198.51.100.1']", want: CodePatternUnknownType, in: `"ipv4addr"`},
		{pattern: "[domain:value = 'example.com']", want: CodePatternUnknownType, in: `"domain"`},
		{pattern: "[indicator:name = 'x']", want: CodePatternUnknownType, in: `"indicator"`},
		{pattern: "[win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Run']", want: CodePatternUnknownType},

		// Properties.
		{pattern: "[ipv4-addr:valu = '198.51.100.1']", want: CodePatternUnknownProperty, in: `"valu" is not a property of ipv4-addr`},
		{pattern: "[process:name = 'cmd.exe']", want: CodePatternUnknownProperty},
		{pattern: "[file:file_name = 'a.exe']", want: CodePatternUnknownProperty},
		{pattern: "[file:x_acme_tag = 'a']"},
		{pattern: "[file:id = 'file--9704eca1-8efd-542c-a626-77d7cbcfe49f']"},
		{pattern: "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]"},
		{pattern: "[file:extensions.'windows-pebinary-ext'.sections[*].entropie > 7.0]", want: CodePatternUnknownProperty, in: `"entropie"`},
		{pattern: "[file:extensions.'windows-pebinary-ext'.optional_header.hashes.'SHA-256' = " + sha256 + "]"},
		{pattern: "[file:extensions.'pe-ext'.pe_type = 'exe']", want: CodePatternUnknownProperty, in: "not an extension"},
		{pattern: "[file:extensions.'extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e'.rank > 5]"},
		{pattern: "[file:extensions.'x-acme-ext'.rank > 5]"},
		{pattern: "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'curl/8.0']"},
		{pattern: "[email-message:from_ref.value = 'jdoe@example.com']"},
		{pattern: "[email-message:to_refs[*].value = 'bob@example.com']"},
		{pattern: "[email-message:from_ref.vaule = 'jdoe@example.com']", want: CodePatternUnknownProperty, in: "email-addr"},
		{pattern: "[email-message:body_multipart[*].body_raw_ref.name = 'a.zip']"},
		{pattern: "[email-message:additional_header_fields.'X-Mailer' = 'Mutt/1.5.23']"},
		{pattern: "[network-traffic:dst_ref.value = '198.51.100.1']"},
		{pattern: "[network-traffic:dst_ref.type = 'ipv4-addr']"},
		{pattern: "[network-traffic:dst_ref.path = '/tmp']", want: CodePatternUnknownProperty},
		{pattern: "[process:image_ref.name = 'cmd.exe']"},
		{pattern: "[process:parent_ref.image_ref.hashes.MD5 = " + md5 + "]"},
		{pattern: "[domain-name:resolves_to_refs[*].value = '198.51.100.1']"},

		// Hash keys.
		{pattern: "[file:hashes.'SHA-256' = " + sha256 + "]"},
		{pattern: "[file:hashes.MD5 = " + md5 + "]"},
		{pattern: "[file:hashes.x_acme_hash = 'abc']"},
		{pattern: "[file:hashes.SHA256 = " + sha256 + "]", want: CodePatternHashAlgorithm, in: "SHA-256"},
		{pattern: "[file:hashes.'sha-256' = " + sha256 + "]", want: CodePatternHashAlgorithm, in: "SHA-256"},
		{pattern: "[file:hashes.md5 = " + md5 + "]", want: CodePatternHashAlgorithm, in: "MD5"},
		{pattern: "[file:hashes.'SHA-384' = '38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b']", want: CodePatternHashAlgorithm, in: "vocabulary"},
		{pattern: "[artifact:hashes.'SSDEEP' = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']"},

		// Constants.
		{pattern: "[ipv4-addr:value = '2001:db8::1']", want: CodePatternValue, in: "IPv6 address; use ipv6-addr"},
		{pattern: "[ipv6-addr:value = '198.51.100.1']", want: CodePatternValue, in: "IPv4 address; use ipv4-addr"},
		{pattern: "[ipv4-addr:value = '198.51.100.300']", want: CodePatternValue},
		{pattern: "[ipv4-addr:value = '198.51.100.0/33']", want: CodePatternValue},
		{pattern: "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"},
		{pattern: "[ipv4-addr:value ISSUBSET '2001:db8::/32']", want: CodePatternValue},
		{pattern: "[ipv6-addr:value = '2001:db8::/32']"},
		{pattern: "[ipv4-addr:value IN ('198.51.100.1', '203.0.113.9')]"},
		{pattern: "[ipv4-addr:value IN ('198.51.100.1', 'example.com')]", want: CodePatternValue, in: "'example.com'"},
		{pattern: "[ipv4-addr:value LIKE '198.51.100.%']"},
		{pattern: "[ipv4-addr:value MATCHES '^198\\\\.51\\\\.']"},
		{pattern: "[domain-name:value = 'example.com']"},
		{pattern: "[domain-name:value = 'xn--bcher-kva.example']"},
		{pattern: "[domain-name:value = 'bücher.example']"},
		{pattern: "[domain-name:value = 'example com']", want: CodePatternValue, in: "not a domain name"},
		{pattern: "[domain-name:value = '198.51.100.1']", want: CodePatternValue, in: "IP address"},
		{pattern: "[mac-addr:value = '00:1a:2b:3c:4d:5e']"},
		{pattern: "[mac-addr:value = '00-1A-2B-3C-4D-5E']", want: CodePatternValue},
		{pattern: "[email-addr:value = 'jdoe@example.com']"},
		{pattern: "[email-addr:value = 'John Doe <jdoe@example.com>']", want: CodePatternValue},
		{pattern: "[url:value = 'https://example.com/a?b=c#d']"},
		{pattern: "[url:value = 'not a url']", want: CodePatternValue},
		{pattern: "[network-traffic:dst_port = 443]"},
		{pattern: "[network-traffic:dst_port = 70000]", want: CodePatternValue, in: "from 0 to 65535"},
		{pattern: "[network-traffic:src_port = -1]", want: CodePatternValue},
		{pattern: "[network-traffic:dst_port > 70000]"},
		{pattern: "[network-traffic:dst_port = '443']", want: CodePatternValue, in: "string constants never equal a number"},
		{pattern: "[network-traffic:dst_port IN (80, 443, 8443)]"},
		{pattern: "[network-traffic:dst_ref.value = 'not an address']", want: CodePatternValue, in: "none of the types"},
		{pattern: "[network-traffic:extensions.'socket-ext'.address_family = 'AF_INET']"},
		{pattern: "[network-traffic:extensions.'socket-ext'.address_family = 'INET']", want: CodePatternValue, in: "AF_INET6"},
		{pattern: "[file:size = 1024]"},
		{pattern: "[file:size = 1024.0]"},
		{pattern: "[file:size = 10.5]", want: CodePatternValue, in: "integer"},
		{pattern: "[file:size = -1]", want: CodePatternValue, in: "at least 0"},
		{pattern: "[file:name = 1024]", want: CodePatternValue},
		{pattern: "[file:mtime > t'2016-01-01T00:00:00Z']"},
		{pattern: "[file:mtime = 5]", want: CodePatternValue},
		{pattern: "[file:magic_number_hex = h'ffd8']"},
		{pattern: "[artifact:payload_bin = b'dGVzdA==']"},
		{pattern: "[user-account:is_service_account = true]"},
		{pattern: "[user-account:is_service_account = 'yes']", want: CodePatternValue},
		{pattern: "[user-account:user_id = '1001']"},
		{pattern: "[autonomous-system:number = 64500]"},
		{pattern: "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e'] AND [ipv4-addr:value = '198.51.100.1'] WITHIN 300 SECONDS"},
		{pattern: "[file:hashes.TLSH = 'T1abc']", want: CodePatternValue, in: "TLSH"},
		{pattern: "[email-message:date = '2016-06-19T14:20:40.000Z']"},
		{pattern: "[email-message:date = '19 June 2016']", want: CodePatternValue, in: "timestamp"},
		{pattern: "[email-message:date > '2016']"},
		{pattern: "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Run']"},
		{pattern: "[windows-registry-key:key = 'HKLM\\\\Software\\\\Run']", want: CodePatternValue, in: "in full"},
		{pattern: "[windows-registry-key:key LIKE 'HKLM%']"},
		{pattern: "[software:languages[*] = 'en-US']"},
		{pattern: "[software:languages[*] = 'PHP']", want: CodePatternValue, in: "RFC 5646"},
		{pattern: "[software:cpe = 'cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*']"},
		{pattern: "[software:cpe = 'word 2000']", want: CodePatternValue, in: "CPE"},
		{pattern: "[artifact:url = 'https://example.com/a.bin']"},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			vd := v.Object(patternIndicator(tc.pattern))
			if !vd.Valid() {
				t.Fatalf("refused: %v", vd.Errors)
			}
			var got []Problem
			for _, w := range vd.Warnings {
				if strings.HasPrefix(w.Code, "pattern-") {
					got = append(got, w)
				}
			}
			if tc.want == "" {
				if len(got) > 0 {
					t.Fatalf("warnings %v, want none", got)
				}
				return
			}
			i := slices.IndexFunc(got, func(p Problem) bool { return p.Code == tc.want && strings.Contains(p.Message, tc.in) })
			if i < 0 {
				t.Fatalf("warnings %v, want %s saying %q", got, tc.want, tc.in)
			}
			if got[i].Path != "/pattern" {
				t.Errorf("path %q, want /pattern", got[i].Path)
			}
		})
	}
}

// manyBadTypes is an indicator whose pattern ORs n comparisons of unknown types, each worth a
// warning.
func manyBadTypes(n int) []byte {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(" OR ")
		}
		fmt.Fprintf(&b, "[bogus-type-%d:value = 1]", i)
	}
	return patternIndicator(b.String())
}

// TestPatternQualityBounded checks that a pattern of many bad comparisons is reported within the
// warning bound, with a notice that more were cut. How its cost grows with the pattern's length
// (each warning once located its offset by reading the pattern from the start, and 20,000 of them
// took 20 seconds) is BenchmarkPatternQualityScaling's to show, not a timed test's.
func TestPatternQualityBounded(t *testing.T) {
	v := newTestValidator(t)
	for _, n := range []int{5_000, 20_000} {
		vd := v.Object(manyBadTypes(n))
		if !vd.Valid() {
			t.Fatalf("refused: %v", vd.Errors[0])
		}
		if len(vd.Warnings) != maxProblems+1 || vd.Warnings[maxProblems].Code != CodeTooManyProblems {
			t.Fatalf("%d comparisons: %d warnings, want %d and a notice that more were cut", n, len(vd.Warnings), maxProblems)
		}
	}
}

// BenchmarkPatternQualityScaling checks patterns of 5,000 and 20,000 bad comparisons: linear
// checking costs about 4 times as much for the second, a square 16 times.
func BenchmarkPatternQualityScaling(b *testing.B) {
	v := newTestValidator(b)
	for _, n := range []int{5_000, 20_000} {
		obj := manyBadTypes(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				v.Object(obj)
			}
		})
	}
}

// FuzzPatternQuality feeds patterns to an indicator: no pattern makes the checks panic, pattern
// warnings come only with a pattern that is valid, and they point at the pattern.
func FuzzPatternQuality(f *testing.F) {
	v := newTestValidator(f)
	for _, seed := range []string{
		"[ipv4-addr:value = '2001:db8::1']",
		"[email-message:from_ref.vaule = 'jdoe@example.com']",
		"[file:hashes.SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
		"[network-traffic:dst_ref.value = 'not an address' AND network-traffic:dst_port IN (80, 70000)]",
		"[file:extensions.'windows-pebinary-ext'.sections[*].hashes.'SHA-256' = 'x']",
		"[domain-name:resolves_to_refs[*].value ISSUBSET '2001:db8::/32'] WITHIN 5 SECONDS",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p string) {
		vd := v.Object(patternIndicator(p))
		for _, w := range vd.Warnings {
			if !strings.HasPrefix(w.Code, "pattern-") {
				continue
			}
			if !vd.Valid() {
				t.Fatalf("pattern warning %v on an invalid indicator: %v", w, vd.Errors)
			}
			if w.Path != "/pattern" {
				t.Fatalf("pattern warning at %q", w.Path)
			}
		}
	})
}
