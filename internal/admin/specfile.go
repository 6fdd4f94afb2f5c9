package admin

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// A spec file is checked against the shape of Spec before it is decoded, by walking its YAML syntax
// tree: the decoder alone stops at the first problem and names it in Go's terms ("cannot unmarshal
// string into Go struct field Spec.Grants of type bool"), while an operator needs every problem at
// once, each in the file's own terms: where it is, which key, and what was expected there.

// SpecProblem is one thing wrong with a spec file's shape.
type SpecProblem struct {
	Line, Column int
	// Path names the key, such as "grants[2].read".
	Path    string
	Message string
}

// SpecError lists every problem found in a spec file's shape, in the order of the file.
type SpecError struct {
	// File is the file's name as the operator gave it, empty when unknown.
	File     string
	Problems []SpecProblem
}

func (e *SpecError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		where := fmt.Sprintf("%d:%d", p.Line, p.Column)
		if e.File != "" {
			where = e.File + ":" + where
		}
		if p.Path != "" {
			where += ": " + p.Path
		}
		lines[i] = where + ": " + p.Message
	}
	return strings.Join(lines, "\n")
}

// ParseSpecFile reads a spec from YAML as ParseSpec does, naming the file in its errors.
func ParseSpecFile(name string, data []byte) (Spec, error) {
	s, err := ParseSpec(data)
	var se *SpecError
	if errors.As(err, &se) {
		se.File = name
		return Spec{}, se
	}
	if err != nil {
		return Spec{}, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// ParseSpec reads a spec from YAML. Every key the spec does not define and every value of the wrong
// kind is reported, all at once, with line, column and key (a *SpecError); a file that is not YAML
// at all, or repeats a key, is reported where the parser stops.
func ParseSpec(data []byte) (Spec, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return Spec{}, syntaxProblem(err)
	}
	if len(f.Docs) > 1 {
		return Spec{}, &SpecError{Problems: []SpecProblem{{Line: 1, Column: 1,
			Message: fmt.Sprintf("the file holds %d YAML documents; write one", len(f.Docs))}}}
	}
	if len(f.Docs) == 1 && f.Docs[0].Body != nil {
		var problems []SpecProblem
		checkShape(f.Docs[0].Body, reflect.TypeFor[Spec](), "", &problems)
		if len(problems) > 0 {
			return Spec{}, &SpecError{Problems: problems}
		}
	}
	var s Spec
	if err := yaml.UnmarshalWithOptions(data, &s, yaml.DisallowUnknownField()); err != nil {
		// The shape was checked above; what is left is the decoder's own view of a value.
		return Spec{}, syntaxProblem(err)
	}
	return s, nil
}

// syntaxProblem turns a parser or decoder error into a SpecError at the position it names.
func syntaxProblem(err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		pos := ye.GetToken().Position
		return &SpecError{Problems: []SpecProblem{{Line: pos.Line, Column: pos.Column, Message: ye.GetMessage()}}}
	}
	return fmt.Errorf("admin: parse spec: %w", err)
}

// checkShape adds a problem for every part of n that does not fit t: a struct is a mapping of its
// yaml keys, a slice a list, a bool true or false, a string any scalar (the decoder writes numbers as
// they are spelt).
func checkShape(n ast.Node, t reflect.Type, path string, problems *[]SpecProblem) {
	n = unwrap(n)
	if n == nil {
		return
	}
	if _, isNull := n.(*ast.NullNode); isNull {
		return // an empty value is the zero value, as the decoder has it
	}
	if _, isAlias := n.(*ast.AliasNode); isAlias {
		return // its anchor is checked where it stands
	}
	bad := func(format string, args ...any) {
		pos := n.GetToken().Position
		*problems = append(*problems, SpecProblem{Line: pos.Line, Column: pos.Column, Path: path, Message: fmt.Sprintf(format, args...)})
	}
	switch t.Kind() {
	case reflect.Struct:
		pairs, ok := mappingPairs(n)
		if !ok {
			bad("expected a mapping with the keys %s, got %s", strings.Join(yamlKeys(t), ", "), describe(n))
			return
		}
		for _, kv := range pairs {
			key := kv.Key.GetToken().Value
			field, found := fieldByYAMLKey(t, key)
			if !found {
				pos := kv.Key.GetToken().Position
				*problems = append(*problems, SpecProblem{Line: pos.Line, Column: pos.Column, Path: join(path, key),
					Message: fmt.Sprintf("unknown key %q; expected one of %s", key, strings.Join(yamlKeys(t), ", "))})
				continue
			}
			checkShape(kv.Value, field.Type, join(path, key), problems)
		}
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			bad("expected a list, got %s", describe(n))
			return
		}
		for i, item := range seq.Values {
			checkShape(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), problems)
		}
	case reflect.Bool:
		if _, ok := n.(*ast.BoolNode); !ok {
			bad("expected true or false, got %s", describe(n))
		}
	case reflect.String:
		switch n.(type) {
		case *ast.StringNode, *ast.LiteralNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		default:
			bad("expected text, got %s", describe(n))
		}
	}
}

// unwrap looks through anchors and tags to the value they mark.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

// mappingPairs returns the key-value pairs of a mapping; the parser gives a mapping of one pair as
// the pair itself.
func mappingPairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch v := n.(type) {
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	}
	return nil, false
}

// describe says what a node is, in the words of someone reading the file.
func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.BoolNode:
		return "the boolean " + n.GetToken().Value
	case *ast.IntegerNode, *ast.FloatNode:
		return "the number " + n.GetToken().Value
	case *ast.StringNode, *ast.LiteralNode:
		return fmt.Sprintf("the text %q", snippetOf(n.GetToken().Value))
	}
	return n.Type().String()
}

func snippetOf(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlKeys are the keys a struct takes in a spec file, in declaration order.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if key := yamlKey(f); key != "" && !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
	}
	return keys
}

func fieldByYAMLKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}
