package taxii

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
)

// Verdict is a checker's judgement of one submitted object, with what the store needs to key it.
type Verdict struct {
	ID          string
	Type        string
	SpecVersion string
	// Version is modified, else created, else zero.
	Version  time.Time
	Errors   []Problem
	Warnings []Problem
	// Object is the object as the checker decoded it, numbers kept as json.Number, for the content
	// screen to read without decoding again; nil when the checker keeps none.
	Object map[string]any
}

// Valid reports whether the object may be stored.
func (v Verdict) Valid() bool { return len(v.Errors) == 0 }

// Problem is one finding about an object: a stable code for machines, the JSON path, and a sentence
// for the analyst.
type Problem struct {
	Code    string
	Path    string
	Message string
}

func (p Problem) String() string {
	if p.Path == "" {
		return fmt.Sprintf("[%s] %s", p.Code, p.Message)
	}
	return fmt.Sprintf("[%s] %s: %s", p.Code, p.Path, p.Message)
}

// Checker judges one submitted object from its exact bytes. The STIX validator is the hub's checker;
// Structural is the least any checker must establish.
type Checker interface {
	Check(raw []byte) Verdict
}

// Structural accepts any JSON object with a type, an id of the form <type>--<uuid> and spec_version
// 2.1, and reads its version from modified or created.
type Structural struct{}

// Check implements Checker.
func (Structural) Check(raw []byte) Verdict {
	var obj struct {
		Type        *string `json:"type"`
		ID          *string `json:"id"`
		SpecVersion *string `json:"spec_version"`
		Modified    *string `json:"modified"`
		Created     *string `json:"created"`
	}
	var v Verdict
	fail := func(code, path, msg string) Verdict {
		v.Errors = append(v.Errors, Problem{Code: code, Path: path, Message: msg})
		return v
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fail("not-an-object", "", "the item is not a JSON object with string properties type, id and spec_version")
	}
	if obj.ID != nil {
		v.ID = *obj.ID
	}
	if obj.Type == nil || *obj.Type == "" {
		return fail("missing-type", "/type", "every STIX object needs a type")
	}
	v.Type = *obj.Type
	if obj.ID == nil || !strings.HasPrefix(v.ID, v.Type+"--") || len(v.ID) != len(v.Type)+2+36 {
		return fail("invalid-id", "/id", "the id must be the object's type, two dashes and a UUID")
	}
	if obj.SpecVersion == nil || *obj.SpecVersion != "2.1" {
		return fail("not-stix-2.1", "/spec_version", "the hub stores STIX 2.1 objects only; spec_version must be \"2.1\"")
	}
	v.SpecVersion = *obj.SpecVersion
	for _, stamp := range []struct {
		path  string
		value *string
	}{{"/modified", obj.Modified}, {"/created", obj.Created}} {
		if stamp.value == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, *stamp.value)
		if err != nil {
			return fail("invalid-timestamp", stamp.path, "the value is not an RFC 3339 timestamp")
		}
		if v.Version.IsZero() {
			v.Version = t.UTC()
		}
	}
	return v
}

// Submission is one add-objects request, judged object by object.
type Submission struct {
	verdicts []Verdict
	// accepted lists the indexes of the objects that passed, in submission order.
	accepted []int
	objects  []store.Object
}

// ContentScreen judges an object the checker accepted by its content, given also as the checker
// decoded it (nil if it did not keep it); it may change decoded.
type ContentScreen func(obj store.Object, decoded map[string]any) Screening

// Judge checks every object of an envelope and passes each one the checker accepts through screen,
// if not nil, at once: the object's decoded form, which screen may read, is then dropped, so that a
// request never holds every object decoded (several times the size of its bytes) at the same time.
//
// Objects are judged on every CPU at once, since judging them costs more than storing them: a
// single large submission would otherwise leave all but one CPU idle while its sender waits. The
// checker and screen must therefore be safe for concurrent use, as the validator and the content
// rules are. Verdicts and accepted objects come out in submission order all the same.
func Judge(c Checker, raws []json.RawMessage, screen ContentScreen) Submission {
	s := Submission{verdicts: make([]Verdict, len(raws))}
	screened := make([]*Screening, len(raws))
	inParallel(len(raws), func(i int) {
		v := c.Check(raws[i])
		decoded := v.Object
		v.Object = nil
		s.verdicts[i] = v
		if v.Valid() && screen != nil {
			obj := store.Object{ID: v.ID, Type: v.Type, SpecVersion: v.SpecVersion, Version: v.Version, Content: raws[i]}
			sc := screen(obj, decoded)
			screened[i] = &sc
		}
	})
	for i, v := range s.verdicts {
		if !v.Valid() {
			continue
		}
		obj := store.Object{ID: v.ID, Type: v.Type, SpecVersion: v.SpecVersion, Version: v.Version, Content: raws[i]}
		if sc := screened[i]; sc != nil {
			if !s.apply(i, *sc) {
				continue
			}
			obj = sc.Object
		}
		s.accepted = append(s.accepted, i)
		s.objects = append(s.objects, obj)
	}
	return s
}

// judgedPerWorker is the fewest objects worth a goroutine of their own: a few objects are judged
// faster than goroutines start.
const judgedPerWorker = 16

// inParallel calls judge(i) for every i below n, on up to GOMAXPROCS goroutines.
func inParallel(n int, judge func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/judgedPerWorker)
	if workers <= 1 {
		for i := range n {
			judge(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				judge(i)
			}
		})
	}
	wg.Wait()
}

// apply records a screening of object i in its verdict and reports whether the object stays accepted.
func (s *Submission) apply(i int, sc Screening) bool {
	if len(sc.Refusals) > 0 {
		s.verdicts[i].Errors = append(s.verdicts[i].Errors, sc.Refusals...)
		return false
	}
	s.verdicts[i].Warnings = append(s.verdicts[i].Warnings, sc.Warnings...)
	return true
}

// Accepted returns the objects to store, in submission order.
func (s Submission) Accepted() []store.Object { return s.objects }

// Screening is a further check's judgement of one accepted object.
type Screening struct {
	// Refusals keep the object out; they join its verdict's errors.
	Refusals []Problem
	// Warnings join its verdict's warnings when it is stored.
	Warnings []Problem
	// Object replaces the object to store, for instance stripped of personal data or with its
	// level and fingerprint set.
	Object store.Object
}

// Screen passes every object accepted so far through fn, in submission order. Objects fn refuses
// leave Accepted and are reported as failures with fn's reasons after the checker's.
func (s *Submission) Screen(fn func(obj store.Object) Screening) {
	var accepted []int
	var objects []store.Object
	for k, i := range s.accepted {
		sc := fn(s.objects[k])
		if !s.apply(i, sc) {
			continue
		}
		accepted = append(accepted, i)
		objects = append(objects, sc.Object)
	}
	s.accepted, s.objects = accepted, objects
}

// Refused lists the objects refused, with the codes of their reasons, as the ledger records them.
func (s Submission) Refused() []store.LedgerItem {
	var out []store.LedgerItem
	for _, v := range s.verdicts {
		if v.Valid() {
			continue
		}
		codes := make([]string, len(v.Errors))
		for i, p := range v.Errors {
			codes[i] = p.Code
		}
		out = append(out, store.LedgerItem{ID: v.ID, Version: v.Version, Verdict: "refused: " + strings.Join(codes, ", ")})
	}
	return out
}

// Status records the outcome of every object: outcomes are the store's answers for Accepted, in
// order (all NotStored when the write failed before it began).
func (s Submission) Status(id, root, submitter string, requested time.Time, outcomes []store.Outcome) store.Status {
	st := NewStatusRecord(id, root, submitter, requested)
	s.Record(&st, outcomes)
	return st
}

// NewStatusRecord is the status of a request before any object's outcome is recorded in it.
func NewStatusRecord(id, root, submitter string, requested time.Time) store.Status {
	return store.Status{ID: id, APIRoot: root, Submitter: submitter, RequestTimestamp: requested,
		Successes: []store.StatusDetail{}, Failures: []store.StatusDetail{}, Pendings: []store.StatusDetail{}}
}

// Record adds the outcome of every object of the submission to st, as Status does, for a request
// judged and stored in several parts.
func (s Submission) Record(st *store.Status, outcomes []store.Outcome) {
	outcomeOf := make(map[int]store.Outcome, len(s.accepted))
	for k, i := range s.accepted {
		if k < len(outcomes) {
			outcomeOf[i] = outcomes[k]
		}
	}
	for i, v := range s.verdicts {
		detail := store.StatusDetail{ID: v.ID, Version: versionText(v.Version)}
		if !v.Valid() {
			detail.Message = "rejected: " + joinProblems(v.Errors)
			st.Failures = append(st.Failures, detail)
			continue
		}
		o := outcomeOf[i]
		if o.Result.Stored() {
			detail.Version = FormatVersion(o.Version)
		}
		switch o.Result {
		case store.Added:
			detail.Message = "added"
		case store.Unchanged:
			detail.Message = "already present; nothing changed"
		case store.KeptExisting:
			detail.Message = "this version is already stored with other content; the stored copy was kept (a changed object needs a new modified)"
		case store.Withdrawn:
			detail.Message = "rejected: " + Problem{Code: policy.CodeWithdrawn, Path: "/id",
				Message: "the publisher withdrew this object; the hub does not accept its id again"}.String()
			st.Failures = append(st.Failures, detail)
			continue
		default:
			detail.Message = "not stored: the hub could not complete the write; submit the object again"
			st.Failures = append(st.Failures, detail)
			continue
		}
		if len(v.Warnings) > 0 {
			detail.Message += "; warnings: " + joinProblems(v.Warnings)
		}
		st.Successes = append(st.Successes, detail)
	}
}

func versionText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return FormatVersion(t)
}

func joinProblems(ps []Problem) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}
