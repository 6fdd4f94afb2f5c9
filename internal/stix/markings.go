package stix

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// checkGranularMarkings checks each granular marking: exactly one of marking_ref and lang,
// a language tag in lang, and selectors that resolve to content present in the object.
func (c *objectCheck) checkGranularMarkings() {
	markings, _ := list(c.obj, "granular_markings")
	for i, m := range markings {
		gm, ok := m.(map[string]any)
		if !ok {
			continue // reported by the schema
		}
		where := at("granular_markings", i)
		_, hasRef := gm["marking_ref"]
		lang, hasLang := gm["lang"]
		switch {
		case hasRef && hasLang:
			c.r.errorf(CodeGranularMarking, where, "%s has both marking_ref and lang; a granular marking carries exactly one of them.", where)
		case !hasRef && !hasLang:
			c.r.errorf(CodeGranularMarking, where, "%s needs a marking_ref (or, for a language marking, lang).", where)
		case hasLang:
			if s, ok := lang.(string); ok {
				c.checkLanguageTag(where.key("lang"), s)
			}
		}
		if ref, ok := gm["marking_ref"].(string); ok && c.kind == kindMarking && ref == c.id() {
			c.r.errorf(CodeMarkingSelfRef, where.key("marking_ref"), "A marking definition cannot mark itself.")
		}
		selectors, _ := gm["selectors"].([]any)
		for j, sel := range selectors {
			if s, ok := sel.(string); ok {
				if why := resolveSelector(c.obj, s); why != "" {
					c.r.errorf(CodeInvalidSelector, where.key("selectors").index(j), "The selector %s does not select anything in this object: %s.", quote(s), why)
				}
			}
		}
	}
}

// resolveSelector follows a granular-marking selector (property names and [n] list indexes
// separated by dots, such as external_references.[0].url) through obj. It returns why the
// selector does not resolve, or "" when it does.
func resolveSelector(obj map[string]any, selector string) string {
	var cur any = obj
	rest := selector
	for i := 0; rest != ""; i++ {
		var seg string
		seg, rest, _ = strings.Cut(rest, ".")
		if inner, ok := strings.CutPrefix(seg, "["); ok {
			inner, ok = strings.CutSuffix(inner, "]")
			n, err := strconv.Atoi(inner)
			if !ok || err != nil || n < 0 || inner != strconv.Itoa(n) {
				return quote(seg) + " is not a list index such as [0]"
			}
			if i == 0 {
				return "it starts with a list index instead of a property name"
			}
			l, ok := cur.([]any)
			if !ok {
				return quote(seg) + " indexes something that is not a list"
			}
			if n >= len(l) {
				return "index " + strconv.Itoa(n) + " is beyond the end of the list"
			}
			cur = l[n]
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return quote(seg) + " names a property of something that is not an object"
		}
		if cur, ok = m[seg]; !ok {
			return "there is no property " + quote(seg)
		}
	}
	return ""
}

// The TLP 1.0 marking definitions STIX 2.1 predefines. Their ids are fixed, and no other
// marking definition may use definition_type tlp.
var tlp1 = []struct{ id, level, name string }{
	{"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "white", "TLP:WHITE"},
	{"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "green", "TLP:GREEN"},
	{"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "amber", "TLP:AMBER"},
	{"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "red", "TLP:RED"},
}

const tlp1Created = "2017-01-20T00:00:00.000Z"

// The TLP 2.0 marking definitions published by the OASIS CTI TC (cti-stix-common-objects):
// fixed ids, each marking through the property extension below.
const (
	tlp2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
	tlp2Created   = "2022-10-01T00:00:00.000Z"
)

var tlp2 = []struct{ id, level, name string }{
	{"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "clear", "TLP:CLEAR"},
	{"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green", "TLP:GREEN"},
	{"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber", "TLP:AMBER"},
	{"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict", "TLP:AMBER+STRICT"},
	{"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "red", "TLP:RED"},
}

// checkMarkingDefinition applies the rules of marking-definition objects.
func (c *objectCheck) checkMarkingDefinition() {
	id := c.id()
	eachString(c.obj, "object_marking_refs", func(i int, ref string) {
		if ref == id {
			c.r.errorf(CodeMarkingSelfRef, at("object_marking_refs", i), "A marking definition cannot mark itself.")
		}
	})

	defType, hasType := c.obj["definition_type"]
	_, hasDef := c.obj["definition"]
	exts, hasExt := dict(c.obj, "extensions")
	switch {
	case hasType && !hasDef:
		c.r.errorf(CodeDependentMissing, at("definition"), "definition is required when definition_type is given.")
	case hasDef && !hasType:
		c.r.errorf(CodeDependentMissing, at("definition_type"), "definition_type is required when definition is given.")
	case !hasType && !hasExt:
		c.r.errorf(CodeMarkingDefinition, nil,
			"A marking definition must either have definition_type and definition, or define its marking through an extension.")
	}

	switch defType {
	case "statement":
		def, _ := dict(c.obj, "definition")
		if _, ok := def["statement"].(string); def != nil && !ok {
			c.r.errorf(CodeMarkingDefinition, at("definition", "statement"), "A statement marking needs definition.statement, a string.")
		}
	case "tlp":
		// Checked against the predefined objects below.
	case nil:
	default:
		if s, ok := defType.(string); ok {
			c.r.warnf(CodeMarkingType, at("definition_type"),
				"definition_type %s is neither statement nor tlp; other kinds of marking should be defined through an extension.", quote(s))
		}
	}

	// Fixed ids are recognised in any case (RFC 4122 UUIDs are case-insensitive on input), so that
	// an upper-case spelling of one must be the predefined object, which has the lower-case id, and
	// no other definition can pass for it.
	tlp1Index := slices.IndexFunc(tlp1, func(t struct{ id, level, name string }) bool { return strings.EqualFold(t.id, id) })
	if defType == "tlp" || tlp1Index >= 0 {
		c.checkTLP1(tlp1Index)
	}
	tlp2Index := slices.IndexFunc(tlp2, func(t struct{ id, level, name string }) bool { return strings.EqualFold(t.id, id) })
	usesTLP2 := false
	for k := range exts {
		usesTLP2 = usesTLP2 || strings.EqualFold(k, tlp2Extension)
	}
	if usesTLP2 || tlp2Index >= 0 {
		c.checkTLP2(tlp2Index)
	}
}

// checkTLP1 requires the object to be exactly one of the four TLP 1.0 objects: the one its id
// names (index), or, when the id is not a TLP 1.0 id, the one its definition claims.
func (c *objectCheck) checkTLP1(index int) {
	if index < 0 {
		c.r.errorf(CodeTLPMismatch, at("id"),
			"Only the four TLP 1.0 marking definitions predefined by STIX may use definition_type tlp, and %s is not one of their ids.", quote(c.id()))
		return
	}
	want := tlp1[index]
	expected := map[string]any{
		"type": "marking-definition", "spec_version": "2.1", "id": want.id, "created": tlp1Created,
		"definition_type": "tlp", "name": want.name, "definition": map[string]any{"tlp": want.level},
	}
	if !sameJSON(c.obj, expected) {
		c.r.errorf(CodeTLPMismatch, nil,
			"%s is the id of the predefined %s marking definition, which must be reproduced exactly (created %s, definition_type tlp, definition {\"tlp\": %q}, name %s, and nothing else); this object differs.",
			want.id, want.name, tlp1Created, want.level, want.name)
	}
}

// checkTLP2 requires the object to be exactly one of the five TLP 2.0 objects.
func (c *objectCheck) checkTLP2(index int) {
	if index < 0 {
		c.r.errorf(CodeTLPMismatch, at("id"),
			"Only the five TLP 2.0 marking definitions published by OASIS may use the TLP 2.0 extension, and %s is not one of their ids.", quote(c.id()))
		return
	}
	want := tlp2[index]
	expected := map[string]any{
		"type": "marking-definition", "spec_version": "2.1", "id": want.id, "created": tlp2Created, "name": want.name,
		"extensions": map[string]any{
			tlp2Extension: map[string]any{"extension_type": "property-extension", "tlp_2_0": want.level},
		},
	}
	if !sameJSON(c.obj, expected) {
		c.r.errorf(CodeTLPMismatch, nil,
			"%s is the id of the TLP 2.0 %s marking definition, which must be reproduced exactly (created %s, name %s, the TLP 2.0 extension with tlp_2_0 %q, and nothing else); this object differs.",
			want.id, want.name, tlp2Created, want.name, want.level)
	}
}

// sameJSON compares a decoded value with an expected one made of maps and strings.
func sameJSON(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		return ok && len(g) == len(w) && maps.EqualFunc(g, w, sameJSON)
	case string:
		g, ok := got.(string)
		return ok && g == w
	}
	return false
}

func (c *objectCheck) id() string {
	id, _ := str(c.obj, "id")
	return id
}
