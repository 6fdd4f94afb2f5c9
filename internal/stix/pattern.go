package stix

import (
	"errors"
	"fmt"

	"taxiihub/internal/stix/pattern"
)

// patternChecker validates the pattern of an indicator whose pattern_type is "stix", returning
// the parsed pattern or a pattern.Problems. It is a field of Validator rather than a direct call so
// that the parser stays an implementation detail: pattern.ParseIndicatorPattern in production.
type patternChecker func(string) (*pattern.Pattern, error)

// checkIndicatorPattern parses the pattern when the indicator says it is a STIX pattern; other
// pattern languages (yara, snort, sigma...) are opaque to STIX and are not parsed.
func (c *objectCheck) checkIndicatorPattern() {
	p, ok := str(c.obj, "pattern")
	if !ok {
		return
	}
	pt, _ := str(c.obj, "pattern_type")
	if pt != "stix" {
		return
	}
	parsed, err := c.v.checkPattern(p)
	if err == nil {
		c.pattern = parsed
		return
	}
	var problems pattern.Problems
	if !errors.As(err, &problems) {
		c.r.errorf(CodeInvalidPattern, at("pattern"), "The pattern could not be checked: %v.", err)
		return
	}
	for _, pp := range problems {
		// The pattern package's codes are stable too, so they are passed on as they are.
		c.r.add(Problem{
			Code:    string(pp.Code),
			Path:    "/pattern",
			Message: fmt.Sprintf("pattern, %s: %s.", position(pp), pp.Message),
		})
	}
}

func position(p pattern.Problem) string {
	if p.Line == 1 {
		return fmt.Sprintf("column %d", p.Column)
	}
	return fmt.Sprintf("line %d, column %d", p.Line, p.Column)
}
