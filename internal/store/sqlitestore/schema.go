package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations bring the schema from version i (PRAGMA user_version) to i+1. Append to change the
// schema; never edit a migration that has shipped.
//
// All timestamps are INTEGER Unix microseconds. Dates added are unique per collection (the keyset
// index objects_added), and collections.last_added remembers the latest one ever assigned, so that
// a date added is never reused even after the version that had it is deleted.
var migrations = []string{
	`
CREATE TABLE api_roots (
	slug        TEXT PRIMARY KEY,
	title       TEXT NOT NULL,
	description TEXT NOT NULL
);

CREATE TABLE collections (
	id          TEXT PRIMARY KEY,
	api_root    TEXT NOT NULL REFERENCES api_roots(slug),
	title       TEXT NOT NULL,
	alias       TEXT NOT NULL,
	description TEXT NOT NULL,
	media_types TEXT NOT NULL, -- JSON array
	last_added  INTEGER NOT NULL DEFAULT 0
);
-- Lists a root's collections in order, and serves the foreign key check when a root is deleted.
CREATE INDEX collections_by_root ON collections(api_root, title, id);
CREATE UNIQUE INDEX collections_alias ON collections(api_root, alias) WHERE alias <> '';

CREATE TABLE objects (
	collection_id  TEXT NOT NULL REFERENCES collections(id),
	object_id      TEXT NOT NULL,
	version        INTEGER NOT NULL,
	spec_version   TEXT NOT NULL,
	type           TEXT NOT NULL,
	date_added     INTEGER NOT NULL,
	content_sha256 BLOB NOT NULL,
	content        BLOB NOT NULL,
	PRIMARY KEY (collection_id, object_id, version)
);
-- The keyset index every page is read from, in date-added order.
CREATE UNIQUE INDEX objects_added ON objects(collection_id, date_added);
-- A page filtered by one type reads in date-added order without touching other types.
CREATE INDEX objects_type_added ON objects(collection_id, type, date_added);

CREATE TABLE statuses (
	api_root TEXT NOT NULL,
	id       TEXT NOT NULL,
	body     TEXT NOT NULL, -- JSON, see statusJSON
	PRIMARY KEY (api_root, id)
);
`,
	// 1 to 2: members, their grants on collections and the tokens issued to them; statuses record
	// who submitted them.
	`
CREATE TABLE members (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	jurisdiction TEXT NOT NULL,
	contact      TEXT NOT NULL
);

-- A grant's API root is its collection's: a collection never moves between roots.
CREATE TABLE grants (
	member_id     TEXT NOT NULL REFERENCES members(id),
	collection_id TEXT NOT NULL REFERENCES collections(id),
	can_read      INTEGER NOT NULL,
	can_write     INTEGER NOT NULL,
	PRIMARY KEY (member_id, collection_id)
);
-- Lists a collection's grants by member, and serves the foreign key check when a collection is
-- deleted.
CREATE INDEX grants_by_collection ON grants(collection_id, member_id);

-- subject is a member id or an operator's name, and no foreign key: a token record outlives its
-- member, revoked, so that it can still be listed.
CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	subject    TEXT NOT NULL,
	issued_at  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER, -- NULL while the token is usable
	note       TEXT NOT NULL
);
-- Lists tokens in order without a sort.
CREATE INDEX tokens_issued ON tokens(issued_at, id);
-- Finds a member's tokens when it is deleted.
CREATE INDEX tokens_by_subject ON tokens(subject, kind);

-- Statuses saved before members existed have no submitter.
ALTER TABLE statuses ADD COLUMN submitter TEXT NOT NULL DEFAULT '';
`,
	// 2 to 3: the public keys every hub process verifies tokens with, and the operators' audit log.
	`
CREATE TABLE verification_keys (
	kid        TEXT PRIMARY KEY,
	public_key BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	retired_at INTEGER -- NULL while the key verifies tokens
);
-- Lists keys in order without a sort.
CREATE INDEX verification_keys_created ON verification_keys(created_at, kid);

-- AUTOINCREMENT, not a bare rowid: a sequence number is never handed out twice, even if the last
-- entries were ever removed by hand, so a reader resuming after one cannot skip a later entry.
CREATE TABLE audit (
	seq    INTEGER PRIMARY KEY AUTOINCREMENT,
	at     INTEGER NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	detail TEXT NOT NULL
);
`,
	// 3 to 4: the sharing rules of partnerships and collections, memberships, each version's TLP
	// level, withdrawals, the origins of published content, and the ledger of publishes and pulls.
	`
-- Policies: lists are JSON arrays of sorted, distinct strings; max_tlp is a store.TLP (0: none).
ALTER TABLE api_roots ADD COLUMN personal_data TEXT NOT NULL DEFAULT '';
ALTER TABLE api_roots ADD COLUMN jurisdictions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_roots ADD COLUMN no_onward_sharing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collections ADD COLUMN allowed_types TEXT NOT NULL DEFAULT '[]';
ALTER TABLE collections ADD COLUMN denied_properties TEXT NOT NULL DEFAULT '[]';
ALTER TABLE collections ADD COLUMN max_tlp INTEGER NOT NULL DEFAULT 0;

CREATE TABLE memberships (
	api_root  TEXT NOT NULL REFERENCES api_roots(slug),
	member_id TEXT NOT NULL REFERENCES members(id),
	role      TEXT NOT NULL,
	clearance INTEGER NOT NULL,
	PRIMARY KEY (api_root, member_id)
);
-- Finds a member's memberships when it is deleted or changes jurisdiction.
CREATE INDEX memberships_by_member ON memberships(member_id);

-- Versions stored before this step carry no TLP marking the hub knows of: level 0, seen by all.
ALTER TABLE objects ADD COLUMN tlp INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0;

-- Who first published an object id ('id:...') or a content fingerprint ('fp:...') in a partnership.
-- No foreign keys: origins are kept for good, like the ledger.
CREATE TABLE origins (
	key       TEXT NOT NULL,
	api_root  TEXT NOT NULL,
	member_id TEXT NOT NULL,
	at        INTEGER NOT NULL,
	PRIMARY KEY (key, api_root)
) WITHOUT ROWID;

-- Object ids withdrawn by their publishers, which the hub never accepts again.
CREATE TABLE withdrawals (
	object_id     TEXT PRIMARY KEY,
	collection_id TEXT NOT NULL,
	member_id     TEXT NOT NULL,
	at            INTEGER NOT NULL
);

-- The hash-chained ledger. AUTOINCREMENT and one writer at a time keep seq dense and in append order;
-- items is a JSON array (see itemJSON).
CREATE TABLE ledger (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	at            INTEGER NOT NULL,
	kind          TEXT NOT NULL,
	member_id     TEXT NOT NULL,
	token_id      TEXT NOT NULL,
	api_root      TEXT NOT NULL,
	collection_id TEXT NOT NULL,
	endpoint      TEXT NOT NULL,
	items         TEXT NOT NULL,
	prev_hash     BLOB NOT NULL,
	hash          BLOB NOT NULL
);
-- Where the ledger ends, kept apart from the entries so that removing the last ones shows.
CREATE TABLE ledger_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash BLOB NOT NULL
);
`,
	// 4 to 5: a withdrawal holds in the partnership it was made in, not everywhere. Withdrawals from
	// a collection deleted since keep an empty partnership, where they bar nothing.
	`
CREATE TABLE withdrawals_by_root (
	api_root      TEXT NOT NULL,
	object_id     TEXT NOT NULL,
	collection_id TEXT NOT NULL,
	member_id     TEXT NOT NULL,
	at            INTEGER NOT NULL,
	PRIMARY KEY (api_root, object_id)
) WITHOUT ROWID;
INSERT INTO withdrawals_by_root (api_root, object_id, collection_id, member_id, at)
	SELECT COALESCE(c.api_root, ''), w.object_id, w.collection_id, w.member_id, w.at
	FROM withdrawals w LEFT JOIN collections c ON c.id = w.collection_id;
DROP TABLE withdrawals;
ALTER TABLE withdrawals_by_root RENAME TO withdrawals;
`,
	// 5 to 6: the members collection of each partnership, which holds its members' identities.
	`
ALTER TABLE collections ADD COLUMN members INTEGER NOT NULL DEFAULT 0;
-- One members collection per root, also when two hub processes create it at once.
CREATE UNIQUE INDEX collections_members ON collections(api_root) WHERE members;
`,
	// 6 to 7: the audit trail is hash-chained like the ledger. Entries written before have empty
	// hashes here; Open chains them (see chainAudit), which SQL alone cannot, and creates the head.
	`
ALTER TABLE audit ADD COLUMN prev_hash BLOB NOT NULL DEFAULT x'';
ALTER TABLE audit ADD COLUMN hash BLOB NOT NULL DEFAULT x'';
-- Where the audit trail ends, kept apart from the entries so that removing the last ones shows.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash BLOB NOT NULL
);
`,
	// 7 to 8: what a collection does with objects without a TLP marking ('' treats them as CLEAR, as
	// before; 'refuse'), and the properties it allows per object type (a JSON object of type to
	// sorted property paths; '{}' allows any). Objects of an unclassifiable level need no column:
	// their tlp is store.TLPUnknown, above every level.
	`
ALTER TABLE collections ADD COLUMN unmarked TEXT NOT NULL DEFAULT '';
ALTER TABLE collections ADD COLUMN allowed_properties TEXT NOT NULL DEFAULT '{}';
`,
	// 8 to 9: the seed files applied at start, so that a restart does not apply one again over what
	// operators changed since; and the state of a rule before and after each audited change.
	`
ALTER TABLE audit ADD COLUMN state_before TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN state_after TEXT NOT NULL DEFAULT '';
CREATE TABLE seeds (
	digest     TEXT PRIMARY KEY,
	path       TEXT NOT NULL,
	applied_at INTEGER NOT NULL
) WITHOUT ROWID;
`,
	// 9 to 10: onward sharing by content and by what members received. Origins re-keyed from an
	// older fingerprint scheme name the origin they were derived from; Open re-keys them (see
	// upgradeFingerprints), which SQL alone cannot, and records it in upgrades. ledger_content_pulls
	// answers LastPulls: one entry per pull that served content, about 50 bytes each.
	`
ALTER TABLE origins ADD COLUMN derived_from TEXT NOT NULL DEFAULT '';
CREATE TABLE upgrades (
	name TEXT PRIMARY KEY,
	at   INTEGER NOT NULL
);
CREATE INDEX ledger_content_pulls ON ledger(member_id, api_root, at)
	WHERE kind = 'pull' AND endpoint IN ('objects', 'object') AND items <> '[]';
`,
	// 10 to 11: release review. Who releases what is posted to a collection ('' nobody: stored at
	// once; 'own-member'; 'partnership') and how long a posted object waits, in nanoseconds (0: the
	// default).
	`
ALTER TABLE collections ADD COLUMN review TEXT NOT NULL DEFAULT '';
ALTER TABLE collections ADD COLUMN review_timeout INTEGER NOT NULL DEFAULT 0;
-- A partner token that may also release or reject what the member's colleagues post.
ALTER TABLE tokens ADD COLUMN reviewer INTEGER NOT NULL DEFAULT 0;
-- Objects held for review, apart from objects so that no read of a collection meets them. Times
-- and versions in Unix microseconds; version 0 for an object without one.
CREATE TABLE pending (
	seq           INTEGER PRIMARY KEY,
	collection_id TEXT NOT NULL,
	api_root      TEXT NOT NULL,
	status_id     TEXT NOT NULL,
	member_id     TEXT NOT NULL,
	token_id      TEXT NOT NULL,
	object_id     TEXT NOT NULL,
	type          TEXT NOT NULL,
	spec_version  TEXT NOT NULL,
	version       INTEGER NOT NULL,
	content       BLOB NOT NULL,
	tlp           INTEGER NOT NULL,
	fingerprint   TEXT NOT NULL,
	warnings      TEXT NOT NULL,
	submitted_at  INTEGER NOT NULL,
	expires       INTEGER NOT NULL
);
CREATE INDEX pending_request ON pending(collection_id, status_id);
CREATE INDEX pending_expiry ON pending(expires);
CREATE INDEX pending_root ON pending(api_root, submitted_at);
`,
	// 11 to 12: the members a partnership names as its moderators, whose reviewer tokens release
	// what is posted to its collections under 'partnership' review (a JSON array, as jurisdictions).
	`
ALTER TABLE api_roots ADD COLUMN reviewers TEXT NOT NULL DEFAULT '[]';
`,
	// 12 to 13: a collection's retention, in nanoseconds (0: versions kept for good). Purges read
	// the oldest versions of a collection on objects_added, so they need no index of their own.
	`
ALTER TABLE collections ADD COLUMN retention INTEGER NOT NULL DEFAULT 0;
`,
	// 13 to 14: status retention. When each status's request came, in Unix microseconds, so that
	// the sweep finds old statuses on an index instead of decoding every body; statuses saved before
	// take the request timestamp their body records (to the millisecond, SQLite's precision there).
	`
ALTER TABLE statuses ADD COLUMN request_at INTEGER NOT NULL DEFAULT 0;
UPDATE statuses SET request_at =
	COALESCE(CAST(unixepoch(json_extract(body, '$.request_timestamp'), 'subsec') * 1000000 AS INTEGER),
		CAST(unixepoch('now', 'subsec') * 1000000 AS INTEGER));
CREATE INDEX statuses_by_request ON statuses(request_at);
`,
	// 14 to 15: compact pull entries. pulled holds a pull's summary (JSON, see pulledJSON), '' in
	// every other entry; a compact pull has no items, so the index answering LastPulls counts it
	// by its summary instead.
	`
ALTER TABLE ledger ADD COLUMN pulled TEXT NOT NULL DEFAULT '';
DROP INDEX ledger_content_pulls;
CREATE INDEX ledger_content_pulls ON ledger(member_id, api_root, at)
	WHERE kind = 'pull' AND endpoint IN ('objects', 'object') AND (items <> '[]' OR pulled <> '');
`,
	// 15 to 16: the ids of compact pulls, by the ledger entry's sequence number, kept for the
	// transparency window; pull_details_at finds those past it.
	`
CREATE TABLE pull_details (
	seq   INTEGER PRIMARY KEY,
	at    INTEGER NOT NULL,
	items TEXT NOT NULL
);
CREATE INDEX pull_details_at ON pull_details(at);
`,
	// 16 to 17: the web console. The person who acted for the member through it, as JSON
	// ({"iss","sub","name"}); '' when no person did, as in every entry written before. A member's
	// identity provider, as JSON ({"issuer","client_id","client_secret_file"|"client_secret_env",
	// "roles_claim"}); '' for none.
	`
ALTER TABLE ledger ADD COLUMN person TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN identity_provider TEXT NOT NULL DEFAULT '';
`,
	// 17 to 18: the value-search index, the observable values each version names (see
	// store.ValueIndexer). Entries hang off their version by a cascading foreign key, so that every
	// way a version leaves the collection (a deletion, a withdrawal, the collection's removal, a
	// purge) takes its entries in the same statement. object_values_search answers a search from the
	// index alone: equal values, then one collection, newest first, the level read on the way. Open
	// fills it for versions stored before (see indexValues), which SQL alone cannot.
	`
CREATE TABLE object_values (
	collection_id TEXT NOT NULL,
	object_id     TEXT NOT NULL,
	version       INTEGER NOT NULL,
	kind          TEXT NOT NULL,
	value         TEXT NOT NULL,
	date_added    INTEGER NOT NULL,
	tlp           INTEGER NOT NULL,
	PRIMARY KEY (collection_id, object_id, version, kind, value),
	FOREIGN KEY (collection_id, object_id, version) REFERENCES objects(collection_id, object_id, version) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX object_values_search ON object_values(value, collection_id, date_added, tlp);
`,
}

// schemaVersion is the schema this build writes.
var schemaVersion = len(migrations)

// migrate brings the database to schemaVersion. It runs in one write transaction, so that two
// processes opening a new file at once cannot both create the schema, and a failed migration leaves
// the previous schema intact.
func migrate(ctx context.Context, db *sql.DB) error {
	return migrateWith(ctx, db, migrations)
}

// migrateWith is migrate with steps in place of this build's migrations; tests use it to make a
// database of an older schema version.
func migrateWith(ctx context.Context, db *sql.DB, steps []string) error {
	target := len(steps)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer rollback(tx)
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if v > target {
		return fmt.Errorf("migrate: database has schema version %d, newer than the %d this build knows", v, target)
	}
	if v == target {
		return nil
	}
	for i := v; i < target; i++ {
		if _, err := tx.ExecContext(ctx, steps[i]); err != nil {
			return fmt.Errorf("migrate: schema version %d to %d: %w", i, i+1, err)
		}
	}
	// PRAGMA takes no bound parameters; target is a count of migrations, not input.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", target)); err != nil {
		return fmt.Errorf("migrate: set schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
