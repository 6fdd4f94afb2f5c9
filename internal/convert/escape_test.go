package convert_test

import (
	"testing"
	"unicode/utf8"

	"taxiihub/internal/convert"
	"taxiihub/internal/stix/pattern"
)

// FuzzQuoteLiteral checks that a quoted literal never means something else: put between two
// comparisons, it parses back to exactly the string quoted, and the pattern keeps its three
// comparisons, so no input can close the literal and add a condition of its own.
func FuzzQuoteLiteral(f *testing.F) {
	for _, s := range []string{"", "'", "\\", "\\'", "'] OR [file:name = 'x", "a\\", "it's", "\x00", "ü", "\n", "]'", "\\\\'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := "[file:size = 1 AND file:name = " + convert.QuoteLiteral(s) + " AND file:size = 2]"
		parsed, err := pattern.Parse(p)
		if err != nil {
			if utf8.ValidString(s) {
				t.Fatalf("%q: the pattern %s does not parse: %v", s, p, err)
			}
			return // not UTF-8: refused, which cannot mean anything else
		}
		cmps := parsed.Comparisons()
		if len(cmps) != 3 {
			t.Fatalf("%q: %d comparisons in %s", s, len(cmps), p)
		}
		if got := cmps[1].Value.Str; got != s {
			t.Fatalf("%q reads back as %q from %s", s, got, p)
		}
	})
}
