package taxii

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"taxiihub/internal/store"
)

func TestParseFilters(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	q, err := ParseFilters(url.Values{
		"added_after":         {"2026-01-01T00:00:00.123456Z"},
		"limit":               {"50"},
		"match[id]":           {"indicator--a, indicator--b"},
		"match[type]":         {"indicator,malware"},
		"match[version]":      {"first,2026-01-02T00:00:00Z,last"},
		"match[spec_version]": {"2.1"},
		"next":                {"abc"},
		"dry_run":             {"true"}, // not a filter: left to the handler
	}, ObjectsEndpoint)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if !q.AddedAfter.Equal(time.Date(2026, 1, 1, 0, 0, 0, 123456000, time.UTC)) || q.Limit != 50 || q.Cursor != "abc" ||
		!slices.Equal(q.IDs, []string{"indicator--a", "indicator--b"}) || !slices.Equal(q.Types, []string{"indicator", "malware"}) ||
		!q.Versions.First || !q.Versions.Last || q.Versions.All || len(q.Versions.At) != 1 || !q.Versions.At[0].Equal(day(2)) ||
		!slices.Equal(q.SpecVersions, []string{"2.1"}) {
		t.Errorf("got %+v", q)
	}
	if q, _ := ParseFilters(url.Values{}, ObjectsEndpoint); q.Limit != DefaultPageSize {
		t.Errorf("default limit %d, want %d", q.Limit, DefaultPageSize)
	}
	if q, _ := ParseFilters(url.Values{"limit": {"999999"}}, ObjectsEndpoint); q.Limit != MaxPageSize {
		t.Errorf("a limit above the maximum became %d, want %d", q.Limit, MaxPageSize)
	}
	for _, tc := range []struct {
		values   url.Values
		endpoint Endpoint
	}{
		{url.Values{"match[id]": {"x"}}, ObjectEndpoint},
		{url.Values{"match[version]": {"all"}}, VersionsEndpoint},
		{url.Values{"limit": {"5"}}, DeleteEndpoint},
		{url.Values{"match[foo]": {"x"}}, ObjectsEndpoint},
		{url.Values{"limit": {"1", "2"}}, ObjectsEndpoint},
		{url.Values{"match[version]": {"first,,last"}}, ObjectsEndpoint},
		{url.Values{"added_after": {"2026-01-01"}}, ObjectsEndpoint},
		{url.Values{"next": {""}}, ObjectsEndpoint},
	} {
		_, err := ParseFilters(tc.values, tc.endpoint)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%v on endpoint %d: got %v, want a FilterError", tc.values, tc.endpoint, err)
		}
	}
}

func TestFormats(t *testing.T) {
	ts := time.Date(2026, 11, 23, 1, 2, 3, 456789000, time.FixedZone("CET", 3600))
	if got := FormatDateAdded(ts); got != "2026-11-23T00:02:03.456789Z" {
		t.Errorf("date added %q", got)
	}
	if got := FormatDateAdded(ts.Truncate(time.Second)); got != "2026-11-23T00:02:03.000000Z" {
		t.Errorf("date added on a whole second %q: the six digits must stay", got)
	}
	if got := store.FormatVersion(time.Date(2026, 1, 1, 0, 0, 0, 120000000, time.UTC)); got != "2026-01-01T00:00:00.120Z" {
		t.Errorf("version %q", got)
	}
	if got := store.FormatVersion(ts); got != "2026-11-23T00:02:03.456789Z" {
		t.Errorf("version with microseconds %q", got)
	}
	back, err := ParseTimestamp(FormatDateAdded(ts))
	if err != nil || !back.Equal(ts) {
		t.Errorf("a formatted date added does not read back: %v %v", back, err)
	}
}

func TestDecodeEnvelopeKeepsBytes(t *testing.T) {
	obj := `{ "type" : "indicator",  "x": 1.50e2 }`
	for _, body := range []string{
		`{"objects":[` + obj + `]}`,
		`{"type":"bundle","id":"bundle--x","objects":[` + obj + `],"more":false}`,
	} {
		raws, err := DecodeEnvelope([]byte(body), 10)
		if err != nil || len(raws) != 1 || string(raws[0]) != obj {
			t.Errorf("%s: %q, %v", body, raws, err)
		}
	}
}

func FuzzParseFilters(f *testing.F) {
	for _, s := range []string{"limit=10&match[version]=first,last", "added_after=2026-01-01T00:00:00Z", "match[spec_version]=2.1,2.0&next=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		for _, e := range []Endpoint{ObjectsEndpoint, ObjectEndpoint, VersionsEndpoint, DeleteEndpoint} {
			q, err := ParseFilters(values, e)
			var fe *FilterError
			if err != nil && !errors.As(err, &fe) {
				t.Fatalf("%q: error %v is not a FilterError", raw, err)
			}
			if err == nil && (q.Limit < 1 || q.Limit > MaxPageSize) {
				t.Fatalf("%q: limit %d escaped 1..%d", raw, q.Limit, MaxPageSize)
			}
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range []string{`{"objects":[{"type":"x"}]}`, `{"objects":[]}`, `{"type":"bundle","objects":[1,2]}`, `[]`, `{"objects":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		raws, err := DecodeEnvelope(body, 100)
		var ee *EnvelopeError
		var tm *TooManyObjectsError
		if err != nil && !errors.As(err, &ee) && !errors.As(err, &tm) {
			t.Fatalf("error %v is neither an EnvelopeError nor a TooManyObjectsError", err)
		}
		if err == nil {
			if len(raws) > 100 {
				t.Fatalf("%d objects passed a limit of 100", len(raws))
			}
			for _, r := range raws {
				if !json.Valid(r) {
					t.Fatalf("an object is not valid JSON: %q", r)
				}
			}
		}
	})
}
