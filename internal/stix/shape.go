package stix

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/xeipuuv/gojsonschema"

	"taxiihub/schemas"
)

// format names a string format the schemas declare by referring to a definition in
// common.json; the Go checks enforce it.
type format int

const (
	formatNone format = iota
	formatIdentifier
	formatTimestamp
	formatHashes
	formatHex
	formatBinary
	// formatDictionary is a dictionary of any of the value types below: its keys are checked
	// in Go, its values by the schema.
	formatDictionary
)

var formatDefinitions = map[string]format{
	commonFile + "#/definitions/identifier": formatIdentifier,
	commonFile + "#/definitions/timestamp":  formatTimestamp,
	commonFile + "#/definitions/hashes":     formatHashes,
	commonFile + "#/definitions/hex":        formatHex,
	commonFile + "#/definitions/binary":     formatBinary,
	// Dictionaries: the schema checks their values (additionalProperties), the Go code their
	// keys, which would need patternProperties, compiled by gojsonschema on every validation.
	commonFile + "#/definitions/dictionary":                   formatDictionary,
	commonFile + "#/definitions/string-dictionary":            formatDictionary,
	commonFile + "#/definitions/integer-dictionary":           formatDictionary,
	commonFile + "#/definitions/integer-or-string-dictionary": formatDictionary,
}

// shape is what the schemas say about an object of one type, in the form the Go checks walk:
// which properties it defines and where values with a format sit, down through nested objects
// and list members.
type shape struct {
	format format
	props  map[string]*shape // properties of an object
	items  *shape            // members of a list
	// itemsAt locates the schema of the list's members (file#pointer), and itemSchema is that
	// schema compiled, so that long lists can be validated member by member.
	itemsAt    string
	itemSchema *gojsonschema.Schema
	// jsonType is the schema's "type" ("string", "integer", "object"...), empty when the schema
	// gives none or when format stands for it. min and max are its "minimum" and "maximum"
	// (hasMin, hasMax say whether given) and enum its "enum" of strings. The schema enforces
	// them on objects; pattern checks read them to tell a constant that no value can equal.
	jsonType       string
	min, max       float64
	hasMin, hasMax bool
	enum           []string
}

// defines reports whether the schema defines property name at this level; a nil shape
// defines nothing.
func (s *shape) defines(name string) bool {
	if s == nil {
		return false
	}
	_, ok := s.props[name]
	return ok
}

// prop returns the shape of property name, nil when the schema does not define it.
func (s *shape) prop(name string) *shape {
	if s == nil {
		return nil
	}
	return s.props[name]
}

// schemaReader turns our schema files into shapes. It follows the constructs the files use
// ($ref to a file or into #/definitions, allOf, properties, items) and nothing more.
type schemaReader struct {
	docs map[string]map[string]any
}

func (r schemaReader) shape(file string, node map[string]any) (*shape, error) {
	return r.shapeAt(file, "", node, 0)
}

// shapeAt reads node, found in file at the JSON Pointer pointer.
func (r schemaReader) shapeAt(file, pointer string, node map[string]any, depth int) (*shape, error) {
	if depth > 32 { // our schemas nest a handful of levels and never recurse
		return nil, fmt.Errorf("%s: schema nesting too deep or recursive", file)
	}
	if ref, ok := node["$ref"].(string); ok {
		target, fragment, _ := strings.Cut(ref, "#")
		if target == "" {
			target = file
		}
		target = path.Base(target)
		if f, ok := formatDefinitions[target+"#"+fragment]; ok {
			return &shape{format: f}, nil
		}
		next, err := r.lookup(target, fragment)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return r.shapeAt(target, fragment, next, depth+1)
	}
	s := &shape{}
	s.jsonType, _ = node["type"].(string)
	s.min, s.hasMin = node["minimum"].(float64)
	s.max, s.hasMax = node["maximum"].(float64)
	if enum, ok := node["enum"].([]any); ok {
		for _, e := range enum {
			if es, ok := e.(string); ok {
				s.enum = append(s.enum, es)
			}
		}
	}
	if props, ok := node["properties"].(map[string]any); ok {
		s.props = make(map[string]*shape, len(props))
		for name, v := range props {
			sub, _ := v.(map[string]any)
			ps, err := r.shapeAt(file, pointer+"/properties/"+escapePointer(name), sub, depth+1)
			if err != nil {
				return nil, err
			}
			s.props[name] = ps
		}
	}
	if items, ok := node["items"].(map[string]any); ok {
		is, err := r.shapeAt(file, pointer+"/items", items, depth+1)
		if err != nil {
			return nil, err
		}
		s.items, s.itemsAt = is, file+"#"+pointer+"/items"
	}
	all, _ := node["allOf"].([]any)
	for i, v := range all {
		sub, _ := v.(map[string]any)
		bs, err := r.shapeAt(file, pointer+"/allOf/"+strconv.Itoa(i), sub, depth+1)
		if err != nil {
			return nil, err
		}
		s.merge(bs)
	}
	return s, nil
}

func (r schemaReader) lookup(file, fragment string) (map[string]any, error) {
	node := r.docs[file]
	if node == nil {
		return nil, fmt.Errorf("$ref to %s, which is not embedded", file)
	}
	for _, step := range strings.Split(strings.TrimPrefix(fragment, "/"), "/") {
		if step == "" {
			continue
		}
		next, ok := node[step].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref to %s#%s, which does not exist", file, fragment)
		}
		node = next
	}
	return node, nil
}

// merge adds what o says to s, as allOf requires of both.
func (s *shape) merge(o *shape) {
	if o.format != formatNone {
		s.format = o.format
	}
	if o.jsonType != "" {
		s.jsonType = o.jsonType
	}
	if o.hasMin {
		s.min, s.hasMin = o.min, true
	}
	if o.hasMax {
		s.max, s.hasMax = o.max, true
	}
	if o.enum != nil {
		s.enum = o.enum
	}
	for name, ps := range o.props {
		if s.props == nil {
			s.props = make(map[string]*shape, len(o.props))
		}
		if mine, ok := s.props[name]; ok {
			mine.merge(ps)
		} else {
			s.props[name] = ps
		}
	}
	if o.items != nil {
		if s.items == nil {
			s.items, s.itemsAt = o.items, o.itemsAt
		} else {
			s.items.merge(o.items)
		}
	}
}

// compileItemSchemas compiles the member schema of every list in s, sharing one compiled schema
// per location.
func compileItemSchemas(loader *gojsonschema.SchemaLoader, s *shape, compiled map[string]*gojsonschema.Schema) error {
	if s == nil {
		return nil
	}
	if s.itemsAt != "" {
		if compiled[s.itemsAt] == nil {
			sc, err := loader.Compile(embeddedSchema(schemas.BaseID + s.itemsAt))
			if err != nil {
				return fmt.Errorf("compile list members %s: %w", s.itemsAt, err)
			}
			compiled[s.itemsAt] = sc
		}
		s.itemSchema = compiled[s.itemsAt]
	}
	for _, p := range s.props {
		if err := compileItemSchemas(loader, p, compiled); err != nil {
			return err
		}
	}
	return compileItemSchemas(loader, s.items, compiled)
}
