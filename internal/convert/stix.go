package convert

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// stix lets a STIX bundle (or a list of objects, or one object) through unchanged, one object at a
// time: each item is one object, byte for byte as it came.
func (c *Converter) stix(br *bufio.Reader) (func() (Item, error), error) {
	dec := json.NewDecoder(br)
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("convert: STIX input is not JSON: %w", err)
	}
	n := 0
	one := func(where string) (Item, error) {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Item{}, fmt.Errorf("convert: STIX %s: %w", where, err)
		}
		o := Object{Raw: raw}
		return Item{Where: where, ID: o.ID(), Objects: []Object{o}}, nil
	}
	switch tok {
	case json.Delim('['):
		return func() (Item, error) {
			if !dec.More() {
				return Item{}, io.EOF
			}
			n++
			return one(fmt.Sprintf("[%d]", n-1))
		}, nil
	case json.Delim('{'):
	default:
		return nil, errors.New("convert: STIX input must be a bundle, a list of objects or an object")
	}
	// A bundle streams its objects; any other object is let through whole. Which it is shows only
	// in its members, so the members before "objects" are kept until then.
	head := map[string]json.RawMessage{}
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("convert: STIX input: %w", err)
		}
		key, _ := keyTok.(string)
		if key == "objects" {
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return nil, errors.New("convert: a bundle's objects must be a list")
			}
			return func() (Item, error) {
				if !dec.More() {
					return Item{}, io.EOF
				}
				n++
				return one(fmt.Sprintf("objects[%d]", n-1))
			}, nil
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("convert: STIX input: %w", err)
		}
		head[key] = v
	}
	// One object, rebuilt from its members: its bytes were consumed while looking for a list.
	raw, err := json.Marshal(head)
	if err != nil {
		return nil, fmt.Errorf("convert: STIX object: %w", err)
	}
	done := false
	return func() (Item, error) {
		if done {
			return Item{}, io.EOF
		}
		done = true
		o := Object{Raw: raw}
		return Item{Where: "object", ID: o.ID(), Objects: []Object{o}}, nil
	}, nil
}
