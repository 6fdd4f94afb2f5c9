package sharing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"taxiihub/internal/identity"
	"taxiihub/internal/policy"
	"taxiihub/internal/stix"
	"taxiihub/internal/store"
)

// MaxObjectSize is the largest object, in bytes of its JSON, the hub accepts. An object stays well
// below MongoDB's 16 MB document limit with the hub's own fields beside it, so that every object
// either backend accepts, the other does too; a larger one is refused alone, before anything decodes
// it, and its neighbours are stored.
const MaxObjectSize = 8 << 20

// CodeObjectTooLarge refuses an object larger than MaxObjectSize.
const CodeObjectTooLarge = "object-too-large"

// CodeNotJudged refuses an object the request's time ran out before it could be judged.
const CodeNotJudged = "not-judged"

// publishPart is how many objects of a request are checked and stored together. A request holds
// its objects once and the verdicts and store copies of one part only, not of all of them.
const publishPart = 1000

// Publish stores, on the caller's behalf, the objects that pass the STIX validator and every sharing
// rule of the collection, and returns the request's status, which reports every object and is kept
// for later reads. The work is done before returning, so the status is complete at once.
//
// With dryRun it returns the status the real request would get and stores nothing: no object, no
// status, no ledger entry.
//
// When the store fails midway, the objects stored so far stay stored and the status says which;
// the rest are reported "not stored", for the caller to submit again. Only when nothing was stored
// is the failure returned as an error.
func (s *Service) Publish(ctx context.Context, acc Access, raws []json.RawMessage, dryRun bool) (store.Status, error) {
	return s.PublishWith(ctx, acc, raws, PublishOptions{DryRun: dryRun})
}

// PublishOptions are what a caller may ask of a publication besides its objects.
type PublishOptions struct {
	// DryRun returns the status the real request would get and stores nothing (see Publish).
	DryRun bool
	// AttestIndependent declares that the caller's organisation holds the content it posts
	// independently of what it received from partners: objects the no-onward-sharing rule would
	// refuse are accepted, and the ledger records, before storing them, an attest entry per
	// partnership whose rule they met, which that content's first publisher sees among its pulls.
	// The caller is told nothing of which partnership or member that is.
	AttestIndependent bool
}

// PublishWith is Publish with options.
func (s *Service) PublishWith(ctx context.Context, acc Access, raws []json.RawMessage, opts PublishOptions) (store.Status, error) {
	dryRun := opts.DryRun
	if err := acc.RequireWrite(); err != nil {
		return store.Status{}, err
	}
	identities, err := s.identities(ctx, acc.Root.Slug)
	if err != nil {
		return store.Status{}, err
	}
	// Markings are classified for the whole envelope at once: an object may refer to a definition
	// in a later part, and no object's check should wait on the store.
	markings, err := s.markings(ctx, acc, raws)
	if err != nil {
		return store.Status{}, err
	}
	r := &request{svc: s, acc: acc, dryRun: dryRun, attest: opts.AttestIndependent, identities: identities,
		rules: policy.Rules{Partnership: acc.Root.Policy, Collection: acc.Collection.Policy, Markings: markings},
		status: store.Status{ID: uuid.NewString(), APIRoot: acc.Root.Slug, Submitter: acc.Caller.MemberID,
			RequestTimestamp: s.now(), Successes: []store.StatusDetail{}, Failures: []store.StatusDetail{},
			Pendings: []store.StatusDetail{}}}
	// A dry run is one part: a part's dry run cannot see what an earlier part would have added.
	// Every request reaches the store at least once, also one whose objects were all refused, so
	// that the ledger records it.
	size := publishPart
	if dryRun {
		size = max(1, len(raws))
	}
	for start := 0; start == 0 || start < len(raws); start += size {
		end := min(start+size, len(raws))
		r.publish(ctx, raws[start:end], end == len(raws))
	}
	return r.finish(ctx)
}

// request is one Publish under way, part by part.
type request struct {
	svc    *Service
	acc    Access
	rules  policy.Rules
	dryRun bool
	attest bool
	// identities are the ids of the partnership's members' identities.
	identities map[string]bool
	// status records every part so far.
	status store.Status
	// stored counts the objects stored so far; failed is the store's failure, after which no part
	// is written; saved reports that the status went into the store with the last part.
	stored int
	failed error
	saved  bool
}

// publish checks and stores one part, and records its objects in the status.
func (r *request) publish(ctx context.Context, raws []json.RawMessage, last bool) {
	p := r.svc.check(ctx, raws, r.rules, speaksFor{caller: identity.OfMember(r.acc.Caller.MemberID), identities: r.identities})
	clear(raws) // the part's verdicts hold what is still needed
	if r.failed == nil {
		// A dry run answers as the real request would, and records no attestation: its probe
		// entry records what was asked.
		r.failed = r.svc.checkOnward(ctx, r.acc, p, r.attest, !r.dryRun)
	}
	// A caller who may not see all the collection holds is told "accepted" whatever the store makes
	// of an object: "already present" or "not the owner" would tell it of objects it may not read,
	// and so would answering some objects so and others not.
	plan := p.plan(r.status, !r.acc.SeesAll())
	if r.failed != nil {
		plan.Record(&r.status, nil) // not stored: the caller submits these again
		return
	}
	pub := store.Publication{CollectionID: r.acc.Collection.ID, Member: r.acc.Caller.MemberID, Person: r.acc.Caller.Person,
		TokenID: r.acc.Caller.TokenID, Objects: p.accepted(), Refused: p.refused(), DryRun: r.dryRun}
	if r.acc.Collection.Policy.Review != store.ReviewNone && !r.dryRun {
		r.hold(ctx, pub, plan)
		return
	}
	if last {
		pub.Status = &plan // saved with the write, which then needs no commit of its own
	}
	outcomes, err := r.svc.store.Publish(ctx, pub)
	if err == nil && r.dryRun {
		// A dry run's answer tells about the collection as a pull does: recorded as a probe.
		probe := store.PublishEntry(pub, r.acc.Root.Slug, outcomes)
		probe.Kind = store.LedgerProbe
		err = r.svc.store.RecordPull(ctx, probe)
	}
	r.failed = err
	r.saved = err == nil && pub.Status != nil
	if !r.dryRun {
		r.svc.count(pub, outcomes)
	}
	for _, o := range outcomes {
		if o.Result.Stored() {
			r.stored++
		}
	}
	plan.Record(&r.status, outcomes)
}

// hold submits a part to a collection under review: the objects that passed every check wait, in
// the store, for a reviewer, and the status lists them as pending. Each part saves the status so
// far, so that a request cut short leaves a status that says which objects are held. No object is
// looked up in the collection: "pending review" is all any caller is told, so holding tells
// nothing of what the collection holds.
func (r *request) hold(ctx context.Context, pub store.Publication, plan store.StatusPlan) {
	pub.Status = &plan
	now := r.svc.now()
	err := r.svc.store.Submit(ctx, store.Submission{Publication: pub, At: now,
		Expires: now.Add(r.acc.Collection.Policy.EffectiveReviewTimeout())})
	r.failed = err
	if err != nil {
		plan.Record(&r.status, nil) // not held: the caller submits these again
		return
	}
	r.saved = true
	r.stored += len(pub.Objects)
	r.status = plan.Hold(pub.Objects)
}

// finish returns the request's status, saved unless a dry run, or the store's failure when
// nothing was stored.
func (r *request) finish(ctx context.Context) (store.Status, error) {
	if r.failed != nil {
		if r.stored == 0 || r.dryRun {
			return store.Status{}, fmt.Errorf("sharing: publish to %s: %w", r.acc.Collection.ID, r.failed)
		}
		r.svc.log.ErrorContext(ctx, "publication partly failed", "collection", r.acc.Collection.ID,
			"stored", r.stored, "error", r.failed)
	}
	if !r.dryRun && !r.saved {
		if err := r.svc.store.SaveStatus(ctx, r.status); err != nil {
			// The objects are stored and the caller is given their status; only a later read of the
			// status is lost, which is no reason to make the caller submit again.
			r.svc.log.ErrorContext(ctx, "save status", "status_id", r.status.ID, "error", err)
		}
	}
	return r.status, nil
}

// count tells the tally what became of every object of a publication the store was asked for.
func (s *Service) count(pub store.Publication, outcomes []store.Outcome) {
	for _, r := range pub.Refused {
		reason := "other"
		if len(r.Codes) > 0 {
			reason = r.Codes[0]
		}
		s.tally.Refused(reason)
	}
	for i := range pub.Objects {
		r := store.NotStored // also for the objects a failed call gave no outcome for
		if i < len(outcomes) {
			r = outcomes[i].Result
		}
		if r.Stored() {
			s.tally.Stored(r)
		} else {
			s.tally.Refused(strings.ReplaceAll(r.String(), " ", "-"))
		}
	}
}

// verdict is what the hub makes of one submitted object: the STIX validator's problems, then the
// sharing rules'. The object is stored only when there are no errors.
type verdict struct {
	id       string
	version  time.Time
	errors   []stix.Problem
	warnings []stix.Problem
	// object is what to store: the submission, or the submission stripped of personal data, with
	// its TLP level and fingerprint.
	object store.Object
	// content is what the onward-sharing rule looks up: the fingerprints of the object and of the
	// objects embedded in it.
	content policy.Content
}

func (v verdict) valid() bool { return len(v.errors) == 0 }

// part is a slice of a request's objects, checked and stored together.
type part struct{ verdicts []verdict }

// check runs the validator and the content rules over every object of a part.
//
// Objects are checked on every CPU at once, since checking them costs more than storing them: a
// single large submission would otherwise leave all but one CPU idle while its sender waits. Each
// object's decoded form, which the validator hands on so that the rules need not decode it again,
// is dropped as soon as the rules have read it, so that a request never holds every object decoded
// (several times the size of its bytes) at once.
//
// Once ctx ends (the request's deadline, or its client gone), the objects not yet judged are not
// judged: they are refused as not judged, so that a request crafted to be costly to judge costs at
// most its deadline's worth of CPU, whatever the rules spend on each object.
func (s *Service) check(ctx context.Context, raws []json.RawMessage, rules policy.Rules, author speaksFor) *part {
	p := &part{verdicts: make([]verdict, len(raws))}
	inParallel(len(raws), func(i int) {
		if ctx.Err() != nil {
			p.verdicts[i] = verdict{errors: []stix.Problem{{Code: CodeNotJudged,
				Message: "the request's time ran out before this object was judged; submit it again, in a smaller request"}}}
			return
		}
		p.verdicts[i] = s.checkOne(raws[i], rules, author)
	})
	return p
}

func (s *Service) checkOne(raw []byte, rules policy.Rules, author speaksFor) verdict {
	if len(raw) > MaxObjectSize {
		return verdict{errors: []stix.Problem{{Code: CodeObjectTooLarge, Message: fmt.Sprintf(
			"the object is %d bytes; the hub accepts objects of at most %d bytes", len(raw), MaxObjectSize)}}}
	}
	sv := s.checker.Object(raw)
	v := verdict{id: sv.ID, version: sv.Version, errors: sv.Errors, warnings: sv.Warnings}
	if !sv.Valid() {
		return v
	}
	if problem := author.check(sv.ID, sv.Object); problem != nil {
		v.errors = append(v.errors, *problem)
		return v
	}
	rv := rules.CheckDecoded(raw, sv.Object)
	if !rv.Valid() {
		v.errors = append(v.errors, rv.Errors...)
		return v
	}
	if rv.Stripped {
		// What is stored must still be valid STIX once the personal data is gone.
		if again := s.checker.Object(rv.Content); !again.Valid() {
			v.errors = append(v.errors, stix.Problem{Code: policy.CodePersonalData,
				Message: "the object carries personal data, and removing it would leave the object invalid: " + again.Errors[0].String()})
			return v
		}
	}
	v.warnings = append(v.warnings, rv.Warnings...)
	parsed := sv.Pattern
	if rv.Stripped {
		parsed = nil // what is stored is fingerprinted, and the rules may have changed its pattern
	}
	v.content = policy.ContentOf(sv.Object, parsed)
	v.object = store.Object{ID: sv.ID, Type: sv.Type, SpecVersion: sv.SpecVersion, Version: sv.Version,
		Content: rv.Content, TLP: rv.TLP, Fingerprint: v.content.Fingerprint}
	return v
}

// checkedPerWorker is the fewest objects worth a goroutine of their own: a few objects are checked
// faster than goroutines start.
const checkedPerWorker = 16

// inParallel calls fn(i) for every i below n, on up to GOMAXPROCS goroutines.
func inParallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/checkedPerWorker)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// accepted returns the objects to store, in submission order.
func (p *part) accepted() []store.Object {
	var out []store.Object
	for _, v := range p.verdicts {
		if v.valid() {
			out = append(out, v.object)
		}
	}
	return out
}

// refused lists the objects refused, with the codes of their problems, as the ledger records them.
func (p *part) refused() []store.Refusal {
	var out []store.Refusal
	for _, v := range p.verdicts {
		if v.valid() {
			continue
		}
		// The ledger keeps the codes of the problems a status shows, for the same reason.
		codes := make([]string, min(len(v.errors), maxProblemsShown))
		for i := range codes {
			codes[i] = v.errors[i].Code
		}
		out = append(out, store.Refusal{ID: v.id, Version: v.version, Codes: codes})
	}
	return out
}

// plan is the part's share of the request's status, to be completed with the store's outcomes;
// discreet keeps what the store made of each object from the caller (see store.PlannedDetail).
func (p *part) plan(st store.Status, discreet bool) store.StatusPlan {
	plan := store.StatusPlan{Status: st, Details: make([]store.PlannedDetail, len(p.verdicts))}
	for i, v := range p.verdicts {
		d := store.PlannedDetail{Detail: store.StatusDetail{ID: v.id}}
		if !v.version.IsZero() {
			d.Detail.Version = store.FormatVersion(v.version)
		}
		if v.valid() {
			d.Warnings = joinProblems(v.warnings)
			d.Discreet = discreet
		} else {
			d.Refused = true
			d.Detail.Message = "rejected: " + joinProblems(v.errors)
		}
		plan.Details[i] = d
	}
	return plan
}

// A status says at most maxProblemsShown problems of one object, each in at most maxProblemBytes,
// so that what a status holds (and the store keeps) is a small multiple of the request whatever the
// objects: an object with a hundred faulty property names would otherwise make a status ten times
// its size. The first problems are the ones to fix first.
const (
	maxProblemsShown = 20
	maxProblemBytes  = 300
)

func joinProblems(ps []stix.Problem) string {
	shown := ps[:min(len(ps), maxProblemsShown)]
	parts := make([]string, len(shown), len(shown)+1)
	for i, p := range shown {
		parts[i] = truncate(p.String(), maxProblemBytes)
	}
	if more := len(ps) - len(shown); more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	return strings.Join(parts, "; ")
}

// truncate cuts s to at most n bytes, at a character boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// checkOnward applies the no-onward-sharing rule to the objects of a part that passed every other
// check: it looks up where their ids and fingerprints (and those of the objects embedded in them)
// were first published, the policies of those partnerships, and when the caller last received
// content from each that forbids onward sharing. With attest, objects the rule restricts are
// accepted, and with record the attestation is recorded first.
func (s *Service) checkOnward(ctx context.Context, acc Access, p *part, attest, record bool) error {
	var keys []string
	for _, v := range p.verdicts {
		if v.valid() {
			keys = append(keys, v.content.Keys(v.object.ID)...)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	origins, err := s.store.Origins(ctx, store.SortedSet(keys))
	if err != nil {
		return fmt.Errorf("sharing: origins: %w", err)
	}
	byKey := map[string][]store.Origin{}
	ps := knownPartnerships{policies: map[string]store.PartnershipPolicy{}}
	looked := map[string]bool{acc.Root.Slug: true} // the target's own origins never refuse
	var closed []string
	for _, o := range origins {
		byKey[o.Key] = append(byKey[o.Key], o)
		// The caller's own content never refuses, so neither does the policy of where it is.
		if looked[o.APIRoot] || o.Member == acc.Caller.MemberID {
			continue
		}
		looked[o.APIRoot] = true
		root, err := s.store.APIRoot(ctx, o.APIRoot)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return fmt.Errorf("sharing: policy of %s: %w", o.APIRoot, err)
		}
		ps.policies[o.APIRoot] = root.Policy
		if root.Policy.NoOnwardSharing {
			closed = append(closed, o.APIRoot)
		}
	}
	if len(closed) == 0 {
		return nil
	}
	if ps.received, err = s.store.LastPulls(ctx, acc.Caller.MemberID, closed); err != nil {
		return fmt.Errorf("sharing: what %s received: %w", acc.Caller.MemberID, err)
	}
	attested := map[string]*store.Attestation{}
	var order []string
	for i := range p.verdicts {
		v := &p.verdicts[i]
		if !v.valid() {
			continue
		}
		var of []store.Origin
		for _, k := range v.content.Keys(v.object.ID) {
			of = append(of, byKey[k]...)
		}
		restricting := policy.Restricting(acc.Root.Slug, acc.Caller.MemberID, of, ps)
		if len(restricting) == 0 {
			continue
		}
		if !attest {
			v.errors = append(v.errors, policy.OnwardRefusal())
			continue
		}
		seen := map[string]bool{}
		for _, o := range restricting {
			if seen[o.APIRoot] {
				continue
			}
			seen[o.APIRoot] = true
			a := attested[o.APIRoot]
			if a == nil {
				a = &store.Attestation{APIRoot: o.APIRoot, Target: acc.Root.Slug, CollectionID: acc.Collection.ID,
					Member: acc.Caller.MemberID, TokenID: acc.Caller.TokenID}
				attested[o.APIRoot] = a
				order = append(order, o.APIRoot)
			}
			a.Items = append(a.Items, store.AttestedItem{ID: v.object.ID, Version: v.version, OriginKey: o.Key})
		}
	}
	if !record {
		return nil
	}
	// Recorded before the objects are stored, so that none is stored without its attestation.
	for _, root := range order {
		if err := s.store.RecordPull(ctx, store.AttestEntry(*attested[root])); err != nil {
			return fmt.Errorf("sharing: record an attestation: %w", err)
		}
	}
	return nil
}

// knownPartnerships is policy.Partnerships over policies and pulls already read, for one caller.
type knownPartnerships struct {
	policies map[string]store.PartnershipPolicy
	received map[string]time.Time
}

func (k knownPartnerships) Policy(root string) (store.PartnershipPolicy, bool) {
	p, ok := k.policies[root]
	return p, ok
}

func (k knownPartnerships) LastReceived(root string) (time.Time, bool) {
	at, ok := k.received[root]
	return at, ok
}
