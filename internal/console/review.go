package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"taxiihub/internal/auth"
	"taxiihub/internal/sharing"
)

// reviewPage is how many held objects the queue page lists per partnership.
const reviewPage = 200

// heldView is one held object as the review pages show it.
type heldView struct {
	Root, Collection, Publisher, StatusID string
	ID, Type                              string
	Submitted, Expires                    time.Time
	Warnings                              string
	Raw, Replaces                         string
	Changes                               []sharing.PropertyChange
}

func heldViewOf(root string, h sharing.HeldObject) heldView {
	v := heldView{Root: root, Collection: h.CollectionAlias, Publisher: h.Member, StatusID: h.StatusID, ID: h.Object.ID,
		Type: h.Object.Type, Submitted: h.SubmittedAt, Expires: h.Expires, Warnings: h.Warnings,
		Raw: indented(h.Object.Content), Replaces: indented(h.Replaces), Changes: h.Changes}
	if v.Collection == "" {
		v.Collection = h.CollectionID
	}
	return v
}

func indented(raw []byte) string {
	var b bytes.Buffer
	if len(raw) == 0 || json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

type reviewQueueView struct {
	Held  []heldView
	Limit int
}

// reviewQueue lists what the session may release or reject, in every partnership it takes part in,
// oldest first. Who may decide what is the review use case's decision (the reviewer role, the
// collection's rule, never the poster's own token); the page only asks.
func (c *Console) reviewQueue(w http.ResponseWriter, r *http.Request, sess session, p auth.Principal) {
	roots, err := c.sharing.Roots(r.Context(), p)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	v := reviewQueueView{Limit: reviewPage}
	for _, root := range roots {
		held, err := c.sharing.ReviewQueue(r.Context(), p, root.Slug, sharing.ReviewQuery{Limit: reviewPage})
		if err != nil {
			c.failWith(w, r, err)
			return
		}
		for _, h := range held {
			v.Held = append(v.Held, heldViewOf(root.Slug, h))
		}
	}
	c.render(w, http.StatusOK, "review", c.page(sess, "Held for review", v))
}

type reviewRequestView struct {
	Root, StatusID string
	Held           []heldView
	Decided        bool
	Approve        bool
	Outcomes       []reviewOutcomeView
}

type reviewOutcomeView struct{ ID, Message string }

// reviewRequest shows one request's held objects the session may decide, each with the version it
// replaces and what it changes, and the form that releases or rejects them.
func (c *Console) reviewRequest(w http.ResponseWriter, r *http.Request, sess session, p auth.Principal) {
	root, status := r.PathValue("root"), r.PathValue("status")
	held, err := c.sharing.ReviewRequest(r.Context(), p, root, status)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	v := reviewRequestView{Root: root, StatusID: status}
	for _, h := range held {
		v.Held = append(v.Held, heldViewOf(root, h))
	}
	c.render(w, http.StatusOK, "review-request", c.page(sess, "Request "+status, v))
}

// decide releases or rejects the objects ticked (none: every object of the request the session
// may decide), through the review use case, which checks every rule again and records the
// decision, with the person who took it, in the ledger.
func (c *Console) decide(w http.ResponseWriter, r *http.Request, sess session, p auth.Principal) {
	d := sharing.Decision{StatusID: r.PathValue("status"), ObjectIDs: r.PostForm["object"], Reason: r.PostFormValue("reason")}
	switch r.PostFormValue("decision") {
	case "approve":
		d.Approve = true
	case "reject":
	default:
		c.fail(w, r, http.StatusBadRequest, "Choose to release or to reject.")
		return
	}
	out, err := c.sharing.Decide(r.Context(), p, r.PathValue("root"), d)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	v := reviewRequestView{Root: r.PathValue("root"), StatusID: d.StatusID, Decided: true, Approve: d.Approve}
	for _, o := range out {
		v.Outcomes = append(v.Outcomes, reviewOutcomeView{ID: o.Pending.Object.ID, Message: o.Message})
	}
	c.log.InfoContext(r.Context(), "console: review decision", "who", sess.who(), "status_id", d.StatusID,
		"approve", d.Approve, "objects", len(out))
	c.render(w, http.StatusOK, "review-request", c.page(sess, "Request "+d.StatusID, v))
}
