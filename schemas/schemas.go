// Package schemas holds the JSON Schemas (draft-07) for STIX 2.1 objects that taxiihub validates
// against: the common properties, every SDO, SRO and SCO, the meta objects and the bundle.
//
// The schemas describe structure only (property types, required properties, closed enumerations,
// numeric ranges). String formats and cross-property rules are checked in Go by internal/stix,
// because gojsonschema recompiles patternProperties regular expressions on every validation and
// runs format checkers through a process-wide registry.
package schemas

import "embed"

// FS holds every schema file, named <type>.json, plus common.json, core.json,
// cyber-observable-core.json and bundle.json.
//
//go:embed *.json
var FS embed.FS

// BaseID is the URI every schema's $id is relative to. It is a name only: nothing is ever
// fetched from it, and the .invalid top-level domain cannot resolve.
const BaseID = "https://taxiihub.invalid/schemas/stix-2.1/"
