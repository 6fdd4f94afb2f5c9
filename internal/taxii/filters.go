// Package taxii holds the TAXII 2.1 semantics that do not depend on HTTP plumbing: request filters,
// envelopes, status resources, wire formats and the limits the hub advertises.
package taxii

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"taxiihub/internal/store"
)

// Page sizes. Clients that ask for more than MaxPageSize get MaxPageSize without an error, as the
// specification allows, so that a client tuned for another server keeps working.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Query limits, checked before any work: a filter is matched against every candidate version, so
// its size bounds the CPU a request costs.
const (
	// MaxFilterValues is the most comma-separated values one match filter may list.
	MaxFilterValues = 100
	// MaxQueryLength is the longest query string, in bytes, a request may carry.
	MaxQueryLength = 16 << 10
)

// Endpoint names the request kinds whose allowed filters differ.
type Endpoint int

const (
	// ObjectsEndpoint is GET objects and GET manifest.
	ObjectsEndpoint Endpoint = iota
	// ObjectEndpoint is GET of one object by id.
	ObjectEndpoint
	// VersionsEndpoint is GET of one object's versions.
	VersionsEndpoint
	// DeleteEndpoint is DELETE of one object.
	DeleteEndpoint
)

// allowed lists the parameters each endpoint understands.
var allowed = map[Endpoint][]string{
	ObjectsEndpoint:  {"added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]"},
	ObjectEndpoint:   {"added_after", "limit", "next", "match[version]", "match[spec_version]"},
	VersionsEndpoint: {"added_after", "limit", "next", "match[spec_version]"},
	DeleteEndpoint:   {"match[version]", "match[spec_version]"},
}

// FilterError reports a query parameter the hub cannot honour; it is answered with 400.
type FilterError struct {
	Param  string
	Reason string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("taxii: parameter %s: %s", e.Param, e.Reason)
}

// ParseFilters turns a request's query parameters into a store query. Values of one match field
// separated by commas are alternatives; a field given twice, an unknown match field, or a value that
// does not parse is refused rather than silently ignored, so that a typo never widens what a
// poller receives. Parameters that are not filters (such as dry_run) are left to the caller.
func ParseFilters(values url.Values, endpoint Endpoint) (store.Query, error) {
	q := store.Query{Limit: DefaultPageSize}
	known := allowed[endpoint]
	for name, vs := range values {
		isFilter := strings.HasPrefix(name, "match[") || name == "added_after" || name == "limit" || name == "next"
		if !isFilter {
			continue
		}
		if !slices.Contains(known, name) {
			return store.Query{}, &FilterError{Param: name, Reason: "is not supported on this endpoint"}
		}
		if len(vs) != 1 {
			return store.Query{}, &FilterError{Param: name, Reason: "may be given only once"}
		}
		if err := applyFilter(&q, name, vs[0]); err != nil {
			return store.Query{}, err
		}
	}
	return q, nil
}

func applyFilter(q *store.Query, name, value string) error {
	bad := func(reason string) error { return &FilterError{Param: name, Reason: reason} }
	switch name {
	case "added_after":
		t, err := ParseTimestamp(value)
		if err != nil {
			return bad("must be one RFC 3339 timestamp, such as 2026-01-02T03:04:05.123456Z")
		}
		q.AddedAfter = t
	case "limit":
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return bad("must be a positive whole number")
		}
		q.Limit = min(n, MaxPageSize)
	case "next":
		if value == "" {
			return bad("must not be empty")
		}
		q.Cursor = value
	case "match[id]":
		ids, err := list(value)
		if err != nil {
			return bad(err.Error())
		}
		q.IDs = ids
	case "match[type]":
		types, err := list(value)
		if err != nil {
			return bad(err.Error())
		}
		q.Types = types
	case "match[spec_version]":
		specs, err := list(value)
		if err != nil {
			return bad(err.Error())
		}
		for _, s := range specs {
			if !isSpecVersion(s) {
				return bad(fmt.Sprintf("%q is not a STIX spec version such as 2.1", s))
			}
		}
		q.SpecVersions = specs
	case "match[version]":
		m, err := parseVersionMatch(value)
		if err != nil {
			return bad(err.Error())
		}
		q.Versions = m
	}
	return nil
}

func parseVersionMatch(value string) (store.VersionMatch, error) {
	items, err := list(value)
	if err != nil {
		return store.VersionMatch{}, err
	}
	var m store.VersionMatch
	for _, item := range items {
		switch item {
		case "first":
			m.First = true
		case "last":
			m.Last = true
		case "all":
			m.All = true
		default:
			t, err := ParseTimestamp(item)
			if err != nil {
				return store.VersionMatch{}, fmt.Errorf("%q is neither first, last, all nor an RFC 3339 timestamp", item)
			}
			m.At = append(m.At, t)
		}
	}
	return m, nil
}

func list(value string) ([]string, error) {
	if n := strings.Count(value, ",") + 1; n > MaxFilterValues {
		return nil, fmt.Errorf("lists %d values, more than the %d accepted; split the query", n, MaxFilterValues)
	}
	var out []string
	for _, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("has an empty value in %q", value)
		}
		out = append(out, item)
	}
	return out, nil
}

func isSpecVersion(s string) bool {
	major, minor, ok := strings.Cut(s, ".")
	_, errMajor := strconv.Atoi(major)
	_, errMinor := strconv.Atoi(minor)
	return ok && errMajor == nil && errMinor == nil
}

// ParseTimestamp reads an RFC 3339 timestamp as TAXII clients send it, with any fractional precision.
// A client that echoes a header value, or sends a timestamp with a space instead of 'T' after
// URL-decoding a '+', gets the same instant back.
func ParseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("taxii: timestamp %q: %w", s, err)
	}
	return t.UTC(), nil
}

// FormatDateAdded renders a date added as the X-TAXII-Date-Added headers and manifests carry it:
// RFC 3339 in UTC with all six microsecond digits, so that a client echoing it as added_after
// resumes exactly after it.
func FormatDateAdded(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}
