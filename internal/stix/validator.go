package stix

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/xeipuuv/gojsonschema"

	"taxiihub/internal/stix/pattern"
	"taxiihub/schemas"
)

// Validator checks STIX 2.1 objects. It is safe for concurrent use; build one at start.
type Validator struct {
	schemas *schemaSet
}

// NewValidator compiles the embedded schemas. It fails only if they are broken, which the
// package's tests rule out, so callers may treat an error as fatal.
func NewValidator() (*Validator, error) {
	set, err := loadSchemas(schemas.FS)
	if err != nil {
		return nil, fmt.Errorf("stix: %w", err)
	}
	return &Validator{schemas: set}, nil
}

// Object validates one STIX object given as its exact JSON bytes: an SDO, SRO, SCO or meta
// object, not a bundle. Problem paths are relative to the object.
func (v *Validator) Object(raw []byte) Verdict {
	doc, p := decode(raw)
	if p != nil {
		return Verdict{Errors: []Problem{*p}}
	}
	dups, p := scanRaw(raw, 0)
	if p != nil {
		return Verdict{Errors: []Problem{*p}}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return Verdict{Errors: []Problem{{Code: CodeNotAnObject, Message: "A STIX object must be a JSON object, not " + jsonKind(doc) + "."}}}
	}
	if len(dups) > 0 {
		return repeated(obj, dups)
	}
	vd := v.object(obj)
	vd.Object = obj
	return vd
}

// object validates a decoded top-level object.
func (v *Validator) object(obj map[string]any) Verdict {
	var r report
	c := objectCheck{v: v, obj: obj, r: &r}
	c.run()
	r.finish()
	vd := Verdict{Errors: r.errors, Warnings: r.warnings, Version: objectVersion(obj), Pattern: c.pattern}
	vd.ID, _ = str(obj, "id")
	vd.Type, _ = str(obj, "type")
	vd.SpecVersion, _ = str(obj, "spec_version")
	if _, present := obj["spec_version"]; !present && vd.Valid() {
		// STIX 2.1 section 3.1: an observable without spec_version is 2.1 content (only objects of
		// other kinds default to 2.0, and those are refused above). The store and the TAXII manifest
		// need the version it stands for, not its absence.
		vd.SpecVersion = "2.1"
	}
	return vd
}

// repeated is the verdict on an object that repeats member names (see scanRaw): it is
// refused without further checks, which would judge only the values encoding/json kept. Its id,
// type and spec_version are given when they are not among the repeated names, so that a status
// can still say which object was refused.
func repeated(obj map[string]any, dups []Problem) Verdict {
	single := func(name string) string {
		for _, p := range dups {
			if p.Path == "/"+name {
				return ""
			}
		}
		s, _ := str(obj, name)
		return s
	}
	return Verdict{Errors: dups, ID: single("id"), Type: single("type"), SpecVersion: single("spec_version")}
}

// objectVersion is what the store keys an object version by: modified, else created, else
// nothing for observables. A marking-definition is never versioned: only its created counts.
func objectVersion(obj map[string]any) time.Time {
	typ, _ := str(obj, "type")
	prop := "modified"
	switch k := kindOf(typ, obj); {
	case k.isObservable():
		return time.Time{}
	case k == kindMarking || !has(obj, "modified"):
		prop = "created"
	}
	s, _ := str(obj, prop)
	ts, why := parseTimestamp(s)
	if why != "" {
		return time.Time{}
	}
	return ts.t
}

// objectCheck carries what the checks of one object share.
type objectCheck struct {
	v    *Validator
	obj  map[string]any
	typ  string
	kind kind
	r    *report
	// shape is the schema's view of the object's type (or of the core it falls back to).
	shape *shape
	// pattern is the parsed pattern of an indicator whose STIX pattern is valid.
	pattern *pattern.Pattern
	// embedded is the objects dictionary of an observed-data when the object is one of its
	// members: references then name keys of that dictionary instead of identifiers.
	embedded map[string]any
	// toplevelExtension and newTypeExtension record what the object's extensions declare:
	// custom top-level properties, or the object's own (custom) type.
	toplevelExtension, newTypeExtension bool
	// buf backs the locations built while walking the object, so the walk does not allocate.
	buf [16]step
}

func (c *objectCheck) run() {
	typ, ok := c.obj["type"].(string)
	switch {
	case !ok && has(c.obj, "type"):
		c.r.errorf(CodeWrongType, at("type"), "type must be a string.")
		return
	case !ok:
		// Without a type there is no schema to apply; say what else an object needs.
		c.r.errorf(CodeMissingProperty, at("type"), "type is required: every STIX object says what it is.")
		if !has(c.obj, "id") {
			c.r.errorf(CodeMissingProperty, at("id"), "id is required: every STIX object is identified.")
		}
		return
	}
	c.typ = typ
	c.kind = kindOf(typ, c.obj)
	if c.kind == kindBundle {
		c.r.errorf(CodeNestedBundle, at("type"), "A bundle is not a STIX object and cannot be nested: send its objects instead.")
		return
	}
	if !validTypeName(typ) {
		c.r.errorf(CodeInvalidTypeName, at("type"),
			"type %s is not a valid object type: it must be 3 to 250 lowercase ASCII letters, digits and single hyphens, starting with a letter.", quote(typ))
		return
	}
	if typ == "action" {
		c.r.errorf(CodeReservedType, at("type"), "The object type action is reserved by STIX and cannot be used.")
		return
	}
	if !c.checkSpecVersion() {
		return
	}

	var schema *gojsonschema.Schema
	schema, c.shape = c.v.schemas.byType[typ], c.v.schemas.shapes[typ]
	if schema == nil {
		if c.kind == kindCustom {
			schema, c.shape = c.v.schemas.core, c.v.schemas.coreShape
		} else {
			schema, c.shape = c.v.schemas.observableCore, c.v.schemas.observableCoreShape
		}
	}
	validateSchema(schema, c.shape, c.obj, nil, c.r)

	c.checkIdentity()
	c.walk(c.obj, c.shape, c.buf[:0])
	c.checkExtensions() // before checkProperties: a toplevel-property-extension declares custom properties
	c.checkProperties()
	c.checkCommon()
	c.checkTimestampOrder()
	c.checkTypeRules()
}

// checkSpecVersion refuses anything but STIX 2.1 content. It reports whether checking should
// go on: applying 2.1 rules to 2.0 content would only bury the real reason under noise.
func (c *objectCheck) checkSpecVersion() bool {
	raw, present := c.obj["spec_version"]
	if !present {
		if c.kind.isObservable() || c.embedded != nil {
			return true // spec_version is optional on observables
		}
		c.r.errorf(CodeNotSTIX21, at("spec_version"),
			"This %s has no spec_version, which makes it STIX 2.0 content; only STIX 2.1 is accepted, and a STIX 2.1 object carries \"spec_version\": \"2.1\".", c.typ)
		return false
	}
	sv, ok := raw.(string)
	switch {
	case !ok:
		c.r.errorf(CodeWrongType, at("spec_version"), "spec_version must be the string \"2.1\".")
		return false
	case sv == "2.1":
		return true
	case sv == "2.0":
		c.r.errorf(CodeNotSTIX21, at("spec_version"), "This object is STIX 2.0 content (spec_version \"2.0\"); only STIX 2.1 is accepted.")
	default:
		c.r.errorf(CodeNotSTIX21, at("spec_version"), "spec_version %s is not a STIX version this hub accepts; only \"2.1\" is.", quote(sv))
	}
	return false
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
