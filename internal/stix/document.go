package stix

import (
	"strconv"
	"strings"
)

// DocumentKind says what shape of document was validated.
type DocumentKind string

// The documents Validator.Document reads.
const (
	KindBundle   DocumentKind = "bundle"   // {"type": "bundle", "id": ..., "objects": [...]}
	KindEnvelope DocumentKind = "envelope" // a TAXII 2.1 envelope, {"objects": [...], "more": ...}
	KindObject   DocumentKind = "object"   // a single STIX object
	KindList     DocumentKind = "list"     // a JSON array of STIX objects, as the OASIS validator accepts
)

// DocumentVerdict is the outcome of validating a document. Every problem path in it, the
// objects' included, is relative to the document: "/objects/3/kill_chain_phases/0/phase_name".
type DocumentVerdict struct {
	// Kind is empty when the input is not JSON or not a JSON object or array.
	Kind DocumentKind
	// Errors and Warnings concern the document itself: not JSON, not UTF-8, a bundle that is
	// not STIX 2.1...
	Errors   []Problem
	Warnings []Problem
	// Objects holds one verdict per object, in document order.
	Objects []ObjectVerdict
}

// ObjectVerdict is the verdict on one object of a document.
type ObjectVerdict struct {
	// Pointer locates the object in the document: "/objects/3" in a bundle or envelope, "/3"
	// in a list, "" for a single object.
	Pointer string
	Verdict
}

// Valid reports whether the document has no errors, and none of its objects has.
func (d DocumentVerdict) Valid() bool {
	if len(d.Errors) > 0 {
		return false
	}
	for _, o := range d.Objects {
		if !o.Valid() {
			return false
		}
	}
	return true
}

// Document validates a bundle, a TAXII envelope, a JSON array of objects or a single object,
// which is what taxiictl validate reads.
func (v *Validator) Document(raw []byte) DocumentVerdict {
	doc, p := decode(raw)
	if p != nil {
		return DocumentVerdict{Errors: []Problem{*p}}
	}
	d := DocumentVerdict{Kind: documentKind(doc)}
	// Repeated names are reported per object of the document (see scanRaw), which lies at
	// prefix/i, depth 1 in a list and 2 in a bundle or envelope.
	unitDepth, prefix := 2, "/objects"
	switch d.Kind {
	case KindList:
		unitDepth, prefix = 1, ""
	case KindObject:
		unitDepth = 0
	}
	found, p := scanRaw(raw, unitDepth)
	if p != nil {
		return DocumentVerdict{Errors: []Problem{*p}}
	}
	if d.Kind == KindObject {
		if obj := doc.(map[string]any); len(found) > 0 {
			d.Objects = []ObjectVerdict{{Verdict: repeated(obj, found)}}
		} else {
			d.Objects = []ObjectVerdict{{Verdict: v.object(obj)}}
		}
		return d
	}
	dups, ok := byMember(found, prefix)
	switch {
	case !ok:
		d.Errors = found
	case d.Kind == KindList:
		v.members(&d, doc.([]any), "", dups)
	case d.Kind == KindBundle:
		v.bundle(&d, doc.(map[string]any), dups)
	case d.Kind == KindEnvelope:
		v.envelope(&d, doc.(map[string]any), dups)
	default:
		d.Errors = []Problem{{Code: CodeNotAnObject, Message: "A STIX document is a JSON object (a bundle, an envelope or an object) or a list of objects, not " + jsonKind(doc) + "."}}
	}
	duplicates(&d)
	return d
}

// documentKind says what a decoded document is, or "" when it is none of the kinds.
func documentKind(doc any) DocumentKind {
	switch doc := doc.(type) {
	case []any:
		return KindList
	case map[string]any:
		switch typ, hasType := doc["type"]; {
		case typ == "bundle":
			return KindBundle
		case !hasType && has(doc, "objects"):
			return KindEnvelope
		}
		return KindObject
	}
	return ""
}

func (v *Validator) bundle(d *DocumentVerdict, bundle map[string]any, dups map[int][]Problem) {
	var r report
	switch sv, present := bundle["spec_version"]; {
	case !present:
	case sv == "2.1":
		r.warnf(CodeBundleVersion, at("spec_version"), "A STIX 2.1 bundle has no spec_version; each object carries its own.")
	default:
		r.errorf(CodeNotSTIX21, at("spec_version"),
			"This bundle declares spec_version %s, which makes it STIX 2.0 content; only STIX 2.1 is accepted, and a STIX 2.1 bundle has no spec_version.", describeValue(sv))
	}
	validateSchema(v.schemas.byType["bundle"], v.schemas.shapes["bundle"], bundle, nil, &r)
	if id, ok := str(bundle, "id"); ok {
		switch parsed, why := parseIdentifier(id); {
		case why != "":
			r.errorf(CodeInvalidIdentifier, at("id"), "id %s is not a STIX identifier (bundle--<UUID>): %s.", quote(id), why)
		case parsed.typ != "bundle":
			r.errorf(CodeIDTypeMismatch, at("id"), "A bundle id must start with bundle--; %s does not.", quote(id))
		case parsed.version != 4:
			r.warnf(CodeUUIDVersion, at("id"), "A bundle id should use a version 4 UUID; %s uses version %d.", quote(id), parsed.version)
		}
	}
	for name := range bundle {
		if name != "type" && name != "id" && name != "objects" && name != "spec_version" {
			r.warnf(CodeCustomProperty, at(name), "%s is not a property of a STIX 2.1 bundle, which has only type, id and objects.", name)
		}
	}
	r.finish()
	d.Errors, d.Warnings = r.errors, r.warnings
	if objects, ok := bundle["objects"].([]any); ok {
		v.members(d, objects, "/objects", dups)
	}
}

func (v *Validator) envelope(d *DocumentVerdict, envelope map[string]any, dups map[int][]Problem) {
	objects, ok := envelope["objects"].([]any)
	if !ok {
		d.Errors = append(d.Errors, Problem{Code: CodeWrongType, Path: "/objects", Message: "objects must be a list of STIX objects."})
		return
	}
	v.members(d, objects, "/objects", dups)
}

// byMember sorts the repeated member names of a document (see scanRaw) by the member of
// its list, at prefix, that they are in: dups[i] holds those of the member at prefix/i, with paths
// relative to it. ok is false when some lie outside every member: they put in doubt which list
// the document holds, so the document is refused as a whole.
func byMember(found []Problem, prefix string) (dups map[int][]Problem, ok bool) {
	if len(found) == 0 {
		return nil, true
	}
	dups = make(map[int][]Problem)
	for _, p := range found {
		rest, in := strings.CutPrefix(p.Path, prefix+"/")
		index, rel, _ := strings.Cut(rest, "/")
		i, err := strconv.Atoi(index)
		if !in || err != nil || i < 0 {
			return nil, false
		}
		if rel != "" {
			p.Path = "/" + rel
		} else {
			p.Path = ""
		}
		dups[i] = append(dups[i], p)
	}
	return dups, true
}

// members validates the objects of a bundle, envelope or list, whose pointer is prefix. dups
// holds the repeated member names of each, which refuse it.
func (v *Validator) members(d *DocumentVerdict, objects []any, prefix string, dups map[int][]Problem) {
	d.Objects = make([]ObjectVerdict, len(objects))
	for i, m := range objects {
		pointer := prefix + "/" + strconv.Itoa(i)
		obj, ok := m.(map[string]any)
		if !ok {
			d.Objects[i] = ObjectVerdict{Pointer: pointer, Verdict: Verdict{Errors: []Problem{{
				Code: CodeNotAnObject, Path: pointer, Message: "A STIX object must be a JSON object, not " + jsonKind(m) + ".",
			}}}}
			continue
		}
		var verdict Verdict
		if len(dups[i]) > 0 {
			verdict = repeated(obj, dups[i])
		} else {
			verdict = v.object(obj)
		}
		for j := range verdict.Errors {
			verdict.Errors[j].Path = pointer + verdict.Errors[j].Path
		}
		for j := range verdict.Warnings {
			verdict.Warnings[j].Path = pointer + verdict.Warnings[j].Path
		}
		d.Objects[i] = ObjectVerdict{Pointer: pointer, Verdict: verdict}
	}
}

// duplicates warns about objects that appear twice with the same id and version: one of them
// is redundant, or two different objects claim one version.
func duplicates(d *DocumentVerdict) {
	type version struct{ id, at string }
	seen := make(map[version]string, len(d.Objects))
	for _, o := range d.Objects {
		if o.ID == "" {
			continue
		}
		key := version{o.ID, o.Version.String()}
		if first, ok := seen[key]; ok {
			d.Warnings = append(d.Warnings, Problem{Code: CodeDuplicateID, Path: o.Pointer,
				Message: "This object has the same id and version as the one at " + first + "; only one of them will be kept."})
			continue
		}
		seen[key] = o.Pointer
	}
}
