package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/store"
)

// Search by value and browsing beside TAXII, for partner tokens (README, "Search by value"). Both
// answer plain JSON, as the conversion endpoint does, and call the use cases the console calls:
//
//	GET /x-taxiihub-search/?value=V&limit=N                                 every collection the caller reads
//	GET /<root>/collections/<id>/x-taxiihub-browse/?type=T&before=D&limit=N  one collection, newest first
//
// The search lives beside the API roots, not under one, since it covers all of the caller's
// partnerships at once; its path is a reserved slug, so that no API root can shadow it.
const (
	SearchPath = "x-taxiihub-search"
	BrowsePath = "x-taxiihub-browse"
)

func (a *api) mountSearch(e *gin.Engine) {
	g := e.Group("/", a.authenticate, a.limitMembers)
	route(g, http.MethodGet, "/"+SearchPath+"/", a.handle(a.search))
	route(g, http.MethodGet, "/:root/collections/:collection/"+BrowsePath+"/", a.handle(a.browse))
}

// searchAnswer is the search endpoint's answer.
type searchAnswer struct {
	// Value is the value searched for as the hub read it (refanged, trimmed).
	Value   string         `json:"value"`
	Results []searchResult `json:"results"`
	More    bool           `json:"more"`
}

type searchResult struct {
	APIRoot    string    `json:"api_root"`
	Collection string    `json:"collection"`
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Version    string    `json:"version"`
	DateAdded  time.Time `json:"date_added"`
	// Matched is the indexed value the object was found by, with its kind.
	Matched matchedValue `json:"matched"`
}

type matchedValue struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

func (a *api) search(c *gin.Context) error {
	q, err := onlyParams(c, "value", "limit")
	if err != nil {
		return err
	}
	limit, err := limitParam(q.Get("limit"))
	if err != nil {
		return err
	}
	if _, ok := q["value"]; !ok {
		return &requestError{status: http.StatusBadRequest, code: "invalid-request", title: "Invalid request",
			description: "Give the value to search for: ?value=198.51.100.7."}
	}
	found, err := a.sharing.Search(c.Request.Context(), principal(c), q.Get("value"), limit)
	if err != nil {
		return err
	}
	answer := searchAnswer{Value: found.Value, Results: []searchResult{}, More: found.More}
	for _, r := range found.Results {
		answer.Results = append(answer.Results, searchResult{APIRoot: r.APIRoot, Collection: r.CollectionID, ID: r.ObjectID,
			Type: r.Type, Version: store.FormatVersion(r.Version), DateAdded: r.DateAdded.UTC(),
			Matched: matchedValue{Kind: r.Kind, Value: r.Value}})
	}
	c.JSON(http.StatusOK, answer)
	return nil
}

// browseAnswer is the browse endpoint's answer: a page, and the before of the next one.
type browseAnswer struct {
	Objects []browsedVersion `json:"objects"`
	More    bool             `json:"more"`
	// Next is the before parameter of the next page, when More.
	Next string `json:"next,omitempty"`
}

type browsedVersion struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Version   string    `json:"version"`
	DateAdded time.Time `json:"date_added"`
	Withdrawn bool      `json:"withdrawn,omitempty"`
}

func (a *api) browse(c *gin.Context) error {
	acc, err := a.access(c)
	if err != nil {
		return err
	}
	q, err := onlyParams(c, "type", "before", "limit")
	if err != nil {
		return err
	}
	limit, err := limitParam(q.Get("limit"))
	if err != nil {
		return err
	}
	var before time.Time
	if s := q.Get("before"); s != "" {
		if before, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return &requestError{status: http.StatusBadRequest, code: "invalid-request", title: "Invalid request",
				description: "before must be a timestamp such as 2026-01-01T00:00:00.000000Z: the next value of the previous page."}
		}
	}
	page, err := a.sharing.Browse(c.Request.Context(), acc, q.Get("type"), before, limit)
	if err != nil {
		return err
	}
	answer := browseAnswer{Objects: []browsedVersion{}, More: page.More}
	for _, r := range page.Records {
		answer.Objects = append(answer.Objects, browsedVersion{ID: r.ID, Type: r.Type, Version: store.FormatVersion(r.Version),
			DateAdded: r.DateAdded.UTC(), Withdrawn: r.Withdrawn})
	}
	if last, ok := page.LastAdded(); ok && page.More {
		answer.Next = last.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	c.JSON(http.StatusOK, answer)
	return nil
}

// onlyParams returns the query, refusing a parameter other than those named or one given twice,
// so that a misspelt parameter is not silently ignored.
func onlyParams(c *gin.Context, names ...string) (url.Values, error) {
	q := c.Request.URL.Query()
	for name, values := range q {
		if !slices.Contains(names, name) || len(values) > 1 {
			return nil, &requestError{status: http.StatusBadRequest, code: "invalid-request", title: "Invalid request",
				description: "Unknown or repeated parameter " + strconv.Quote(name) + "; this endpoint takes each of " + strings.Join(names, ", ") + " once."}
		}
	}
	return q, nil
}

// limitParam reads a limit; empty is zero, the use case's default. The use case bounds it.
func limitParam(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, &requestError{status: http.StatusBadRequest, code: "invalid-request", title: "Invalid request",
			description: "limit must be a positive whole number."}
	}
	return n, nil
}
