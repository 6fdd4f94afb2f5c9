// Package pattern parses and checks STIX 2.1 patterns (indicators with pattern_type "stix").
//
// The parser is a hand-written lexer and recursive-descent parser that follows the OASIS ANTLR
// grammar STIXPattern.g4 (oasis-open/cti-stix2-json-schemas, pattern_grammar/), the grammar the
// reference validator cti-pattern-validator is generated from. It builds an AST that keeps every
// parenthesis the author wrote, because parentheses change meaning: a qualifier type may not be
// applied twice to the same [...] expression, but may be applied again to a parenthesised group.
//
// # Entry points
//
//   - [Parse] checks the grammar and the semantic rules of the OASIS pattern validator
//     (stix2patterns.validate for STIX 2.1): hash values compared with hashes.<algorithm>, and
//     duplicate qualifiers. A nil error means the pattern is valid on its own.
//   - [Pattern.CheckIndicator] adds the checks the OASIS STIX validator makes when the pattern is
//     the pattern of an indicator: object type names and the first property name of every object
//     path must be well formed.
//   - [ValidateIndicatorPattern] does both, which is what validating an indicator needs.
//
// Every problem carries a stable [Code], the byte offset, line and column of the offending text,
// and a sentence meant for the person who wrote the pattern.
//
// The package keeps no mutable state: all functions are safe for concurrent use, and a parsed
// [Pattern] may be shared between goroutines as long as nobody modifies it.
//
// # Problem codes
//
//	pattern-syntax               the text does not follow the grammar (missing bracket, unknown
//	                             qualifier, lowercase keyword, unquoted string, stray character)
//	pattern-literal              a constant is malformed: bad string escape, integer with leading
//	                             zeros, h'' with an odd number of digits, b'' that is not base64,
//	                             t'' that is not YYYY-MM-DDTHH:MM:SS[.s]Z with in-range fields
//	pattern-invalid-date         a t'' constant has the right shape but names no real instant
//	                             (2023-02-29, 2024-04-31, a leap second not at 23:59:60)
//	pattern-too-deep             brackets and parentheses nest deeper than MaxNesting
//	pattern-hash-format          a value compared with hashes.<algorithm> is not a well-formed hash
//	pattern-duplicate-qualifier  one [...] expression carries two qualifiers of the same type
//	pattern-object-type          (indicator) an object type name is not 3-250 characters of
//	                             lowercase letters, digits and hyphens
//	pattern-property-name        (indicator) a property name is not 3-250 characters of
//	                             lowercase letters, digits and underscores
//
// # Where this package deliberately differs from the OASIS tools
//
// The OASIS tools are the reference; the differences below are choices made for correctness, each
// in the direction the STIX 2.1 specification points.
//
//   - Timestamps must be real calendar instants (RFC 3339 section 5.7, which STIX timestamps
//     follow): the OASIS grammar accepts t'2023-02-29T00:00:00Z' and seconds of 60 at any time.
//   - hashes.<algorithm> IN (...) checks each member of the set; the OASIS validator checks the
//     text of the whole set and so rejects every such comparison, even one listing valid hashes.
//   - A hash compared with a non-string constant is always rejected; the OASIS validator
//     compares the constant's source text, so for example hashes.SSDEEP = 5 passes there.
//   - MD6 must be exactly 32, 40, 56, 64, 96 or 128 hex digits; the OASIS expression is broken
//     by a line continuation and accepts anything that starts with 32 hex digits.
//   - Text that is not valid UTF-8 is rejected.
//   - The OASIS tools match with Python regular expressions whose $ also matches before a final
//     newline, so they accept a hash value or property name ending in a newline; this package
//     does not.
//   - Nesting is limited to MaxNesting levels.
package pattern
