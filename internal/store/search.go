package store

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The value-search index: the observable values each stored object version names (an indicator's
// pattern literals, an observable's identifying properties, a vulnerability's CVE id), kept beside
// the version so that "is this IP address or hash known in any collection I may read?" is answered
// from an index, never a scan of content.
//
// What an object names is decided by a ValueIndexer the hub gives the backend when it opens it (the
// policy package's, which normalises values as content fingerprints do); the store cannot derive it
// itself, since the rules that read STIX sit above it. Index entries live and die with their
// version: a version deleted, withdrawn (its tombstone names nothing) or removed with its
// collection takes its entries with it, in the same write; objects held for review are not versions
// and are not indexed until released.

// IndexedValue is one observable value an object version names, in normalised form.
type IndexedValue struct {
	// Kind is what the value is: an observable type ("ipv4-addr", "domain-name"), "file:hashes.SHA256"
	// for a hash by algorithm, "file:name", "vulnerability:name" for a CVE id and so on.
	Kind  string
	Value string
}

// ValueIndexer returns the values an object version of type typ names, given its exact content.
// It must only compute: backends call it inside their write transactions.
type ValueIndexer func(typ string, content []byte) []IndexedValue

// Limits of the value-search index.
const (
	// MaxIndexedValues is how many distinct values one version is indexed under, the first ones its
	// content names: a pattern listing more (an IN set of thousands of hashes) is indexed by these
	// alone, so that one object cannot make a write, or the index, grow without bound.
	MaxIndexedValues = 256
	// MaxIndexedValueBytes is the longest value indexed; longer ones (a URL of kilobytes) are not.
	MaxIndexedValueBytes = 2048
	// MaxSearchValues is how many normalised forms one search may look up at once: a value read in
	// each of its possible kinds, and for an IP address every network that may contain it (129 for
	// IPv6).
	MaxSearchValues = 160
	// MaxSearchScopes is how many collections one search may cover.
	MaxSearchScopes = 1000
	// MaxSearchLimit is the most objects one search returns.
	MaxSearchLimit = 500
	// SearchScanFactor bounds what a search reads: at most SearchScanFactor × Limit index entries
	// per read of the index, newest first, a read covering one value in one collection (SQLite) or
	// up to 200 pairs of a value and a collection (MongoDB). Versions of one object that all name the
	// value each take an entry, so an answer may hold fewer objects than Limit while more exist
	// (ValueHits.More).
	SearchScanFactor = 4
)

// IndexValues applies ix to a version and bounds the result: distinct values only, none longer
// than MaxIndexedValueBytes, at most MaxIndexedValues of them. Backends index what it returns.
func IndexValues(ix ValueIndexer, typ string, content []byte) []IndexedValue {
	if ix == nil {
		return nil
	}
	var out []IndexedValue
	seen := map[IndexedValue]bool{}
	for _, v := range ix(typ, content) {
		if v.Value == "" || len(v.Value) > MaxIndexedValueBytes || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
		if len(out) == MaxIndexedValues {
			break
		}
	}
	return out
}

// SearchScope is one collection a search covers, with the clearance of the reader there.
type SearchScope struct {
	CollectionID string
	// MaxTLP hides versions marked above it, as Query.MaxTLP does; TLPNone means no limit.
	MaxTLP TLP
}

// ValueSearch asks which objects of some collections name one of some values.
type ValueSearch struct {
	// Values are normalised forms to look up, any of which matches (1..MaxSearchValues).
	Values []string
	// Scopes are the collections to search (1..MaxSearchScopes); no other collection's entries are
	// read, so that the time a search takes says nothing of collections the reader may not see.
	Scopes []SearchScope
	// Limit is the most objects returned (1..MaxSearchLimit).
	Limit int
}

// Check refuses a search outside the limits with a *QueryError.
func (q ValueSearch) Check() error {
	switch {
	case len(q.Values) == 0 || len(q.Values) > MaxSearchValues:
		return &QueryError{Reason: fmt.Sprintf("%d values to look up; 1..%d allowed", len(q.Values), MaxSearchValues)}
	case len(q.Scopes) == 0 || len(q.Scopes) > MaxSearchScopes:
		return &QueryError{Reason: fmt.Sprintf("%d collections to search; 1..%d allowed", len(q.Scopes), MaxSearchScopes)}
	case q.Limit < 1 || q.Limit > MaxSearchLimit:
		return &QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", q.Limit, MaxSearchLimit)}
	}
	return nil
}

// ByClearance groups the scopes' collections by clearance, each group sorted, groups in order of
// level: backends read each group with one query, bounded by its clearance.
func (q ValueSearch) ByClearance() []ScopeGroup {
	byTLP := map[TLP][]string{}
	for _, s := range q.Scopes {
		byTLP[s.MaxTLP] = append(byTLP[s.MaxTLP], s.CollectionID)
	}
	var out []ScopeGroup
	for tlp, ids := range byTLP {
		slices.Sort(ids)
		out = append(out, ScopeGroup{MaxTLP: tlp, CollectionIDs: slices.Compact(ids)})
	}
	slices.SortFunc(out, func(a, b ScopeGroup) int { return cmp.Compare(a.MaxTLP, b.MaxTLP) })
	return out
}

// ScopeGroup is the collections of a search read at one clearance.
type ScopeGroup struct {
	MaxTLP        TLP
	CollectionIDs []string
}

// ScanLimit is how many index entries a backend reads per read of the index, newest first.
func (q ValueSearch) ScanLimit() int { return q.Limit * SearchScanFactor }

// ValueMatch is one index entry a backend found: a version that names a searched value.
type ValueMatch struct {
	CollectionID string
	ObjectID     string
	DateAdded    time.Time
	Kind, Value  string
}

// ValueHit is one object found, as a search answers it: the object's latest version the reader
// may see, and the value it was found by.
type ValueHit struct {
	CollectionID string
	ObjectID     string
	Type         string
	// Version and DateAdded are those of the object's latest version visible to the reader, which
	// need not be the version that named the value.
	Version   time.Time
	DateAdded time.Time
	// Kind and Value are the indexed value matched, in its newest version naming one.
	Kind, Value string
}

// ValueHits is the answer to a ValueSearch: objects newest first by the date added of their newest
// version naming a value.
type ValueHits struct {
	Hits []ValueHit
	// More reports that the search stopped at Limit objects, or at its scan bound, and that further
	// objects may match.
	More bool
}

// CollectMatches merges what a backend read (each read newest first, at most q.ScanLimit()
// entries) into the objects to answer with: one per object, newest first, at most q.Limit. full
// reports whether any read reached the scan bound, so that older entries may have been left.
func (q ValueSearch) CollectMatches(matches []ValueMatch, full bool) (objects []ValueMatch, more bool) {
	slices.SortStableFunc(matches, func(a, b ValueMatch) int {
		if c := b.DateAdded.Compare(a.DateAdded); c != 0 {
			return c
		}
		return strings.Compare(a.CollectionID+a.ObjectID+a.Kind+a.Value, b.CollectionID+b.ObjectID+b.Kind+b.Value)
	})
	type key struct{ coll, id string }
	seen := map[key]bool{}
	for _, m := range matches {
		k := key{m.CollectionID, m.ObjectID}
		if seen[k] {
			continue
		}
		if len(objects) == q.Limit {
			return objects, true
		}
		seen[k] = true
		objects = append(objects, m)
	}
	return objects, full
}

// BrowseQuery selects one page of a collection's versions of one type, newest first, as a console
// lists them.
type BrowseQuery struct {
	Type string
	// Before, when set, keeps versions added strictly before it: the DateAdded of the last record
	// of the previous page.
	Before time.Time
	// Limit is the page size, 1..MaxLimit.
	Limit int
	// MaxTLP hides versions marked above it, as Query.MaxTLP does.
	MaxTLP TLP
}

// Check refuses a browse outside the limits with a *QueryError.
func (q BrowseQuery) Check() error {
	switch {
	case q.Type == "":
		return &QueryError{Reason: "no object type to browse"}
	case q.Limit < 1 || q.Limit > MaxLimit:
		return &QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", q.Limit, MaxLimit)}
	}
	return nil
}
