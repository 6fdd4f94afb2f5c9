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
}

// schemaVersion is the schema this build writes.
var schemaVersion = len(migrations)

// migrate brings the database to schemaVersion. It runs in one write transaction, so that two
// processes opening a new file at once cannot both create the schema, and a failed migration leaves
// the previous schema intact.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer rollback(tx)
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("migrate: database has schema version %d, newer than the %d this build knows", v, schemaVersion)
	}
	if v == schemaVersion {
		return nil
	}
	for i := v; i < schemaVersion; i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate: schema version %d to %d: %w", i, i+1, err)
		}
	}
	// PRAGMA takes no bound parameters; schemaVersion is a constant of this build.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("migrate: set schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
