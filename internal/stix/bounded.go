package stix

import (
	"maps"
	"slices"

	"github.com/xeipuuv/gojsonschema"
)

// longList is the length beyond which a list is validated member by member. gojsonschema
// builds every error with a text/template message, a few microseconds and a couple of
// kilobytes each, so one pass over a list of a million wrong members ("labels": [1,1,1,...])
// would cost seconds and gigabytes; member by member, validation stops once the report is
// full (see maxProblems).
const longList = 32

// validateSchema validates doc, an object or a member of a long list found at where, against
// schema, whose view of doc is s.
func validateSchema(schema *gojsonschema.Schema, s *shape, doc any, where loc, r *report) {
	var lists []longListAt
	view, _ := shortenLists(doc, s, where, &lists)
	schemaProblems(schema, view, where, r)
	for _, l := range lists {
		for i := 1; i < len(l.members); i++ {
			if r.full() {
				r.moreErrors++ // the rest goes unchecked
				return
			}
			validateSchema(l.shape.itemSchema, l.shape.items, l.members[i], l.where.index(i), r)
		}
	}
}

// longListAt is a long list left out of a validation pass but for its first member.
type longListAt struct {
	where   loc
	members []any
	shape   *shape
}

// shortenLists returns doc with each long list the schema describes cut down to its first
// member, so that the list's own constraints (type, minItems) are still checked, records those
// lists, and reports whether anything was cut. doc itself is never modified: the containers on
// the way to a long list are copied.
func shortenLists(doc any, s *shape, where loc, lists *[]longListAt) (any, bool) {
	if s == nil {
		return doc, false
	}
	switch v := doc.(type) {
	case map[string]any:
		var copied map[string]any
		for name, e := range v {
			ps := s.props[name]
			if ps == nil {
				continue
			}
			if short, cut := shortenLists(e, ps, where.key(name), lists); cut {
				if copied == nil {
					copied = maps.Clone(v)
				}
				copied[name] = short
			}
		}
		if copied != nil {
			return copied, true
		}
	case []any:
		if s.items == nil {
			return doc, false
		}
		if len(v) > longList && s.itemSchema != nil {
			*lists = append(*lists, longListAt{where: slices.Clone(where), members: v, shape: s})
			first, _ := shortenLists(v[0], s.items, where.index(0), lists)
			return []any{first}, true
		}
		var copied []any
		for i, e := range v {
			if short, cut := shortenLists(e, s.items, where.index(i), lists); cut {
				if copied == nil {
					copied = slices.Clone(v)
				}
				copied[i] = short
			}
		}
		if copied != nil {
			return copied, true
		}
	}
	return doc, false
}
