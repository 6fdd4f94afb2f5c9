package sharing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"taxiihub/internal/auth"
	"taxiihub/internal/identity"
	"taxiihub/internal/policy"
	"taxiihub/internal/store"
)

// Release review: a reviewer's token (auth.Principal.Reviewer) lists the objects held for review in
// a partnership, looks at them and releases or rejects them. Who may decide a held object is decided
// once, by mayReview, and whatever a reviewer may not decide looks as if it did not exist:
//
//   - the collection's rule own-member: a reviewer token of the publishing member;
//   - partnership: a reviewer token of a member the partnership names as a moderator
//     (PartnershipPolicy.Reviewers) that holds a grant in it; any other member's reviewer token,
//     however many grants it holds, is not a moderator;
//   - never the token that posted the object, so that four eyes are always two people. The hub
//     knows tokens, not people: a person with two tokens (one a reviewer's) could approve their
//     own post, which is why reviewer tokens are issued to a second person only. A person signed in
//     to the console (Principal.Person, with the reviewer role from their provider) has no token,
//     and neither has what people post there: held objects keep no person, so people never decide
//     what people posted, only what the member's tokens did.
//
// Releasing checks every rule again, from the policies, withdrawals, ownership and origins as they
// are then, since they may have changed while the object waited.

// ReviewQuery selects a reviewer's queue in one partnership; empty fields select all.
type ReviewQuery struct {
	// Collection is a collection's id or alias.
	Collection string
	// Publisher is a member id.
	Publisher string
	// OlderThan keeps objects waiting at least this long.
	OlderThan time.Duration
	// Limit bounds the answer, 1..MaxReviewPage; zero means MaxReviewPage.
	Limit int
}

// MaxReviewPage bounds a review queue answer.
const MaxReviewPage = 1000

// HeldObject is one object in a reviewer's queue, with what a reviewer needs to judge it.
type HeldObject struct {
	store.PendingObject
	CollectionAlias string
	// Replaces is the newest version the collection holds of the same id that the reviewer may
	// read (nil when none), and Changes what the held object changes in it, property by property.
	Replaces []byte
	Changes  []PropertyChange
}

// PropertyChange is one top-level property a held object adds, removes or changes in the version
// it replaces.
type PropertyChange struct {
	Property string          `json:"property"`
	Change   string          `json:"change"` // added, removed or changed
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
}

// ReviewQueue lists the objects held in a partnership that the caller may decide, oldest first.
func (s *Service) ReviewQueue(ctx context.Context, caller auth.Principal, root string, q ReviewQuery) ([]HeldObject, error) {
	r, err := s.reviewRoot(ctx, caller, root)
	if err != nil {
		return nil, err
	}
	pq := store.PendingQuery{APIRoot: r.Slug, Member: q.Publisher, Limit: store.MaxLimit}
	if q.Collection != "" {
		c, err := s.store.Collection(ctx, r.Slug, q.Collection)
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound(noCollection)
		}
		if err != nil {
			return nil, fmt.Errorf("sharing: collection %s: %w", q.Collection, err)
		}
		pq.CollectionID = c.ID
	}
	if q.OlderThan > 0 {
		pq.SubmittedBefore = s.now().Add(-q.OlderThan)
	}
	limit := q.Limit
	if limit <= 0 || limit > MaxReviewPage {
		limit = MaxReviewPage
	}
	return s.held(ctx, caller, r, pq, limit, false)
}

// ReviewRequest shows the held objects of one request that the caller may decide, each with the
// version it replaces and the changes it makes. NotFound when there are none.
func (s *Service) ReviewRequest(ctx context.Context, caller auth.Principal, root, statusID string) ([]HeldObject, error) {
	r, err := s.reviewRoot(ctx, caller, root)
	if err != nil {
		return nil, err
	}
	out, err := s.held(ctx, caller, r, store.PendingQuery{APIRoot: r.Slug, StatusID: statusID, Limit: store.MaxLimit}, MaxReviewPage, true)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, notFound(noHeld)
	}
	return out, nil
}

// Decision is a reviewer's release or rejection of objects of one request.
type Decision struct {
	StatusID string
	// ObjectIDs are the objects decided; empty decides every object of the request the caller may.
	ObjectIDs []string
	Approve   bool
	// Reason is required for a rejection: the publisher reads it in its status.
	Reason string
}

// Decide releases or rejects held objects of one request, after checking every rule again for a
// release; it returns what became of each. NotFound when the caller may decide none of them.
func (s *Service) Decide(ctx context.Context, caller auth.Principal, root string, d Decision) ([]store.ReviewOutcome, error) {
	r, err := s.reviewRoot(ctx, caller, root)
	if err != nil {
		return nil, err
	}
	if !d.Approve && len(d.Reason) == 0 {
		return nil, &Error{Kind: Invalid, Message: "A rejection needs a reason: the publisher reads it in its status."}
	}
	if len(d.Reason) > store.MaxReviewReason {
		return nil, &Error{Kind: Invalid, Message: fmt.Sprintf("The reason is %d bytes; at most %d.", len(d.Reason), store.MaxReviewReason)}
	}
	held, err := s.held(ctx, caller, r, store.PendingQuery{APIRoot: r.Slug, StatusID: d.StatusID, ObjectIDs: d.ObjectIDs,
		Limit: store.MaxLimit}, store.MaxLimit, false)
	if err != nil {
		return nil, err
	}
	if len(held) == 0 {
		return nil, notFound(noHeld)
	}
	// A request is posted to one collection by one member, so the objects share both.
	coll, err := s.store.Collection(ctx, r.Slug, held[0].CollectionID)
	if err != nil {
		return nil, fmt.Errorf("sharing: collection of request %s: %w", d.StatusID, err)
	}
	dec := store.ReviewDecision{CollectionID: coll.ID, StatusID: d.StatusID, Approve: d.Approve, Reason: d.Reason,
		Reviewer: caller.MemberID, ReviewerToken: caller.TokenID, ReviewerPerson: caller.Person, At: s.now()}
	for _, h := range held {
		dec.ObjectIDs = append(dec.ObjectIDs, h.Object.ID)
	}
	dec.ObjectIDs = store.SortedSet(dec.ObjectIDs)
	if d.Approve {
		if dec.Refused, err = s.recheck(ctx, r, coll, held); err != nil {
			return nil, err
		}
	}
	out, err := s.store.Decide(ctx, dec)
	if err != nil {
		return nil, fmt.Errorf("sharing: decide on request %s: %w", d.StatusID, err)
	}
	for _, o := range out {
		if dec.Released(o.Pending) && o.Outcome.Result.Stored() {
			s.tally.Released(dec.At.Sub(o.Pending.SubmittedAt))
		}
		s.log.InfoContext(ctx, "review decision", "status_id", d.StatusID, "object_id", o.Pending.Object.ID,
			"publisher", o.Pending.Member, "reviewer", caller.MemberID, "token_id", caller.TokenID, "person", caller.Person.String(), "message", o.Message)
	}
	return out, nil
}

// noHeld answers a reviewer asking about objects it may not decide, or that are not held.
const noHeld = "There are no objects held for review with this request id that your credentials may decide."

// reviewRoot returns the partnership if the caller is a reviewer holding a grant in it.
func (s *Service) reviewRoot(ctx context.Context, caller auth.Principal, root string) (store.APIRoot, error) {
	r, err := s.Root(ctx, caller, root)
	if err != nil {
		return store.APIRoot{}, err
	}
	if !caller.Reviewer {
		return store.APIRoot{}, forbidden("Your credentials are not a reviewer's: a member's reviewer token releases what is held for review.")
	}
	return r, nil
}

// mayReview reports whether caller may decide an object held in a collection under rule, in a
// partnership whose rules are root.
func mayReview(caller auth.Principal, root store.PartnershipPolicy, rule store.ReviewRule, p store.PendingObject) bool {
	if !caller.Reviewer || caller.TokenID == p.TokenID {
		return false
	}
	switch rule {
	case store.ReviewOwnMember:
		return caller.MemberID == p.Member
	case store.ReviewPartnership:
		return slices.Contains(root.Reviewers, caller.MemberID) && caller.InRoot(p.APIRoot)
	}
	// A collection whose review was switched off holds objects nobody but the hub's expiry decides.
	return false
}

// held reads the held objects pq selects and keeps those the caller may decide, up to limit, with
// the versions they replace when withDiff.
func (s *Service) held(ctx context.Context, caller auth.Principal, r store.APIRoot, pq store.PendingQuery, limit int, withDiff bool) ([]HeldObject, error) {
	all, err := s.store.PendingObjects(ctx, pq)
	if err != nil {
		return nil, fmt.Errorf("sharing: held objects in %s: %w", r.Slug, err)
	}
	colls := map[string]store.Collection{}
	var out []HeldObject
	for _, p := range all {
		c, ok := colls[p.CollectionID]
		if !ok {
			if c, err = s.store.Collection(ctx, r.Slug, p.CollectionID); err != nil {
				return nil, fmt.Errorf("sharing: collection %s: %w", p.CollectionID, err)
			}
			colls[p.CollectionID] = c
		}
		if !mayReview(caller, r.Policy, c.Policy.Review, p) {
			continue
		}
		h := HeldObject{PendingObject: p, CollectionAlias: c.Alias}
		if withDiff {
			if err := s.replaced(ctx, caller, r, c, &h); err != nil {
				return nil, err
			}
		}
		out = append(out, h)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// replaced fills in the version a held object replaces, as far as the reviewer may read it: what a
// reviewer is shown must not be more than its own grant and clearance let it read.
func (s *Service) replaced(ctx context.Context, caller auth.Principal, r store.APIRoot, c store.Collection, h *HeldObject) error {
	acc, err := s.access(ctx, caller, r, c)
	if err != nil || !acc.CanRead() {
		return nil //nolint:nilerr // a reviewer without read access is shown no previous version
	}
	page, err := s.store.Objects(ctx, c.ID, store.Query{IDs: []string{h.Object.ID}, Limit: 1,
		MaxTLP: acc.Membership.Clearance}) // the zero version filter is the newest
	if err != nil {
		return fmt.Errorf("sharing: version replaced by %s: %w", h.Object.ID, err)
	}
	if len(page.Records) == 0 {
		return nil
	}
	h.Replaces = page.Records[0].Content
	h.Changes = diffProperties(h.Replaces, h.Object.Content)
	return nil
}

// publisherRevoked returns why the publisher of p may no longer add it to c, or "" when it still
// may: a release stores on the publisher's behalf, so it needs what the post needed, as it is at
// release. The grant to write the collection must still be there (removing it, or the member,
// stops what it posted and nobody has released yet), and the token it posted with must not have
// been revoked since (a token revoked as stolen must not publish through a reviewer who trusted
// it). A token without a record is a client certificate's, whose trust ends with its grant.
func (s *Service) publisherRevoked(ctx context.Context, c store.Collection, p store.PendingObject) (string, error) {
	grants, err := s.store.Grants(ctx, p.Member)
	if err != nil {
		return "", fmt.Errorf("sharing: grants of %s: %w", p.Member, err)
	}
	if !slices.ContainsFunc(grants, func(g store.Grant) bool { return g.CollectionID == c.ID && g.Write }) {
		return "rejected: [write-revoked] the publisher's grant to write this collection was removed while the object was held", nil
	}
	tok, err := s.store.Token(ctx, p.TokenID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("sharing: token %s: %w", p.TokenID, err)
	case tok.Revoked():
		return "rejected: [token-revoked] the token the object was posted with was revoked while it was held", nil
	}
	return "", nil
}

// diffProperties lists the top-level properties after adds, removes or changes in before. It
// compares properties by their exact JSON, which is what the reviewer is asked to release.
func diffProperties(before, after []byte) []PropertyChange {
	var b, a map[string]json.RawMessage
	if json.Unmarshal(before, &b) != nil || json.Unmarshal(after, &a) != nil {
		return nil
	}
	var out []PropertyChange
	for _, k := range slices.Sorted(maps.Keys(a)) {
		old, had := b[k]
		switch {
		case !had:
			out = append(out, PropertyChange{Property: k, Change: "added", After: a[k]})
		case !bytes.Equal(bytes.TrimSpace(old), bytes.TrimSpace(a[k])):
			out = append(out, PropertyChange{Property: k, Change: "changed", Before: old, After: a[k]})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[k]; !ok {
			out = append(out, PropertyChange{Property: k, Change: "removed", Before: b[k]})
		}
	}
	return out
}

// recheck judges held objects again against the rules as they are at release, for their
// publisher: the STIX validator, that no member speaks for another, the collection's and
// partnership's policies and the onward-sharing rule. It returns the failure message of every
// object a rule now refuses. Withdrawals and ownership are decided by the store in the release's
// own write.
func (s *Service) recheck(ctx context.Context, r store.APIRoot, c store.Collection, held []HeldObject) (map[string]string, error) {
	publisher := held[0].Member
	refused := map[string]string{}
	m, err := s.standing(ctx, publisher, r.Slug)
	if err != nil {
		return nil, err
	}
	reason := ""
	if !m.Role.CanPublish() {
		reason = "rejected: [one-way] the publisher no longer publishes in this partnership"
	} else if reason, err = s.publisherRevoked(ctx, c, held[0].PendingObject); err != nil {
		return nil, err
	}
	if reason != "" {
		for _, h := range held {
			refused[h.Object.ID] = reason
		}
		return refused, nil
	}
	raws := make([]json.RawMessage, len(held))
	for i, h := range held {
		raws[i] = h.Object.Content
	}
	acc := Access{Caller: auth.NewPrincipal(publisher, held[0].TokenID, nil), Root: r, Collection: c, Membership: m}
	identities, err := s.identities(ctx, r.Slug)
	if err != nil {
		return nil, err
	}
	markings, err := s.markings(ctx, acc, raws)
	if err != nil {
		return nil, err
	}
	rules := policy.Rules{Partnership: r.Policy, Collection: c.Policy, Markings: markings}
	p := s.check(ctx, raws, rules, speaksFor{caller: identity.OfMember(publisher), identities: identities})
	if err := s.checkOnward(ctx, acc, p, false, false); err != nil {
		return nil, err
	}
	for i, v := range p.verdicts {
		switch {
		case !v.valid():
			refused[held[i].Object.ID] = "rejected: " + joinProblems(v.errors)
		case !bytes.Equal(v.object.Content, held[i].Object.Content):
			// The partnership strips personal data now: what was held is not what the rules would
			// store, and the reviewer looked at the held copy.
			refused[held[i].Object.ID] = "rejected: [personal-data] the partnership's rules changed while the object was held; post it again"
		}
	}
	return refused, nil
}
