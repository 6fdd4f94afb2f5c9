package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strings"

	"taxiihub/internal/stix"
	"taxiihub/internal/stix/pattern"
)

// submitterFields are the common properties set aside when fingerprinting content, because they say
// who submitted it and how that submitter keeps it, not what it says: re-posting received content
// under a new id, with new timestamps, as another author, with other markings, confidence, language
// or references to one's own records, does not make it other content. Top-level custom properties
// (x_...) are set aside too, since tools add their own (x_opencti_score, x_misp_...).
var submitterFields = []string{
	"id", "created", "modified", "created_by_ref", "revoked", "confidence", "lang",
	"object_marking_refs", "granular_markings", "external_references",
}

// publicObjects are objects every partner may post anywhere: the predefined TLP marking definitions
// and the TLP 2.0 extension definition are the same public objects in every bundle, and no
// partnership can own them.
func publicObject(id string) bool {
	_, tlp := tlpLevels[id]
	return tlp || id == tlp2Extension
}

// FingerprintScheme starts every fingerprint of the current scheme (see ContentOf), so that origin
// keys of the first scheme, the SHA-256 of the canonical JSON (LegacyFingerprint), never collide
// with them and a store can tell which of its origins still need the new key.
const FingerprintScheme = "v2-"

// Content is what the onward-sharing rule knows of an object's content: its fingerprint, and the
// STIX objects found embedded in it.
type Content struct {
	// Fingerprint is the object's own content fingerprint (FingerprintScheme and SHA-256 hex); empty
	// for a public object.
	Fingerprint string
	// Embedded are the STIX objects found inside the object: nested in a custom property, an
	// extension or a list, or written as a JSON string. At most MaxEmbedded.
	Embedded []Embedded
}

// Embedded is a STIX object found inside another.
type Embedded struct {
	ID          string
	Fingerprint string
}

// MaxEmbedded bounds the embedded objects fingerprinted per object, and maxEmbeddedString the
// length of a string property that is decoded to look for one, so that an object packed with
// nested objects costs a bounded amount of work. An object carrying more is judged on the first
// MaxEmbedded found, in the order of its sorted keys.
const (
	MaxEmbedded       = 64
	maxEmbeddedString = 1 << 20
)

// LegacyFingerprint returns the fingerprint of the hub's first scheme: the SHA-256, in hex, of the
// object's canonical JSON encoding (keys sorted, numbers as written) without the submitter's fields
// and top-level custom properties, or "" for a public object or what is not a JSON object. Stores
// read it to find the origins recorded under it, and give them the current scheme's key.
func LegacyFingerprint(raw []byte) string {
	obj, err := decode(raw)
	if err != nil {
		return ""
	}
	return legacyFingerprint(obj)
}

func legacyFingerprint(obj map[string]any) string {
	if id, _ := obj["id"].(string); publicObject(id) {
		return ""
	}
	content := make(map[string]any, len(obj))
	for k, v := range obj {
		if slices.Contains(submitterFields, k) || strings.HasPrefix(k, "x_") {
			continue
		}
		content[k] = v
	}
	return hashOf(content)
}

// Fingerprint returns the content fingerprint of the current scheme (see ContentOf) of an object
// given as its JSON bytes, or "" for a public object or what is not a JSON object.
func Fingerprint(raw []byte) string {
	obj, err := decode(raw)
	if err != nil {
		return ""
	}
	return contentFingerprint(obj, nil)
}

// ContentOf fingerprints a decoded object (numbers as json.Number) and the STIX objects embedded in
// it. parsed, when not nil, is the object's STIX pattern as the validator parsed it, which saves a
// second parse of every indicator.
//
// "The same content" is decided per kind of object on what the object says, not on its bytes:
//
//   - Indicators: the pattern_type and, for STIX patterns, the parsed pattern in canonical form
//     (see canonicalPattern); other pattern languages as text with spacing and case folded.
//     Names, descriptions, labels, validity and kill chain phases are not part of it.
//   - Cyber observables: their identifying properties (the ones STIX derives their ids from),
//     normalised (see normaliseObservable).
//   - Other objects: the properties that define them (definingProperties), strings in NFC with
//     case and spacing folded, lists of strings as sets.
func ContentOf(obj map[string]any, parsed *pattern.Pattern) Content {
	c := Content{Fingerprint: contentFingerprint(obj, parsed)}
	findEmbedded(obj, func(e map[string]any) bool {
		id, _ := e["id"].(string)
		fp := contentFingerprint(e, nil)
		if fp != "" {
			c.Embedded = append(c.Embedded, Embedded{ID: id, Fingerprint: fp})
		}
		return len(c.Embedded) < MaxEmbedded
	})
	return c
}

// contentFingerprint is the current scheme's fingerprint of one object.
func contentFingerprint(obj map[string]any, parsed *pattern.Pattern) string {
	id, _ := obj["id"].(string)
	if publicObject(id) {
		return ""
	}
	typ, _ := obj["type"].(string)
	var content map[string]any
	switch {
	case typ == "indicator":
		content = indicatorContent(obj, parsed)
	case stix.IsObservable(typ):
		// An observable without any of its identifying properties is, as STIX gives it a random
		// id, identified by all it says.
		if content = observableContent(typ, obj); len(content) == 0 {
			content = objectContent("", obj)
		}
	default:
		content = objectContent(typ, obj)
	}
	if len(content) == 0 {
		// Nothing defines it: every such object would otherwise be the same content.
		return ""
	}
	return FingerprintScheme + hashOf(map[string]any{"type": typ, "content": content})
}

// hashOf is the SHA-256, in hex, of v's canonical encoding (keys sorted, no insignificant space).
// It is encoded straight into the hash rather than into a buffer first: an object holding a string
// of megabytes would otherwise be copied once more, and the buffer grown several times over.
func hashOf(v any) string {
	h := sha256.New()
	enc := json.NewEncoder(withoutNewline{h})
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// withoutNewline drops the newline json.Encoder ends a value with, so that the hash is that of the
// same bytes encode returns. The encoder writes each value, newline included, in one call, and
// compact JSON holds no other raw newline.
type withoutNewline struct{ w io.Writer }

func (n withoutNewline) Write(p []byte) (int, error) {
	if _, err := n.w.Write(bytes.TrimSuffix(p, []byte("\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// indicatorContent is an indicator's pattern type and pattern. A STIX pattern that does not parse
// (the validator refuses it before this is reached) is kept as folded text.
func indicatorContent(obj map[string]any, parsed *pattern.Pattern) map[string]any {
	pt, _ := obj["pattern_type"].(string)
	src, _ := obj["pattern"].(string)
	pt = foldText(pt)
	if pt == "stix" {
		if parsed == nil {
			parsed, _ = pattern.Parse(src)
		}
		if parsed != nil {
			return map[string]any{"pattern_type": pt, "pattern": canonicalPattern(parsed)}
		}
	}
	return map[string]any{"pattern_type": pt, "pattern": foldText(src)}
}

// definingProperties are, per type, the properties that say what an object is; everything else
// (labels, aliases, kill chain phases, dates of first and last sight, …) is taken as the
// submitter's annotation. Types not listed are defined by every property but the submitter's
// fields, custom properties, labels and kill_chain_phases.
var definingProperties = map[string][]string{
	"attack-pattern":   {"name", "description"},
	"campaign":         {"name", "description", "objective"},
	"course-of-action": {"name", "description"},
	"grouping":         {"name", "description", "context", "object_refs"},
	"identity":         {"name", "description", "identity_class"},
	"incident":         {"name", "description"},
	"infrastructure":   {"name", "description", "infrastructure_types"},
	"intrusion-set":    {"name", "description", "goals"},
	"location":         {"name", "description", "latitude", "longitude", "country", "region", "administrative_area", "city", "street_address", "postal_code"},
	"malware":          {"name", "description", "malware_types", "is_family"},
	"malware-analysis": {"product", "version", "result", "result_name", "sample_ref", "analysis_sco_refs"},
	"note":             {"abstract", "content", "object_refs"},
	"observed-data":    {"object_refs", "first_observed", "last_observed", "number_observed"},
	"opinion":          {"opinion", "explanation", "object_refs"},
	"report":           {"name", "description", "object_refs"},
	"threat-actor":     {"name", "description", "threat_actor_types"},
	"tool":             {"name", "description", "tool_types"},
	"vulnerability":    {"name", "description"},
	"relationship":     {"relationship_type", "source_ref", "target_ref"},
	"sighting":         {"sighting_of_ref", "observed_data_refs", "where_sighted_refs", "first_seen", "last_seen", "count"},
}

// annotationFields are left out of the content of types without definingProperties.
var annotationFields = []string{"labels", "kill_chain_phases", "spec_version"}

func objectContent(typ string, obj map[string]any) map[string]any {
	out := map[string]any{}
	if props, ok := definingProperties[typ]; ok {
		for _, p := range props {
			if v, ok := obj[p]; ok {
				out[p] = foldValue(v)
			}
		}
		return out
	}
	for k, v := range obj {
		if slices.Contains(submitterFields, k) || slices.Contains(annotationFields, k) || strings.HasPrefix(k, "x_") || k == "type" {
			continue
		}
		out[k] = foldValue(v)
	}
	return out
}

// foldValue normalises a JSON value for comparison: strings folded (foldText), numbers in one
// spelling, lists of strings as sorted sets, objects key by key.
func foldValue(v any) any {
	switch v := v.(type) {
	case string:
		return foldText(v)
	case json.Number:
		return canonicalNumber(string(v))
	case []any:
		out := make([]any, len(v))
		allStrings := true
		for i, e := range v {
			out[i] = foldValue(e)
			_, s := out[i].(string)
			allStrings = allStrings && s
		}
		if allStrings {
			slices.SortFunc(out, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
			out = slices.Compact(out)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = foldValue(e)
		}
		return out
	}
	return v
}

// findEmbedded calls found for every STIX object nested in obj (not obj itself): a JSON object
// that looksLikeSTIX, at any depth, or such an object written as a JSON string. It stops when
// found returns false.
func findEmbedded(obj map[string]any, found func(map[string]any) bool) {
	more := true
	var walk func(v any, top bool)
	walk = func(v any, top bool) {
		if !more {
			return
		}
		switch v := v.(type) {
		case map[string]any:
			if !top && looksLikeSTIX(v) {
				if more = found(v); !more {
					return
				}
			}
			// Keys in sorted order, so that which objects the bound keeps does not vary; only
			// those whose values may hold an object are sorted.
			var keys []string
			for k, e := range v {
				if mayEmbed(e) {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			for _, k := range keys {
				walk(v[k], false)
			}
		case []any:
			for _, e := range v {
				if mayEmbed(e) {
					walk(e, false)
				}
			}
		case string:
			if s := strings.TrimSpace(v); len(s) > 2 && len(s) <= maxEmbeddedString && s[0] == '{' {
				if inner, err := decode([]byte(s)); err == nil {
					walk(inner, false)
				}
			}
		}
	}
	walk(obj, true)
}

// mayEmbed reports whether a value may hold an embedded object: an object, a list, or a string
// that may be one written as JSON.
func mayEmbed(v any) bool {
	switch v := v.(type) {
	case map[string]any, []any:
		return true
	case string:
		return strings.HasPrefix(strings.TrimSpace(v), "{")
	}
	return false
}

// looksLikeSTIX reports whether a nested JSON object is a STIX object: its id starts with its type
// and "--", or, since a copy may leave its id out, its type is one STIX defines.
func looksLikeSTIX(v map[string]any) bool {
	typ, _ := v["type"].(string)
	if typ == "" {
		return false
	}
	if id, _ := v["id"].(string); strings.HasPrefix(id, typ+"--") {
		return true
	}
	_, sdo := definingProperties[typ]
	sco := stix.IsObservable(typ)
	return typ == "indicator" || sdo || sco
}

// UpgradeFingerprint is a store.FingerprintUpgrade: the first scheme's fingerprint of an object
// version's content, and the current scheme's.
func UpgradeFingerprint(content []byte) (legacy, current string) {
	obj, err := decode(content)
	if err != nil {
		return "", ""
	}
	return legacyFingerprint(obj), contentFingerprint(obj, nil)
}
