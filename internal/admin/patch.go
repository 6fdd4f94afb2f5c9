package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Patch is a JSON merge patch (RFC 7396) of a policy or membership, keyed as the admin API writes
// them: each key it names takes the value given, null clears the rule, and every key it leaves out
// keeps its value. It is how an operator changes one rule without restating, and so risking, the
// others.
//
// Policies and memberships are flat objects, where a merge patch replaces or removes whole keys; it
// is applied here in a few lines rather than with a JSON Patch library, whose nested-document
// machinery these objects do not need.
type Patch map[string]json.RawMessage

// Keys lists the keys the patch names, sorted.
func (p Patch) Keys() []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// applyPatch returns current with the patch applied. A key that is not exactly the name of a field
// of T, or a value of the wrong kind, is refused as Invalid: encoding/json matches names without
// regard to case, so "TLP_MAX" would otherwise be taken for a rule beside tlp_max and be ignored.
func applyPatch[T any](current T, patch Patch) (T, error) {
	var zero T
	known := jsonNames(reflect.TypeFor[T]())
	for _, k := range patch.Keys() {
		if !slices.Contains(known, k) {
			return zero, &Error{Kind: Invalid, Message: fmt.Sprintf("the patch cannot be applied: it names no rule %q; rules are %s",
				k, strings.Join(known, ", "))}
		}
	}
	raw, err := json.Marshal(current)
	if err != nil {
		return zero, fmt.Errorf("admin: encode for patching: %w", err)
	}
	doc := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return zero, fmt.Errorf("admin: decode for patching: %w", err)
	}
	for k, v := range patch {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(doc, k)
			continue
		}
		doc[k] = v
	}
	merged, err := json.Marshal(doc)
	if err != nil {
		return zero, &Error{Kind: Invalid, Message: "the patch is not valid JSON", Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	var out T
	if err := dec.Decode(&out); err != nil {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			msg = "it names no rule " + name
		}
		return zero, &Error{Kind: Invalid, Message: "the patch cannot be applied: " + msg, Err: err}
	}
	return out, nil
}

// jsonNames lists the JSON names of a struct's fields.
func jsonNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// stateOf is a rule's state as the audit trail records it before and after a change: its JSON, as
// the admin API writes it, so that every rule a policy holds is recorded, new ones included.
func stateOf(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		// The admin wire types hold strings, lists of strings and booleans only.
		panic(fmt.Sprintf("admin: encode a rule's state: %v", err))
	}
	return string(raw)
}
