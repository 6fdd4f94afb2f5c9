package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Query selects object versions of one collection, as the TAXII filters do. Values within one
// field are alternatives (OR); different fields must all hold (AND).
type Query struct {
	// AddedAfter keeps versions added strictly later. Zero means no bound.
	AddedAfter time.Time
	// IDs keeps only these object ids; empty means any.
	IDs []string
	// Types keeps only these object types; empty means any.
	Types []string
	VersionFilter
	// Limit is the largest number of records on the page, 1 to MaxLimit.
	Limit int
	// Cursor is a Page.Next from an earlier page of the same collection and filters. The filters may
	// be repeated or left out; different ones are refused with a *CursorError. AddedAfter may still
	// narrow a resumed query, since that can only skip what the client asked to skip.
	Cursor string
	// MaxTLP hides the versions marked above it, as if the collection did not hold them: filters
	// such as match[version]=last choose among what remains. TLPNone means no limit. It is the
	// reader's clearance, not a client filter, so a cursor does not carry it: each page is read with
	// the clearance of the request that reads it.
	MaxTLP TLP
}

// VersionFilter selects among the versions of each object.
type VersionFilter struct {
	Versions VersionMatch
	// SpecVersions keeps versions with these STIX spec versions. Empty means only the newest spec
	// version the collection holds for each object.
	SpecVersions []string
}

// VersionMatch is the TAXII match[version] filter. The zero value means Last, the TAXII default.
type VersionMatch struct {
	First bool
	Last  bool
	All   bool
	// At keeps the versions with exactly these timestamps (compared to the microsecond).
	At []time.Time
}

// IsZero reports whether no version was asked for, which means Last.
func (m VersionMatch) IsZero() bool {
	return !m.First && !m.Last && !m.All && len(m.At) == 0
}

func (m VersionMatch) normalized() VersionMatch {
	if m.IsZero() {
		return VersionMatch{Last: true}
	}
	if m.All {
		return VersionMatch{All: true}
	}
	out := VersionMatch{First: m.First, Last: m.Last}
	for _, t := range m.At {
		out.At = append(out.At, time.UnixMicro(t.UnixMicro()).UTC())
	}
	slices.SortFunc(out.At, time.Time.Compare)
	out.At = slices.CompactFunc(out.At, time.Time.Equal)
	return out
}

// QueryError reports a query the store cannot run as asked.
type QueryError struct{ Reason string }

func (e *QueryError) Error() string { return "store: invalid query: " + e.Reason }

func (q Query) validate() error {
	if q.Limit < 1 || q.Limit > MaxLimit {
		return &QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", q.Limit, MaxLimit)}
	}
	return nil
}

// hasFilters reports whether any match filter was given, as opposed to left for a cursor to supply.
func (q Query) hasFilters() bool {
	return len(q.IDs) > 0 || len(q.Types) > 0 || !q.Versions.IsZero() || len(q.SpecVersions) > 0
}

// filters is the normalized form of a query's match filters: equal filters compare equal.
type filters struct {
	IDs          []string    `json:"i,omitempty"`
	Types        []string    `json:"t,omitempty"`
	First        bool        `json:"f,omitempty"`
	Last         bool        `json:"l,omitempty"`
	All          bool        `json:"a,omitempty"`
	At           []time.Time `json:"v,omitempty"`
	SpecVersions []string    `json:"s,omitempty"`
}

func (q Query) filters() filters {
	v := q.Versions.normalized()
	return filters{
		IDs:          sortedSet(q.IDs),
		Types:        sortedSet(q.Types),
		First:        v.First,
		Last:         v.Last,
		All:          v.All,
		At:           v.At,
		SpecVersions: sortedSet(q.SpecVersions),
	}
}

func (f filters) equal(g filters) bool {
	return slices.Equal(f.IDs, g.IDs) && slices.Equal(f.Types, g.Types) &&
		f.First == g.First && f.Last == g.Last && f.All == g.All &&
		slices.EqualFunc(f.At, g.At, time.Time.Equal) && slices.Equal(f.SpecVersions, g.SpecVersions)
}

func (f filters) versionFilter() VersionFilter {
	return VersionFilter{
		Versions:     VersionMatch{First: f.First, Last: f.Last, All: f.All, At: f.At},
		SpecVersions: f.SpecVersions,
	}
}

func sortedSet(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// needsSiblings reports whether deciding on a version requires seeing the object's other versions.
func (f VersionFilter) needsSiblings() bool {
	return !(f.Versions.All && len(f.SpecVersions) > 0)
}

// Select returns the versions that f selects among all the versions one collection holds of one
// object. Backends use it for DeleteVersions so that deletion and reading agree on what a filter means.
func (f VersionFilter) Select(versions []Record) []Record {
	var out []Record
	for _, r := range versions {
		if f.selects(r, versions) {
			out = append(out, r)
		}
	}
	return out
}

// selects decides on one version r given every version held of the same object (r included).
func (f VersionFilter) selects(r Record, siblings []Record) bool {
	inPool := func(s Record) bool { return slices.Contains(f.SpecVersions, s.SpecVersion) }
	if len(f.SpecVersions) == 0 {
		newest := r.SpecVersion
		for _, s := range siblings {
			if s.ID == r.ID && compareSpecVersions(s.SpecVersion, newest) > 0 {
				newest = s.SpecVersion
			}
		}
		inPool = func(s Record) bool { return s.SpecVersion == newest }
	}
	if !inPool(r) {
		return false
	}
	m := f.Versions.normalized()
	if m.All {
		return true
	}
	rv := r.Version.UnixMicro()
	for _, t := range m.At {
		if t.UnixMicro() == rv {
			return true
		}
	}
	if !m.First && !m.Last {
		return false
	}
	first, last := rv, rv
	for _, s := range siblings {
		if s.ID != r.ID || !inPool(s) {
			continue
		}
		v := s.Version.UnixMicro()
		first, last = min(first, v), max(last, v)
	}
	return (m.First && rv == first) || (m.Last && rv == last)
}

// compareSpecVersions orders STIX spec versions numerically ("2.1" < "2.10"), falling back to
// string order for anything that is not dotted numbers.
func compareSpecVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y string
		if i < len(as) {
			x = as[i]
		}
		if i < len(bs) {
			y = bs[i]
		}
		xn, errX := strconv.Atoi(x)
		yn, errY := strconv.Atoi(y)
		if errX != nil || errY != nil {
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
			continue
		}
		if xn != yn {
			if xn < yn {
				return -1
			}
			return 1
		}
	}
	return 0
}
