package server

import (
	"taxiihub/internal/stix"
	"taxiihub/internal/taxii"
)

// stixChecker lets the STIX validator judge the objects partners submit. The adapter lives here, in
// the wiring, so that neither the TAXII layer nor the validator needs to know the other.
type stixChecker struct{ validator *stix.Validator }

func (c stixChecker) Check(raw []byte) taxii.Verdict {
	v := c.validator.Object(raw)
	return taxii.Verdict{
		ID:          v.ID,
		Type:        v.Type,
		SpecVersion: v.SpecVersion,
		Version:     v.Version,
		Errors:      problems(v.Errors),
		Warnings:    problems(v.Warnings),
		Object:      v.Object,
	}
}

func problems(ps []stix.Problem) []taxii.Problem {
	out := make([]taxii.Problem, len(ps))
	for i, p := range ps {
		out[i] = taxii.Problem{Code: p.Code, Path: p.Path, Message: p.Message}
	}
	return out
}
