package stix

import (
	"slices"
	"strings"

	"golang.org/x/text/encoding/ianaindex"
)

// checkCharset checks a property that STIX requires to hold a character set name from the IANA
// registry, in its preferred MIME form when the registry gives one (ISO-8859-1, not latin1).
// Registry names are case-insensitive, so a difference in case is only a warning.
func (c *objectCheck) checkCharset(where loc, name string) {
	enc, err := ianaindex.IANA.Encoding(name)
	if err != nil {
		c.r.errorf(CodeInvalidCharset, where, "%s must be a character set registered with IANA, such as UTF-8 or ISO-8859-1; %s is not.", where, quote(name))
		return
	}
	if enc == nil {
		return // registered, but x/text has no implementation to tell its preferred name
	}
	preferred, err := ianaindex.MIME.Name(enc)
	if err != nil || preferred == "" {
		if preferred, err = ianaindex.IANA.Name(enc); err != nil {
			return
		}
	}
	switch {
	case name == preferred:
	case strings.EqualFold(name, preferred):
		c.r.warnf(CodeInvalidCharset, where, "%s should be written %s, as in the IANA registry.", where, preferred)
	default:
		c.r.errorf(CodeInvalidCharset, where, "%s must use the registry's preferred name for this character set, %s, not the alias %s.", where, preferred, quote(name))
	}
}

// mediaTopLevelTypes are the top-level types of the IANA media types registry that hold
// registrations.
var mediaTopLevelTypes = []string{
	"application", "audio", "font", "haptics", "image", "message", "model", "multipart", "text", "video",
}

// registeredXTypes are the few media types in the unregistered "x-" tree that IANA lists
// nonetheless.
var registeredXTypes = []string{
	"application/x-www-form-urlencoded", "application/x-pki-message", "application/x-x509-ca-cert",
	"application/x-x509-ca-ra-cert", "application/x-x509-next-ca-cert",
}

// mediaTypeProblem tells why s is not a media type of the IANA registry, "" when it could be.
// The registry itself is not embedded: this checks the RFC 6838 syntax (type/subtype, no
// parameters), a registered top-level type, and refuses the "x-" tree, whose types RFC 6838
// defines as unregistered. A well-formed standards-tree or vnd. name is trusted to be listed.
func mediaTypeProblem(s string) string {
	typ, sub, ok := strings.Cut(s, "/")
	switch {
	case !ok:
		return "it is not of the form type/subtype"
	case !slices.Contains(mediaTopLevelTypes, strings.ToLower(typ)):
		return quote(typ) + " is not a registered top-level media type (" + strings.Join(mediaTopLevelTypes, ", ") + ")"
	case !validRestrictedName(sub):
		return "its subtype " + quote(sub) + " is not an RFC 6838 name (letters, digits and !#$&-^_.+, no parameters)"
	case len(sub) > 2 && (sub[:2] == "x-" || sub[:2] == "X-" || sub[:2] == "x." || sub[:2] == "X.") &&
		!slices.Contains(registeredXTypes, strings.ToLower(s)):
		return "subtypes starting with x- are unregistered by definition (RFC 6838 section 3.4)"
	}
	return ""
}

// validRestrictedName is RFC 6838's restricted-name.
func validRestrictedName(s string) bool {
	if len(s) == 0 || len(s) > 127 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlnum(s[i]) && !strings.ContainsRune("!#$&-^_.+", rune(s[i])) {
			return false
		}
	}
	return true
}
