package taxii

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Limits on what one add-objects request may carry. MaxContentLength is advertised in every API root
// (max_content_length) and enforced to the byte; MaxObjectsPerEnvelope keeps one request's status
// resource and store transaction bounded. Both leave room for the 10,000-indicator envelopes that
// bulk exports produce.
const (
	DefaultMaxContentLength = 32 << 20
	MaxObjectsPerEnvelope   = 10_000
)

// EnvelopeError reports a body that is not an envelope the hub can process; it is answered with 422.
type EnvelopeError struct{ Reason string }

func (e *EnvelopeError) Error() string { return "taxii: unprocessable envelope: " + e.Reason }

// TooManyObjectsError reports an envelope over MaxObjectsPerEnvelope; it is answered with 413.
type TooManyObjectsError struct{ Count, Max int }

func (e *TooManyObjectsError) Error() string {
	return fmt.Sprintf("taxii: the envelope holds %d objects; at most %d are accepted per request", e.Count, e.Max)
}

// DecodeEnvelope reads the objects of an add-objects body: a TAXII envelope {"objects": [...]} or a
// STIX bundle, whose type and id are ignored because push clients such as Splunk's send bundles.
// Each object keeps its exact bytes. Whether each object is acceptable is judged per object later;
// only a body that is not such a document at all is refused here.
func DecodeEnvelope(body []byte, maxObjects int) ([]json.RawMessage, error) {
	if !utf8.Valid(body) {
		return nil, &EnvelopeError{Reason: "the body is not UTF-8"}
	}
	var doc struct {
		Objects *[]json.RawMessage `json:"objects"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil {
		return nil, &EnvelopeError{Reason: "the body is not a JSON object with an objects list: " + jsonProblem(err)}
	}
	if dec.More() {
		return nil, &EnvelopeError{Reason: "the body holds more than one JSON document"}
	}
	if doc.Objects == nil {
		return nil, &EnvelopeError{Reason: "the body has no objects list"}
	}
	if n := len(*doc.Objects); n > maxObjects {
		return nil, &TooManyObjectsError{Count: n, Max: maxObjects}
	}
	return *doc.Objects, nil
}

// jsonProblem describes a decoding error without echoing the client's data back at length.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("invalid JSON at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		if e.Field != "" {
			return fmt.Sprintf("%s must be a %s, not a JSON %s", e.Field, "list", e.Value)
		}
		return fmt.Sprintf("expected a JSON object, found a JSON %s", e.Value)
	default:
		return "the JSON ends early"
	}
}
