package convert

import "strings"

// QuoteLiteral writes s as a STIX pattern string literal: in single quotes, with every backslash
// and single quote escaped by a backslash, which are the only escapes the patterning grammar has.
// Nothing else needs escaping: a literal may hold any other character, brackets and newlines
// included, so the pattern matches exactly s.
func QuoteLiteral(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}
