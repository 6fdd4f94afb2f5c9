package httpapi

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/admin"
	"taxiihub/internal/sharing"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

func (a *api) mountTAXII(e *gin.Engine) {
	g := e.Group("/", a.negotiate, a.authenticate, a.limitMembers)
	route(g, http.MethodGet, "/taxii2/", a.handle(a.discovery))
	route(g, http.MethodGet, "/:root/", a.handle(a.apiRoot))
	route(g, http.MethodGet, "/:root/status/:status/", a.handle(a.status))
	route(g, http.MethodGet, "/:root/collections/", a.handle(a.collections))
	route(g, http.MethodGet, "/:root/collections/:collection/", a.handle(a.collection))
	route(g, http.MethodGet, "/:root/collections/:collection/manifest/", a.handle(a.manifest))
	route(g, http.MethodGet, "/:root/collections/:collection/objects/", a.handle(a.getObjects))
	route(g, http.MethodPost, "/:root/collections/:collection/objects/", a.handle(a.addObjects))
	route(g, http.MethodGet, "/:root/collections/:collection/objects/:object/", a.handle(a.getObject))
	route(g, http.MethodDelete, "/:root/collections/:collection/objects/:object/", a.handle(a.deleteObject))
	route(g, http.MethodGet, "/:root/collections/:collection/objects/:object/versions/", a.handle(a.versions))
	// Beyond TAXII: withdrawal by the publisher, and who pulled the caller's objects.
	route(g, http.MethodPost, "/:root/collections/:collection/objects/:object/withdraw/", a.handle(a.withdraw))
	route(g, http.MethodGet, "/:root/pulls/", a.handle(a.pulls))
	a.mountReview(g)
}

func (a *api) discovery(c *gin.Context) error {
	roots, err := a.sharing.Roots(c.Request.Context(), principal(c))
	if err != nil {
		return err
	}
	res := taxii.Discovery{Title: a.title, Description: a.description, APIRoots: []string{}}
	for _, r := range roots {
		res.APIRoots = append(res.APIRoots, "/"+r.Slug+"/")
	}
	writeTAXII(c, http.StatusOK, res)
	return nil
}

func (a *api) apiRoot(c *gin.Context) error {
	root, err := a.sharing.Root(c.Request.Context(), principal(c), c.Param("root"))
	if err != nil {
		return err
	}
	writeTAXII(c, http.StatusOK, taxii.APIRoot{
		Title:            root.Title,
		Description:      root.Description,
		Versions:         []string{taxii.MediaType},
		MaxContentLength: a.maxContentLength,
		MaxObjectSize:    sharing.MaxObjectSize,
	})
	return nil
}

func (a *api) collections(c *gin.Context) error {
	all, err := a.sharing.Collections(c.Request.Context(), principal(c), c.Param("root"))
	if err != nil {
		return err
	}
	oneWay, err := a.sharing.OneWay(c.Request.Context(), c.Param("root"))
	if err != nil {
		return err
	}
	res := taxii.Collections{Collections: []taxii.Collection{}}
	for _, acc := range all {
		res.Collections = append(res.Collections, collectionOf(acc, oneWay))
	}
	writeTAXII(c, http.StatusOK, res)
	return nil
}

func (a *api) collection(c *gin.Context) error {
	acc, err := a.access(c)
	if err != nil {
		return err
	}
	oneWay, err := a.sharing.OneWay(c.Request.Context(), acc.Root.Slug)
	if err != nil {
		return err
	}
	writeTAXII(c, http.StatusOK, collectionOf(acc, oneWay))
	return nil
}

// collectionOf renders a collection with the caller's access and the partnership's direction.
func collectionOf(acc sharing.Access, oneWay bool) taxii.Collection {
	return taxii.NewCollection(acc.Collection, acc.Root.Policy,
		taxii.Access{Read: acc.GrantedRead, Write: acc.GrantedWrite, Membership: acc.Membership, OneWay: oneWay})
}

// pullsPage is the answer of GET /<root>/pulls/: who pulled the caller's objects, page by page.
type pullsPage struct {
	More    bool                `json:"more"`
	Next    string              `json:"next,omitempty"`
	Entries []admin.LedgerEntry `json:"pulls"`
}

// defaultPullsPage and maxPullsPage bound a page of pulls.
const (
	defaultPullsPage = 100
	maxPullsPage     = 1000
)

// pulls tells a publisher who pulled the objects it published first in the partnership, with
// member, token and time. next resumes after the last ledger entry read.
func (a *api) pulls(c *gin.Context) error {
	// The partnership first: a partner learns nothing of one it was not granted, bad query or not.
	if _, err := a.sharing.Root(c.Request.Context(), principal(c), c.Param("root")); err != nil {
		return err
	}
	q := store.PullQuery{Limit: defaultPullsPage}
	for name, values := range c.Request.URL.Query() {
		if len(values) != 1 {
			return &taxii.FilterError{Param: name, Reason: "must be given once"}
		}
		switch v := values[0]; name {
		case "next":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return &taxii.FilterError{Param: name, Reason: "is not a value this endpoint gave"}
			}
			q.After = n
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return &taxii.FilterError{Param: name, Reason: "must be a positive number"}
			}
			q.Limit = min(n, maxPullsPage)
		default:
			return &taxii.FilterError{Param: name, Reason: "is not understood here (next and limit are)"}
		}
	}
	page, err := a.sharing.Pulls(c.Request.Context(), principal(c), c.Param("root"), q)
	if err != nil {
		return err
	}
	res := pullsPage{More: page.More, Entries: make([]admin.LedgerEntry, len(page.Entries))}
	if page.More {
		res.Next = strconv.FormatInt(page.Next, 10)
	}
	for i, e := range page.Entries {
		res.Entries[i] = admin.LedgerEntryOf(e)
	}
	writeTAXII(c, http.StatusOK, res)
	return nil
}

func (a *api) status(c *gin.Context) error {
	st, err := a.sharing.Status(c.Request.Context(), principal(c), c.Param("root"), c.Param("status"))
	if err != nil {
		return err
	}
	writeTAXII(c, http.StatusOK, taxii.NewStatus(st))
	return nil
}
