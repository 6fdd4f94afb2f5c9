package policy

import (
	"slices"
	"testing"

	"taxiihub/internal/store"
)

func TestSearchFormsStayWithinTheStoresBound(t *testing.T) {
	for _, v := range []string{"2001:DB8:AAAA:BBBB:CCCC:DDDD:EEEE:FFFF", "::ffff:198.51.100.7", "198.51.100.7",
		"HTTPS://Login.Example.COM:443/a", "AS 64500", "CVE-2024-12345", "00-1A-2B-3C-4D-5E"} {
		forms := SearchForms(v)
		if len(forms) == 0 || len(forms) > store.MaxSearchValues {
			t.Errorf("%s: %d forms; want 1..%d", v, len(forms), store.MaxSearchValues)
		}
	}
	// An IPv4-mapped address is the IPv4 address, inside its IPv4 networks.
	forms := SearchForms("::ffff:198.51.100.7")
	for _, want := range []string{"198.51.100.7", "198.51.100.0/24", "0.0.0.0/0"} {
		if !slices.Contains(forms, want) {
			t.Errorf("forms of ::ffff:198.51.100.7 lack %s: %v", want, forms)
		}
	}
	for v, want := range map[string]string{
		"HTTPS://Login.Example.COM:443/a": "https://login.example.com/a",
		"AS 64500":                        "64500",
		"cve-2024-12345":                  "CVE-2024-12345",
		"00-1A-2B-3C-4D-5E":               "00:1a:2b:3c:4d:5e",
		"Bücher.example.":                 "xn--bcher-kva.example",
	} {
		if forms := SearchForms(v); !slices.Contains(forms, want) {
			t.Errorf("forms of %s lack %s: %v", v, want, forms)
		}
	}
	if forms := SearchForms(" \t"); forms != nil {
		t.Errorf("blank: %v", forms)
	}
}

func TestIndexValuesReadsPatternsObservablesAndCVEs(t *testing.T) {
	got := IndexValues("indicator", []byte(`{"pattern_type":"stix","pattern":"[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E' AND file:name = 'a.exe'] OR [ipv6-addr:value IN ('2001:db8::1', '2001:DB8::/32')] OR [url:value LIKE 'http://x%'] OR [network-traffic:dst_ref.value = '203.0.113.5']"}`))
	want := []store.IndexedValue{
		{Kind: "file:hashes.MD5", Value: "d41d8cd98f00b204e9800998ecf8427e"},
		{Kind: "file:name", Value: "a.exe"},
		{Kind: "ipv6-addr", Value: "2001:db8::1"},
		{Kind: "ipv6-addr", Value: "2001:db8::/32"},
		{Kind: "ipv4-addr", Value: "203.0.113.5"},
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("indicator: %v lacks %v", got, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("indicator: %v; want exactly %v (LIKE names no value)", got, want)
	}
	for _, tc := range []struct {
		typ, content string
	}{
		{"indicator", `{"pattern_type":"sigma","pattern":"title: x"}`},
		{"indicator", `{"pattern_type":"stix","pattern":"[not a pattern"}`},
		{"note", `{"content":"198.51.100.7"}`},
		{"vulnerability", `{"name":"Log4Shell"}`},
		{"ipv4-addr", `not json`},
	} {
		if got := IndexValues(tc.typ, []byte(tc.content)); len(got) != 0 {
			t.Errorf("%s %s: %v; want nothing", tc.typ, tc.content, got)
		}
	}
}
