package console

import (
	"cmp"
	"net/http"
	"strconv"
	"strings"
	"time"

	"taxiihub/internal/sharing"
)

// searchResultView is one object a search found, as the search page lists it.
type searchResultView struct {
	// Coll addresses the collection in the console's paths (its alias, else its id); Title names it.
	Root, Coll, Title, ID, Type string
	Version, Added              time.Time
	Kind, Matched               string
}

// searchView is the search page: the form as sent, and after a search, what it found.
type searchView struct {
	Value, Limit string
	// Searched is set once the hub answered a search; Read is the value as the hub read it
	// (refanged, trimmed), which may differ from what was typed.
	Searched bool
	Read     string
	Results  []searchResultView
	More     bool
	MaxLimit int
}

// search answers the search-by-value form: the value is looked up by sharing.Search with the
// session's principal, so the collections searched, the clearance in each and the pull recorded
// (with the person, when one signed in) are decided by the application layer exactly as for
// GET /x-taxiihub-search/. A page opened without a value shows the form alone.
func (c *Console) search(w http.ResponseWriter, r *http.Request, sess session) {
	q := r.URL.Query()
	v := searchView{Value: q.Get("value"), Limit: strings.TrimSpace(q.Get("limit")), MaxLimit: sharing.MaxSearchLimit}
	if !q.Has("value") {
		c.render(w, http.StatusOK, "search", c.page(sess, "Search by value", v))
		return
	}
	limit := 0
	if v.Limit != "" {
		n, err := strconv.Atoi(v.Limit)
		if err != nil {
			c.searchFailed(w, r, sess, v, &sharing.Error{Kind: sharing.Invalid,
				Message: "The limit must be a whole number between 1 and " + strconv.Itoa(sharing.MaxSearchLimit) + "."})
			return
		}
		limit = n
	}
	p, err := c.principal(r, sess)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	answer, err := c.sharing.Search(r.Context(), p, v.Value, limit)
	if err != nil {
		c.searchFailed(w, r, sess, v, err)
		return
	}
	v.Searched, v.Read, v.More = true, answer.Value, answer.More
	for _, res := range answer.Results {
		v.Results = append(v.Results, searchResultView{Root: res.APIRoot, Coll: cmp.Or(res.CollectionAlias, res.CollectionID),
			Title: cmp.Or(res.CollectionTitle, res.CollectionID), ID: res.ObjectID,
			Type: res.Type, Version: res.Version, Added: res.DateAdded, Kind: res.Kind, Matched: res.Value})
	}
	c.render(w, http.StatusOK, "search", c.page(sess, "Search by value", v))
}

// searchFailed shows a refusal of the use case (a value too long or empty, a limit out of range)
// on the search page itself, with the form as it was sent, so that it can be corrected there;
// anything else is answered as every page answers it.
func (c *Console) searchFailed(w http.ResponseWriter, r *http.Request, sess session, v searchView, err error) {
	se, ok := sharingError(err)
	if !ok || se.Kind != sharing.Invalid {
		c.failWith(w, r, err)
		return
	}
	page := c.page(sess, "Search by value", v)
	page.Message = se.Message
	c.render(w, http.StatusBadRequest, "search", page)
}
