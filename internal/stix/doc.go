// Package stix validates STIX 2.1 content: one object at a time for the TAXII handler
// (Validator.Object), or whole documents for taxiictl (Validator.Document).
//
// # What is checked
//
// An object, or a document, that repeats a member name within one JSON object is refused
// before anything else (I-JSON, RFC 7493 §2.3): encoding/json keeps only the last value, so
// the checks would judge an object other than the bytes stored and served.
//
// Each object is checked against the JSON Schema of its type (module directory schemas/,
// compiled once by NewValidator; custom types fall back to the common core schemas), then by
// Go code for what the schemas leave out, following the MUST rules of STIX 2.1:
//
//   - timestamps: the STIX form (UTC, a trailing Z), real calendar instants (no 31 April, no
//     leap second), millisecond precision on created and modified, and the orderings
//     modified >= created, last_seen >= first_seen, last_observed >= first_observed,
//     end >= start, valid_until > valid_from and stop_time > start_time;
//   - identifiers: <type>--<UUID> with an RFC 4122 UUID of version 1 to 5, the type matching
//     the object's, version 4 for processes and for the SCOs that have none of their
//     ID-contributing properties; references pointing to permitted types;
//   - STIX 2.1 only: SDOs, SROs and meta objects must say "spec_version": "2.1", and a bundle
//     declaring a spec_version other than 2.1 is STIX 2.0 content;
//   - names: type names, custom property names (3 to 250 of a-z, A-Z, 0-9 and _, starting
//     with a letter; upper case is a warning, and a name that differs only in case from a STIX
//     property or from another member of the same object is refused), reserved property names,
//     extension names and extension_type;
//   - markings: object_marking_refs and granular marking_ref name marking definitions, selectors
//     resolve, a marking definition does not mark itself, and the predefined TLP 1.0 and TLP 2.0
//     marking definitions are reproduced exactly (their ids are theirs alone);
//   - values with an external format: hashes, language tags (RFC 5646), IANA character sets and
//     media types, URLs (RFC 3986), email addresses, domain names, IP and MAC addresses, CPE
//     2.3 names, base64 and hex;
//   - per-type rules, such as one of payload_bin or url on an artifact, references within the
//     deprecated objects dictionary of observed-data, and STIX patterns, which the subpackage
//     pattern parses;
//   - the types STIX 2.1 gives observable properties: dictionary keys (1 to 250 of a-z, A-Z,
//     0-9, - and _), dictionary values (ipfix and exif_tags integers or strings, request_header
//     strings, socket options integers), integers within ±(2^53 - 1) and floats within a double.
//
// A pattern that parses can still be unable to match: an object type or property STIX does not
// define, a hash key outside the vocabulary, a constant that cannot be a value of its property.
// Those are warnings (patternquality.go), judged with the same schemas that validate objects.
//
// SHOULD-level findings (open vocabularies, UUIDv5 for observables, custom properties and types
// not declared through an extension-definition, recommended properties...) are warnings: they
// never make an object invalid.
//
// # Problems
//
// Every finding is a Problem with a stable Code (the Code* constants, and the pattern
// package's codes for patterns), a JSON Pointer Path, and a Message for a person. Paths are
// relative to the object in Validator.Object ("/kill_chain_phases/0/phase_name") and relative
// to the document in Validator.Document ("/objects/3/kill_chain_phases/0/phase_name").
//
// # Cost
//
// An object is decoded once; the same decoded value goes to gojsonschema and to the Go checks.
// A verdict holds at most 100 errors and 100 warnings (the last one saying that more were cut),
// and lists longer than 32 members are validated member by member, so that checking stops once
// the report is full: gojsonschema formats every error it finds with text/template, and a
// single hostile list of a million bad members would otherwise cost seconds and gigabytes.
// Numbers beyond 100 characters or an exponent of ±400 are refused before gojsonschema
// evaluates them with math/big. They and repeated member names are found by one pass over the
// bytes after decoding, which allocates nothing for usual objects.
//
// # Deliberate differences from the OASIS validator
//
// The OASIS stix2-validator is the reference the test corpus was labelled with. Where it and
// the specification part, this package follows the specification:
//
//   - property names longer than 250 characters are refused (the OASIS schema anchors its
//     name pattern at the start only);
//   - property names may hold upper-case letters, as STIX 2.1 allows (a warning, since they
//     SHOULD be lower case; MISP's export writes x_misp_* names in mixed case), where the OASIS
//     schemas allow lower case only;
//   - a marking definition carrying the id of a predefined TLP marking definition must be that
//     definition, whatever its definition_type (the OASIS validator only compares objects with
//     definition_type tlp, so another object could take over the TLP:GREEN id);
//   - TLP 2.0 marking definitions are checked against the five objects OASIS published;
//   - a granular marking may carry lang instead of marking_ref, as the specification allows;
//   - an extension-definition requires created_by_ref;
//   - language tags are checked against the IANA registry through golang.org/x/text rather
//     than a fixed list of 232 tags, with three-letter primary subtags limited to ISO 639-2;
//   - character set names are compared without regard to case, as the IANA registry says;
//   - dictionary keys, dictionary value types, integer ranges and the targets of a file's
//     contains_refs are checked as STIX 2.1 states them, where the OASIS tools check some or none.
//
// And where the OASIS validator is more lenient for reasons that hold, this package is too:
// references made by cyber-observable objects are checked for their target type, while a
// malformed UUID part in them is only a warning (the OASIS schemas check the type prefix
// alone, and a reference that cannot resolve is no worse than a dangling one). The IANA media
// type registry is not embedded: an artifact's mime_type must be a well-formed type/subtype
// under a registered top-level type and outside the unregistered x- tree.
package stix
