package sharing

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"taxiihub/internal/auth"
	"taxiihub/internal/convert"
	"taxiihub/internal/policy"
	"taxiihub/internal/store"
)

// Limits of value search and browsing.
const (
	// MaxSearchValueBytes is the longest value a search accepts, before refanging: as long as the
	// longest value the index holds (store.MaxIndexedValueBytes).
	MaxSearchValueBytes = store.MaxIndexedValueBytes
	// DefaultSearchLimit is how many objects a search returns when the caller does not say.
	DefaultSearchLimit = 50
	// MaxSearchLimit is the most objects one search returns.
	MaxSearchLimit = 200
	// DefaultBrowseLimit is a browse page's size when the caller does not say.
	DefaultBrowseLimit = 50
	// MaxBrowseLimit is the largest browse page.
	MaxBrowseLimit = 500
)

// SearchResult is one object a search found.
type SearchResult struct {
	APIRoot      string
	CollectionID string
	// CollectionTitle and CollectionAlias name the collection for people (the console).
	CollectionTitle, CollectionAlias string
	ObjectID                         string
	Type                             string
	// Version and DateAdded are those of the object's latest version the caller may see.
	Version   time.Time
	DateAdded time.Time
	// Kind and Value are the indexed value it was found by: the value searched for in normalised
	// form, or a network containing the address searched for.
	Kind, Value string
}

// SearchAnswer is what a search found, newest first.
type SearchAnswer struct {
	// Value is the value searched for as the hub read it: refanged and trimmed.
	Value   string
	Results []SearchResult
	// More reports that further objects may match; a narrower value finds them.
	More bool
}

// Search finds the objects naming value (an IP address, a domain, a URL, a hash, an e-mail address,
// a CVE id…) in every collection the caller may read, at its clearance in each partnership,
// answering from the value-search index. Defanged spellings (198[.]51.100.7, hxxp://) are refanged
// first. An IP address also finds the indicators naming a network that contains it.
//
// Rights are decided once, by Collections, for every partnership the caller holds a grant in;
// the store reads the index entries of those collections alone, so that neither the answer nor the
// time it takes depends on what collections the caller may not read hold. A caller that may read
// nothing gets an empty answer, as one whose search matches nothing.
//
// Every collection with results records a pull of the ids and versions it answered with (endpoint
// "search"), as a manifest does: a search serves no content, but tells the caller which objects of
// a publisher hold a value it chases, and the publisher may ask who learnt that.
func (s *Service) Search(ctx context.Context, caller auth.Principal, value string, limit int) (SearchAnswer, error) {
	switch {
	case len(value) > MaxSearchValueBytes:
		return SearchAnswer{}, &Error{Kind: Invalid, Message: fmt.Sprintf("The value to search for is longer than %d bytes.", MaxSearchValueBytes)}
	case !utf8.ValidString(value):
		return SearchAnswer{}, &Error{Kind: Invalid, Message: "The value to search for is not UTF-8 text."}
	case limit < 0 || limit > MaxSearchLimit:
		return SearchAnswer{}, &Error{Kind: Invalid, Message: fmt.Sprintf("The limit must be between 1 and %d.", MaxSearchLimit)}
	case limit == 0:
		limit = DefaultSearchLimit
	}
	read := convert.Refang(value)
	forms := policy.SearchForms(read)
	if len(forms) == 0 {
		return SearchAnswer{}, &Error{Kind: Invalid, Message: "Give a value to search for, such as an IP address, a domain or a hash."}
	}
	answer := SearchAnswer{Value: forms[0]}
	readable, err := s.readable(ctx, caller)
	if err != nil {
		return SearchAnswer{}, err
	}
	if len(readable) == 0 {
		return answer, nil
	}
	q := store.ValueSearch{Values: forms, Limit: limit}
	for _, acc := range readable {
		q.Scopes = append(q.Scopes, store.SearchScope{CollectionID: acc.Collection.ID, MaxTLP: acc.Membership.Clearance})
	}
	hits, err := s.store.SearchValues(ctx, q)
	if err != nil {
		return SearchAnswer{}, fmt.Errorf("sharing: search: %w", err)
	}
	answer.More = hits.More
	served := map[string]store.Page{}
	for _, h := range hits.Hits {
		acc := readable[h.CollectionID]
		answer.Results = append(answer.Results, SearchResult{APIRoot: acc.Root.Slug, CollectionID: h.CollectionID,
			CollectionTitle: acc.Collection.Title, CollectionAlias: acc.Collection.Alias, ObjectID: h.ObjectID, Type: h.Type, Version: h.Version, DateAdded: h.DateAdded, Kind: h.Kind, Value: h.Value})
		p := served[h.CollectionID]
		p.Records = append(p.Records, store.Record{ID: h.ObjectID, Version: h.Version})
		served[h.CollectionID] = p
	}
	for coll, p := range served {
		if err := s.recordPull(ctx, readable[coll], "search", p); err != nil {
			return SearchAnswer{}, err
		}
	}
	return answer, nil
}

// readable returns, by collection id, the caller's access to every collection it may read, in
// every partnership it holds a grant in.
func (s *Service) readable(ctx context.Context, caller auth.Principal) (map[string]Access, error) {
	roots, err := s.Roots(ctx, caller)
	if err != nil {
		return nil, err
	}
	out := map[string]Access{}
	for _, r := range roots {
		accs, err := s.Collections(ctx, caller, r.Slug)
		if err != nil {
			return nil, err
		}
		for _, acc := range accs {
			if acc.CanRead() && len(out) < store.MaxSearchScopes {
				out[acc.Collection.ID] = acc
			}
		}
	}
	return out, nil
}

// Browse reads one page of a collection's versions of one type, without content, newest first:
// the versions added before before (zero: from the newest), at most limit (zero: the default).
// The page is recorded as a pull of its ids and versions (endpoint "browse"), as a manifest is.
func (s *Service) Browse(ctx context.Context, acc Access, typ string, before time.Time, limit int) (store.Page, error) {
	if err := acc.RequireRead(); err != nil {
		return store.Page{}, err
	}
	switch {
	case typ == "":
		return store.Page{}, &Error{Kind: Invalid, Message: "Name the object type to browse."}
	case limit < 0 || limit > MaxBrowseLimit:
		return store.Page{}, &Error{Kind: Invalid, Message: fmt.Sprintf("The limit must be between 1 and %d.", MaxBrowseLimit)}
	case limit == 0:
		limit = DefaultBrowseLimit
	}
	page, err := s.store.Browse(ctx, acc.Collection.ID, store.BrowseQuery{Type: typ, Before: before, Limit: limit,
		MaxTLP: acc.Membership.Clearance})
	if err != nil {
		return store.Page{}, fmt.Errorf("sharing: browse %s: %w", acc.Collection.ID, err)
	}
	return page, s.recordPull(ctx, acc, "browse", page)
}
