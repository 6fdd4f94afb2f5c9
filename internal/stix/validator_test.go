package stix

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/schemas"
)

// Valid objects the cases below start from, one per family of rules.
const (
	indicatorJSON = `{"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "name": "Poison Ivy",
		"description": "A file hash.", "indicator_types": ["malicious-activity"], "pattern_type": "stix",
		"pattern": "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']", "valid_from": "2016-01-01T00:00:00Z"}`
	relationshipJSON = `{"type": "relationship", "spec_version": "2.1", "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
		"created": "2016-04-06T20:06:37.000Z", "modified": "2016-04-06T20:06:37.000Z", "relationship_type": "indicates",
		"source_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "target_ref": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}`
	tlpGreenJSON = `{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
		"created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:GREEN", "definition": {"tlp": "green"}}`
	tlp2AmberJSON = `{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
		"created": "2022-10-01T00:00:00.000Z", "name": "TLP:AMBER", "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
		{"extension_type": "property-extension", "tlp_2_0": "amber"}}}`
	fileJSON = `{"type": "file", "spec_version": "2.1", "id": "file--9704eca1-8efd-542c-a626-77d7cbcfe49f",
		"hashes": {"MD5": "acbd18db4cc2f85cedef654fccc4a4d8"}, "name": "foo.zip"}`
	observedJSON = `{"type": "observed-data", "spec_version": "2.1", "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
		"created": "2016-04-06T19:58:16.000Z", "modified": "2016-04-06T19:58:16.000Z", "first_observed": "2015-12-21T19:00:00Z",
		"last_observed": "2015-12-21T19:00:00Z", "number_observed": 50, "object_refs": ["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"]}`
)

// edit returns base with the given top-level properties set (nil deletes one).
func edit(t *testing.T, base string, props map[string]any) []byte {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(base), &obj); err != nil {
		t.Fatalf("base object: %v", err)
	}
	for k, v := range props {
		if v == nil {
			delete(obj, k)
		} else {
			obj[k] = v
		}
	}
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func codes(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Code
	}
	return out
}

func TestObjectRules(t *testing.T) {
	v := newTestValidator(t)
	for _, tc := range []struct {
		name  string
		base  string
		props map[string]any
		// want is the error code expected, "" for a valid object.
		want string
		// wantWarning, when set, must be among the warnings.
		wantWarning string
	}{
		{name: "valid indicator", base: indicatorJSON},
		{name: "created without milliseconds", base: indicatorJSON, props: map[string]any{"created": "2016-04-06T20:03:48Z"}, want: CodeTimestampPrecision},
		{name: "created with one fractional digit", base: indicatorJSON, props: map[string]any{"created": "2016-04-06T20:03:48.1Z"}, want: CodeTimestampPrecision},
		{name: "valid_from needs no milliseconds", base: indicatorJSON, props: map[string]any{"valid_from": "2016-04-06T20:03:48Z"}},
		{name: "day beyond the month", base: indicatorJSON, props: map[string]any{"created": "2016-04-31T20:03:48.000Z"}, want: CodeInvalidTimestamp},
		{name: "29 February of a common year", base: indicatorJSON, props: map[string]any{"valid_from": "2017-02-29T00:00:00Z"}, want: CodeInvalidTimestamp},
		{name: "29 February of a leap year", base: indicatorJSON, props: map[string]any{"valid_from": "2016-02-29T00:00:00Z"}},
		{name: "leap second", base: indicatorJSON, props: map[string]any{"valid_from": "2016-12-31T23:59:60Z"}, want: CodeInvalidTimestamp},
		{name: "offset instead of Z", base: indicatorJSON, props: map[string]any{"valid_from": "2016-01-01T00:00:00+00:00"}, want: CodeInvalidTimestamp},
		{name: "modified before created", base: indicatorJSON, props: map[string]any{"modified": "2016-04-06T20:03:47.999Z"}, want: CodeTimestampOrder},
		{name: "modified equal to created at sub-millisecond", base: indicatorJSON, props: map[string]any{"created": "2016-04-06T20:03:48.000123Z"}, want: CodeTimestampOrder},
		{name: "valid_until equal to valid_from", base: indicatorJSON, props: map[string]any{"valid_until": "2016-01-01T00:00:00Z"}, want: CodeTimestampOrder},
		{name: "valid_until after valid_from", base: indicatorJSON, props: map[string]any{"valid_until": "2016-01-01T00:00:00.001Z"}},
		{name: "stop_time equal to start_time", base: relationshipJSON, props: map[string]any{"start_time": "2020-01-01T00:00:00Z", "stop_time": "2020-01-01T00:00:00Z"}, want: CodeTimestampOrder},
		{name: "no spec_version", base: indicatorJSON, props: map[string]any{"spec_version": nil}, want: CodeNotSTIX21},
		{name: "spec_version 2.0", base: indicatorJSON, props: map[string]any{"spec_version": "2.0"}, want: CodeNotSTIX21},
		{name: "spec_version 2.2", base: indicatorJSON, props: map[string]any{"spec_version": "2.2"}, want: CodeNotSTIX21},
		{name: "SCO without spec_version", base: fileJSON, props: map[string]any{"spec_version": nil}},
		{name: "id of another type", base: indicatorJSON, props: map[string]any{"id": "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}, want: CodeIDTypeMismatch},
		{name: "nil UUID", base: indicatorJSON, props: map[string]any{"id": "indicator--00000000-0000-0000-0000-000000000000"}, want: CodeInvalidIdentifier},
		{name: "version 7 UUID", base: indicatorJSON, props: map[string]any{"id": "indicator--017f22e2-79b0-7cc3-98c4-dc0c0c07398f"}, want: CodeInvalidIdentifier},
		{name: "version 1 UUID on an SDO", base: indicatorJSON, props: map[string]any{"id": "indicator--8e2e2d2b-17d4-1cbf-938f-98ee46b3cd3f"}, wantWarning: CodeUUIDVersion},
		{name: "process with a version 5 UUID", base: `{"type": "process", "id": "process--ff1e0780-358c-5808-a8c7-d0fca4ef6ef4", "pid": 1}`, want: CodeUUIDVersion},
		{name: "artifact given by url, with hashes", base: `{"type": "artifact", "id": "artifact--ff1e0780-358c-5808-a8c7-d0fca4ef6ef4", "url": "https://example.com/a", "hashes": {"MD5": "acbd18db4cc2f85cedef654fccc4a4d8"}}`},
		{name: "x509 without contributing properties and a version 5 UUID", base: `{"type": "x509-certificate", "id": "x509-certificate--ff1e0780-358c-5808-a8c7-d0fca4ef6ef4", "issuer": "CN=x"}`, want: CodeUUIDVersion},
		{name: "invalid type name", base: `{"type": "corpo_ration", "spec_version": "2.1", "id": "corpo_ration--4527e5de-8572-446a-a57a-706f15467461", "created": "2021-02-20T09:16:08.989Z", "modified": "2021-02-20T09:16:08.989Z"}`, want: CodeInvalidTypeName},
		{name: "custom object without an extension", base: `{"type": "x-corp", "spec_version": "2.1", "id": "x-corp--4527e5de-8572-446a-a57a-706f15467461", "created": "2021-02-20T09:16:08.989Z", "modified": "2021-02-20T09:16:08.989Z"}`, wantWarning: CodeCustomType},
		{name: "reserved property", base: indicatorJSON, props: map[string]any{"severity": "high"}, want: CodeReservedProperty},
		{name: "short custom property name", base: indicatorJSON, props: map[string]any{"mp": 1}, want: CodeInvalidPropertyName},
		{name: "custom property with a hyphen", base: indicatorJSON, props: map[string]any{"x-foo": 1}, want: CodeInvalidPropertyName},
		{name: "custom property name of 251 characters", base: indicatorJSON, props: map[string]any{"x_" + strings.Repeat("a", 249): 1}, want: CodeInvalidPropertyName},
		{name: "custom property is an empty list", base: indicatorJSON, props: map[string]any{"x_foo": []any{}}, want: CodeEmptyList},
		{name: "custom property", base: indicatorJSON, props: map[string]any{"x_foo": "bar"}, wantWarning: CodeCustomProperty},
		{name: "custom _hex property that is not hex", base: indicatorJSON, props: map[string]any{"x_foo_hex": "abc"}, want: CodeInvalidHex},
		{name: "empty labels", base: indicatorJSON, props: map[string]any{"labels": []any{}}, want: CodeEmptyList},
		{name: "confidence out of range", base: indicatorJSON, props: map[string]any{"confidence": 101}, want: CodeOutOfRange},
		{name: "confidence not an integer", base: indicatorJSON, props: map[string]any{"confidence": 50.5}, want: CodeWrongType},
		{name: "missing pattern", base: indicatorJSON, props: map[string]any{"pattern": nil}, want: CodeMissingProperty},
		{name: "pattern that does not parse", base: indicatorJSON, props: map[string]any{"pattern": "[file:size = ]"}, want: "pattern-syntax"},
		{name: "pattern of another language is not parsed", base: indicatorJSON, props: map[string]any{"pattern_type": "yara", "pattern": "rule x { condition: true }"}},
		{name: "language tag", base: indicatorJSON, props: map[string]any{"lang": "fr-CA"}},
		{name: "unknown language", base: indicatorJSON, props: map[string]any{"lang": "xx"}, want: CodeInvalidLanguageTag},
		{name: "underscore in a language tag", base: indicatorJSON, props: map[string]any{"lang": "en_US"}, want: CodeInvalidLanguageTag},
		{name: "marking reference to an indicator", base: indicatorJSON, props: map[string]any{"object_marking_refs": []any{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}}, want: CodeReferenceTarget},
		{name: "reference that is not an identifier", base: indicatorJSON, props: map[string]any{"created_by_ref": "identity"}, want: CodeInvalidReference},
		{name: "selector that resolves", base: indicatorJSON, props: map[string]any{"granular_markings": []any{map[string]any{"marking_ref": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "selectors": []any{"description", "indicator_types.[0]"}}}}},
		{name: "selector past the end of a list", base: indicatorJSON, props: map[string]any{"granular_markings": []any{map[string]any{"marking_ref": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "selectors": []any{"indicator_types.[1]"}}}}, want: CodeInvalidSelector},
		{name: "selector naming a missing property", base: indicatorJSON, props: map[string]any{"granular_markings": []any{map[string]any{"marking_ref": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "selectors": []any{"confidence"}}}}, want: CodeInvalidSelector},
		{name: "language granular marking", base: indicatorJSON, props: map[string]any{"granular_markings": []any{map[string]any{"lang": "de", "selectors": []any{"name"}}}}},
		{name: "granular marking with marking_ref and lang", base: indicatorJSON, props: map[string]any{"granular_markings": []any{map[string]any{"lang": "de", "marking_ref": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "selectors": []any{"name"}}}}, want: CodeGranularMarking},
		{name: "CVE id under another source", base: indicatorJSON, props: map[string]any{"external_references": []any{map[string]any{"source_name": "nvd", "external_id": "CVE-2020-1234"}}}, want: CodeExternalReference},
		{name: "CAPEC reference without an id", base: indicatorJSON, props: map[string]any{"external_references": []any{map[string]any{"source_name": "capec", "url": "https://capec.mitre.org/"}}}, want: CodeExternalReference},
		{name: "external reference url with a space", base: indicatorJSON, props: map[string]any{"external_references": []any{map[string]any{"source_name": "x", "url": "https://example.com/a b"}}}, want: CodeInvalidURL},
		{name: "external reference url with a non-ASCII character", base: indicatorJSON, props: map[string]any{"external_references": []any{map[string]any{"source_name": "x", "url": "https://example.com/super-mario-run-malware-2-–-droidjack-rat"}}}, want: CodeInvalidURL},
		{name: "external reference with only a source", base: indicatorJSON, props: map[string]any{"external_references": []any{map[string]any{"source_name": "x"}}}, want: CodeMissingOneOf},
		{name: "TLP 1.0 object", base: tlpGreenJSON},
		{name: "TLP 1.0 id with TLP:CLEAR", base: tlpGreenJSON, props: map[string]any{"name": "TLP:CLEAR", "definition": map[string]any{"tlp": "clear"}}, want: CodeTLPMismatch},
		{name: "TLP 1.0 id with an extra property", base: tlpGreenJSON, props: map[string]any{"created_by_ref": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}, want: CodeTLPMismatch},
		{name: "definition_type tlp on another id", base: tlpGreenJSON, props: map[string]any{"id": "marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}, want: CodeTLPMismatch},
		{name: "TLP 1.0 id in upper case, as a statement", base: tlpGreenJSON, props: map[string]any{"id": "marking-definition--34098FCE-860F-48AE-8E50-EBD3CC5E41DA", "name": nil, "definition_type": "statement", "definition": map[string]any{"statement": "nothing to see"}}, want: CodeTLPMismatch},
		{name: "TLP 2.0 object", base: tlp2AmberJSON},
		{name: "TLP 2.0 id in upper case", base: tlp2AmberJSON, props: map[string]any{"id": "marking-definition--55D920B0-5E8B-4F79-9EE9-91F868D9B421"}, want: CodeTLPMismatch},
		{name: "TLP 2.0 extension in upper case on another id", base: `{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2026-01-01T00:00:00.000Z", "name": "TLP:RED", "extensions": {"extension-definition--60A3C5C5-0D10-413E-AAB3-9E08DDE9E88D": {"extension_type": "property-extension", "tlp_2_0": "red"}}}`, want: CodeTLPMismatch},
		{name: "TLP 2.0 id with another name", base: tlp2AmberJSON, props: map[string]any{"name": "TLP:AMBER+STRICT"}, want: CodeTLPMismatch},
		{name: "statement marking", base: tlpGreenJSON, props: map[string]any{"id": "marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "name": nil, "definition_type": "statement", "definition": map[string]any{"statement": "Copyright 2024"}}},
		{name: "marking definition marking itself", base: tlpGreenJSON, props: map[string]any{"id": "marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "definition_type": "statement", "definition": map[string]any{"statement": "x"}, "object_marking_refs": []any{"marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}}, want: CodeMarkingSelfRef},
		{name: "marking definition without a definition", base: `{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2017-01-20T00:00:00.000Z", "name": "X"}`, want: CodeMarkingDefinition},
		{name: "MD5 of the wrong length", base: fileJSON, props: map[string]any{"hashes": map[string]any{"MD5": "acbd18db4cc2f85cedef654fccc4a4d"}}, want: CodeInvalidHash},
		{name: "SHA-256 that is not hex", base: fileJSON, props: map[string]any{"hashes": map[string]any{"SHA-256": strings.Repeat("g", 64)}}, want: CodeInvalidHash},
		{name: "hash algorithm outside the vocabulary", base: fileJSON, props: map[string]any{"hashes": map[string]any{"sha256": "x"}}, wantWarning: CodeHashAlgorithm},
		{name: "file without hashes or name", base: fileJSON, props: map[string]any{"hashes": nil, "name": nil, "size": 3}, want: CodeMissingOneOf},
		{name: "file name_enc alias", base: fileJSON, props: map[string]any{"name_enc": "latin1"}, want: CodeInvalidCharset},
		{name: "file name_enc", base: fileJSON, props: map[string]any{"name_enc": "ISO-8859-1"}},
		{name: "unknown character set", base: fileJSON, props: map[string]any{"name_enc": "bla.bla.bla"}, want: CodeInvalidCharset},
		{name: "artifact with an unregistered media type", base: `{"type": "artifact", "id": "artifact--ca17bcf8-9846-5ab4-8662-75c1bf6e63ee", "mime_type": "application/x-dosexec", "payload_bin": "TVqQAA=="}`, want: CodeInvalidMediaType},
		{name: "artifact", base: `{"type": "artifact", "id": "artifact--ca17bcf8-9846-5ab4-8662-75c1bf6e63ee", "mime_type": "application/zip", "payload_bin": "TVqQAA=="}`},
		{name: "artifact payload that is not base64", base: `{"type": "artifact", "id": "artifact--ca17bcf8-9846-5ab4-8662-75c1bf6e63ee", "payload_bin": "TVqQAA="}`, want: CodeInvalidBinary},
		{name: "artifact with payload and url", base: `{"type": "artifact", "id": "artifact--ca17bcf8-9846-5ab4-8662-75c1bf6e63ee", "payload_bin": "TVqQAA==", "url": "https://example.com/a", "hashes": {"MD5": "acbd18db4cc2f85cedef654fccc4a4d8"}}`, want: CodeExclusive},
		{name: "artifact decryption key alone", base: `{"type": "artifact", "id": "artifact--ca17bcf8-9846-5ab4-8662-75c1bf6e63ee", "payload_bin": "TVqQAA==", "decryption_key": "k"}`, want: CodeDependentMissing},
		{name: "email address with a display name", base: `{"type": "email-addr", "id": "email-addr--ff1e0780-358c-5808-a8c7-d0fca4ef6ef4", "value": "John Doe <jdoe@example.com>"}`, want: CodeInvalidEmail},
		{name: "domain name with an underscore", base: `{"type": "domain-name", "id": "domain-name--160f66e8-85b8-55b0-b81e-b0e7454f179d", "value": "bad_name.example.com"}`, want: CodeInvalidDomainName},
		{name: "internationalized domain name", base: `{"type": "domain-name", "id": "domain-name--160f66e8-85b8-55b0-b81e-b0e7454f179d", "value": "bücher.example"}`},
		{name: "IPv4 with a leading zero", base: `{"type": "ipv4-addr", "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "198.051.100.3"}`, want: CodeInvalidIPAddress},
		{name: "IPv4 block", base: `{"type": "ipv4-addr", "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "198.51.100.0/24"}`},
		{name: "IPv6 address in an ipv4-addr", base: `{"type": "ipv4-addr", "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "2001:db8::1"}`, want: CodeInvalidIPAddress},
		{name: "uppercase MAC address", base: `{"type": "mac-addr", "id": "mac-addr--65cfcf98-8a6e-5a1b-8f61-379ac4f92d00", "value": "D2:FB:49:24:37:18"}`, want: CodeInvalidMACAddress},
		{name: "URL without a scheme", base: `{"type": "url", "id": "url--c1477287-23ac-5971-a010-5c287877fa60", "value": "www.example.com"}`, want: CodeInvalidURL},
		{name: "abbreviated registry hive", base: `{"type": "windows-registry-key", "id": "windows-registry-key--2ba37ae7-2745-5082-9dfd-9486dad41016", "key": "HKLM\\Software\\x"}`, want: CodeInvalidRegistryKey},
		{name: "software CPE", base: `{"type": "software", "id": "software--a1827f6d-ca53-5605-9e93-4316cd22a00a", "name": "Word", "cpe": "cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*", "languages": ["en", "fre"]}`},
		{name: "software CPE 2.2", base: `{"type": "software", "id": "software--a1827f6d-ca53-5605-9e93-4316cd22a00a", "name": "Word", "cpe": "cpe:/a:microsoft:word:2000"}`, want: CodeInvalidCPE},
		{name: "software language that is a product", base: `{"type": "software", "id": "software--a1827f6d-ca53-5605-9e93-4316cd22a00a", "name": "x", "languages": ["PHP"]}`, want: CodeInvalidLanguageTag},
		{name: "network traffic still active with an end", base: `{"type": "network-traffic", "id": "network-traffic--f8ae967a-3dc3-5cdf-8f94-8505abff00c2", "src_ref": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "protocols": ["tcp"], "is_active": true, "end": "2020-01-01T00:00:00Z"}`, want: CodeExclusive},
		{name: "network traffic from a file", base: `{"type": "network-traffic", "id": "network-traffic--f8ae967a-3dc3-5cdf-8f94-8505abff00c2", "src_ref": "file--9704eca1-8efd-542c-a626-77d7cbcfe49f", "protocols": ["tcp"]}`, want: CodeReferenceTarget},
		{name: "relationship type with a capital", base: relationshipJSON, props: map[string]any{"relationship_type": "Indicates"}, want: CodeRelationshipType},
		{name: "relationship from a relationship", base: relationshipJSON, props: map[string]any{"source_ref": "relationship--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}, want: CodeReferenceTarget},
		{name: "relationship outside the suggestions", base: relationshipJSON, props: map[string]any{"relationship_type": "likes"}, wantWarning: CodeRelationshipTarget},
		{name: "observed-data", base: observedJSON},
		{name: "observed-data refers to an SDO", base: observedJSON, props: map[string]any{"object_refs": []any{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}}, want: CodeReferenceTarget},
		{name: "observed-data with objects and object_refs", base: observedJSON, props: map[string]any{"objects": map[string]any{"0": map[string]any{"type": "ipv4-addr", "value": "198.51.100.3"}}}, want: CodeExclusive},
		{name: "observed-data objects referring to a missing key", base: observedJSON, props: map[string]any{"object_refs": nil, "objects": map[string]any{"0": map[string]any{"type": "domain-name", "id": "domain-name--160f66e8-85b8-55b0-b81e-b0e7454f179d", "value": "example.com", "resolves_to_refs": []any{"1"}}}}, want: CodeObservedReference},
		{name: "observed-data objects", base: observedJSON, props: map[string]any{"object_refs": nil, "objects": map[string]any{
			"0": map[string]any{"type": "domain-name", "id": "domain-name--160f66e8-85b8-55b0-b81e-b0e7454f179d", "value": "example.com", "resolves_to_refs": []any{"1"}},
			"1": map[string]any{"type": "ipv4-addr", "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "198.51.100.3"}}}, wantWarning: CodeDeprecated},
		{name: "observed-data number_observed of zero", base: observedJSON, props: map[string]any{"number_observed": 0}, want: CodeOutOfRange},
		{name: "malware family without a name", base: `{"type": "malware", "spec_version": "2.1", "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b", "created": "2016-04-06T20:07:09.000Z", "modified": "2016-04-06T20:07:09.000Z", "is_family": true}`, want: CodeMissingProperty},
		{name: "location with latitude only", base: `{"type": "location", "spec_version": "2.1", "id": "location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64", "created": "2016-04-06T20:03:00.000Z", "modified": "2016-04-06T20:03:00.000Z", "latitude": 48.8}`, want: CodeDependentMissing},
		{name: "extension name of the wrong form", base: fileJSON, props: map[string]any{"extensions": map[string]any{"foo": map[string]any{"x": 1}}}, want: CodeInvalidExtension},
		{name: "extension-definition extension without extension_type", base: fileJSON, props: map[string]any{"extensions": map[string]any{"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": map[string]any{"rank": 1}}}, want: CodeMissingProperty},
		{name: "toplevel property extension declares custom properties", base: fileJSON, props: map[string]any{"rank": 5, "extensions": map[string]any{"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": map[string]any{"extension_type": "toplevel-property-extension"}}}},
		{name: "predefined extension", base: fileJSON, props: map[string]any{"extensions": map[string]any{"windows-pebinary-ext": map[string]any{"pe_type": "exe", "time_date_stamp": "2016-01-20T14:11:25Z"}}}},
		{name: "timestamp inside a predefined extension", base: fileJSON, props: map[string]any{"extensions": map[string]any{"windows-pebinary-ext": map[string]any{"pe_type": "exe", "time_date_stamp": "2016-02-30T14:11:25Z"}}}, want: CodeInvalidTimestamp},
		{name: "archive extension containing an IP", base: fileJSON, props: map[string]any{"extensions": map[string]any{"archive-ext": map[string]any{"contains_refs": []any{"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"}}}}, want: CodeReferenceTarget},
		{name: "huge number", base: indicatorJSON, props: map[string]any{"x_size": json.Number("1e100000")}, want: CodeNumberTooBig},
		{name: "bundle given as an object", base: `{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": []}`, want: CodeNestedBundle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := []byte(tc.base)
			if tc.props != nil {
				raw = edit(t, tc.base, tc.props)
			}
			vd := v.Object(raw)
			switch {
			case tc.want == "" && !vd.Valid():
				t.Errorf("want valid, got errors %v", vd.Errors)
			case tc.want != "" && !slices.Contains(codes(vd.Errors), tc.want):
				t.Errorf("want error %s, got errors %v", tc.want, vd.Errors)
			}
			if tc.wantWarning != "" && !slices.Contains(codes(vd.Warnings), tc.wantWarning) {
				t.Errorf("want warning %s, got warnings %v", tc.wantWarning, vd.Warnings)
			}
			for _, p := range slices.Concat(vd.Errors, vd.Warnings) {
				if p.Code == "" || p.Message == "" || p.Path != "" && !strings.HasPrefix(p.Path, "/") {
					t.Errorf("malformed problem %+v", p)
				}
			}
		})
	}
}

func TestObjectVerdictFields(t *testing.T) {
	v := newTestValidator(t)
	for _, tc := range []struct {
		name                 string
		raw                  string
		id, typ, specVersion string
		version              time.Time
	}{
		{"modified", indicatorJSON, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "indicator", "2.1",
			time.Date(2016, 4, 6, 20, 3, 48, 0, time.UTC)},
		{"created when there is no modified", tlpGreenJSON, "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
			"marking-definition", "2.1", time.Date(2017, 1, 20, 0, 0, 0, 0, time.UTC)},
		{"no version for an observable", fileJSON, "file--9704eca1-8efd-542c-a626-77d7cbcfe49f", "file", "2.1", time.Time{}},
		{"fields as found when invalid", `{"type": 7, "id": "x", "modified": "2020-13-01T00:00:00.000Z"}`, "x", "", "", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vd := v.Object([]byte(tc.raw))
			if vd.ID != tc.id || vd.Type != tc.typ || vd.SpecVersion != tc.specVersion || !vd.Version.Equal(tc.version) {
				t.Errorf("got ID %q Type %q SpecVersion %q Version %v; want %q %q %q %v",
					vd.ID, vd.Type, vd.SpecVersion, vd.Version, tc.id, tc.typ, tc.specVersion, tc.version)
			}
		})
	}
}

func TestObjectPathsAreRelative(t *testing.T) {
	v := newTestValidator(t)
	raw := edit(t, indicatorJSON, map[string]any{"kill_chain_phases": []any{map[string]any{"kill_chain_name": "lockheed"}}})
	vd := v.Object(raw)
	if len(vd.Errors) != 1 || vd.Errors[0].Path != "/kill_chain_phases/0/phase_name" || vd.Errors[0].Code != CodeMissingProperty {
		t.Fatalf("got %+v, want one missing-property at /kill_chain_phases/0/phase_name", vd.Errors)
	}
}

func TestObjectInputErrors(t *testing.T) {
	v := newTestValidator(t)
	for _, tc := range []struct {
		name, raw, want string
	}{
		{"not JSON", `{"type": "indicator",`, CodeInvalidJSON},
		{"two values", `{} {}`, CodeInvalidJSON},
		{"not UTF-8", "{\"type\": \"x\xff\"}", CodeInvalidUTF8},
		{"a list", `[]`, CodeNotAnObject},
		{"no type and no id", `{}`, CodeMissingProperty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vd := v.Object([]byte(tc.raw))
			if vd.Valid() || vd.Errors[0].Code != tc.want {
				t.Errorf("got %+v, want first error %s", vd.Errors, tc.want)
			}
		})
	}
}

func TestLanguageTags(t *testing.T) {
	for tag, valid := range map[string]bool{
		"en": true, "en-US": true, "zh-Hans-CN": true, "de-CH-1901": true, "fre": true, "ace": true, "qab": true,
		"x-klingon": true, "": false, "xx": false, "foo": false, "bbb": false, "en_US": false, "Python": false,
		"español": false, "abcd": false, "en--US": false,
	} {
		if got := languageTagProblem(tag) == ""; got != valid {
			t.Errorf("languageTagProblem(%q) valid = %v, want %v (%s)", tag, got, valid, languageTagProblem(tag))
		}
	}
	for i := 3; i < len(iso6392Codes); i += 4 {
		if iso6392Codes[i] != ' ' {
			t.Fatalf("iso6392Codes is not made of 3-letter codes each followed by a space, at %d", i)
		}
	}
}

func TestURIs(t *testing.T) {
	for uri, valid := range map[string]bool{
		"https://example.com": true,
		"https://user:pw@example.com:8443/a/b?q=1&r=%20#frag": true,
		"http://[2001:db8::1]/":                               true,
		"urn:isbn:0451450523":                                 true,
		"mailto:jdoe@example.com":                             true,
		"www.g.com":                                           false,
		"https://example.com/a b":                             false,
		"https://exämple.com/":                                false,
		"https://example.com/%zz":                             false,
		"https://example.com:80a/":                            false,
		"http://[::1":                                         false,
		"See https://example.com for details.":                false,
		"1http://example.com":                                 false,
	} {
		if got := uriProblem(uri) == ""; got != valid {
			t.Errorf("uriProblem(%q) valid = %v, want %v (%s)", uri, got, valid, uriProblem(uri))
		}
	}
}

func TestMediaTypes(t *testing.T) {
	for mt, valid := range map[string]bool{
		"application/zip": true, "image/jpeg": true, "application/vnd.ms-excel": true, "application/stix+json": true,
		"application/x-www-form-urlencoded": true, "application/x-dosexec": false, "bla": false,
		"text/plain; charset=utf-8": false, "chemical/x-pdb": false, "application/": false,
	} {
		if got := mediaTypeProblem(mt) == ""; got != valid {
			t.Errorf("mediaTypeProblem(%q) valid = %v, want %v (%s)", mt, got, valid, mediaTypeProblem(mt))
		}
	}
}

func TestSchemasCoverEveryType(t *testing.T) {
	v := newTestValidator(t)
	known := slices.Concat(sdoTypes, sroTypes, scoTypes, []string{"marking-definition", "language-content", "extension-definition", "bundle"})
	for _, typ := range known {
		if v.schemas.byType[typ] == nil {
			t.Errorf("no schema for %s", typ)
		}
	}
	for typ := range v.schemas.byType {
		if !slices.Contains(known, typ) {
			t.Errorf("schema %s.json is not a type the validator knows", typ)
		}
	}
	// The shapes must have found the formats the Go checks rely on.
	for _, tc := range []struct {
		typ    string
		path   []string
		format format
	}{
		{"indicator", []string{"created_by_ref"}, formatIdentifier},
		{"indicator", []string{"valid_from"}, formatTimestamp},
		{"file", []string{"extensions", "windows-pebinary-ext", "time_date_stamp"}, formatTimestamp},
		{"file", []string{"hashes"}, formatHashes},
		{"artifact", []string{"payload_bin"}, formatBinary},
		{"network-traffic", []string{"extensions", "icmp-ext", "icmp_type_hex"}, formatHex},
	} {
		s := v.schemas.shapes[tc.typ]
		for _, p := range tc.path {
			s = s.prop(p)
		}
		if s == nil || s.format != tc.format {
			t.Errorf("%s %v: shape %+v, want format %d", tc.typ, tc.path, s, tc.format)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	v := newTestValidator(t)
	done := make(chan Verdict)
	for range 8 {
		go func() { done <- v.Object([]byte(indicatorJSON)) }()
	}
	for range 8 {
		if vd := <-done; !vd.Valid() {
			t.Errorf("concurrent validation: %v", vd.Errors)
		}
	}
}

// TestHostileObjectsAreBounded checks that an object with a huge number of faults gets a
// bounded report, and that validation stops early instead of building every message.
func TestHostileObjectsAreBounded(t *testing.T) {
	v := newTestValidator(t)
	base := indicatorJSON[:len(indicatorJSON)-1]
	for name, extra := range map[string]string{
		"wrong list members":      `, "labels": [` + strings.Repeat("1,", 100_000) + `1]`,
		"invalid references":      `, "object_marking_refs": [` + strings.Repeat(`"x",`, 100_000) + `"x"]`,
		"incomplete list objects": `, "external_references": [` + strings.Repeat("{},", 100_000) + `{}]`,
		"invalid custom names":    invalidNames(10_000),
	} {
		t.Run(name, func(t *testing.T) {
			vd := v.Object([]byte(base + extra + "}"))
			if vd.Valid() || len(vd.Errors) > maxProblems+1 {
				t.Fatalf("got %d errors, want between 1 and %d", len(vd.Errors), maxProblems+1)
			}
			if last := vd.Errors[len(vd.Errors)-1]; len(vd.Errors) == maxProblems+1 && last.Code != CodeTooManyProblems {
				t.Errorf("a cut report must end with %s, got %+v", CodeTooManyProblems, last)
			}
		})
	}
}

// invalidNames returns n custom properties with invalid (uppercase) names, to append to an object.
func invalidNames(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `, "X%d": 1`, i)
	}
	return b.String()
}

// TestLongListsAreFullyChecked checks that validating long lists member by member still finds
// a fault far down the list, with its real index.
func TestLongListsAreFullyChecked(t *testing.T) {
	v := newTestValidator(t)
	labels := make([]any, 1000)
	for i := range labels {
		labels[i] = "label"
	}
	labels[777] = 7
	vd := v.Object(edit(t, indicatorJSON, map[string]any{"labels": labels}))
	if len(vd.Errors) != 1 || vd.Errors[0].Path != "/labels/777" || vd.Errors[0].Code != CodeWrongType {
		t.Fatalf("got %+v, want one wrong-type error at /labels/777", vd.Errors)
	}
	labels[777] = "label"
	if vd := v.Object(edit(t, indicatorJSON, map[string]any{"labels": labels})); !vd.Valid() {
		t.Fatalf("a long valid list: %+v", vd.Errors)
	}
}

// TestSchemasAvoidPerValidationCosts guards the schemas against the keywords gojsonschema runs
// expensively on every validation: patternProperties (its expressions are recompiled each time)
// and format (checked through a process-wide registry). pattern is compiled once but kept out
// too, so that all string syntax lives in one place, the Go checks.
func TestSchemasAvoidPerValidationCosts(t *testing.T) {
	entries, err := fs.ReadDir(schemas.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range entries {
		name := entry.Name()
		data, err := fs.ReadFile(schemas.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		forbidden := []string{"patternProperties", "format", "pattern", "propertyNames"}
		var visit func(v any, where string)
		visit = func(v any, where string) {
			switch v := v.(type) {
			case map[string]any:
				for k, e := range v {
					parentIsProperties := strings.HasSuffix(where, "/properties")
					if slices.Contains(forbidden, k) && !parentIsProperties {
						t.Errorf("%s%s uses %s", name, where, k)
					}
					visit(e, where+"/"+k)
				}
			case []any:
				for i, e := range v {
					visit(e, fmt.Sprintf("%s/%d", where, i))
				}
			}
		}
		visit(doc, "#")
	}
}
