package store

import (
	"fmt"
	"time"
)

// Retention.
//
// A collection's Retention makes each object version it holds expire that long after its date
// added, and a purge (Store.Purge) then removes it. The clock is the date added, the hub's own, and
// not valid_until: a property the publisher chose cannot make the hub keep personal data longer,
// and most objects carry none. Versions are judged one by one, so an object disappears when its
// newest version expires, and an older version goes when it does even if a newer one stays: each
// version is its own copy of what it says.
//
// Expired versions are the oldest of their collection (dates added increase), so a purge removes
// a prefix of the collection in date-added order: a reader paging with a cursor past the prefix
// reads on exactly as before, and one inside it resumes at the first version kept.
//
// What a purge keeps, and why: the origins of ids and content fingerprints, and the withdrawals,
// hold no content (an id, a digest, a member and a time) and enforce rules that must outlive the
// objects: only the first publisher versions an id, a withdrawn id is never accepted again, and a
// member who received content under a partnership forbidding onward sharing cannot post it
// elsewhere once the copy here has expired. The ledger keeps every entry, the purge's own too,
// which lists ids, versions and content digests only.

// LedgerPurge records versions a collection's retention removed: each item the id and version of
// one, with the SHA-256 of its content (never the content). TokenID names who started the purge:
// an operator, or RetentionSweeper for the hub's periodic sweep.
const LedgerPurge LedgerKind = "purge"

// VerdictPurged is the verdict of a version a purge removed.
const VerdictPurged = "purged"

// RetentionSweeper is the TokenID of purge entries the hub's periodic sweep appends.
const RetentionSweeper = "retention-sweep"

// Purge asks Store.Purge to remove versions of one collection whose retention has passed.
type Purge struct {
	CollectionID string
	// Before is the oldest date added kept: versions added strictly before it are removed.
	Before time.Time
	// Limit bounds the versions one call removes, 1 to MaxLimit, so that one transaction and one
	// ledger entry stay small whatever the backlog; More then says that there are others.
	Limit int
	// By names who purges: the ledger entry's TokenID.
	By string
}

// Check refuses a purge no backend should attempt.
func (p Purge) Check() error {
	switch {
	case p.CollectionID == "":
		return &QueryError{Reason: "a purge needs a collection"}
	case p.Before.IsZero():
		return &QueryError{Reason: "a purge needs a date before which versions expire"}
	case p.Limit < 1 || p.Limit > MaxLimit:
		return &QueryError{Reason: fmt.Sprintf("purge limit %d is outside 1..%d", p.Limit, MaxLimit)}
	}
	return nil
}

// PurgeResult is what one Purge call removed.
type PurgeResult struct {
	// Purged is how many versions it removed; the ledger entry lists them.
	Purged int
	// More reports that expired versions remain beyond the limit.
	More bool
}

// PurgedVersion is one version a purge removes: what its ledger item records.
type PurgedVersion struct {
	ID        string
	Version   time.Time
	DateAdded time.Time
	SHA256    []byte
}

// PurgeEntry is the ledger entry of a purge of a collection of root that removed the versions given.
func PurgeEntry(p Purge, root string, removed []PurgedVersion) LedgerEntry {
	e := LedgerEntry{Kind: LedgerPurge, TokenID: p.By, APIRoot: root, Collection: p.CollectionID,
		Items: make([]LedgerItem, len(removed))}
	for i, r := range removed {
		e.Items[i] = LedgerItem{ID: r.ID, Version: r.Version, Verdict: VerdictPurged, SHA256: r.SHA256}
	}
	return e
}

// Status retention: a status resource says how one request went, which its submitter reads within
// minutes. The hub keeps it for a configurable time after the request (DefaultStatusRetention),
// then a sweep removes it and reading it answers 404, as TAXII allows for a status the server no
// longer keeps. A status still pending (objects held for review) is kept until it is not.

// DefaultStatusRetention is how long a status resource is kept after its request by default.
const DefaultStatusRetention = 30 * 24 * time.Hour
