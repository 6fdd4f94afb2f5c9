package admin

import (
	"fmt"
	"strings"
)

// Kind says what went wrong with an operator's request, in terms the HTTP layer maps to a status.
type Kind int

const (
	// Invalid means the request itself is wrong: a malformed slug, a missing title, a grant of
	// nothing. Problems lists every fault found, so an operator fixes a file in one pass.
	Invalid Kind = iota + 1
	// NotFound means the request names a partnership, collection, member, grant, token or key that
	// does not exist.
	NotFound
	// Conflict means the request cannot be done in the hub's current state: a name already taken, a
	// partnership that still holds collections, a key the hub may not replace.
	Conflict
	// Weakens means the request would weaken a sharing rule and was not confirmed: Problems names
	// each weakening. The same request confirmed (confirm_weaken) is carried out.
	Weakens
)

// Error is a refusal of the operator service. Message and Problems are written for the operator
// and never carry internal detail; Err, the cause, is for logs only.
type Error struct {
	Kind     Kind
	Message  string
	Problems []string
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("admin: ")
	b.WriteString(e.Message)
	if len(e.Problems) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Problems, "; "))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func notFound(cause error, format string, args ...any) error {
	return &Error{Kind: NotFound, Message: fmt.Sprintf(format, args...), Err: cause}
}

func conflict(cause error, format string, args ...any) error {
	return &Error{Kind: Conflict, Message: fmt.Sprintf(format, args...), Err: cause}
}

// problems collects everything wrong with a request before refusing it.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// err is nil when nothing was found wrong, else an Invalid error listing every problem.
func (p problems) err(what string) error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Message: what + " is not valid", Problems: p}
}
