package stix

import (
	"errors"
	"fmt"

	"taxiihub/internal/stix/pattern"
)

// checkIndicatorPattern parses the pattern when the indicator says it is a STIX pattern; other
// pattern languages (yara, snort, sigma...) are opaque to STIX and are not parsed. A pattern the
// OASIS validator would accept is then checked for what makes it unable to match (see
// checkPatternQuality), which gives warnings only.
func (c *objectCheck) checkIndicatorPattern() {
	s, ok := str(c.obj, "pattern")
	if !ok {
		return
	}
	pt, _ := str(c.obj, "pattern_type")
	if pt != "stix" {
		return
	}
	p, err := pattern.Parse(s)
	if err == nil {
		if problems := p.CheckIndicator(); len(problems) > 0 {
			err = problems
		}
	}
	if err == nil {
		c.pattern = p
		c.checkPatternQuality(p)
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
