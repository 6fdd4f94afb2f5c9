package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Release review: a collection whose policy names a ReviewRule holds what members post apart from
// its objects, as pending objects, until a reviewer releases or rejects them or they expire. They
// are kept apart, not flagged among the versions, so that no page, cursor, count or existence check
// of a reader can see them, and so that date added is given at release: a released object enters
// the collection as any publication does, after everything stored before.

// Ledger kinds of release review. A release is a LedgerPublish entry of the publisher, whose
// Endpoint names the reviewer (see ReleaseEndpoint).
const (
	// LedgerSubmit records a member's objects held for review: each with the verdict "pending".
	LedgerSubmit LedgerKind = "submit"
	// LedgerReject records held objects rejected by a reviewer, or expired: Member and TokenID are
	// the publisher's, Endpoint names the reviewer (or "expired"), each item's verdict the reason.
	LedgerReject LedgerKind = "reject"
)

// VerdictPending is the verdict of a submit entry's items.
const VerdictPending = "pending"

// ReleaseEndpoint is the Endpoint of the ledger entry of a release or rejection by a reviewer's
// token, so that the publisher and operators see who released what. A person who decided through
// the console is named in place of the token (the entry's Person is the publisher's side, as in
// every entry), as the audit trail names an operator's person: "name <subject at issuer>".
func ReleaseEndpoint(reviewer, token string, person Person) string {
	if !person.IsZero() {
		return "reviewer:" + reviewer + "/" + person.String()
	}
	return "reviewer:" + reviewer + "/" + token
}

// ExpiryEndpoint is the Endpoint of the ledger entry of held objects that expired unreviewed.
const ExpiryEndpoint = "expired"

// Status messages of release review. Failures start "rejected: [code]" like every other refusal.
const (
	pendingMessage  = "pending review"
	rejectedMessage = "rejected: [rejected-in-review] "
	expiredMessage  = "rejected: [review-expired] no reviewer released the object within the collection's review timeout"
)

// Submission is a member's add-objects request to a collection under review, as Submit holds it.
type Submission struct {
	// Publication is what Publish would have stored; its Objects are held, its Refused recorded.
	// DryRun is not allowed: a dry run publishes through Publish, which decides what a release
	// would. Status is required: its id is how reviewers and the publisher name the request.
	Publication Publication
	// At is when the request was submitted; Expires when its objects expire unreviewed.
	At, Expires time.Time
}

// PendingObject is one object held for review.
type PendingObject struct {
	CollectionID string
	APIRoot      string
	// StatusID is the request it came with; Member and TokenID its publisher.
	StatusID string
	Member   string
	TokenID  string
	Object   Object
	// Warnings are those its publication would have been stored with, kept for its status.
	Warnings             string
	SubmittedAt, Expires time.Time
}

// PendingCount is how many objects one collection holds for review.
type PendingCount struct {
	APIRoot      string
	CollectionID string
	Objects      int
}

// PendingQuery selects held objects. Empty fields select all.
type PendingQuery struct {
	APIRoot      string
	CollectionID string
	StatusID     string
	Member       string
	ObjectIDs    []string
	// SubmittedBefore, when set, selects objects submitted before it (older than an age).
	SubmittedBefore time.Time
	// ExpiredBy, when set, selects objects whose expiry is at or before it.
	ExpiredBy time.Time
	// Limit bounds the answer, 1..MaxLimit.
	Limit int
}

// Check validates the query: the limit is bounded as every query's is.
func (q PendingQuery) Check() error {
	if q.Limit < 1 || q.Limit > MaxLimit {
		return &QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", q.Limit, MaxLimit)}
	}
	return nil
}

// Matches reports whether p is selected by q; backends that filter in code use it, so that the
// selection means the same on both.
func (q PendingQuery) Matches(p PendingObject) bool {
	return (q.APIRoot == "" || p.APIRoot == q.APIRoot) && (q.CollectionID == "" || p.CollectionID == q.CollectionID) &&
		(q.StatusID == "" || p.StatusID == q.StatusID) && (q.Member == "" || p.Member == q.Member) &&
		(len(q.ObjectIDs) == 0 || slices.Contains(q.ObjectIDs, p.Object.ID)) &&
		(q.SubmittedBefore.IsZero() || p.SubmittedAt.Before(q.SubmittedBefore)) &&
		(q.ExpiredBy.IsZero() || !p.Expires.After(q.ExpiredBy))
}

// ReviewDecision is a reviewer's release or rejection of held objects of one request.
type ReviewDecision struct {
	CollectionID string
	StatusID     string
	// ObjectIDs are the objects decided (every version of each held with the request); empty
	// decides every object the request still has held.
	ObjectIDs []string
	Approve   bool
	// Reason is the rejection's reason, written into the status after [rejected-in-review].
	Reason string
	// Reviewer and ReviewerToken say who decides; empty for the hub's own expiry.
	Reviewer      string
	ReviewerToken string
	// ReviewerPerson is the person who decided through the console, zero for a token.
	ReviewerPerson Person
	// Expired marks the hub's expiry of objects nobody reviewed in time.
	Expired bool
	// Refused are objects to reject although Approve, because a rule the caller checked again at
	// release refuses them now: object id to the failure message, which is final.
	Refused map[string]string
	// At is when the decision is taken: a release's date added follows it.
	At time.Time
}

// ReviewOutcome is what a decision did with one held object.
type ReviewOutcome struct {
	Pending PendingObject
	// Outcome is the store's answer for a released object (NotStored for a rejected one).
	Outcome Outcome
	// Message is what the request's status now says of it.
	Message string
}

// PendingDetail is the status detail of a held object.
func PendingDetail(o Object) StatusDetail {
	return StatusDetail{ID: o.ID, Version: versionOf(o), Message: pendingMessage}
}

func versionOf(o Object) string {
	if o.Version.IsZero() {
		return ""
	}
	return FormatVersion(o.Version)
}

// Hold returns the status of a submission: refused objects in failures as Complete records them,
// every held object in pendings, and the status pending while any is.
func (p StatusPlan) Hold(objects []Object) Status {
	st := p.Status
	st.Successes = slices.Clone(st.Successes)
	st.Failures = slices.Clone(st.Failures)
	st.Pendings = slices.Clone(st.Pendings)
	next := 0
	for _, d := range p.Details {
		if d.Refused {
			st.Failures = append(st.Failures, d.Detail)
			continue
		}
		if next < len(objects) {
			st.Pendings = append(st.Pendings, PendingDetail(objects[next]))
		}
		next++
	}
	st.Pending = len(st.Pendings) > 0
	return st
}

// Settle moves a held object's detail from pendings to successes or failures with the message
// given, and leaves the status pending while any object is. It reports whether the object was
// among the pendings.
func (st *Status) Settle(o Object, message string, success bool) bool {
	want := PendingDetail(o)
	i := slices.IndexFunc(st.Pendings, func(d StatusDetail) bool { return d.ID == want.ID && d.Version == want.Version })
	if i < 0 {
		return false
	}
	st.Pendings = slices.Delete(st.Pendings, i, i+1)
	d := StatusDetail{ID: want.ID, Version: want.Version, Message: message}
	if success {
		st.Successes = append(st.Successes, d)
	} else {
		st.Failures = append(st.Failures, d)
	}
	st.Pending = len(st.Pendings) > 0
	return true
}

// DecisionMessage is what a request's status says of a held object once d has decided it, with
// the store's outcome for a released one.
func (d ReviewDecision) DecisionMessage(p PendingObject, o Outcome) (msg string, success bool) {
	switch {
	case d.Expired:
		return expiredMessage, false
	case d.Refused[p.Object.ID] != "":
		return d.Refused[p.Object.ID], false
	case !d.Approve:
		return rejectedMessage + oneLine(d.Reason), false
	case !o.Result.Stored():
		return o.Result.statusMessage(), false
	}
	msg = o.Result.statusMessage() + "; released by " + d.Reviewer
	if p.Warnings != "" {
		msg += "; warnings: " + p.Warnings
	}
	return msg, true
}

// Released reports whether the decision stores p: approved and not refused at release.
func (d ReviewDecision) Released(p PendingObject) bool {
	return d.Approve && !d.Expired && d.Refused[p.Object.ID] == ""
}

// RejectEntry is the ledger entry of the objects a decision rejects, all of one publisher.
func (d ReviewDecision) RejectEntry(root string, rejected []ReviewOutcome) LedgerEntry {
	e := LedgerEntry{Kind: LedgerReject, APIRoot: root, Collection: d.CollectionID, Endpoint: ReleaseEndpoint(d.Reviewer, d.ReviewerToken, d.ReviewerPerson)}
	if d.Expired {
		e.Endpoint = ExpiryEndpoint
	}
	for _, r := range rejected {
		e.Member, e.TokenID = r.Pending.Member, r.Pending.TokenID
		e.Items = append(e.Items, LedgerItem{ID: r.Pending.Object.ID, Version: r.Pending.Object.Version, Verdict: r.Message})
	}
	return e
}

// SubmitEntry is the ledger entry of a submission: the held objects as pending, the refused ones
// with their codes, as a publication's entry lists them.
func SubmitEntry(s Submission, root string) LedgerEntry {
	p := s.Publication
	e := LedgerEntry{Kind: LedgerSubmit, Member: p.Member, TokenID: p.TokenID, Person: p.Person, APIRoot: root, Collection: p.CollectionID}
	for _, o := range p.Objects {
		e.Items = append(e.Items, LedgerItem{ID: o.ID, Version: o.Version, Verdict: VerdictPending})
	}
	for _, r := range p.Refused {
		e.Items = append(e.Items, LedgerItem{ID: r.ID, Version: r.Version, Verdict: "refused: " + strings.Join(r.Codes, ", ")})
	}
	return e
}

// oneLine keeps a reviewer's reason on one line and within 500 bytes, as status messages are.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > MaxReviewReason {
		s = s[:MaxReviewReason]
	}
	return s
}

// MaxReviewReason bounds the reason of a rejection, in bytes.
const MaxReviewReason = 500

// ReviewQueue is the part of Store that Expire needs.
type ReviewQueue interface {
	PendingObjects(ctx context.Context, q PendingQuery) ([]PendingObject, error)
	Decide(ctx context.Context, d ReviewDecision) ([]ReviewOutcome, error)
}

// Expire rejects, as expired, every object held in s whose expiry is at or before at, request by
// request, up to limit objects; it returns how many it expired. The hub runs it periodically and
// before answering a status that is pending.
func Expire(ctx context.Context, s ReviewQueue, q PendingQuery, at time.Time) (int, error) {
	q.ExpiredBy = at
	held, err := s.PendingObjects(ctx, q)
	if err != nil {
		return 0, err
	}
	type request struct{ collection, status string }
	var order []request
	ids := map[request][]string{}
	for _, p := range held {
		r := request{p.CollectionID, p.StatusID}
		if _, ok := ids[r]; !ok {
			order = append(order, r)
		}
		ids[r] = append(ids[r], p.Object.ID)
	}
	n := 0
	for _, r := range order {
		out, err := s.Decide(ctx, ReviewDecision{CollectionID: r.collection, StatusID: r.status, ObjectIDs: ids[r],
			Expired: true, At: at})
		n += len(out)
		if err != nil {
			return n, fmt.Errorf("expire the held objects of request %s: %w", r.status, err)
		}
	}
	return n, nil
}
