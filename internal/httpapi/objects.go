package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"taxiihub/internal/auth"
	"taxiihub/internal/policy"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// sharingStore is what the sharing rules and the ledger need from the store. Store embeds it, so that
// no wrapper of the store can leave the rules or the ledger out without failing to compile.
type sharingStore interface {
	Membership(ctx context.Context, memberID, root string) (store.Membership, error)
	Memberships(ctx context.Context, root string) ([]store.Membership, error)
	Publish(ctx context.Context, p store.Publication) ([]store.Outcome, error)
	Withdraw(ctx context.Context, w store.Withdrawal) (store.Outcome, error)
	Origins(ctx context.Context, keys []string) ([]store.Origin, error)
	RecordPull(ctx context.Context, e store.LedgerEntry) error
	Ledger(ctx context.Context, after int64, limit int) ([]store.LedgerEntry, error)
	LedgerHead(ctx context.Context) (store.LedgerHead, error)
}

// setDateHeaders sends the first and last date added of a page. On an empty page they are left out:
// there is no date to give, and clients such as EclecticIQ break on placeholder values.
func setDateHeaders(c *gin.Context, p store.Page) {
	if first, ok := p.FirstAdded(); ok {
		c.Header("X-TAXII-Date-Added-First", taxii.FormatDateAdded(first))
	}
	if last, ok := p.LastAdded(); ok {
		c.Header("X-TAXII-Date-Added-Last", taxii.FormatDateAdded(last))
	}
}

func (a *api) manifest(c *gin.Context) error {
	page, err := a.collectionPage(c, "manifest", a.store.Manifest)
	if err != nil {
		return err
	}
	writeTAXII(c, http.StatusOK, taxii.NewManifest(page))
	return nil
}

func (a *api) getObjects(c *gin.Context) error {
	page, err := a.collectionPage(c, "objects", a.store.Objects)
	if err != nil {
		return err
	}
	writeTAXII(c, http.StatusOK, taxii.NewEnvelope(page))
	return nil
}

// collectionPage reads one page of a collection for the objects and manifest endpoints and sets
// the date headers. The reader's clearance is applied in the store's scan, so that a page holds only
// what the reader may see and its more and next are exact; each page served is recorded in the
// ledger before it is sent, and not sent when it cannot be recorded.
func (a *api) collectionPage(c *gin.Context, endpoint string,
	read func(ctx context.Context, collectionID string, q store.Query) (store.Page, error)) (store.Page, error) {
	coll, r, err := a.readableCollection(c)
	if err != nil {
		return store.Page{}, err
	}
	q, err := taxii.ParseFilters(c.Request.URL.Query(), taxii.ObjectsEndpoint)
	if err != nil {
		return store.Page{}, err
	}
	q.MaxTLP = r.membership.Clearance
	page, err := read(c.Request.Context(), coll.ID, q)
	if err != nil {
		return store.Page{}, fmt.Errorf("httpapi: %s of %s: %w", endpoint, coll.ID, err)
	}
	if err := a.recordPull(c, coll, endpoint, page); err != nil {
		return store.Page{}, err
	}
	setDateHeaders(c, page)
	return page, nil
}

// recordPull appends the pull of a page to the ledger: who, with which token, from which collection,
// and every object version served.
func (a *api) recordPull(c *gin.Context, coll store.Collection, endpoint string, page store.Page) error {
	p := principal(c)
	e := store.LedgerEntry{Member: p.MemberID, TokenID: p.TokenID, APIRoot: coll.APIRoot, Collection: coll.ID,
		Endpoint: endpoint, Items: make([]store.LedgerItem, len(page.Records))}
	for i, r := range page.Records {
		e.Items[i] = store.LedgerItem{ID: r.ID, Version: r.Version}
	}
	if err := a.store.RecordPull(c.Request.Context(), e); err != nil {
		return fmt.Errorf("httpapi: record the pull of %s: %w", coll.ID, err)
	}
	return nil
}

const noObject = "The collection holds no object with this id."

// objectExists tells a 404 (no such object) from a 200 with an empty page (filters matched nothing).
// Versions above the caller's clearance do not count: to the caller, they do not exist.
func (a *api) objectExists(c *gin.Context, collectionID, objectID string, clearance store.TLP) (bool, error) {
	p, err := a.store.Manifest(c.Request.Context(), collectionID, store.Query{
		IDs: []string{objectID}, Limit: 1, MaxTLP: clearance,
		VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}},
	})
	if err != nil {
		return false, fmt.Errorf("httpapi: look up %s: %w", objectID, err)
	}
	return len(p.Records) > 0, nil
}

func (a *api) getObject(c *gin.Context) error {
	page, err := a.objectPage(c, taxii.ObjectEndpoint, "object", a.store.Objects)
	if err != nil {
		return err
	}
	writeTAXII(c, http.StatusOK, taxii.NewEnvelope(page))
	return nil
}

func (a *api) versions(c *gin.Context) error {
	page, err := a.objectPage(c, taxii.VersionsEndpoint, "versions", a.store.Manifest)
	if err != nil {
		return err
	}
	writeTAXII(c, http.StatusOK, taxii.NewVersions(page))
	return nil
}

// objectPage reads a page about the one object named in the path, for the object and versions
// endpoints, and sets the date headers. An empty first page is a 404 when the collection holds no
// version of the object at all; otherwise it only means the filters matched nothing.
func (a *api) objectPage(c *gin.Context, endpoint taxii.Endpoint, name string,
	read func(ctx context.Context, collectionID string, q store.Query) (store.Page, error)) (store.Page, error) {
	coll, r, err := a.readableCollection(c)
	if err != nil {
		return store.Page{}, err
	}
	q, err := taxii.ParseFilters(c.Request.URL.Query(), endpoint)
	if err != nil {
		return store.Page{}, err
	}
	q.IDs = []string{c.Param("object")}
	q.MaxTLP = r.membership.Clearance
	if endpoint == taxii.VersionsEndpoint {
		q.Versions = store.VersionMatch{All: true}
	}
	page, err := read(c.Request.Context(), coll.ID, q)
	if err != nil {
		return store.Page{}, fmt.Errorf("httpapi: read %s in %s: %w", c.Param("object"), coll.ID, err)
	}
	if len(page.Records) == 0 && q.Cursor == "" {
		exists, err := a.objectExists(c, coll.ID, c.Param("object"), q.MaxTLP)
		if err != nil {
			return store.Page{}, err
		}
		if !exists {
			return store.Page{}, notFound(noObject)
		}
	}
	if err := a.recordPull(c, coll, name, page); err != nil {
		return store.Page{}, err
	}
	setDateHeaders(c, page)
	return page, nil
}

// deleteObject removes the versions selected by match[version] and match[spec_version]. Without
// match[version] that is the last version, as for every other TAXII filter; match[version]=all
// removes them all. It needs both rights, so a write-only publisher cannot probe for objects.
func (a *api) deleteObject(c *gin.Context) error {
	coll, r, err := a.visibleCollection(c)
	if err != nil {
		return err
	}
	if !r.read || !r.write {
		return forbidden("Deleting objects needs both read and write rights on the collection.")
	}
	if !r.membership.Role.CanRead() || !r.membership.Role.CanPublish() {
		return oneWay("Deleting objects needs both roles, publisher and reader, in the partnership.")
	}
	q, err := taxii.ParseFilters(c.Request.URL.Query(), taxii.DeleteEndpoint)
	if err != nil {
		return err
	}
	// A reader may not delete versions it may not see, nor learn of them by trying.
	if r.membership.Clearance != store.TLPNone {
		visible, err := a.objectExists(c, coll.ID, c.Param("object"), r.membership.Clearance)
		if err != nil {
			return err
		}
		if !visible {
			return notFound(noObject)
		}
		all, err := a.objectVersions(c, coll.ID, c.Param("object"), store.TLPNone)
		if err != nil {
			return err
		}
		mine, err := a.objectVersions(c, coll.ID, c.Param("object"), r.membership.Clearance)
		if err != nil {
			return err
		}
		if mine < all {
			return forbidden("Some versions of this object are above your TLP clearance; ask an operator to delete it.")
		}
	}
	n, err := a.store.DeleteVersions(c.Request.Context(), coll.ID, c.Param("object"), q.VersionFilter)
	if errors.Is(err, store.ErrNotFound) {
		return notFound(noObject)
	}
	if err != nil {
		return fmt.Errorf("httpapi: delete %s: %w", c.Param("object"), err)
	}
	if n == 0 {
		return notFound("No version of the object matches the filters.")
	}
	c.Header("Content-Type", TAXIIMediaType)
	c.Status(http.StatusOK)
	return nil
}

func unsupportedMediaType() error {
	return &requestError{status: http.StatusUnsupportedMediaType, code: "unsupported-media-type",
		title:       "Unsupported media type",
		description: "Send the body as " + TAXIIMediaType + " (an envelope) or application/stix+json;version=2.1 (a bundle)."}
}

func tooLarge(description string) error {
	return &requestError{status: http.StatusRequestEntityTooLarge, code: "too-large", title: "Request too large", description: description}
}

// objectVersions counts the versions of an object visible at a clearance.
func (a *api) objectVersions(c *gin.Context, collectionID, objectID string, clearance store.TLP) (int, error) {
	n := 0
	q := store.Query{IDs: []string{objectID}, Limit: store.MaxLimit, MaxTLP: clearance,
		VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}}}
	for {
		p, err := a.store.Manifest(c.Request.Context(), collectionID, q)
		if err != nil {
			return 0, fmt.Errorf("httpapi: versions of %s: %w", objectID, err)
		}
		n += len(p.Records)
		if !p.More {
			return n, nil
		}
		q.Cursor = p.Next
	}
}

// oneWay refuses a request against the caller's role in the partnership.
func oneWay(description string) error {
	return &requestError{status: http.StatusForbidden, code: policy.CodeOneWay, title: "Not permitted in this direction",
		description: description}
}

// addObjects stores what passes the checker and the sharing rules, and reports every object in a
// status resource. The work is done before answering, so the status is complete at once; it is also
// kept for later reads. With dry_run=true it answers 200 with the status the real request would get
// and stores nothing: no object, no status resource, no ledger entry.
func (a *api) addObjects(c *gin.Context) error {
	coll, r, err := a.visibleCollection(c)
	if err != nil {
		return err
	}
	if !r.write {
		return forbidden("Your credentials do not allow adding objects to this collection.")
	}
	if !r.membership.Role.CanPublish() {
		return oneWay("You read this partnership and do not publish in it: its flow runs one way.")
	}
	dryRun, err := boolParam(c, "dry_run")
	if err != nil {
		return err
	}
	if !acceptableBody(c.GetHeader("Content-Type")) {
		return unsupportedMediaType()
	}
	if c.Request.ContentLength > a.maxContentLength {
		return tooLarge(fmt.Sprintf("The body is %d bytes; this API root accepts at most %d (max_content_length).",
			c.Request.ContentLength, a.maxContentLength))
	}
	// Decoded as it is read, so that the body is never held whole next to its objects.
	raws, err := taxii.ReadEnvelope(http.MaxBytesReader(c.Writer, c.Request.Body, a.maxContentLength),
		taxii.MaxObjectsPerEnvelope)
	var tooBig *http.MaxBytesError
	var unread *taxii.ReadError
	switch {
	case errors.As(err, &tooBig):
		return tooLarge(fmt.Sprintf("The body exceeds %d bytes (max_content_length).", a.maxContentLength))
	case errors.As(err, &unread):
		return &requestError{status: http.StatusBadRequest, code: "unreadable-body", title: "Unreadable body",
			description: "The request body could not be read completely.", cause: err}
	case err != nil:
		return err
	}
	requested := a.now()
	ctx := c.Request.Context()
	p := principal(c)
	screen := a.contentScreen(policy.Rules{Partnership: r.root.Policy, Collection: coll.Policy})
	st := taxii.NewStatusRecord(uuid.NewString(), c.Param("root"), p.MemberID, requested)

	// Objects are judged and stored a part at a time, and each part's bytes let go once recorded, so
	// that a request holds its objects once and the verdicts, screenings and store copies of one
	// part only, not of all of them. A dry run is one part: a part's dry run cannot see what an
	// earlier part would have added. Every request reaches the store at least once, also one whose
	// objects were all refused, so that the ledger records it.
	part := publishPart
	if dryRun {
		part = max(1, len(raws))
	}
	stored := 0
	var failed error
	statusSaved := false
	for start := 0; start == 0 || start < len(raws); start += part {
		end := min(start+part, len(raws))
		sub := taxii.Judge(a.checker, raws[start:end], screen)
		clear(raws[start:end])
		if failed != nil {
			sub.Record(&st, nil) // not stored: the client submits these again
			continue
		}
		var outcomes []store.Outcome
		failed = a.screenOnward(c, r.root.Slug, &sub)
		if failed == nil {
			pub := store.Publication{CollectionID: coll.ID, Member: p.MemberID, TokenID: p.TokenID,
				Objects: sub.Accepted(), Refused: sub.Refused(), DryRun: dryRun}
			if end == len(raws) {
				// The last part carries the status, so that it is saved with the write.
				pub.Status = func(outcomes []store.Outcome) store.Status {
					final := cloneStatus(st)
					sub.Record(&final, outcomes)
					return final
				}
			}
			outcomes, failed = a.store.Publish(ctx, pub)
			statusSaved = failed == nil && pub.Status != nil
		}
		for _, o := range outcomes {
			if o.Result.Stored() {
				stored++
			}
		}
		sub.Record(&st, outcomes)
	}
	if failed != nil {
		// Nothing stored: a plain failure the client retries. Some stored: the status says which.
		if stored == 0 || dryRun {
			return fmt.Errorf("httpapi: add objects to %s: %w", coll.ID, failed)
		}
		a.log.ErrorContext(ctx, "add objects partly failed", "request_id", requestID(c),
			"collection", coll.ID, "stored", stored, "error", failed)
	}
	if dryRun {
		writeTAXII(c, http.StatusOK, taxii.NewStatus(st))
		return nil
	}
	if !statusSaved {
		if err := a.store.SaveStatus(ctx, st); err != nil {
			// The objects are stored and this answer carries their status; only a later read of the
			// status resource is lost, which is no reason to make the client resubmit.
			a.log.ErrorContext(ctx, "save status", "request_id", requestID(c), "status_id", st.ID, "error", err)
		}
	}
	writeTAXII(c, http.StatusAccepted, taxii.NewStatus(st))
	return nil
}

// cloneStatus copies a status whose lists are about to be appended to.
func cloneStatus(st store.Status) store.Status {
	st.Successes = slices.Clone(st.Successes)
	st.Failures = slices.Clone(st.Failures)
	st.Pendings = slices.Clone(st.Pendings)
	return st
}

// publishPart is how many objects of a request are judged and stored together; see addObjects.
const publishPart = 1000

// contentScreen applies the content rules of the partnership and the collection to every object the
// checker accepts, and gives each its TLP level and fingerprint. An object stripped of personal data
// is checked again, since what is stored must still be valid STIX.
func (a *api) contentScreen(rules policy.Rules) taxii.ContentScreen {
	return func(obj store.Object, decoded map[string]any) taxii.Screening {
		var d policy.Decision
		if decoded != nil {
			d = rules.JudgeDecoded(obj.Content, decoded)
		} else {
			d = rules.Judge(obj.Content)
		}
		sc := taxii.Screening{Refusals: problems(d.Refusals), Warnings: problems(d.Warnings)}
		if d.Refused() {
			return sc
		}
		if d.Stripped {
			if v := a.checker.Check(d.Content); !v.Valid() {
				sc.Refusals = append(sc.Refusals, taxii.Problem{Code: policy.CodePersonalData,
					Message: "the object carries personal data, and removing it would leave the object invalid: " + v.Errors[0].String()})
				return sc
			}
		}
		obj.Content, obj.TLP, obj.Fingerprint = d.Content, d.TLP, d.Fingerprint
		sc.Object = obj
		return sc
	}
}

func problems(fs []policy.Finding) []taxii.Problem {
	out := make([]taxii.Problem, len(fs))
	for i, f := range fs {
		out[i] = taxii.Problem(f)
	}
	return out
}

// screenOnward applies the no-onward-sharing rule: it looks up where the accepted objects' ids and
// fingerprints were first published, and the policies of those partnerships.
func (a *api) screenOnward(c *gin.Context, target string, sub *taxii.Submission) error {
	ctx := c.Request.Context()
	var keys []string
	for _, o := range sub.Accepted() {
		keys = append(keys, policy.OriginKeys(o.ID, o.Fingerprint)...)
	}
	if len(keys) == 0 {
		return nil
	}
	origins, err := a.store.Origins(ctx, store.SortedSet(keys))
	if err != nil {
		return fmt.Errorf("httpapi: origins: %w", err)
	}
	byKey := map[string][]store.Origin{}
	ps := knownPartnerships{principal: principal(c), policies: map[string]store.PartnershipPolicy{}}
	looked := map[string]bool{target: true} // the target's own origins never refuse
	for _, o := range origins {
		byKey[o.Key] = append(byKey[o.Key], o)
		// Only partnerships the poster takes part in can have given it the content.
		if looked[o.APIRoot] || !ps.Received(o.APIRoot) {
			continue
		}
		looked[o.APIRoot] = true
		root, err := a.store.APIRoot(ctx, o.APIRoot)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return fmt.Errorf("httpapi: policy of %s: %w", o.APIRoot, err)
		}
		ps.policies[o.APIRoot] = root.Policy
	}
	member := principal(c).MemberID
	sub.Screen(func(obj store.Object) taxii.Screening {
		var of []store.Origin
		for _, k := range policy.OriginKeys(obj.ID, obj.Fingerprint) {
			of = append(of, byKey[k]...)
		}
		if f := policy.OnwardSharing(target, member, obj.ID, of, ps); f != nil {
			return taxii.Screening{Refusals: problems([]policy.Finding{*f})}
		}
		return taxii.Screening{Object: obj}
	})
	return nil
}

// knownPartnerships is policy.Partnerships over policies already read, for one caller.
type knownPartnerships struct {
	principal auth.Principal
	policies  map[string]store.PartnershipPolicy
}

func (k knownPartnerships) Policy(root string) (store.PartnershipPolicy, bool) {
	p, ok := k.policies[root]
	return p, ok
}

func (k knownPartnerships) Received(root string) bool { return k.principal.InRoot(root) }

// withdraw lets the publisher of an object withdraw it from a collection: the hub replaces its
// versions with a tombstone pollers receive (see taxii.Tombstone) and never accepts the id again. Only
// the member that first published the object in the partnership may withdraw it.
func (a *api) withdraw(c *gin.Context) error {
	coll, r, err := a.visibleCollection(c)
	if err != nil {
		return err
	}
	if !r.write {
		return forbidden("Your credentials do not allow changing this collection.")
	}
	if !r.membership.Role.CanPublish() {
		return oneWay("You read this partnership and do not publish in it: its flow runs one way.")
	}
	ctx := c.Request.Context()
	p := principal(c)
	objectID := c.Param("object")
	origins, err := a.store.Origins(ctx, []string{store.OriginKeyID(objectID)})
	if err != nil {
		return fmt.Errorf("httpapi: origin of %s: %w", objectID, err)
	}
	publisher := false
	for _, o := range origins {
		publisher = publisher || (o.APIRoot == coll.APIRoot && o.Member == p.MemberID)
	}
	if !publisher {
		// Whether the object exists is none of a non-publisher's business beyond what it may read.
		return notFound("You published no object with this id in this partnership.")
	}
	out, err := a.store.Withdraw(ctx, store.Withdrawal{CollectionID: coll.ID, ObjectID: objectID,
		Member: p.MemberID, TokenID: p.TokenID, Tombstone: taxii.Tombstone})
	if errors.Is(err, store.ErrNotFound) {
		return notFound(noObject)
	}
	if err != nil {
		return fmt.Errorf("httpapi: withdraw %s from %s: %w", objectID, coll.ID, err)
	}
	writeTAXII(c, http.StatusOK, taxii.Versions{Versions: []string{taxii.FormatVersion(out.Version)}})
	return nil
}
