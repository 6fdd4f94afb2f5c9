package stix

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/xeipuuv/gojsonreference"
	"github.com/xeipuuv/gojsonschema"

	"taxiihub/schemas"
)

// schemaSet is the compiled form of the embedded schemas, built once by NewValidator.
type schemaSet struct {
	// byType has one schema per file named after an object type (indicator.json, file.json...).
	byType map[string]*gojsonschema.Schema
	// core and observableCore validate objects of custom types: core when the object has
	// created or modified (an SDO-like object), observableCore otherwise.
	core, observableCore *gojsonschema.Schema
	// shapes hold, per type and for the two cores, the properties the schema defines (anything
	// else on an object is a custom property, whose name is checked in Go) and where the values
	// with a format are.
	shapes                         map[string]*shape
	coreShape, observableCoreShape *shape
}

// Files that describe shared parts rather than an object type.
const (
	commonFile         = "common.json"
	coreFile           = "core.json"
	observableCoreFile = "cyber-observable-core.json"
)

func loadSchemas(fsys fs.FS) (*schemaSet, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, fmt.Errorf("list schemas: %w", err)
	}
	loader := gojsonschema.NewSchemaLoader()
	loader.Draft = gojsonschema.Draft7
	loader.AutoDetect = false
	loader.Validate = true // check each of our schemas against the draft-07 meta-schema
	docs := make(map[string]map[string]any, len(names))
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", name, err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("parse schema %s: %w", name, err)
		}
		if id, _ := doc["$id"].(string); id != schemas.BaseID+name {
			return nil, fmt.Errorf("schema %s: $id is %q, want %q", name, id, schemas.BaseID+name)
		}
		docs[name] = doc
		if err := loader.AddSchemas(gojsonschema.NewBytesLoader(data)); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", name, err)
		}
	}

	set := &schemaSet{
		byType: make(map[string]*gojsonschema.Schema, len(names)),
		shapes: make(map[string]*shape, len(names)),
	}
	reader := schemaReader{docs: docs}
	for _, name := range names {
		if name == commonFile {
			continue
		}
		compiled, err := loader.Compile(embeddedSchema(schemas.BaseID + name))
		if err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", name, err)
		}
		sh, err := reader.shape(name, docs[name])
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", name, err)
		}
		switch name {
		case coreFile:
			set.core, set.coreShape = compiled, sh
		case observableCoreFile:
			set.observableCore, set.observableCoreShape = compiled, sh
		default:
			typ := strings.TrimSuffix(name, ".json")
			set.byType[typ], set.shapes[typ] = compiled, sh
		}
	}
	if set.core == nil || set.observableCore == nil {
		return nil, fmt.Errorf("schemas %s and %s are required", coreFile, observableCoreFile)
	}
	compiled := make(map[string]*gojsonschema.Schema)
	for _, sh := range append(slices.Collect(maps.Values(set.shapes)), set.coreShape, set.observableCoreShape) {
		if err := compileItemSchemas(loader, sh, compiled); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// embeddedSchema refers to a schema already added to the loader's pool. Its loader factory
// refuses to load anything, so a $ref to a schema that is not embedded fails NewValidator
// instead of sending gojsonschema to the network.
type embeddedSchema string

func (s embeddedSchema) JsonSource() any { return string(s) }

func (s embeddedSchema) LoadJSON() (any, error) {
	return nil, fmt.Errorf("schema %s is not embedded", string(s))
}

func (s embeddedSchema) JsonReference() (gojsonreference.JsonReference, error) {
	return gojsonreference.NewJsonReference(string(s))
}

func (s embeddedSchema) LoaderFactory() gojsonschema.JSONLoaderFactory { return offlineFactory{} }

type offlineFactory struct{}

func (offlineFactory) New(source string) gojsonschema.JSONLoader { return embeddedSchema(source) }

// decodedDocument hands an already decoded value (see decode) to gojsonschema.
type decodedDocument struct{ v any }

func (d decodedDocument) JsonSource() any                               { return d.v }
func (d decodedDocument) LoadJSON() (any, error)                        { return d.v, nil }
func (d decodedDocument) LoaderFactory() gojsonschema.JSONLoaderFactory { return offlineFactory{} }
func (d decodedDocument) JsonReference() (gojsonreference.JsonReference, error) {
	return gojsonreference.NewJsonReference("#")
}
