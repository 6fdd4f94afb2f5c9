// Package policy decides what the sharing rules of a partnership and a collection allow, object by
// object. It is pure: given the rules, a member's standing and the objects, it returns verdicts, and
// it reads and writes nothing; the sharing package gathers what it needs from the store and acts on the
// verdicts.
//
// What each rule looks at is documented on the function that applies it, and in the README's
// "Sharing rules" section, which operators and partners read.
//
// The allow-list walk and the reading of the TLP level a marking definition claims are written
// here rather than taken from a library: they follow the hub's own rules over STIX's structure
// (property paths, marking definitions and their TLP 2.0 extension), which no maintained Go STIX
// library decides; Unicode normalisation comes from golang.org/x/text.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"taxiihub/internal/stix"
	"taxiihub/internal/store"
)

// Reason codes. They appear in status failures as "[code] path: message", like the STIX validator's,
// and never change meaning; clients may act on them.
const (
	// CodePersonalData refuses an object that is, or carries, personal data.
	CodePersonalData = "personal-data"
	// CodePersonalDataRemoved warns that personal data was removed before the object was stored.
	CodePersonalDataRemoved = "personal-data-removed"
	// CodeTypeNotAllowed refuses an object whose type the collection does not accept.
	CodeTypeNotAllowed = "type-not-allowed"
	// CodePropertyDenied refuses an object carrying a property the collection refuses.
	CodePropertyDenied = "property-denied"
	// CodeAboveCeiling refuses an object marked above the collection's TLP ceiling.
	CodeAboveCeiling = "tlp-above-ceiling"
	// CodeUnclassifiable refuses, under a TLP ceiling, an object marked with a marking definition
	// the hub cannot classify: one it has not seen in the envelope or the partnership.
	CodeUnclassifiable = "tlp-unclassifiable"
	// CodeUnmarked refuses an object without a TLP marking in a collection whose rule is to refuse
	// them (store.UnmarkedRefuse).
	CodeUnmarked = "tlp-unmarked"
	// CodePropertyNotAllowed refuses an object carrying a property the collection's
	// allowed_properties do not list for its type.
	CodePropertyNotAllowed = "property-not-allowed"
	// CodeHubProperty refuses an object carrying a property the hub keeps for itself (see
	// HubPropertyPrefix): a partner could otherwise forge, for instance, the mark of a withdrawal.
	CodeHubProperty = "hub-property"
	// CodeOnwardSharing refuses content received under a partnership that forbids passing it on.
	CodeOnwardSharing = "onward-sharing"
	// CodeWithdrawn refuses an object whose id its publisher withdrew.
	CodeWithdrawn = "withdrawn"
	// CodeOneWay refuses a whole request against the member's role: a write by a reader, or a read
	// by a publisher. It is the error_code of a 403 answer, not a per-object reason.
	CodeOneWay = "one-way"
	// CodeNotAnObject refuses what does not decode as a JSON object; the checker normally refuses it
	// first.
	CodeNotAnObject = "not-an-object"
)

// HubPropertyPrefix starts the names of the custom properties the hub writes itself, such as
// x_taxiihub_withdrawn on a tombstone. Partners may not send them.
const HubPropertyPrefix = "x_taxiihub_"

// Rules are the rules that apply to a write into one collection.
type Rules struct {
	Partnership store.PartnershipPolicy
	Collection  store.CollectionPolicy
	// Markings classify the marking definitions the write refers to besides the predefined TLP ones;
	// a reference to one not among them is unclassifiable.
	Markings Markings
}

// Verdict is what the rules make of one object. Its problems are stix.Problem values like the STIX
// validator's, so that both read alike in a status and keep their codes typed up to the metrics.
type Verdict struct {
	// Errors, when any, keep the object out.
	Errors []stix.Problem
	// Warnings go with an object that is stored.
	Warnings []stix.Problem
	// Content is what to store: the object exactly as submitted, or, when personal data was
	// stripped, the object without it (re-encoded, so no longer byte for byte the submission).
	Content []byte
	// Stripped reports that Content differs from the submission.
	Stripped bool
	// TLP is the highest TLP level among the object's markings.
	TLP store.TLP
}

// Valid reports whether the rules let the object be stored.
func (d Verdict) Valid() bool { return len(d.Errors) == 0 }

// Check applies the content rules to one object, given as the bytes submitted: the TLP ceiling, the
// allowed types, the denied properties and the personal-data rule. The rules that need the store
// (onward sharing, withdrawal) are decided elsewhere, with the level found here and the content's
// fingerprints (ContentOf).
func (r Rules) Check(raw []byte) Verdict {
	obj, err := decode(raw)
	if err != nil {
		return Verdict{Content: raw, Errors: []stix.Problem{{Code: CodeNotAnObject, Message: "the item is not a JSON object"}}}
	}
	return r.CheckDecoded(raw, obj)
}

// CheckDecoded is Check for an object already decoded from raw, numbers kept as json.Number (as
// the STIX validator leaves it), saving a second decoding of every object. It changes obj when it
// strips personal data.
func (r Rules) CheckDecoded(raw []byte, obj map[string]any) Verdict {
	d := Verdict{Content: raw}
	typ, _ := obj["type"].(string)

	var ceiling *stix.Problem
	d.TLP, ceiling = levelOf(obj, r.Collection.MaxTLP, r.Markings)
	if ceiling != nil {
		d.Errors = append(d.Errors, *ceiling)
	}
	id, _ := obj["id"].(string)
	public := publicObject(id)
	if d.TLP == store.TLPNone && r.Collection.Unmarked == store.UnmarkedRefuse && !public {
		d.Errors = append(d.Errors, stix.Problem{Code: CodeUnmarked, Path: "/object_marking_refs",
			Message: "this collection accepts only objects with a TLP marking; mark the object with the TLP level it may be shared at"})
	}
	typeAllowed := len(r.Collection.AllowedTypes) == 0 || slices.Contains(r.Collection.AllowedTypes, typ)
	if !typeAllowed {
		d.Errors = append(d.Errors, stix.Problem{Code: CodeTypeNotAllowed, Path: "/type",
			Message: fmt.Sprintf("this collection accepts only %s; %q is not among them",
				strings.Join(r.Collection.AllowedTypes, ", "), typ)})
	}
	// Names are compared without regard to case: STIX 2.1 allows upper-case letters in property
	// names, and a reader that ignores case would take X_Interview_Notes, or
	// X_TAXIIHUB_withdrawn, for the property the rule is about.
	denied := func(k string) bool {
		return slices.ContainsFunc(r.Collection.DeniedProperties, func(d string) bool { return strings.EqualFold(d, k) })
	}
	for _, path := range propertiesWhere(obj, denied) {
		d.Errors = append(d.Errors, stix.Problem{Code: CodePropertyDenied, Path: path,
			Message: "this collection does not accept this property; send the object without it"})
	}
	// An object of a type the collection refuses is told so; its properties are beside the point.
	if r.Collection.AllowedProperties != nil && !public && typeAllowed {
		for _, path := range notAllowed(obj, r.Collection.AllowedProperties[typ]) {
			d.Errors = append(d.Errors, stix.Problem{Code: CodePropertyNotAllowed, Path: path,
				Message: fmt.Sprintf("this collection accepts only some properties of %s objects, and not this one; send the object without it", typ)})
		}
	}
	hubs := func(k string) bool {
		return len(k) >= len(HubPropertyPrefix) && strings.EqualFold(k[:len(HubPropertyPrefix)], HubPropertyPrefix)
	}
	for _, path := range propertiesWhere(obj, hubs) {
		d.Errors = append(d.Errors, stix.Problem{Code: CodeHubProperty, Path: path,
			Message: "properties named " + HubPropertyPrefix + "... are the hub's own (it marks withdrawals with one); send the object without it"})
	}

	if r.Partnership.PersonalData != store.PersonalDataAllow {
		found := findPersonalData(obj)
		strip := r.Partnership.PersonalData == store.PersonalDataStrip
		for _, f := range found {
			if f.whole || !strip {
				d.Errors = append(d.Errors, stix.Problem{Code: CodePersonalData, Path: f.path, Message: f.message})
			}
		}
		if strip && d.Valid() && len(found) > 0 {
			for _, f := range found {
				f.remove()
				d.Warnings = append(d.Warnings, stix.Problem{Code: CodePersonalDataRemoved, Path: f.path, Message: f.removed})
			}
			content, err := encode(obj)
			if err != nil {
				// Values decoded from JSON always encode again.
				panic(fmt.Sprintf("policy: encode stripped object: %v", err))
			}
			d.Content, d.Stripped = content, true
		}
	}
	return d
}

// decode reads an object keeping numbers as written, so that re-encoding and fingerprints do not
// depend on float rounding.
func decode(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("null")
	}
	return obj, nil
}

// encode writes an object compactly, keys in sorted order, without HTML escaping (which would turn
// "<" in a description into "\u003c").
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// propertiesWhere returns the JSON pointers of every property whose name matches, at any depth: in
// extensions and nested objects too, so that a refused property cannot travel inside another.
func propertiesWhere(obj map[string]any, match func(name string) bool) []string {
	var paths []string
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(v) {
				p := path + "/" + pointerEscape(k)
				if match(k) {
					paths = append(paths, p)
				}
				walk(v[k], p)
			}
		case []any:
			for i, e := range v {
				walk(e, fmt.Sprintf("%s/%d", path, i))
			}
		}
	}
	walk(obj, "")
	return paths
}

// pointerEscape escapes a key for a JSON pointer (RFC 6901).
func pointerEscape(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}
