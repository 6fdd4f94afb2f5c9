package stix

import (
	"slices"
	"strings"
	"testing"
)

// TestObservableFidelity covers the cyber-observable rules of STIX 2.1 that the schemas used
// to leave open: dictionary keys and value types, integer ranges, header field lists and the
// targets of file contains_refs. Each rule has a case that breaks it and one that keeps it.
func TestObservableFidelity(t *testing.T) {
	v := newTestValidator(t)
	const (
		traffic = `{"type": "network-traffic", "spec_version": "2.1", "id": "network-traffic--f8ae967a-3dc3-4b7a-9f8e-8d2ec5b7fa13",
			"dst_ref": "ipv4-addr--ff1e0780-358c-5808-a8c7-d0fca4ef6ef4", "protocols": ["tcp"]`
		image = `{"type": "file", "spec_version": "2.1", "id": "file--9704eca1-8efd-542c-a626-77d7cbcfe49f", "name": "a.jpg"`
		email = `{"type": "email-message", "spec_version": "2.1", "id": "email-message--0c57a381-2a17-5e61-8754-5ef96efb286c",
			"is_multipart": false, "subject": "Hello"`
		process = `{"type": "process", "spec_version": "2.1", "id": "process--f52a906a-0dfc-40bd-92f1-e7778ead38a9"`
	)
	for _, tc := range []struct {
		name        string
		obj         string
		want        string // the error code expected, "" for a valid object
		wantWarning string
		says        string // when set, a warning's message must hold it
	}{
		{name: "ipfix of integers and strings", obj: traffic + `, "ipfix": {"minimumIpTotalLength": 32, "protocolIdentifier": "6"}}`},
		{name: "ipfix value that is a list", obj: traffic + `, "ipfix": {"minimumIpTotalLength": [32]}}`, want: CodeWrongType},
		{name: "ipfix value that is a boolean", obj: traffic + `, "ipfix": {"flag": true}}`, want: CodeWrongType},
		{name: "request_header of strings", obj: traffic + `, "extensions": {"http-request-ext": {"request_method": "get", "request_value": "/", "request_header": {"User-Agent": "curl/8.0"}}}}`},
		{name: "request_header value that is a number", obj: traffic + `, "extensions": {"http-request-ext": {"request_method": "get", "request_value": "/", "request_header": {"Content-Length": 5}}}}`, want: CodeWrongType},
		{name: "socket options of integers", obj: traffic + `, "extensions": {"socket-ext": {"address_family": "AF_INET", "options": {"SO_RCVTIMEO": 100}}}}`},
		{name: "socket option that is a string", obj: traffic + `, "extensions": {"socket-ext": {"address_family": "AF_INET", "options": {"SO_RCVTIMEO": "100"}}}}`, want: CodeWrongType},
		{name: "exif tags of integers and strings", obj: image + `, "extensions": {"raster-image-ext": {"exif_tags": {"Make": "Nikon", "XResolution": 4928}}}}`},
		{name: "exif tag that is an object", obj: image + `, "extensions": {"raster-image-ext": {"exif_tags": {"Make": {"name": "Nikon"}}}}}`, want: CodeWrongType},
		{name: "dictionary key with a space", obj: process + `, "environment_variables": {"Program Files": "C:\\Program Files"}}`, want: CodeInvalidDictionaryKey},
		{name: "dictionary key with a parenthesis", obj: traffic + `, "ipfix": {"octets(total)": 5}}`, want: CodeInvalidDictionaryKey},
		{name: "dictionary key of one character", obj: process + `, "environment_variables": {"X": "1"}}`},
		{name: "dictionary key of 251 characters", obj: process + `, "environment_variables": {"` + longKey(251) + `": "1"}}`, want: CodeInvalidDictionaryKey},
		{name: "header field as a list of strings", obj: email + `, "additional_header_fields": {"X-Mailer": ["Mutt/1.5.23"]}}`},
		{name: "header field as a single string", obj: email + `, "additional_header_fields": {"X-Mailer": "Mutt/1.5.23"}}`, wantWarning: CodeWrongType},
		{name: "header field as a list holding a number", obj: email + `, "additional_header_fields": {"X-Count": ["a", 1]}}`, want: CodeWrongType},
		{name: "header field as an empty list", obj: email + `, "additional_header_fields": {"X-Mailer": []}}`, want: CodeWrongType},
		{name: "integer at 2^53 - 1", obj: image + `, "size": 9007199254740991}`},
		{name: "integer at 2^53", obj: image + `, "size": 9007199254740992}`, want: CodeOutOfRange},
		{name: "integer written with an exponent", obj: image + `, "size": 1e3}`},
		{name: "negative integer beyond -(2^53 - 1)", obj: process + `, "pid": -9007199254740993}`, want: CodeOutOfRange},
		{name: "float beyond a double", obj: image + `, "extensions": {"windows-pebinary-ext": {"pe_type": "exe", "sections": [{"name": ".text", "entropy": 1e309}]}}}`, want: CodeOutOfRange},
		{name: "hash key misspelled", obj: image + `, "hashes": {"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}`, wantWarning: CodeHashAlgorithm, says: "spelled SHA-256"},
		{name: "file containing observables", obj: image + `, "contains_refs": ["file--8ae20dde-83d4-4218-88fd-41ef0dabf9d1", "x-acme-blob--8ae20dde-83d4-4218-88fd-41ef0dabf9d1"]}`},
		{name: "file containing an indicator", obj: image + `, "contains_refs": ["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]}`, want: CodeReferenceTarget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vd := v.Object([]byte(tc.obj))
			switch {
			case tc.want == "" && !vd.Valid():
				t.Fatalf("refused: %v", vd.Errors)
			case tc.want != "" && !slices.Contains(codes(vd.Errors), tc.want):
				t.Fatalf("errors %v, want %s", vd.Errors, tc.want)
			}
			if tc.wantWarning != "" && !slices.Contains(codes(vd.Warnings), tc.wantWarning) {
				t.Errorf("warnings %v, want %s", vd.Warnings, tc.wantWarning)
			}
			if tc.says != "" && !slices.ContainsFunc(vd.Warnings, func(p Problem) bool { return strings.Contains(p.Message, tc.says) }) {
				t.Errorf("warnings %v, want one saying %q", vd.Warnings, tc.says)
			}
		})
	}
}

func longKey(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'k'
	}
	return string(b)
}
