package policy

import (
	"fmt"
	"slices"
	"strings"
)

// alwaysAllowed are the properties an allow-list never refuses: those every STIX object needs
// (type, spec_version, id, created, modified), and its markings, which carry references and
// selectors rather than content and which the TLP rules need, so that an allow-list never makes a
// publisher drop the TLP marking of what it shares. Inside an admitted extension, its
// extension_type is allowed too.
var alwaysAllowed = []string{"type", "spec_version", "id", "created", "modified", "object_marking_refs", "granular_markings"}

// notAllowed returns the JSON pointers of the properties of obj that the allow-list of its type
// does not admit, at any depth.
//
// An allow-list names property paths: a top-level property ("name", "x_legal_status",
// "extensions"), which admits it with everything inside it, or a dotted path into nested objects
// ("x_legal_status.permit_type", "extensions.extension-definition--….nationality"), which admits
// the outer properties only as objects holding what the list names. Lists in between are
// transparent: "external_references.source_name" admits the source_name of every external
// reference. An x_ property or an extension is a property like any other: it must be listed. A
// property whose name holds a dot can never be listed, so it is refused wherever the list names
// parts only. Refused properties are not looked into: one path per refused property.
func notAllowed(obj map[string]any, allowed []string) []string {
	var refused []string
	var walk func(v any, path, pointer string)
	walkKeys := func(m map[string]any, path, pointer string, top bool) {
		for _, k := range sortedKeys(m) {
			p, ptr := k, pointer+"/"+pointerEscape(k)
			if top && slices.Contains(alwaysAllowed, k) {
				continue
			}
			if k == "extension_type" && strings.HasPrefix(path, "extensions.") && !strings.Contains(path[len("extensions."):], ".") {
				// An extension's kind, one of five values the validator checks: it says nothing.
				continue
			}
			if strings.Contains(k, ".") {
				// It would read as a path into another property.
				refused = append(refused, ptr)
				continue
			}
			if !top {
				p = path + "." + k
			}
			walk(m[k], p, ptr)
		}
	}
	walk = func(v any, path, pointer string) {
		whole, parts := admits(allowed, path)
		switch {
		case whole:
			return
		case !parts:
			refused = append(refused, pointer)
			return
		}
		switch v := v.(type) {
		case map[string]any:
			walkKeys(v, path, pointer, false)
		case []any:
			for i, e := range v {
				walk(e, path, fmt.Sprintf("%s/%d", pointer, i))
			}
		default:
			// Only parts of it are allowed, and a plain value has none.
			refused = append(refused, pointer)
		}
	}
	walkKeys(obj, "", "", true)
	return refused
}

// admits reports whether the allow-list admits the property at path with everything inside it
// (whole), or only some of what it holds (parts).
func admits(allowed []string, path string) (whole, parts bool) {
	for _, a := range allowed {
		switch {
		case a == path || strings.HasPrefix(path, a+"."):
			return true, false
		case strings.HasPrefix(a, path+"."):
			parts = true
		}
	}
	return false, parts
}
