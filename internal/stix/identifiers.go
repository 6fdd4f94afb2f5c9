package stix

import (
	"slices"
	"strings"
)

// kind is the family an object type belongs to; it decides which common properties apply.
type kind int

const (
	kindSDO       kind = iota // a STIX Domain Object
	kindSRO                   // relationship or sighting
	kindSCO                   // a cyber-observable object
	kindMeta                  // language-content or extension-definition
	kindMarking               // marking-definition: like a meta object but never versioned
	kindCustom                // a custom type that has created or modified: validated like an SDO
	kindCustomSCO             // a custom type without them: validated like an SCO
	kindBundle
)

var (
	sdoTypes = []string{
		"attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
		"indicator", "infrastructure", "intrusion-set", "location", "malware", "malware-analysis",
		"note", "observed-data", "opinion", "report", "threat-actor", "tool", "vulnerability",
	}
	sroTypes = []string{"relationship", "sighting"}
	scoTypes = []string{
		"artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
		"file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
		"software", "url", "user-account", "windows-registry-key", "x509-certificate",
	}
)

func kindOf(typ string, obj map[string]any) kind {
	switch {
	case slices.Contains(sdoTypes, typ):
		return kindSDO
	case slices.Contains(sroTypes, typ):
		return kindSRO
	case slices.Contains(scoTypes, typ):
		return kindSCO
	case typ == "marking-definition":
		return kindMarking
	case typ == "language-content" || typ == "extension-definition":
		return kindMeta
	case typ == "bundle":
		return kindBundle
	case has(obj, "created") || has(obj, "modified"):
		// The same test the OASIS validator uses to tell a custom SDO from a custom SCO.
		return kindCustom
	}
	return kindCustomSCO
}

// isObservable reports whether objects of kind k follow the cyber-observable common properties.
func (k kind) isObservable() bool { return k == kindSCO || k == kindCustomSCO }

// validTypeName reports whether s may be a STIX object type: 3 to 250 characters, lowercase
// ASCII letters, digits and single hyphens, starting with a letter (a trailing hyphen is
// tolerated, as the OASIS schemas do).
func validTypeName(s string) bool {
	if len(s) < 3 || len(s) > 250 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-':
			if s[i-1] == '-' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// identifier is a parsed "<type>--<UUID>".
type identifier struct {
	typ     string
	version byte // the UUID version nibble, 1 to 5
}

// identifierProblem explains why s is not an identifier; it is empty when s is one.
func parseIdentifier(s string) (identifier, string) {
	typ, uuid, ok := strings.Cut(s, "--")
	// A type may not contain "--", so the first separator is the right one.
	if !ok {
		return identifier{}, "it has no -- between the object type and the UUID"
	}
	if !validTypeName(typ) {
		return identifier{}, "its object type " + quote(typ) + " is not a valid type name"
	}
	version, why := parseUUID(uuid)
	if why != "" {
		return identifier{}, why
	}
	return identifier{typ: typ, version: version}, ""
}

// parseUUID checks an RFC 4122 UUID (either case) and returns its version. Versions 1 to 5 are
// accepted, as the STIX schemas do; the nil UUID and versions 6 to 8 are not.
func parseUUID(u string) (byte, string) {
	if len(u) != 36 {
		return 0, "its UUID part " + quote(u) + " is not 36 characters long"
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return 0, "its UUID part " + quote(u) + " is not of the form 8-4-4-4-12 hexadecimal digits"
			}
			continue
		}
		if !isHexDigit(c) {
			return 0, "its UUID part " + quote(u) + " is not of the form 8-4-4-4-12 hexadecimal digits"
		}
	}
	version := u[14] - '0'
	if version < 1 || version > 5 {
		return 0, "its UUID part " + quote(u) + " is not a version 1 to 5 UUID"
	}
	switch u[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
	default:
		return 0, "its UUID part " + quote(u) + " does not have the RFC 4122 variant"
	}
	return version, ""
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// targetRule restricts the object types a reference may point to. allow, when set, lists the
// permitted types (the name "sco" stands for any cyber-observable type); deny lists forbidden
// ones, and what, when set, names the permitted targets for messages.
type targetRule struct {
	allow []string
	deny  []string
	what  string
}

func (t targetRule) permits(typ string) bool {
	if slices.Contains(t.deny, typ) {
		return false
	}
	if t.allow == nil {
		return true
	}
	return slices.Contains(t.allow, typ) ||
		slices.Contains(t.allow, "sco") && slices.Contains(scoTypes, typ)
}

// describe names the permitted targets for a message.
func (t targetRule) describe() string {
	if t.what != "" {
		return t.what
	}
	names := make([]string, len(t.allow))
	for i, a := range t.allow {
		if a == "sco" {
			a = "cyber-observable"
		}
		names[i] = a
	}
	return withArticle(joinOr(names)) + " object"
}

var (
	notEndpoints = []string{
		"relationship", "sighting", "bundle", "marking-definition", "language-content", "extension-definition",
	}
	// notObservable are the types that are not cyber-observables, for references that may point
	// to any observable, custom ones included.
	notObservable = slices.Concat(sdoTypes, sroTypes,
		[]string{"bundle", "marking-definition", "language-content", "extension-definition"})
	// observed-data object_refs point to SCOs and SROs; custom observables are allowed.
	notObserved = append(slices.Clone(sdoTypes),
		"bundle", "marking-definition", "language-content", "extension-definition")
)

// referenceTargets holds the MUST-level target types of reference properties, per object type
// and property path (dotted below the object, "[]" for list members). References not listed
// may point to any object.
var referenceTargets = map[string]map[string]targetRule{
	"malware": {
		"operating_system_refs": {allow: []string{"software"}},
		"sample_refs":           {allow: []string{"file", "artifact"}},
	},
	"malware-analysis": {
		"host_vm_ref":             {allow: []string{"software"}},
		"operating_system_ref":    {allow: []string{"software"}},
		"installed_software_refs": {allow: []string{"software"}},
		"analysis_sco_refs":       {allow: []string{"sco"}},
		"sample_ref":              {allow: []string{"file", "artifact", "network-traffic"}},
	},
	"observed-data": {
		"object_refs": {deny: notObserved, what: "a cyber-observable object or a relationship (not a domain or meta object)"},
	},
	"relationship": {
		"source_ref": {deny: notEndpoints, what: "a domain or cyber-observable object"},
		"target_ref": {deny: notEndpoints, what: "a domain or cyber-observable object"},
	},
	"sighting": {
		"sighting_of_ref":    {deny: notEndpoints, what: "a domain object"},
		"observed_data_refs": {allow: []string{"observed-data"}},
		"where_sighted_refs": {allow: []string{"identity", "location"}},
	},
	"language-content": {
		"object_ref": {deny: []string{"bundle", "language-content", "marking-definition"}, what: "the object being translated"},
	},
	"directory": {
		"contains_refs": {allow: []string{"file", "directory"}},
	},
	"domain-name": {
		"resolves_to_refs": {allow: []string{"ipv4-addr", "ipv6-addr", "domain-name"}},
	},
	"email-addr": {
		"belongs_to_ref": {allow: []string{"user-account"}},
	},
	"email-message": {
		"from_ref":                    {allow: []string{"email-addr"}},
		"sender_ref":                  {allow: []string{"email-addr"}},
		"to_refs":                     {allow: []string{"email-addr"}},
		"cc_refs":                     {allow: []string{"email-addr"}},
		"bcc_refs":                    {allow: []string{"email-addr"}},
		"raw_email_ref":               {allow: []string{"artifact"}},
		"body_multipart.body_raw_ref": {allow: []string{"artifact", "file"}},
	},
	"file": {
		"parent_directory_ref":                 {allow: []string{"directory"}},
		"content_ref":                          {allow: []string{"artifact"}},
		"extensions.archive-ext.contains_refs": {allow: []string{"file", "directory"}},
		"contains_refs":                        {deny: notObservable, what: "a cyber-observable object"},
	},
	"ipv4-addr": {
		"resolves_to_refs": {allow: []string{"mac-addr"}},
		"belongs_to_refs":  {allow: []string{"autonomous-system"}},
	},
	"ipv6-addr": {
		"resolves_to_refs": {allow: []string{"mac-addr"}},
		"belongs_to_refs":  {allow: []string{"autonomous-system"}},
	},
	"network-traffic": {
		"src_ref":             {allow: []string{"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"}},
		"dst_ref":             {allow: []string{"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"}},
		"src_payload_ref":     {allow: []string{"artifact"}},
		"dst_payload_ref":     {allow: []string{"artifact"}},
		"encapsulates_refs":   {allow: []string{"network-traffic"}},
		"encapsulated_by_ref": {allow: []string{"network-traffic"}},
		"extensions.http-request-ext.message_body_data_ref": {allow: []string{"artifact"}},
	},
	"process": {
		"opened_connection_refs": {allow: []string{"network-traffic"}},
		"creator_user_ref":       {allow: []string{"user-account"}},
		"image_ref":              {allow: []string{"file"}},
		"parent_ref":             {allow: []string{"process"}},
		"child_refs":             {allow: []string{"process"}},
		"extensions.windows-service-ext.service_dll_refs": {allow: []string{"file"}},
	},
	"windows-registry-key": {
		"creator_user_ref": {allow: []string{"user-account"}},
	},
}

// idContributing lists, for each cyber-observable type, the properties its deterministic
// UUIDv5 identifier is computed from. An SCO that has some of them should use that UUIDv5, so
// that one observable gets one id everywhere; without any of them (a process never has any),
// its id MUST be a UUIDv4.
var idContributing = map[string][]string{
	"artifact":             {"hashes", "payload_bin"},
	"autonomous-system":    {"number"},
	"directory":            {"path"},
	"domain-name":          {"value"},
	"email-addr":           {"value"},
	"email-message":        {"from_ref", "subject", "body"},
	"file":                 {"hashes", "name", "extensions", "parent_directory_ref"},
	"ipv4-addr":            {"value"},
	"ipv6-addr":            {"value"},
	"mac-addr":             {"value"},
	"mutex":                {"name"},
	"network-traffic":      {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"},
	"process":              nil,
	"software":             {"name", "cpe", "swid", "vendor", "version"},
	"url":                  {"value"},
	"user-account":         {"account_type", "user_id", "account_login"},
	"windows-registry-key": {"key", "values"},
	"x509-certificate":     {"hashes", "serial_number"},
}

// IDContributing returns the properties STIX 2.1 derives a cyber-observable type's deterministic
// id from, and whether typ is a cyber-observable type STIX 2.1 defines. The list is empty for
// types whose ids are always random (process).
func IDContributing(typ string) (props []string, observable bool) {
	props, observable = idContributing[typ]
	return slices.Clone(props), observable
}

// IsObservable reports whether typ is a cyber-observable type STIX 2.1 defines.
func IsObservable(typ string) bool {
	_, ok := idContributing[typ]
	return ok
}

// checkIdentity checks type and id and their agreement, and the UUID version policy.
func (c *objectCheck) checkIdentity() {
	id, ok := str(c.obj, "id")
	if !ok {
		return // missing or not a string: reported by the schema
	}
	parsed, why := parseIdentifier(id)
	if why != "" {
		c.r.errorf(CodeInvalidIdentifier, at("id"), "id %s is not a STIX identifier (<type>--<UUID>): %s.", quote(id), why)
		return
	}
	if parsed.typ != c.typ {
		c.r.errorf(CodeIDTypeMismatch, at("id"), "id %s must start with the object's type, %s--.", quote(id), c.typ)
	}
	contributing, known := idContributing[c.typ]
	switch present := hasAny(c.obj, contributing...); {
	case !c.kind.isObservable():
		if parsed.version != 4 {
			c.r.warnf(CodeUUIDVersion, at("id"), "The id of %s should use a version 4 (random) UUID; %s uses version %d.", withArticle(c.typ), quote(id), parsed.version)
		}
	case known && len(contributing) == 0 && parsed.version != 4:
		c.r.errorf(CodeUUIDVersion, at("id"), "The id of %s must use a version 4 UUID, as no property contributes to it; %s uses version %d.", withArticle(c.typ), quote(id), parsed.version)
	case known && !present && parsed.version != 4:
		c.r.errorf(CodeUUIDVersion, at("id"),
			"This %s has none of the properties its id is derived from (%s), so its id must use a version 4 UUID, not version %d.",
			c.typ, strings.Join(contributing, ", "), parsed.version)
	case known && present && parsed.version != 5:
		c.r.warnf(CodeUUIDVersion, at("id"),
			"The id of %s should be the version 5 UUID derived from %s, so that the same observable gets the same id everywhere; %s uses version %d.",
			withArticle(c.typ), strings.Join(contributing, ", "), quote(id), parsed.version)
	case !known && parsed.version != 4 && parsed.version != 5:
		c.r.warnf(CodeUUIDVersion, at("id"), "The id of a cyber-observable should use a version 5 (or 4) UUID; %s uses version %d.", quote(id), parsed.version)
	}
}

// checkReference checks that v, found at where, is an identifier permitted by rule.
//
// In cyber-observable objects only the type part is a MUST here, and a malformed UUID part is
// a warning: the OASIS schemas check nothing but the type prefix of SCO references (their own
// test data holds an ipv4-addr reference with an 11-digit last UUID group), and a reference that
// cannot resolve does no more harm than the dangling references STIX allows anyway. The id of
// the object itself is always checked in full.
func (c *objectCheck) checkReference(where loc, v any, rule targetRule) {
	s, ok := v.(string)
	if !ok {
		return // reported by the schema
	}
	parsed, why := parseIdentifier(s)
	if why != "" {
		typ, _, found := strings.Cut(s, "--")
		if !c.kind.isObservable() || !found || !validTypeName(typ) {
			c.r.errorf(CodeInvalidReference, where, "%s must be a STIX identifier (<type>--<UUID>); %s is not: %s.", where, quote(s), why)
			return
		}
		c.r.warnf(CodeInvalidReference, where, "%s should be a STIX identifier (<type>--<UUID>), or it cannot resolve; %s is not: %s.", where, quote(s), why)
		parsed.typ = typ
	}
	if !rule.permits(parsed.typ) {
		c.r.errorf(CodeReferenceTarget, where, "%s must refer to %s; %s refers to %s.", where, rule.describe(), quote(s), withArticle(parsed.typ))
	}
}

func hasAny(obj map[string]any, keys ...string) bool {
	for _, k := range keys {
		if has(obj, k) {
			return true
		}
	}
	return false
}

func joinOr(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
