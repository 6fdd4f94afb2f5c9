package stix

import (
	"slices"
	"strings"
)

// reservedProperties may not appear on any STIX 2.1 object.
var reservedProperties = []string{"severity", "action", "username", "phone_numbers"}

// validPropertyName reports whether s may name a property: 3 to 250 characters of ASCII
// letters, digits and underscores, starting with a letter (STIX 2.1 sections 3.1 and 11.1).
// Upper-case letters are allowed, though names SHOULD be lower case: see hasUpper. (The OASIS
// schemas allow lower case only, and anchor their rule at the start only, so they accept longer
// names; STIX says 250 at most.)
func validPropertyName(s string) bool {
	if len(s) < 3 || len(s) > 250 || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || c == '_') {
			return false
		}
	}
	return true
}

// hasUpper reports whether s holds an upper-case ASCII letter.
func hasUpper(s string) bool {
	for i := range len(s) {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// checkProperties checks the top-level properties the schema does not define: custom
// properties. Their names are checked here rather than with patternProperties because
// gojsonschema compiles patternProperties expressions again on every validation.
func (c *objectCheck) checkProperties() {
	fold := caseFold{members: c.obj}
	for name, v := range c.obj {
		if slices.Contains(reservedProperties, name) {
			c.r.errorf(CodeReservedProperty, at(name), "%s is a reserved property name and cannot be used in STIX 2.1.", name)
			continue
		}
		if c.shape.defines(name) {
			continue
		}
		if !c.customValue(at(name), name, v, c.shape, &fold) {
			continue
		}
		switch {
		case c.toplevelExtension:
			// Declared by a toplevel-property-extension.
		case !strings.HasPrefix(name, "x_"):
			c.r.warnf(CodeCustomProperty, at(name),
				"%s is not a property of %s; a custom property should be defined by an extension-definition (toplevel-property-extension), or at least start with x_.", name, withArticle(c.typ))
		default:
			c.r.warnf(CodeCustomProperty, at(name),
				"%s is a custom property; STIX 2.1 custom properties should be defined by an extension-definition (toplevel-property-extension).", name)
		}
	}
}

// customValue checks a property that no schema describes: its name, that it is not an empty
// list, and the base64 and hex encodings that the _bin and _hex suffixes promise. It reports
// whether the name is valid. What a custom value holds inside is its producer's business:
// STIX rules apply to the property, not to the structure of its value. declared is the schema
// of the object the property is in (nil if none) and fold its members, against which a name
// with upper-case letters is compared.
func (c *objectCheck) customValue(where loc, name string, v any, declared *shape, fold *caseFold) bool {
	if !validPropertyName(name) {
		c.r.errorf(CodeInvalidPropertyName, where,
			"%s is not a valid property name: names are 3 to 250 ASCII letters, digits and underscores, starting with a letter.", quote(name))
		return false
	}
	if hasUpper(name) && !c.caseCollision(where, name, declared, fold) {
		c.r.warnf(CodePropertyNameCase, where, "The property name %s should be lower case (STIX 2.1 allows upper-case letters but recommends against them).", quote(name))
	}
	if l, ok := v.([]any); ok && len(l) == 0 {
		c.r.errorf(CodeEmptyList, where, "%s must not be an empty list; leave the property out instead.", where)
	}
	if s, ok := v.(string); ok {
		switch {
		case strings.HasSuffix(name, "_bin") && !validBase64(s):
			c.r.errorf(CodeInvalidBinary, where, "%s ends in _bin, so it must be base64 (RFC 4648, with padding); %s is not.", name, quote(s))
		case strings.HasSuffix(name, "_hex") && !validHex(s):
			c.r.errorf(CodeInvalidHex, where, "%s ends in _hex, so it must be an even number of hexadecimal digits; %s is not.", name, quote(s))
		}
	}
	return true
}

var extensionTypes = []string{"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"}

// checkExtensions checks the extensions dictionary. Its keys are extension-definition
// identifiers (the STIX 2.1 mechanism) or predefined names ending in -ext; the content of a
// predefined extension is described by the type's schema, anything else in it is custom.
func (c *objectCheck) checkExtensions() {
	exts, _ := dict(c.obj, "extensions")
	for name, v := range exts {
		where := at("extensions", name)
		content, _ := v.(map[string]any) // a non-object is reported by the schema
		switch {
		case strings.HasPrefix(name, "extension-definition--"):
			if _, why := parseIdentifier(name); why != "" {
				c.r.errorf(CodeInvalidExtension, where, "The extension name %s is not an extension-definition identifier: %s.", quote(name), why)
			}
			if content == nil {
				continue
			}
			et, ok := content["extension_type"].(string)
			switch {
			case !has(content, "extension_type"):
				c.r.errorf(CodeMissingProperty, where.key("extension_type"), "%s.extension_type is required for an extension defined by an extension-definition.", where)
			case !ok || !slices.Contains(extensionTypes, et):
				c.r.errorf(CodeValueNotAllowed, where.key("extension_type"), "%s.extension_type must be one of %s.", where, strings.Join(extensionTypes, ", "))
			case et == "toplevel-property-extension":
				c.toplevelExtension = true
			case strings.HasPrefix(et, "new-"):
				c.newTypeExtension = true
			}
			c.extensionContent(where, content, nil)
		case validExtensionName(name):
			declared := c.shape.prop("extensions").prop(name)
			if declared == nil {
				c.r.warnf(CodeInvalidExtension, where,
					"%s is not a predefined extension of %s; STIX 2.1 extensions should be defined by an extension-definition.", name, c.typ)
			}
			if content != nil {
				c.extensionContent(where, content, declared)
			}
		default:
			c.r.errorf(CodeInvalidExtension, where,
				"The extension name %s is neither an extension-definition identifier nor a predefined extension name ending in -ext.", quote(name))
		}
	}
	if c.kind == kindCustom || c.kind == kindCustomSCO {
		if !c.newTypeExtension {
			c.r.warnf(CodeCustomType, at("type"),
				"%s is not a STIX 2.1 type; a custom object type should be defined by an extension-definition (new-sdo, new-sco or new-sro).", c.typ)
		}
	}
}

// extensionContent checks the property names of an extension's content. declared is the
// schema of a predefined extension; properties it does not define are custom.
func (c *objectCheck) extensionContent(where loc, content map[string]any, declared *shape) {
	fold := caseFold{members: content}
	for name, v := range content {
		if declared.defines(name) || name == "extension_type" && declared == nil {
			continue
		}
		p := where.key(name)
		if c.customValue(p, name, v, declared, &fold) && declared != nil {
			c.r.warnf(CodeCustomProperty, p, "%s is not a property of the %s extension; custom properties should be defined by an extension-definition.", name, where[len(where)-1].name)
		}
	}
}

// validExtensionName reports whether s has the form of a predefined extension name:
// lowercase letters and digits in hyphen-separated words, the last being "ext".
func validExtensionName(s string) bool {
	base, ok := strings.CutSuffix(s, "-ext")
	if !ok || base == "" || base[0] < 'a' || base[0] > 'z' {
		return false
	}
	for i := range len(base) {
		ch := base[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9':
		case ch == '-' && i > 0 && base[i-1] != '-' && i < len(base)-1:
		default:
			return false
		}
	}
	return true
}

// caseCollision refuses a property name that differs only in case from a property the schema
// defines at the same level, or from another member of the same object, and reports whether it
// did. STIX names are case-sensitive, but many readers are not (Json.NET and
// System.Text.Json can match names without regard to case, and so can search indexes): to them
// "Object_Marking_Refs" beside object_marking_refs is a second value for the same property, the
// very ambiguity that repeated member names create (see scanRaw), so it is refused the same way.
func (c *objectCheck) caseCollision(where loc, name string, declared *shape, fold *caseFold) bool {
	lower := strings.ToLower(name)
	if declared.defines(lower) {
		c.r.errorf(CodeInvalidPropertyName, where,
			"The property name %s differs only in case from the STIX property %s; readers that ignore case would take one for the other.", quote(name), lower)
		return true
	}
	if fold.count(lower) > 1 {
		c.r.errorf(CodeInvalidPropertyName, where,
			"The property name %s differs only in case from another member of the same object; readers that ignore case would see one property with two values.", quote(name))
		return true
	}
	return false
}

// caseFold counts the members of one JSON object by their lower-case names. The counts are
// built on first use, once per object, so that objects without upper-case names pay nothing
// and an object of many upper-case names costs one pass rather than a comparison per pair.
type caseFold struct {
	members map[string]any
	counts  map[string]int
}

func (f *caseFold) count(lower string) int {
	if f.counts == nil {
		f.counts = make(map[string]int, len(f.members))
		for name := range f.members {
			f.counts[strings.ToLower(name)]++
		}
	}
	return f.counts[lower]
}
