package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/sharing"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// Release review beside TAXII, under each partnership's root, for reviewer tokens (README, "Release
// review"):
//
//	GET  /<root>/x-taxiihub-review/                 the queue (collection, publisher, older_than, limit)
//	GET  /<root>/x-taxiihub-review/<status-id>/     one request's held objects, with what they replace
//	POST /<root>/x-taxiihub-review/<status-id>/     {"decision":"approve"|"reject","objects":[…],"reason":"…"}
func (a *api) mountReview(g *gin.RouterGroup) {
	route(g, http.MethodGet, "/:root/x-taxiihub-review/", a.handle(a.reviewQueue))
	route(g, http.MethodGet, "/:root/x-taxiihub-review/:status/", a.handle(a.reviewRequest))
	route(g, http.MethodPost, "/:root/x-taxiihub-review/:status/", a.handle(a.reviewDecide))
}

// maxDecisionBody bounds a decision's body: object ids and a reason fit in far less.
const maxDecisionBody = 256 << 10

// heldObject is a held object as the review API shows it.
type heldObject struct {
	StatusID    string                   `json:"status_id"`
	Collection  string                   `json:"collection"`
	Alias       string                   `json:"collection_alias,omitempty"`
	Publisher   string                   `json:"publisher"`
	ID          string                   `json:"id"`
	Version     string                   `json:"version,omitempty"`
	SubmittedAt time.Time                `json:"submitted_at"`
	Expires     time.Time                `json:"expires"`
	Warnings    string                   `json:"warnings,omitempty"`
	Object      json.RawMessage          `json:"object,omitempty"`
	Replaces    json.RawMessage          `json:"replaces,omitempty"`
	Changes     []sharing.PropertyChange `json:"changes,omitempty"`
}

func heldOf(h sharing.HeldObject, full bool) heldObject {
	out := heldObject{StatusID: h.StatusID, Collection: h.CollectionID, Alias: h.CollectionAlias, Publisher: h.Member,
		ID: h.Object.ID, SubmittedAt: h.SubmittedAt, Expires: h.Expires, Warnings: h.Warnings}
	if !h.Object.Version.IsZero() {
		out.Version = store.FormatVersion(h.Object.Version)
	}
	if full {
		out.Object, out.Replaces, out.Changes = h.Object.Content, h.Replaces, h.Changes
	}
	return out
}

func (a *api) reviewQueue(c *gin.Context) error {
	var q sharing.ReviewQuery
	for name, values := range c.Request.URL.Query() {
		if len(values) != 1 {
			return &taxii.FilterError{Param: name, Reason: "must be given once"}
		}
		switch v := values[0]; name {
		case "collection":
			q.Collection = v
		case "publisher":
			q.Publisher = v
		case "older_than":
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return &taxii.FilterError{Param: name, Reason: "must be a duration such as 36h"}
			}
			q.OlderThan = d
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return &taxii.FilterError{Param: name, Reason: "must be a positive number"}
			}
			q.Limit = min(n, sharing.MaxReviewPage)
		default:
			return &taxii.FilterError{Param: name, Reason: "is not understood here (collection, publisher, older_than and limit are)"}
		}
	}
	held, err := a.sharing.ReviewQueue(c.Request.Context(), principal(c), c.Param("root"), q)
	if err != nil {
		return err
	}
	out := struct {
		Held []heldObject `json:"held"`
	}{Held: []heldObject{}}
	for _, h := range held {
		out.Held = append(out.Held, heldOf(h, false))
	}
	writeTAXII(c, http.StatusOK, out)
	return nil
}

func (a *api) reviewRequest(c *gin.Context) error {
	held, err := a.sharing.ReviewRequest(c.Request.Context(), principal(c), c.Param("root"), c.Param("status"))
	if err != nil {
		return err
	}
	out := struct {
		Held []heldObject `json:"held"`
	}{}
	for _, h := range held {
		out.Held = append(out.Held, heldOf(h, true))
	}
	writeTAXII(c, http.StatusOK, out)
	return nil
}

// decisionBody is what a reviewer posts.
type decisionBody struct {
	Decision string   `json:"decision"`
	Objects  []string `json:"objects"`
	Reason   string   `json:"reason"`
}

func (a *api) reviewDecide(c *gin.Context) error {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxDecisionBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &sharing.Error{Kind: sharing.TooLarge, Message: "A decision is at most 256 KiB."}
	}
	if err != nil {
		return err
	}
	var body decisionBody
	if err := json.Unmarshal(raw, &body); err != nil || (body.Decision != "approve" && body.Decision != "reject") {
		return &sharing.Error{Kind: sharing.Invalid,
			Message: `The body must be {"decision":"approve" or "reject","objects":[ids, or none for all],"reason":"…"}.`}
	}
	out, err := a.sharing.Decide(c.Request.Context(), principal(c), c.Param("root"),
		sharing.Decision{StatusID: c.Param("status"), ObjectIDs: body.Objects, Approve: body.Decision == "approve", Reason: body.Reason})
	if err != nil {
		return err
	}
	type decided struct {
		ID      string `json:"id"`
		Version string `json:"version,omitempty"`
		Message string `json:"message"`
	}
	res := struct {
		Decided []decided `json:"decided"`
	}{}
	for _, o := range out {
		d := decided{ID: o.Pending.Object.ID, Message: o.Message}
		if !o.Pending.Object.Version.IsZero() {
			d.Version = store.FormatVersion(o.Pending.Object.Version)
		}
		res.Decided = append(res.Decided, d)
	}
	writeTAXII(c, http.StatusOK, res)
	return nil
}
