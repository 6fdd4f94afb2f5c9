package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// CursorError reports a Query.Cursor that cannot be used: not one the store made, or made for
// another collection or other filters.
type CursorError struct{ Reason string }

func (e *CursorError) Error() string { return "store: unusable cursor: " + e.Reason }

// cursor is the state a Page.Next carries. It holds the filters themselves, not a digest of them, so
// that a client may resume without repeating its filters and any process can serve the next page.
type cursor struct {
	Collection string  `json:"c"`
	Filters    filters `json:"q"`
	// After is the date added, in Unix microseconds, of the last record already returned.
	After int64 `json:"a"`
}

// The checksum is not a security control (the cursor grants nothing the filters would not); it makes a
// truncated or hand-edited cursor fail loudly instead of silently resuming somewhere else.
const cursorChecksumLen = 6

func (c cursor) encode() string {
	body, err := json.Marshal(c)
	if err != nil {
		// Every field is a plain value; Marshal cannot fail on it.
		panic(fmt.Sprintf("store: encode cursor: %v", err))
	}
	sum := sha256.Sum256(body)
	return base64.RawURLEncoding.EncodeToString(append(body, sum[:cursorChecksumLen]...))
}

func decodeCursor(s string) (cursor, error) {
	// The decoder skips line breaks and, unless strict, stray padding bits; refusing them keeps one
	// cursor to exactly one spelling.
	if strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	}) {
		return cursor{}, &CursorError{Reason: "not a cursor this hub issued"}
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(raw) <= cursorChecksumLen {
		return cursor{}, &CursorError{Reason: "not a cursor this hub issued"}
	}
	body, sum := raw[:len(raw)-cursorChecksumLen], raw[len(raw)-cursorChecksumLen:]
	want := sha256.Sum256(body)
	if !bytes.Equal(sum, want[:cursorChecksumLen]) {
		return cursor{}, &CursorError{Reason: "not a cursor this hub issued"}
	}
	var c cursor
	if err := json.Unmarshal(body, &c); err != nil {
		return cursor{}, &CursorError{Reason: "not a cursor this hub issued"}
	}
	return c, nil
}

// plan is a query resolved against its cursor: what to scan and from where.
type plan struct {
	collection string
	filters    filters
	// after is the exclusive lower bound on date added, in Unix microseconds; -1 means none, since
	// a date added of exactly the epoch is possible in principle.
	after  int64
	limit  int
	maxTLP TLP
}

func (q Query) resolve(collectionID string) (plan, error) {
	if err := q.validate(); err != nil {
		return plan{}, err
	}
	p := plan{collection: collectionID, filters: q.filters(), after: -1, limit: q.Limit, maxTLP: q.MaxTLP}
	if !q.AddedAfter.IsZero() {
		p.after = q.AddedAfter.UnixMicro()
	}
	if q.Cursor == "" {
		return p, nil
	}
	c, err := decodeCursor(q.Cursor)
	if err != nil {
		return plan{}, err
	}
	if c.Collection != collectionID {
		return plan{}, &CursorError{Reason: "it belongs to another collection"}
	}
	if q.hasFilters() && !p.filters.equal(c.Filters) {
		return plan{}, &CursorError{Reason: "it belongs to a query with other filters"}
	}
	p.filters = c.Filters
	p.after = max(p.after, c.After)
	return p, nil
}

func (p plan) next(last time.Time) string {
	return cursor{Collection: p.collection, Filters: p.filters, After: last.UnixMicro()}.encode()
}
