package pattern

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// tree renders the structure of an observation expression as an S-expression, so tests can state
// how operators grouped: (AND x y) for an operation, (group x) for parentheses the author wrote,
// and {x QUALIFIER...} for an expression with qualifiers.
func tree(e ObservationExpr) string {
	switch e := e.(type) {
	case *Observation:
		return withQualifiers("["+comparisonTree(e.Comparison)+"]", e.Qualifiers)
	case *ObservationGroup:
		return withQualifiers("(group "+tree(e.Inner)+")", e.Qualifiers)
	case *ObservationOperation:
		parts := []string{e.Op.String()}
		for _, o := range e.Operands {
			parts = append(parts, tree(o))
		}
		return "(" + strings.Join(parts, " ") + ")"
	}
	return "?"
}

func withQualifiers(s string, qs []Qualifier) string {
	if len(qs) == 0 {
		return s
	}
	parts := []string{s}
	for _, q := range qs {
		parts = append(parts, q.String())
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func comparisonTree(e ComparisonExpr) string {
	switch e := e.(type) {
	case *Comparison:
		return e.String()
	case *ComparisonGroup:
		return "(group " + comparisonTree(e.Inner) + ")"
	case *ComparisonOperation:
		parts := []string{e.Op.String()}
		for _, o := range e.Operands {
			parts = append(parts, comparisonTree(o))
		}
		return "(" + strings.Join(parts, " ") + ")"
	}
	return "?"
}

func mustParse(t *testing.T, s string) *Pattern {
	t.Helper()
	p, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return p
}

// problemsOf returns the problems behind a Parse or ValidateIndicatorPattern error.
func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	var problems Problems
	if !errors.As(err, &problems) || len(problems) == 0 {
		t.Fatalf("error %v (%T) is not a non-empty Problems", err, err)
	}
	return problems
}

func TestPrecedence(t *testing.T) {
	tests := []struct{ pattern, want string }{
		// Inside an observation AND binds tighter than OR.
		{"[a:b = 1 OR a:c = 2 AND a:d = 3]", "[(OR a:b = 1 (AND a:c = 2 a:d = 3))]"},
		{"[a:b = 1 AND a:c = 2 OR a:d = 3]", "[(OR (AND a:b = 1 a:c = 2) a:d = 3)]"},
		{"[(a:b = 1 OR a:c = 2) AND a:d = 3]", "[(AND (group (OR a:b = 1 a:c = 2)) a:d = 3)]"},
		{"[a:b = 1 AND a:c = 2 AND a:d = 3]", "[(AND a:b = 1 a:c = 2 a:d = 3)]"},
		{"[((a:b = 1))]", "[(group (group a:b = 1))]"},
		// Between observations AND > OR > FOLLOWEDBY.
		{"[a:b = 1] OR [a:c = 2] AND [a:d = 3]", "(OR [a:b = 1] (AND [a:c = 2] [a:d = 3]))"},
		{"[a:b = 1] AND [a:c = 2] OR [a:d = 3]", "(OR (AND [a:b = 1] [a:c = 2]) [a:d = 3])"},
		{"[a:b = 1] FOLLOWEDBY [a:c = 2] OR [a:d = 3]", "(FOLLOWEDBY [a:b = 1] (OR [a:c = 2] [a:d = 3]))"},
		{"[a:b = 1] OR [a:c = 2] FOLLOWEDBY [a:d = 3]", "(FOLLOWEDBY (OR [a:b = 1] [a:c = 2]) [a:d = 3])"},
		{"[a:b = 1] AND [a:c = 2] FOLLOWEDBY [a:d = 3] AND [a:e = 4]",
			"(FOLLOWEDBY (AND [a:b = 1] [a:c = 2]) (AND [a:d = 3] [a:e = 4]))"},
		{"[a:b = 1] FOLLOWEDBY [a:c = 2] FOLLOWEDBY [a:d = 3]", "(FOLLOWEDBY [a:b = 1] [a:c = 2] [a:d = 3])"},
		{"([a:b = 1] OR [a:c = 2]) AND [a:d = 3]", "(AND (group (OR [a:b = 1] [a:c = 2])) [a:d = 3])"},
		// Qualifiers bind to the observation expression right before them, tighter than any operator.
		{"[a:b = 1] AND [a:c = 2] WITHIN 5 SECONDS", "(AND [a:b = 1] {[a:c = 2] WITHIN 5 SECONDS})"},
		{"([a:b = 1] AND [a:c = 2]) WITHIN 5 SECONDS", "{(group (AND [a:b = 1] [a:c = 2])) WITHIN 5 SECONDS}"},
		{"[a:b = 1] REPEATS 2 TIMES WITHIN 5 SECONDS", "{[a:b = 1] REPEATS 2 TIMES WITHIN 5 SECONDS}"},
		{"([a:b = 1] REPEATS 2 TIMES) REPEATS 3 TIMES", "{(group {[a:b = 1] REPEATS 2 TIMES}) REPEATS 3 TIMES}"},
		{"[a:b = 1] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:30:00Z' OR [c:d = 2]",
			"(OR {[a:b = 1] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:30:00Z'} [c:d = 2])"},
		{"[foo:bar=1 AND bar:foo NOT >33] REPEATS 12 TIMES OR ([baz:bar ISSUBSET '1234'] FOLLOWEDBY [baz:quux NOT LIKE 'a_cd'])",
			"(OR {[(AND foo:bar = 1 bar:foo NOT > 33)] REPEATS 12 TIMES} (group (FOLLOWEDBY [baz:bar ISSUBSET '1234'] [baz:quux NOT LIKE 'a_cd'])))"},
		{"[NOT EXISTS a:b OR EXISTS a:c]", "[(OR NOT EXISTS a:b EXISTS a:c)]"},
		// Whitespace, comments and missing spaces do not change the structure.
		{"[a:b=1]/* comment */AND// to the end of the line\n[a:c=2]", "(AND [a:b = 1] [a:c = 2])"},
		{"[a:b=1]WITHIN 5SECONDS", "{[a:b = 1] WITHIN 5 SECONDS}"},
		{"\u00a0[a:b\u3000=\t1]\r\n", "[a:b = 1]"},
	}
	for _, tt := range tests {
		if got := tree(mustParse(t, tt.pattern).Root); got != tt.want {
			t.Errorf("Parse(%q):\n got %s\nwant %s", tt.pattern, got, tt.want)
		}
	}
}

func TestObjectPaths(t *testing.T) {
	p := mustParse(t, `[file:extensions.'windows-pebinary-ext'.sections[*].hashes.'SHA-256' != 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND email-message:body_multipart[0].body_raw_ref.name = 'a' AND x:'first'[-1] = 1]`)
	cmps := p.Comparisons()
	if len(cmps) != 3 {
		t.Fatalf("got %d comparisons, want 3", len(cmps))
	}
	describe := func(path ObjectPath) string {
		var parts []string
		for _, s := range path.Steps {
			switch s.Kind {
			case KeyStep:
				if s.Quoted {
					parts = append(parts, "key:'"+s.Key+"'")
				} else {
					parts = append(parts, "key:"+s.Key)
				}
			case IndexStep:
				parts = append(parts, "index:"+s.Index)
			case AnyIndexStep:
				parts = append(parts, "index:*")
			}
		}
		return path.ObjectType + " " + strings.Join(parts, " ")
	}
	want := []string{
		"file key:extensions key:'windows-pebinary-ext' key:sections index:* key:hashes key:'SHA-256'",
		"email-message key:body_multipart index:0 key:body_raw_ref key:name",
		"x key:'first' index:-1",
	}
	for i, c := range cmps {
		if got := describe(c.Path); got != want[i] {
			t.Errorf("path %d: got %s, want %s", i, got, want[i])
		}
	}
	if cmps[0].Operator != NotEqual || cmps[0].Path.Property() != "extensions" {
		t.Errorf("first comparison: operator %v, property %q", cmps[0].Operator, cmps[0].Path.Property())
	}
	if i, err := cmps[2].Path.Steps[1].IndexValue(); err != nil || i != -1 {
		t.Errorf("IndexValue of [-1] = %d, %v", i, err)
	}
}

// firstValue parses a one-comparison pattern and returns the constant it compares with.
func firstValue(t *testing.T, s string) Literal {
	t.Helper()
	return mustParse(t, s).Comparisons()[0].Value
}

func TestValidLiterals(t *testing.T) {
	tests := []struct {
		constant string
		kind     LiteralKind
		check    func(Literal) string // returns what is wrong, or ""
	}{
		{`'plain'`, StringLit, strIs("plain")},
		{`''`, StringLit, strIs("")},
		{`'it\'s'`, StringLit, strIs("it's")},
		{`'C:\\dir\\file'`, StringLit, strIs(`C:\dir\file`)},
		{`'\\\''`, StringLit, strIs(`\'`)},
		{"'two\nlines'", StringLit, strIs("two\nlines")},
		{`'ünïcödé ✓'`, StringLit, strIs("ünïcödé ✓")},
		{`'/* not a comment */'`, StringLit, strIs("/* not a comment */")},
		{`0`, IntLit, intIs(0)},
		{`-5`, IntLit, intIs(-5)},
		{`+7`, IntLit, intIs(7)},
		{`-0`, IntLit, intIs(0)},
		{`123456789012345678901234567890`, IntLit, nil}, // the grammar has no bound; Int64 fails
		{`7.0`, FloatLit, floatIs(7)},
		{`.5`, FloatLit, floatIs(0.5)},
		{`-.5`, FloatLit, floatIs(-0.5)},
		{`+1.25`, FloatLit, floatIs(1.25)},
		{`007.5`, FloatLit, floatIs(7.5)}, // leading zeros are fine in floats
		{`true`, BoolLit, boolIs(true)},
		{`false`, BoolLit, boolIs(false)},
		{`h'ffd8'`, HexLit, bytesAre("\xff\xd8")},
		{`h'ABcd01'`, HexLit, bytesAre("\xab\xcd\x01")},
		{`h''`, HexLit, bytesAre("")},
		{`b'dGVzdA=='`, BinaryLit, bytesAre("test")},
		{`b'YWJj'`, BinaryLit, bytesAre("abc")},
		{`b'YWI='`, BinaryLit, bytesAre("ab")},
		{`b'+/+/'`, BinaryLit, bytesAre("\xfb\xff\xbf")},
		{`t'2016-06-01T01:30:00Z'`, TimestampLit, timeIs(time.Date(2016, 6, 1, 1, 30, 0, 0, time.UTC))},
		{`t'2016-06-01T01:30:00.123456789Z'`, TimestampLit, timeIs(time.Date(2016, 6, 1, 1, 30, 0, 123456789, time.UTC))},
		{`t'2016-06-01T01:30:00.1Z'`, TimestampLit, timeIs(time.Date(2016, 6, 1, 1, 30, 0, 100000000, time.UTC))},
		{`t'2000-02-29T00:00:00Z'`, TimestampLit, timeIs(time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC))},
		{`t'2016-12-31T23:59:60Z'`, TimestampLit, timeIs(time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC))},
	}
	for _, tt := range tests {
		pattern := "[x-y:value = " + tt.constant + "]"
		v := firstValue(t, pattern)
		if v.Kind != tt.kind || v.Raw != tt.constant {
			t.Errorf("%s: got %v %q, want %v %q", pattern, v.Kind, v.Raw, tt.kind, tt.constant)
			continue
		}
		if tt.check != nil {
			if msg := tt.check(v); msg != "" {
				t.Errorf("%s: %s", pattern, msg)
			}
		}
	}
	if _, err := firstValue(t, "[x-y:value = 123456789012345678901234567890]").Int64(); err == nil {
		t.Error("Int64 of a 30-digit integer succeeded")
	}
}

func strIs(want string) func(Literal) string {
	return func(l Literal) string {
		if l.Str != want {
			return "Str = " + l.Str + ", want " + want
		}
		return ""
	}
}

func intIs(want int64) func(Literal) string {
	return func(l Literal) string {
		if got, err := l.Int64(); err != nil || got != want {
			return "Int64 returned a different value or an error"
		}
		return ""
	}
}

func floatIs(want float64) func(Literal) string {
	return func(l Literal) string {
		if got, err := l.Float64(); err != nil || got != want {
			return "Float64 returned a different value or an error"
		}
		return ""
	}
}

func boolIs(want bool) func(Literal) string {
	return func(l Literal) string {
		if l.Bool() != want {
			return "Bool returned the wrong value"
		}
		return ""
	}
}

func bytesAre(want string) func(Literal) string {
	return func(l Literal) string {
		if string(l.Bytes) != want {
			return "Bytes = " + string(l.Bytes) + ", want " + want
		}
		return ""
	}
}

func timeIs(want time.Time) func(Literal) string {
	return func(l Literal) string {
		if got, err := l.Time(); err != nil || !got.Equal(want) {
			return "Time returned " + got.String() + ", want " + want.String()
		}
		return ""
	}
}

// problemCase is one invalid pattern: the code of its first problem, where it is (byte offset),
// and a fragment its message must contain.
type problemCase struct {
	pattern string
	code    Code
	offset  int
	message string
}

func checkProblems(t *testing.T, tests []problemCase, validate func(string) error) {
	t.Helper()
	for _, tt := range tests {
		err := validate(tt.pattern)
		if err == nil {
			t.Errorf("%q: accepted, want %s", truncate(tt.pattern), tt.code)
			continue
		}
		got := problemsOf(t, err)[0]
		if got.Code != tt.code || got.Offset != tt.offset || !strings.Contains(got.Message, tt.message) {
			t.Errorf("%q:\n got %s (offset %d)\nwant %s at offset %d containing %q", truncate(tt.pattern), got.Error(), got.Offset, tt.code, tt.offset, tt.message)
		}
	}
}

func parseErr(s string) error { _, err := Parse(s); return err }

func TestInvalidLiterals(t *testing.T) {
	//             0         1         2
	//             0123456789012345678901234567
	const prefix = "[x-y:value = " // constants start at offset 13
	tests := []problemCase{
		{prefix + `"double"]`, CodeSyntax, 13, "single quotes"},
		{prefix + `'unterminated]`, CodeLiteral, 13, "no closing quote"},
		{prefix + `'bad \d']`, CodeLiteral, 18, `invalid escape \d`},
		{prefix + `'tab \t']`, CodeLiteral, 18, `invalid escape \t`},
		{prefix + `'ends in \`, CodeLiteral, 22, "lone backslash"},
		{prefix + "'bad \xff utf8']", CodeSyntax, 18, "UTF-8"},
		{prefix + `01]`, CodeLiteral, 13, "leading zero"},
		{prefix + `-007]`, CodeLiteral, 13, "leading zero"},
		{prefix + `1.]`, CodeSyntax, 14, "expected ']'"},
		{prefix + `1e5]`, CodeSyntax, 14, "expected ']'"},
		{prefix + `TRUE]`, CodeSyntax, 13, "booleans are lowercase: true"},
		{prefix + `h'abc']`, CodeLiteral, 13, "3 digits"},
		{prefix + `h'zz']`, CodeLiteral, 13, `'z'`},
		{prefix + `h'ab]`, CodeLiteral, 13, `']'`},
		{prefix + `h'ab`, CodeLiteral, 13, "no closing quote"},
		{prefix + `b'====']`, CodeLiteral, 13, "padding is at most two"},
		{prefix + `b'']`, CodeLiteral, 13, "empty"},
		{prefix + `b'abc']`, CodeLiteral, 13, "multiple of 4"},
		{prefix + `b'ab=c']`, CodeLiteral, 13, "only at the end"},
		{prefix + `b'ab c=']`, CodeLiteral, 13, `' '`},
		{prefix + `t'2024-13-01T12:00:00Z']`, CodeLiteral, 13, "month 13"},
		{prefix + `t'2024-00-01T12:00:00Z']`, CodeLiteral, 13, "month 00"},
		{prefix + `t'2024-01-32T12:00:00Z']`, CodeLiteral, 13, "day 32"},
		{prefix + `t'2024-01-15T25:00:00Z']`, CodeLiteral, 13, "hour 25"},
		{prefix + `t'2024-01-15T12:60:00Z']`, CodeLiteral, 13, "minute 60"},
		{prefix + `t'2024-01-15T12:00:61Z']`, CodeLiteral, 13, "second 61"},
		{prefix + `t'2024-01-15T12:00:00']`, CodeLiteral, 13, "ending in Z"},
		{prefix + `t'2024-01-15T12:00:00z']`, CodeLiteral, 13, "ending in Z"},
		{prefix + `t'2024-01-15t12:00:00Z']`, CodeLiteral, 13, "must look like"},
		{prefix + `t'2024-01-15T12:00:00+00:00']`, CodeLiteral, 13, "must look like"},
		{prefix + `t'2024-01-15T12:00:00.Z']`, CodeLiteral, 13, "must look like"},
		{prefix + `t'2024/01/15T12:30:45Z']`, CodeLiteral, 13, "must look like"},
		{prefix + `t'24-01-15T12:30:45Z']`, CodeLiteral, 13, "must look like"},
		{prefix + `t'2024-01-15T12:30:45Z]`, CodeLiteral, 13, "no closing quote"},
		// Well shaped, but no such instant.
		{prefix + `t'2023-02-29T12:00:00Z']`, CodeInvalidDate, 13, "2023-02 has only 28 days"},
		{prefix + `t'1900-02-29T12:00:00Z']`, CodeInvalidDate, 13, "1900-02 has only 28 days"},
		{prefix + `t'2024-04-31T12:00:00Z']`, CodeInvalidDate, 13, "2024-04 has only 30 days"},
		{prefix + `t'2016-06-30T12:00:60Z']`, CodeInvalidDate, 13, "leap second"},
		{"[x-y:value IN ('a', t'2024-02-30T12:00:00Z')]", CodeInvalidDate, 20, "2024-02 has only 29 days"},
		// Constants of the wrong kind for the operator.
		{"[x-y:value > true]", CodeSyntax, 13, "booleans have no order"},
		{"[x-y:value LIKE 5]", CodeSyntax, 16, "expected a string in single quotes after LIKE"},
		{"[x-y:value MATCHES /.*\\.dll/]", CodeSyntax, 19, "expected a string in single quotes after MATCHES"},
		{"[x-y:value ISSUBSET ]", CodeSyntax, 20, "expected a string"},
		{"[x-y:value = cead3f77f6cda6ec00f57d76c9a6879f]", CodeSyntax, 13, "strings must be in single quotes"},
		{"[x-y:value IN 'a']", CodeSyntax, 14, "expected '(' to open the set"},
		{"[x-y:value IN ('a' 'b')]", CodeSyntax, 19, "expected ',' or ')' in the set opened at column 15"},
		{"[x-y:value IN ('a',)]", CodeSyntax, 19, "expected a constant in the set after IN"},
	}
	checkProblems(t, tests, parseErr)
}

func TestQualifiers(t *testing.T) {
	valid := []string{
		"[a:b = 1] WITHIN 5 SECONDS",
		"[a:b = 1] WITHIN 5.5 SECONDS",
		"[a:b = 1] WITHIN +5 SECONDS",
		"[a:b = 1] WITHIN .5 SECONDS",
		"[a:b = 1] WITHIN 0 SECONDS", // the spec wants positive values, the grammar allows 0
		"[a:b = 1] REPEATS 0 TIMES",
		"[a:b = 1] REPEATS 5 TIMES WITHIN 30 SECONDS START t'2016-06-01T00:00:00Z' STOP t'2016-06-02T00:00:00Z'",
		"([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS",
		"([a:b = 1] REPEATS 2 TIMES) REPEATS 2 TIMES",
		"([a:b = 1] WITHIN 1 SECONDS) WITHIN 2 SECONDS",
		"[a:b = 1] WITHIN 1 SECONDS AND [a:b = 2] WITHIN 1 SECONDS",
	}
	for _, s := range valid {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
	//                  0         1         2         3         4
	//                  01234567890123456789012345678901234567890123456789
	tests := []problemCase{
		{"[a:b = 1] WITHIN -5 SECONDS", CodeSyntax, 17, "positive number of seconds"},
		{"[a:b = 1] WITHIN 5 HOURS", CodeSyntax, 19, "expected SECONDS after WITHIN 5"},
		{"[a:b = 1] WITHIN ]", CodeSyntax, 17, "expected a number of seconds after WITHIN"},
		{"[a:b = 1] WITHIN 5", CodeSyntax, 18, "found the end of the pattern"},
		{"[a:b = 1] REPEATS 2.5 TIMES", CodeSyntax, 18, "whole number"},
		{"[a:b = 1] REPEATS -2 TIMES", CodeSyntax, 18, "positive count"},
		{"[a:b = 1] REPEATS 2", CodeSyntax, 19, "expected TIMES after REPEATS 2"},
		{"[a:b = 1] START '2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00Z'", CodeSyntax, 16, "expected a timestamp constant"},
		{"[a:b = 1] START t'2016-06-01T00:00:00Z'", CodeSyntax, 39, "expected STOP after START"},
		{"[a:b = 1] within 5 seconds", CodeSyntax, 10, "keywords are uppercase: WITHIN"},
		{"[a:b = 1] LAST 5 SECONDS", CodeSyntax, 10, "unknown qualifier 'LAST'"},
		{"[a:b = 1] UNTIL t'2016-06-01T00:00:00Z'", CodeSyntax, 10, "unknown qualifier 'UNTIL'"},
		{"WITHIN 5 SECONDS [a:b = 1]", CodeSyntax, 0, "must start with '['"},
		{"[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", CodeDuplicateQualifier, 27, "already has a WITHIN qualifier (at column 11)"},
		{"([a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES)", CodeDuplicateQualifier, 27, "REPEATS"},
		{"[a:b = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T01:00:00Z' START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T01:00:00Z'",
			CodeDuplicateQualifier, 69, "START/STOP"},
		{"[a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES WITHIN 6 SECONDS", CodeDuplicateQualifier, 43, "WITHIN"},
		{"[a:b = 1] START t'2016-02-30T00:00:00Z' STOP t'2016-06-01T01:00:00Z'", CodeInvalidDate, 16, "2016-02 has only 29 days"},
	}
	checkProblems(t, tests, parseErr)
}

func TestSyntaxErrorPositions(t *testing.T) {
	//                  0         1         2         3
	//                  0123456789012345678901234567890123456789
	tests := []problemCase{
		{"", CodeSyntax, 0, "the pattern is empty"},
		{"  /* only a comment */ ", CodeSyntax, 23, "the pattern is empty"},
		{"file:size = 1280", CodeSyntax, 0, "must start with '['"},
		{"[file:size = 1280", CodeSyntax, 17, "expected ']' to close the observation expression opened at column 1, found the end of the pattern"},
		{"([file:size = 1280]", CodeSyntax, 19, "expected ')' to close the parenthesis opened at column 1"},
		{"[(file:size = 1280]", CodeSyntax, 18, "expected ')' to close the parenthesis opened at column 2"},
		{"[file:size = 1280]]", CodeSyntax, 18, "no '[' before it"},
		{"[file:size = 1280])", CodeSyntax, 18, "no '(' before it"},
		{"[file.size = 1280]", CodeSyntax, 5, "expected ':' after the object type 'file'"},
		{"[file:size == 1280 and file:name = 'a']", CodeSyntax, 19, "keywords are uppercase: AND"},
		{"[file:size = 1280 file:name = 'a']", CodeSyntax, 18, "expected ']'"},
		{"[file:hashes.MD5 =? 'a']", CodeSyntax, 18, "unexpected character '?'"},
		{"[file:size ! 5]", CodeSyntax, 11, "unexpected character '!'"},
		{"[file:size 5]", CodeSyntax, 11, "expected a comparison operator"},
		{"[file:size EXISTS]", CodeSyntax, 11, "EXISTS goes before the object path"},
		{"[NOT file:size = 5]", CodeSyntax, 5, "expected EXISTS after a leading NOT"},
		{"[file:bad-name = 5]", CodeSyntax, 6, "quote it: 'bad-name'"},
		{"[file:name.bad-step = 5]", CodeSyntax, 11, "contains a hyphen"},
		{"[file:IN = 5]", CodeSyntax, 6, "expected a property name"},
		{"[IN:name = 5]", CodeSyntax, 1, "expected a comparison"},
		{"[file: = 5]", CodeSyntax, 7, "expected a property name after ':'"},
		{"[file:a. = 5]", CodeSyntax, 9, "expected a property name after '.'"},
		{"[file:a[x] = 5]", CodeSyntax, 8, "expected a list index or '*'"},
		{"[file:a[1 = 5]", CodeSyntax, 10, "expected ']' to close the list index opened at column 8"},
		{"[file:a[1.5] = 5]", CodeSyntax, 8, "expected a list index"},
		{"[]", CodeSyntax, 1, "expected a comparison"},
		{"[a:b = 1] AND", CodeSyntax, 13, "expected an observation expression"},
		{"[a:b = 1] AND FOLLOWEDBY [a:b = 2]", CodeSyntax, 14, "expected an observation expression"},
		{"[a:b = 1] [a:b = 2]", CodeSyntax, 10, "expected AND, OR, FOLLOWEDBY"},
		{"[[a:b = 1]]", CodeSyntax, 1, "expected a comparison"},
		{"[a:b = 1] /* unterminated", CodeSyntax, 10, "never closed"},
		{"[a:b = 1] + [a:b = 2]", CodeSyntax, 10, "found '+'"},
		{"[a:b = 1]\n  AND [a:c =]", CodeSyntax, 22, "expected a constant after '='"},
		{"[a:b = 'x']\x00", CodeSyntax, 11, "U+0000"},
		{"[a:b = 'x'] \xc3", CodeSyntax, 12, "UTF-8"},
	}
	checkProblems(t, tests, parseErr)

	err := parseErr("[a:b = 1]\n  AND [a:c =]")
	if got := problemsOf(t, err)[0]; got.Line != 2 || got.Column != 13 {
		t.Errorf("multi-line pattern: got line %d column %d, want line 2 column 13", got.Line, got.Column)
	}
	err = parseErr("[a:b = 'é'] !")
	if got := problemsOf(t, err)[0]; got.Line != 1 || got.Column != 13 || got.Offset != 13 {
		t.Errorf("columns count characters: got offset %d column %d, want offset 13 column 13", got.Offset, got.Column)
	}
}

func TestHashChecks(t *testing.T) {
	md5 := "79054025255fb1a26e4bc422aef54eb4"
	sha256 := "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
	valid := []string{
		"[file:hashes.MD5 = '" + md5 + "']",
		"[file:hashes.'MD5' = '" + strings.ToUpper(md5) + "']",
		"[file:hashes.'SHA-256' = '" + sha256 + "']",
		"[file:hashes.SHA256 = '" + sha256 + "']",
		"[file:hashes.'sha-256' != '" + sha256 + "']",
		"[file:hashes.'SHA3-256' = '" + sha256 + "']",
		"[file:hashes.MD6 = '" + strings.Repeat("a", 56) + "']",
		"[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C'] ",
		"[file:hashes.MD5 IN ('" + md5 + "', '" + md5 + "')]",
		"[file:hashes.MD5 IN ()]",
		"[file:extensions.'windows-pebinary-ext'.sections[*].hashes.MD5 = '" + md5 + "']",
		"[EXISTS file:hashes.MD5]",
		// Not checked: unknown algorithms, paths without a "hashes" step, a last step that is an index.
		"[file:hashes.TLSH = 'anything']",
		"[file:hashes.'x_custom' = 'f00']",
		"[file:x_hashes.MD5 = 'f00']",
		"[file:hashes[0] = 'f00']",
		"[file:hashes.MD5.detail = 'f00']",
	}
	for _, s := range valid {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
	//                  0         1         2         3
	//                  0123456789012345678901234567890123456789
	tests := []problemCase{
		{"[file:hashes.'SHA-256' = 'f00']", CodeHashFormat, 25, "hash 'SHA-256' must be 64 hex digits; got 'f00'"},
		{"[file:hashes.sha1 = '" + md5 + "']", CodeHashFormat, 20, "hash 'sha1' must be 40 hex digits"},
		{"[file:hashes.MD5 = '" + md5[:31] + "g']", CodeHashFormat, 19, "32 hex digits"},
		{"[file:hashes.MD5 = 5]", CodeHashFormat, 19, "must be compared with a string, not the integer constant 5"},
		{"[file:hashes.MD5 = h'" + md5 + "']", CodeHashFormat, 19, "hex constant"},
		{"[file:hashes.MD5 IN ('" + md5 + "', 'f00')]", CodeHashFormat, 57, "got 'f00'"},
		{"[file:hashes.MD5 LIKE '7905%']", CodeHashFormat, 22, "32 hex digits"},
		{"[file:hashes.MD6 = '" + strings.Repeat("a", 33) + "']", CodeHashFormat, 19, "32, 40, 56, 64, 96 or 128 hex digits"},
		{"[file:hashes.SSDEEP = 'has space']", CodeHashFormat, 22, "1 to 128 characters"},
		{"[artifact:hashes.WHIRLPOOL = '" + md5 + "']", CodeHashFormat, 29, "128 hex digits"},
	}
	checkProblems(t, tests, parseErr)

	// Every bad hash is reported, in order.
	problems := problemsOf(t, parseErr("[file:hashes.MD5 = 'a' OR file:hashes.MD5 = 'b'] WITHIN 1 SECONDS WITHIN 2 SECONDS"))
	var codes []string
	for _, p := range problems {
		codes = append(codes, string(p.Code))
	}
	if got, want := strings.Join(codes, ","), "pattern-hash-format,pattern-hash-format,pattern-duplicate-qualifier"; got != want {
		t.Errorf("got codes %s, want %s", got, want)
	}
}

func TestCheckIndicator(t *testing.T) {
	valid := []string{
		"[file:name = 'a']",
		"[foo:bar = 1]", // custom types need no x- prefix in STIX 2.1
		"[x-acme-thing:value_one = 1]",
		"[ipv4addr:value ISSUBSET '192.168.0.1/24']",
		"[file:id = 'file--0b48d8cc-fa7b-5e10-9f87-96c9b0d8f7b3']", // "id" is a defined property
		"[file:'name' = 'a']",
		"[network-traffic:dst_ref.value = 'example.com']",
		"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
	}
	for _, s := range valid {
		if err := ValidateIndicatorPattern(s); err != nil {
			t.Errorf("ValidateIndicatorPattern(%q): %v", s, err)
		}
	}
	//                  0         1         2
	//                  012345678901234567890123456789
	tests := []problemCase{
		{"[x:created = t'2024-01-15T12:30:45Z']", CodeObjectType, 1, "'x' is not a valid observable type name"},
		{"[ab:foo = 1]", CodeObjectType, 1, "'ab'"},
		{"[File:name = 'a']", CodeObjectType, 1, "'File'"},
		{"[x_whatever:detected = 1]", CodeObjectType, 1, "'x_whatever'"},
		{"[x--y:value = 1]", CodeObjectType, 1, "'x--y'"},
		{"[foo:id = 'a']", CodePropertyName, 5, "'id' is not a valid observable property name"},
		{"[file:x_vendor_KnownBad = 1]", CodePropertyName, 6, "'x_vendor_KnownBad'"},
		{"[file:'Bad Name' = 1]", CodePropertyName, 6, "'Bad Name'"},
		{"[file:ab.cdef = 1]", CodePropertyName, 6, "'ab'"},
		// Pattern-validator problems come first, and alone.
		{"[x:created = t'2024-02-30T12:00:00Z']", CodeInvalidDate, 13, "not a real date"},
	}
	checkProblems(t, tests, ValidateIndicatorPattern)

	p := mustParse(t, "[X:Name = 1 AND X:Name = 2 AND X:Other = 3] AND [X:Name = 4]")
	var got []string
	for _, problem := range p.CheckIndicator() {
		got = append(got, fmt.Sprintf("%s@%d", problem.Code, problem.Column))
	}
	if want := "pattern-object-type@2,pattern-property-name@4,pattern-property-name@34"; strings.Join(got, ",") != want {
		t.Errorf("each type and type:property pair is reported once: got %v, want %s", got, want)
	}
}

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[file:size==1280]", "[file:size = 1280]"},
		{"[file:size<>1280]", "[file:size != 1280]"},
		{"[ a:b = 'it\\'s' AND a:'c d'[*].e NOT IN ( 1 ,+2,-.5,true ) ]", "[a:b = 'it\\'s' AND a:'c d'[*].e NOT IN (1, +2, -.5, true)]"},
		{"( [a:b=1] )WITHIN 5SECONDS", "([a:b = 1]) WITHIN 5 SECONDS"},
		{"[NOT EXISTS a:b]", "[NOT EXISTS a:b]"},
		{"[a:b IN()]", "[a:b IN ()]"},
		{"[a:b = h'ff' OR a:c = b'dGVzdA==' OR a:d = t'2016-06-01T01:30:00Z']", "[a:b = h'ff' OR a:c = b'dGVzdA==' OR a:d = t'2016-06-01T01:30:00Z']"},
		{"[a:b=1]/*x*/FOLLOWEDBY[a:c=2]REPEATS 2 TIMES", "[a:b = 1] FOLLOWEDBY [a:c = 2] REPEATS 2 TIMES"},
	}
	for _, tt := range tests {
		got := mustParse(t, tt.in).String()
		if got != tt.want {
			t.Errorf("String of %q:\n got %s\nwant %s", tt.in, got, tt.want)
		}
		if again := mustParse(t, got).String(); again != got {
			t.Errorf("String is not stable: %q renders as %q", got, again)
		}
	}
}

func TestNestingLimit(t *testing.T) {
	nested := func(depth int, open, close string) string {
		return strings.Repeat(open, depth) + "[a:b = 1]" + strings.Repeat(close, depth)
	}
	if _, err := Parse(nested(MaxNesting-1, "(", ")")); err != nil {
		t.Errorf("%d levels: %v", MaxNesting, err)
	}
	checkProblems(t, []problemCase{
		{nested(MaxNesting, "(", ")"), CodeTooDeep, MaxNesting, "more than 64 levels"},
		{"[" + strings.Repeat("(", MaxNesting) + "a:b = 1" + strings.Repeat(")", MaxNesting) + "]", CodeTooDeep, MaxNesting, "more than 64 levels"},
		{strings.Repeat("(", 1_000_000), CodeTooDeep, MaxNesting, "more than 64 levels"},
		{strings.Repeat("(", 40) + "[" + strings.Repeat("(", 500_000), CodeTooDeep, MaxNesting, "more than 64 levels"},
	}, parseErr)

	// Long chains are loops, not recursion: no depth problem, no stack growth.
	long := strings.Repeat("[a:b = 1] AND ", 100_000) + "[a:b = 1]"
	p := mustParse(t, long)
	if n := len(p.Root.(*ObservationOperation).Operands); n != 100_001 {
		t.Errorf("got %d operands, want 100001", n)
	}
}

func TestProblemsError(t *testing.T) {
	err := parseErr("[file:hashes.MD5 = 'a'] WITHIN 1 SECONDS WITHIN 2 SECONDS")
	want := "pattern-hash-format at column 20: hash 'MD5' must be 32 hex digits; got 'a' (1 characters); " +
		"pattern-duplicate-qualifier at column 42: this observation expression already has a WITHIN qualifier (at column 25); a qualifier type may be applied to it only once"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if !problemsOf(t, err).Has(CodeDuplicateQualifier) || problemsOf(t, err).Has(CodeSyntax) {
		t.Error("Has reports the wrong codes")
	}
	if err := ValidateIndicatorPattern("[file:name = 'a']"); err != nil {
		t.Errorf("a valid pattern gave a non-nil error: %#v", err)
	}
	line2 := problemsOf(t, parseErr("[a:b = 1]\nOR")).Error()
	if !strings.HasPrefix(line2, "pattern-syntax at line 2, column 3: ") {
		t.Errorf("multi-line location: %s", line2)
	}
}
