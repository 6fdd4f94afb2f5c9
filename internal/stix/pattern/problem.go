package pattern

import (
	"fmt"
	"slices"
	"strings"
)

// Code identifies the kind of a [Problem]. The values are stable: callers may match on them,
// store them and pass them on to API clients. The package documentation lists what each means.
type Code string

// The problem codes. CodeObjectType and CodePropertyName come only from [Pattern.CheckIndicator].
const (
	CodeSyntax             Code = "pattern-syntax"
	CodeLiteral            Code = "pattern-literal"
	CodeInvalidDate        Code = "pattern-invalid-date"
	CodeTooDeep            Code = "pattern-too-deep"
	CodeHashFormat         Code = "pattern-hash-format"
	CodeDuplicateQualifier Code = "pattern-duplicate-qualifier"
	CodeObjectType         Code = "pattern-object-type"
	CodePropertyName       Code = "pattern-property-name"
)

// maxProblems bounds how many semantic problems one call reports, so that a hostile pattern with
// thousands of bad hashes costs no more than a readable report of its first ones.
const maxProblems = 50

// Problem is one reason a pattern is invalid.
type Problem struct {
	Code Code
	// Offset is the byte offset of the offending text in the pattern.
	Offset int
	// Line and Column locate Offset for people: both start at 1 and Column counts characters,
	// not bytes. (The OASIS validator's "line 1:N" counts columns from 0, so N equals Offset
	// for single-line ASCII patterns.)
	Line, Column int
	// Message says what is wrong in a sentence meant for the pattern's author.
	Message string
}

func (p Problem) Error() string {
	return fmt.Sprintf("%s at %s: %s", p.Code, p.location(), p.Message)
}

func (p Problem) location() string {
	if p.Line == 1 {
		return fmt.Sprintf("column %d", p.Column)
	}
	return fmt.Sprintf("line %d, column %d", p.Line, p.Column)
}

// Problems is the error [Parse] and [ValidateIndicatorPattern] return: one or more problems in the
// order they occur in the pattern. Use errors.As to get at it.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// Has reports whether any problem has the given code.
func (ps Problems) Has(code Code) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Code == code })
}

func newProblem(src string, code Code, offset int, format string, args ...any) Problem {
	line, col := lineColumn(src, offset)
	return Problem{Code: code, Offset: offset, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

// lineColumn converts a byte offset into a 1-based line and a 1-based character column.
func lineColumn(src string, offset int) (line, col int) {
	offset = min(max(offset, 0), len(src))
	line, col = 1, 1
	for _, r := range src[:offset] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// columnOf is lineColumn for messages that point back at an opening bracket: patterns are
// nearly always one line, so a bare column reads best there, with the line only when needed.
func columnOf(src string, offset int) string {
	line, col := lineColumn(src, offset)
	if line == 1 {
		return fmt.Sprintf("column %d", col)
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}
