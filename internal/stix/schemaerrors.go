package stix

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/xeipuuv/gojsonschema"
)

// schemaProblems validates doc, found at where, against s and turns gojsonschema's findings
// into problems.
func schemaProblems(s *gojsonschema.Schema, doc any, where loc, r *report) {
	res, err := s.Validate(decodedDocument{doc})
	if err != nil { // only possible if LoadJSON failed, which decodedDocument never does
		r.errorf(CodeSchema, where, "The schema could not be applied: %v.", err)
		return
	}
	if res.Valid() {
		return
	}
	for _, e := range res.Errors() {
		translateSchemaError(e, doc, where, r)
	}
}

func translateSchemaError(e gojsonschema.ResultError, doc any, prefix loc, r *report) {
	where := append(slices.Clip(prefix), contextLoc(e.Context(), doc)...)
	d := e.Details()
	switch e.Type() {
	case "number_all_of", "number_any_of", "number_one_of":
		// Summaries of the branch errors, which are reported on their own.
	case "required":
		p := where.key(fmt.Sprint(d["property"]))
		r.errorf(CodeMissingProperty, p, "%s is required.", p)
	case "invalid_type":
		r.errorf(CodeWrongType, where, "%s must be %s, not %s.", where, jsonTypeName(d["expected"]), jsonTypeName(d["given"]))
	case "enum", "const":
		r.errorf(CodeValueNotAllowed, where, "%s must be one of %v; %s is not allowed.", where, d["allowed"], describeValue(e.Value()))
	case "array_min_items":
		r.errorf(CodeEmptyList, where, "%s must not be an empty list; leave the property out instead.", where)
	case "array_min_properties":
		r.errorf(CodeEmptyDictionary, where, "%s must not be an empty dictionary; leave the property out instead.", where)
	case "string_gte":
		r.errorf(CodeEmptyString, where, "%s must not be an empty string.", where)
	case "number_gte":
		r.errorf(CodeOutOfRange, where, "%s must be at least %s.", where, bigText(d["min"]))
	case "number_gt":
		r.errorf(CodeOutOfRange, where, "%s must be greater than %s.", where, bigText(d["min"]))
	case "number_lte":
		r.errorf(CodeOutOfRange, where, "%s must be at most %s.", where, bigText(d["max"]))
	case "number_lt":
		r.errorf(CodeOutOfRange, where, "%s must be less than %s.", where, bigText(d["max"]))
	default:
		r.errorf(CodeSchema, where, "%s: %s.", where, e.Description())
	}
}

// contextLoc turns gojsonschema's context ("(root).a.0.b") into a loc, telling list indexes
// from property names by walking doc along the way.
func contextLoc(ctx *gojsonschema.JsonContext, doc any) loc {
	if ctx == nil {
		return nil
	}
	// Keys may contain any delimiter; NUL is the least likely to appear in a real one.
	steps := strings.Split(ctx.String("\x00"), "\x00")[1:]
	out := make(loc, 0, len(steps)+1) // room for the property a "required" error names
	cur := doc
	for _, s := range steps {
		switch c := cur.(type) {
		case []any:
			if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(c) {
				out = out.index(i)
				cur = c[i]
				continue
			}
		case map[string]any:
			cur = c[s]
		default:
			cur = nil
		}
		out = out.key(s)
	}
	return out
}

func jsonTypeName(t any) string {
	switch fmt.Sprint(t) {
	case "string":
		return "a string"
	case "array":
		return "a list"
	case "object":
		return "an object"
	case "integer":
		return "an integer"
	case "number":
		return "a number"
	case "boolean":
		return "true or false"
	case "null":
		return "null"
	}
	return fmt.Sprint(t)
}

func bigText(v any) string {
	if f, ok := v.(*big.Float); ok {
		return f.Text('f', -1)
	}
	return fmt.Sprint(v)
}

// describeValue quotes a value found in a document for a message, keeping it short.
func describeValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return shorten(string(b))
}
