package stix

import (
	"slices"
	"strings"
)

// checkLanguageContent checks the two levels of contents: language tags, then the names of
// the translated properties.
func (c *objectCheck) checkLanguageContent() {
	contents, _ := dict(c.obj, "contents")
	for lang, v := range contents {
		where := at("contents", lang)
		if why := languageTagProblem(lang); why != "" {
			c.r.errorf(CodeInvalidLanguageTag, where, "The keys of contents must be RFC 5646 language tags; %s is not: %s.", quote(lang), why)
		}
		translations, _ := v.(map[string]any)
		for prop := range translations {
			if !validContentKey(prop) {
				c.r.errorf(CodeLanguageContent, where.key(prop),
					"%s in contents.%s must name a property of the translated object (3 to 250 lowercase letters, digits and underscores).", quote(prop), lang)
			}
		}
	}
}

// validContentKey is the property-name rule as the OASIS validator applies it to the keys
// of language-content translations: ^[a-z0-9_]{3,250}$.
func validContentKey(s string) bool {
	if len(s) < 3 || len(s) > 250 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkExtensionDefinition applies what the specification requires of an extension-definition
// beyond its schema.
func (c *objectCheck) checkExtensionDefinition() {
	types, _ := list(c.obj, "extension_types")
	toplevel := slices.Contains(types, any("toplevel-property-extension"))
	switch {
	case has(c.obj, "extension_properties") && !toplevel:
		c.r.errorf(CodeExtensionDef, at("extension_properties"), "extension_properties is only allowed when extension_types includes toplevel-property-extension.")
	case toplevel && !has(c.obj, "extension_properties"):
		c.r.warnf(CodeRecommended, at("extension_properties"), "An extension-definition with a toplevel-property-extension should list its properties in extension_properties.")
	}
	if !has(c.obj, "created_by_ref") {
		c.r.errorf(CodeMissingProperty, at("created_by_ref"), "created_by_ref is required on an extension-definition: consumers must know who defined the extension.")
	}
	if !has(c.obj, "description") {
		c.r.warnf(CodeRecommended, at("description"), "An extension-definition should have a description.")
	}
	if schema, ok := str(c.obj, "schema"); ok && strings.TrimSpace(schema) == "" {
		c.r.errorf(CodeEmptyString, at("schema"), "schema must be the extension's schema or a URL to it, not empty.")
	}
}
