package convert

import (
	"encoding/json"
	"strings"
)

// TLP markings by name, in the two forms STIX 2.1 knows: the TLP 1.0 definitions STIX predefines
// and the TLP 2.0 definitions OASIS publishes. A collection's tlp_max reads both on one scale;
// which one a partnership's members expect is theirs to say (--tlp-version).
var tlpIDs = map[int]map[string]string{
	1: {
		"white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
		"green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
		"amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
		"red":   "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
	},
	2: {
		"clear":        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
		"green":        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
		"amber":        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
		"amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
		"red":          "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
	},
}

const tlp2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// NormaliseTLP reads a TLP level as analysts write it (green, TLP:GREEN, tlp:amber+strict, white
// for clear) and returns its TLP 2.0 name, or "" when it is no level.
func NormaliseTLP(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "tlp:")
	n = strings.TrimPrefix(n, "tlp-")
	switch n {
	case "white", "clear":
		return "clear"
	case "green", "amber", "amber+strict", "red":
		return n
	}
	return ""
}

// markingDefinition is the exact JSON of a predefined TLP marking definition: the hub's validator
// refuses any other spelling of these ids.
func markingDefinition(version int, level string) json.RawMessage {
	id := tlpIDs[version][level]
	var obj map[string]any
	if version == 1 {
		obj = map[string]any{"type": "marking-definition", "spec_version": "2.1", "id": id,
			"created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:" + strings.ToUpper(level),
			"definition": map[string]any{"tlp": level}}
	} else {
		obj = map[string]any{"type": "marking-definition", "spec_version": "2.1", "id": id,
			"created": "2022-10-01T00:00:00.000Z", "name": "TLP:" + strings.ToUpper(level),
			"extensions": map[string]any{tlp2Extension: map[string]any{"extension_type": "property-extension", "tlp_2_0": level}}}
	}
	raw, _ := json.Marshal(obj) // maps of strings always encode
	return raw
}

// marking returns the id of the marking for a TLP level in the conversion's TLP version, and
// queues its definition to go out with the next item, once per conversion.
func (c *Converter) marking(level string) (string, *Issue) {
	if level == "" {
		return "", nil
	}
	norm := NormaliseTLP(level)
	if norm == "" {
		return "", issuef(CodeInvalid, "%q is no TLP level (clear, green, amber, amber+strict, red)", level)
	}
	lookup := norm
	if c.opts.TLPVersion == 1 && norm == "clear" {
		lookup = "white"
	}
	id, ok := tlpIDs[c.opts.TLPVersion][lookup]
	if !ok {
		return "", issuef(CodeInvalid, "TLP:%s has no TLP 1.0 form; use --tlp-version 2", strings.ToUpper(norm))
	}
	if !c.markingsSent[id] {
		c.markingsSent[id] = true
		c.pending = append(c.pending, Object{Raw: markingDefinition(c.opts.TLPVersion, lookup)})
	}
	return id, nil
}
