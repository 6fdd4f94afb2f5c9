package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/admin"
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
}

// Both "not there" and "not yours" answer the same 404, so a partner learns nothing about the
// partnerships and collections it was not granted.
const (
	noRoot       = "There is no API root at this path that your credentials open."
	noCollection = "There is no collection at this path that your credentials open."
)

// visibleRoot returns the API root named in the path if the caller holds a grant in it.
func (a *api) visibleRoot(c *gin.Context) (store.APIRoot, error) {
	slug := c.Param("root")
	if !principal(c).InRoot(slug) {
		return store.APIRoot{}, notFound(noRoot)
	}
	root, err := a.store.APIRoot(c.Request.Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		return store.APIRoot{}, notFound(noRoot)
	}
	if err != nil {
		return store.APIRoot{}, fmt.Errorf("httpapi: API root %s: %w", slug, err)
	}
	return root, nil
}

// rights is what the caller may do with one collection: its grant, and its standing in the
// partnership, whose role narrows the grant and whose clearance bounds what it reads.
type rights struct {
	read, write bool
	membership  store.Membership
	root        store.APIRoot
}

// standing returns the caller's membership of a partnership; a member holding grants there without
// one has the default standing, so that its grants alone decide.
func (a *api) standing(c *gin.Context, root string) (store.Membership, error) {
	member := principal(c).MemberID
	m, err := a.store.Membership(c.Request.Context(), member, root)
	if errors.Is(err, store.ErrNotFound) {
		return store.DefaultMembership(member, root), nil
	}
	if err != nil {
		return store.Membership{}, fmt.Errorf("httpapi: membership of %s in %s: %w", member, root, err)
	}
	return m, nil
}

// visibleCollection returns the collection named in the path, addressed by id or alias, with the
// caller's rights on it, if the caller holds a grant on it.
func (a *api) visibleCollection(c *gin.Context) (store.Collection, rights, error) {
	root, err := a.visibleRoot(c)
	if err != nil {
		return store.Collection{}, rights{}, err
	}
	coll, err := a.store.Collection(c.Request.Context(), root.Slug, c.Param("collection"))
	if errors.Is(err, store.ErrNotFound) {
		return store.Collection{}, rights{}, notFound(noCollection)
	}
	if err != nil {
		return store.Collection{}, rights{}, fmt.Errorf("httpapi: collection %s: %w", c.Param("collection"), err)
	}
	read, write, seen := principal(c).Access(root.Slug, coll.ID)
	if !seen {
		return store.Collection{}, rights{}, notFound(noCollection)
	}
	m, err := a.standing(c, root.Slug)
	if err != nil {
		return store.Collection{}, rights{}, err
	}
	return coll, rights{read: read, write: write, membership: m, root: root}, nil
}

func forbidden(description string) error {
	return &requestError{status: http.StatusForbidden, code: "forbidden", title: "Not permitted", description: description}
}

// readableCollection is visibleCollection for requests that read objects.
func (a *api) readableCollection(c *gin.Context) (store.Collection, rights, error) {
	coll, r, err := a.visibleCollection(c)
	if err != nil {
		return store.Collection{}, rights{}, err
	}
	if !r.read {
		return store.Collection{}, rights{}, forbidden("Your credentials do not allow reading this collection.")
	}
	if !r.membership.Role.CanRead() {
		return store.Collection{}, rights{}, oneWay("You publish in this partnership and do not read it: its flow runs one way.")
	}
	return coll, r, nil
}

// oneWayFlow reports whether some member of the partnership only publishes or only reads.
func (a *api) oneWayFlow(c *gin.Context, root string) (bool, error) {
	ms, err := a.store.Memberships(c.Request.Context(), root)
	if err != nil {
		return false, fmt.Errorf("httpapi: memberships of %s: %w", root, err)
	}
	for _, m := range ms {
		if m.Role != store.RoleBoth {
			return true, nil
		}
	}
	return false, nil
}

func (a *api) discovery(c *gin.Context) error {
	roots, err := a.store.APIRoots(c.Request.Context())
	if err != nil {
		return fmt.Errorf("httpapi: list API roots: %w", err)
	}
	p := principal(c)
	res := taxii.Discovery{Title: a.title, Description: a.description, APIRoots: []string{}}
	for _, r := range roots {
		if p.InRoot(r.Slug) {
			res.APIRoots = append(res.APIRoots, "/"+r.Slug+"/")
		}
	}
	writeTAXII(c, http.StatusOK, res)
	return nil
}

func (a *api) apiRoot(c *gin.Context) error {
	root, err := a.visibleRoot(c)
	if err != nil {
		return err
	}
	writeTAXII(c, http.StatusOK, taxii.APIRoot{
		Title:            root.Title,
		Description:      root.Description,
		Versions:         []string{taxii.MediaType},
		MaxContentLength: a.maxContentLength,
	})
	return nil
}

func (a *api) collections(c *gin.Context) error {
	root, err := a.visibleRoot(c)
	if err != nil {
		return err
	}
	all, err := a.store.Collections(c.Request.Context(), root.Slug)
	if err != nil {
		return fmt.Errorf("httpapi: list collections of %s: %w", root.Slug, err)
	}
	p := principal(c)
	m, err := a.standing(c, root.Slug)
	if err != nil {
		return err
	}
	oneWay, err := a.oneWayFlow(c, root.Slug)
	if err != nil {
		return err
	}
	res := taxii.Collections{Collections: []taxii.Collection{}}
	for _, coll := range all {
		if read, write, seen := p.Access(root.Slug, coll.ID); seen {
			res.Collections = append(res.Collections, taxii.NewCollection(coll, root.Policy,
				taxii.Access{Read: read, Write: write, Membership: m, OneWay: oneWay}))
		}
	}
	writeTAXII(c, http.StatusOK, res)
	return nil
}

func (a *api) collection(c *gin.Context) error {
	coll, r, err := a.visibleCollection(c)
	if err != nil {
		return err
	}
	oneWay, err := a.oneWayFlow(c, r.root.Slug)
	if err != nil {
		return err
	}
	writeTAXII(c, http.StatusOK, taxii.NewCollection(coll, r.root.Policy,
		taxii.Access{Read: r.read, Write: r.write, Membership: r.membership, OneWay: oneWay}))
	return nil
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

// pulls tells a publisher who pulled the objects it published first in the partnership: the pulls
// recorded in the ledger, each narrowed to the caller's objects, with member, token and time. next
// resumes after the last ledger entry read.
func (a *api) pulls(c *gin.Context) error {
	root, err := a.visibleRoot(c)
	if err != nil {
		return err
	}
	q := store.PullQuery{Publisher: principal(c).MemberID, APIRoot: root.Slug, Limit: defaultPullsPage}
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
	page, err := store.Pulls(c.Request.Context(), a.store, q)
	if err != nil {
		return fmt.Errorf("httpapi: pulls of %s's objects: %w", q.Publisher, err)
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
	root, err := a.visibleRoot(c)
	if err != nil {
		return err
	}
	const noStatus = "There is no status resource with this id for your submissions."
	st, err := a.store.Status(c.Request.Context(), root.Slug, c.Param("status"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound(noStatus)
	}
	if err != nil {
		return fmt.Errorf("httpapi: status: %w", err)
	}
	// A status lists what one partner submitted; in a partnership of limited trust, others may not read it.
	if st.Submitter != principal(c).MemberID {
		return notFound(noStatus)
	}
	writeTAXII(c, http.StatusOK, taxii.NewStatus(st))
	return nil
}
