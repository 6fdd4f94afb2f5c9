package stix

import (
	"taxiihub/internal/stix/pattern"

	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Problem is one finding about an object or a document.
type Problem struct {
	// Code is stable and machine-readable; see the Code* constants.
	Code string `json:"code"`
	// Path is an RFC 6901 JSON Pointer to the offending value. In a Verdict returned by
	// Validator.Object it is relative to the object ("/kill_chain_phases/0/phase_name", or ""
	// for the object as a whole); in a DocumentVerdict it is relative to the document
	// ("/objects/3/kill_chain_phases/0/phase_name").
	Path string `json:"path"`
	// Message is a sentence for a person.
	Message string `json:"message"`
}

// String renders the problem as statuses show it: "[code] path: message", or "[code] message" for
// the object as a whole.
func (p Problem) String() string {
	if p.Path == "" {
		return fmt.Sprintf("[%s] %s", p.Code, p.Message)
	}
	return fmt.Sprintf("[%s] %s: %s", p.Code, p.Path, p.Message)
}

// Verdict is the outcome of validating one object.
type Verdict struct {
	// ID, Type and SpecVersion are as found in the object, empty when missing or not strings.
	ID, Type, SpecVersion string
	// Version is modified, else created, else the zero time (observables): the store keys
	// versions by it. It is zero as well when the timestamp is malformed.
	Version time.Time
	// Errors are violations of MUST-level rules; any error makes the object invalid.
	Errors []Problem
	// Warnings are SHOULD-level findings; they never make an object invalid.
	Warnings []Problem
	// Object is the object as decoded for checking (numbers kept as json.Number), nil when the
	// input is not a JSON object. Decoding costs as much as checking, so callers that judge the
	// object further read this instead of decoding the bytes again; it is theirs to change.
	Object map[string]any
	// Pattern is the parsed pattern of an indicator whose STIX pattern is valid, nil otherwise,
	// for callers that read the pattern further without parsing it again.
	Pattern *pattern.Pattern
}

// Valid reports whether the object has no errors.
func (v Verdict) Valid() bool { return len(v.Errors) == 0 }

// maxProblems bounds the errors, and separately the warnings, reported for one object. An
// object with more is refused all the same; the bound keeps a hostile object from costing
// memory and time in proportion to its size times the cost of a message.
const maxProblems = 100

// report collects the problems found while checking one object.
type report struct {
	errors   []Problem
	warnings []Problem
	// moreErrors and moreWarnings count the problems beyond maxProblems, which are dropped.
	moreErrors, moreWarnings int
}

func (r *report) errorf(code string, at loc, format string, args ...any) {
	if r.full() { // before formatting: a hostile object may hold millions of faults
		r.moreErrors++
		return
	}
	r.add(Problem{Code: code, Path: at.pointer(), Message: fmt.Sprintf(format, args...)})
}

func (r *report) warnf(code string, at loc, format string, args ...any) {
	if len(r.warnings) >= maxProblems {
		r.moreWarnings++
		return
	}
	r.warnings = append(r.warnings, Problem{Code: code, Path: at.pointer(), Message: fmt.Sprintf(format, args...)})
}

// add records an error.
func (r *report) add(p Problem) {
	if r.full() {
		r.moreErrors++
		return
	}
	r.errors = append(r.errors, p)
}

// full reports whether no more errors will be recorded, so that costly checks can stop.
func (r *report) full() bool { return len(r.errors) >= maxProblems }

// finish orders the problems by location, so that a verdict reads top to bottom and is the
// same from one run to the next (objects are maps, visited in random order), and says how many
// were dropped.
func (r *report) finish() {
	byPath := func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Code, b.Code), cmp.Compare(a.Message, b.Message))
	}
	slices.SortStableFunc(r.errors, byPath)
	slices.SortStableFunc(r.warnings, byPath)
	if r.moreErrors > 0 {
		r.errors = append(r.errors, Problem{Code: CodeTooManyProblems,
			Message: fmt.Sprintf("Only the first %d errors are reported; checking stopped early.", maxProblems)})
		r.moreErrors = 0
	}
	if r.moreWarnings > 0 {
		r.warnings = append(r.warnings, Problem{Code: CodeTooManyProblems,
			Message: fmt.Sprintf("Only the first %d warnings are reported.", maxProblems)})
		r.moreWarnings = 0
	}
}

// merge adds the problems of a nested report, with their paths moved under prefix.
func (r *report) merge(prefix string, nested *report) {
	for _, p := range nested.errors {
		p.Path = prefix + p.Path
		r.add(p)
	}
	r.moreErrors += nested.moreErrors
	for _, p := range nested.warnings {
		if len(r.warnings) >= maxProblems {
			r.moreWarnings++
			continue
		}
		p.Path = prefix + p.Path
		r.warnings = append(r.warnings, p)
	}
	r.moreWarnings += nested.moreWarnings
}

// loc is a location inside an object, rendered only when a problem is reported. Extending a
// loc with key or index may write into its spare capacity, which lets a walk reuse one buffer
// without allocating; so a loc is rendered at once and never kept, and two extensions of the
// same loc must not be alive together.
type loc []step

// step is a property name, or a list index when name is empty.
type step struct {
	name  string
	index int
}

// at builds a location from property names (string) and list indexes (int). It is meant for
// error paths, where its allocations do not matter.
func at(steps ...any) loc {
	l := make(loc, 0, len(steps))
	for _, s := range steps {
		switch s := s.(type) {
		case string:
			l = append(l, step{name: s})
		case int:
			l = append(l, step{index: s})
		}
	}
	return l
}

func (l loc) key(name string) loc { return append(l, step{name: name}) }

func (l loc) index(i int) loc { return append(l, step{index: i}) }

// pointer renders l as an RFC 6901 JSON Pointer.
func (l loc) pointer() string {
	var b strings.Builder
	for _, s := range l {
		b.WriteByte('/')
		if s.name == "" {
			b.WriteString(strconv.Itoa(s.index))
		} else {
			b.WriteString(escapePointer(s.name))
		}
	}
	return b.String()
}

// String renders l the way messages name a property: kill_chain_phases[0].phase_name.
func (l loc) String() string {
	if len(l) == 0 {
		return "the object"
	}
	var b strings.Builder
	for i, s := range l {
		if s.name == "" {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
	}
	return b.String()
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return pointerEscaper.Replace(s)
}

// quote renders a value found in a document for a message: quoted, and shortened when long.
func quote(s string) string { return strconv.Quote(shorten(s)) }

// shorten cuts s to a length fit for a message, on a character boundary.
func shorten(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// withArticle puts "a" or "an" before a type name, for messages.
func withArticle(word string) string {
	if word != "" && strings.ContainsRune("aeio", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
