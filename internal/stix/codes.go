package stix

// Problem codes. They are part of the hub's API (TAXII status resources and taxiictl output
// carry them), so a code is never renamed or reused for another meaning. Whether a finding is
// an error or a warning is given by the list it is in, not by its code.
const (
	// Document and decoding.
	CodeInvalidJSON   = "invalid-json"   // the input is not a single JSON value
	CodeInvalidUTF8   = "invalid-utf8"   // the input is not UTF-8
	CodeNotAnObject   = "not-an-object"  // a JSON object was expected
	CodeNumberTooBig  = "number-too-big" // a number literal beyond what STIX content can hold
	CodeDuplicateKey  = "duplicate-key"  // a member name repeated within one JSON object
	CodeNotSTIX21     = "not-stix-2.1"   // STIX 2.0 content, or an unknown spec_version
	CodeNestedBundle  = "nested-bundle"  // a bundle where a STIX object is expected
	CodeDuplicateID   = "duplicate-object"
	CodeBundleVersion = "bundle-spec-version"
	// CodeTooManyProblems closes a list of problems that was cut short (see maxProblems).
	CodeTooManyProblems = "too-many-problems"

	// Structure, mostly found by the JSON Schemas.
	CodeMissingProperty  = "missing-property"
	CodeWrongType        = "wrong-type"
	CodeValueNotAllowed  = "value-not-allowed"
	CodeEmptyList        = "empty-list"
	CodeEmptyDictionary  = "empty-dictionary"
	CodeEmptyString      = "empty-string"
	CodeOutOfRange       = "out-of-range"
	CodeSchema           = "schema" // any other JSON Schema finding
	CodeMissingOneOf     = "missing-one-of"
	CodeExclusive        = "mutually-exclusive"
	CodeDependentMissing = "dependent-property"

	// Names and identifiers.
	CodeInvalidTypeName     = "invalid-type-name"
	CodeReservedType        = "reserved-type"
	CodeInvalidIdentifier   = "invalid-identifier"
	CodeIDTypeMismatch      = "id-type-mismatch"
	CodeUUIDVersion         = "uuid-version"
	CodeInvalidReference    = "invalid-reference"
	CodeReferenceTarget     = "reference-target"
	CodeInvalidPropertyName = "invalid-property-name"
	CodePropertyNameCase    = "property-name-case" // a property name with upper-case letters
	CodeReservedProperty    = "reserved-property"
	CodeCustomProperty      = "custom-property"
	CodeCustomType          = "custom-type"
	CodeInvalidExtension    = "invalid-extension"
	CodeDeprecated          = "deprecated-property"

	// Timestamps.
	CodeInvalidTimestamp   = "invalid-timestamp"
	CodeTimestampPrecision = "timestamp-precision"
	CodeTimestampOrder     = "timestamp-order"

	// Markings.
	CodeMarkingSelfRef    = "marking-self-reference"
	CodeInvalidSelector   = "invalid-selector"
	CodeGranularMarking   = "invalid-granular-marking"
	CodeMarkingDefinition = "invalid-marking-definition"
	CodeTLPMismatch       = "tlp-mismatch"
	CodeMarkingType       = "marking-definition-type"

	// Values with an externally defined format.
	CodeInvalidHash          = "invalid-hash"
	CodeInvalidDictionaryKey = "invalid-dictionary-key"
	CodeHashAlgorithm        = "hash-algorithm"
	CodeInvalidLanguageTag   = "invalid-language-tag"
	CodeInvalidMediaType     = "invalid-media-type"
	CodeInvalidCharset       = "invalid-charset"
	CodeInvalidURL           = "invalid-url"
	CodeInvalidEmail         = "invalid-email-address"
	CodeInvalidDomainName    = "invalid-domain-name"
	CodeInvalidIPAddress     = "invalid-ip-address"
	CodeInvalidMACAddress    = "invalid-mac-address"
	CodeInvalidCPE           = "invalid-cpe"
	CodeInvalidBinary        = "invalid-binary"
	CodeInvalidHex           = "invalid-hex"
	CodeInvalidRegistryKey   = "invalid-registry-key"
	CodeExternalReference    = "invalid-external-reference"
	CodeInvalidPattern       = "invalid-pattern"

	// Patterns that are valid but cannot match (warnings; see patternquality.go).
	CodePatternUnknownType     = "pattern-unknown-type"     // an object type STIX 2.1 does not define, without x-
	CodePatternUnknownProperty = "pattern-unknown-property" // a property or extension the type does not have
	CodePatternHashAlgorithm   = "pattern-hash-algorithm"   // a hash key outside the vocabulary, or misspelled
	CodePatternValue           = "pattern-value"            // a constant that cannot be a value of its property

	// Type-specific rules.
	CodeRelationshipType   = "invalid-relationship-type"
	CodeObservedReference  = "observed-object-reference"
	CodeLanguageContent    = "invalid-language-content"
	CodeExtensionDef       = "invalid-extension-definition"
	CodeVocabulary         = "vocabulary"
	CodeRecommended        = "recommended-property"
	CodeRelationshipTarget = "relationship-suggestion"
	CodeValueFormat        = "value-format"
)
