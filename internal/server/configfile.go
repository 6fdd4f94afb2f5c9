package server

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// fileValue is one setting's text in a config file, with its line for error messages.
type fileValue struct {
	text string
	line int
}

// readConfigFile reads a YAML config file: one mapping whose keys are flag names and whose values
// are scalars, or lists of scalars for list settings (trusted-proxies). It walks the YAML syntax tree
// rather than decoding into a struct so that every unknown key and every malformed value is reported
// at once, each with its line; repeated keys are refused by the parser. Alongside an error it still
// returns the keys it could read, so that their values are judged in the same pass.
func readConfigFile(path string) (map[string]fileValue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if len(f.Docs) > 1 {
		return nil, fmt.Errorf("config file %s holds %d YAML documents; write one", path, len(f.Docs))
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return map[string]fileValue{}, nil // an empty file sets nothing
	}
	body, ok := f.Docs[0].Body.(*ast.MappingNode)
	if !ok {
		return nil, fmt.Errorf("config file %s: the file must be a mapping of settings, such as \"listen: 0.0.0.0:8443\"", path)
	}
	known := func(key string) bool {
		return slices.ContainsFunc(settings, func(s setting) bool { return s.name == key })
	}
	values := map[string]fileValue{}
	var errs []error
	for _, kv := range body.Values {
		key := kv.Key.GetToken().Value
		line := kv.Key.GetToken().Position.Line
		if !known(key) {
			errs = append(errs, fmt.Errorf("%s:%d: unknown key %q; the keys are the flag names, such as listen or member-rate", path, line, key))
			continue
		}
		text, err := scalarText(kv.Value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %s: %w", path, line, key, err))
			continue
		}
		values[key] = fileValue{text: text, line: line}
	}
	return values, errors.Join(errs...)
}

// scalarText is the text of a scalar, as a flag would carry it; a list of scalars is joined with
// commas. YAML numbers keep their spelling (0.2 stays 0.2), so they parse exactly as the flag does.
func scalarText(n ast.Node) (string, error) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, nil
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return v.GetToken().Value, nil
	case *ast.NullNode:
		return "", nil
	case *ast.SequenceNode:
		parts := make([]string, 0, len(v.Values))
		for _, item := range v.Values {
			if _, nested := item.(*ast.SequenceNode); nested {
				return "", errors.New("lists cannot be nested")
			}
			s, err := scalarText(item)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	default:
		return "", fmt.Errorf("the value must be a string, a number or a list of them, not %s", n.Type())
	}
}
