package sqlitestore

import (
	"crypto/sha256"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/store"
)

// openV1 makes a database file of schema version 1, as the build before members wrote it, holding
// one root, one collection with one object, and one status, and returns its path and the
// collection's id.
func openV1(t *testing.T) (path, collection string) {
	t.Helper()
	db, path := fileAtSchema(t, 1)
	defer db.Close()
	collection = "9a3c5f0e-7b1d-4e2a-8c6f-1d2e3f4a5b6c"
	content := []byte(`{"type":"indicator","id":"indicator--1"}`)
	sum := sha256.Sum256(content)
	added := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC).UnixMicro()
	fillFile(t, db, 1, []sqlStatement{
		{`INSERT INTO api_roots VALUES ('root', 'Root', '')`, nil},
		{`INSERT INTO collections (id, api_root, title, alias, description, media_types, last_added)
			VALUES (?, 'root', 'C', 'c', '', '[]', ?)`, []any{collection, added}},
		{`INSERT INTO objects VALUES (?, 'indicator--1', 1, '2.1', 'indicator', ?, ?, ?)`,
			[]any{collection, added, sum[:], content}},
		{`INSERT INTO statuses VALUES ('root', 'status-1',
			'{"pending":false,"request_timestamp":"2025-01-02T03:04:05.000006Z","successes":[{"id":"indicator--1"}]}')`, nil},
	})
	return path, collection
}

// A file the previous build created upgrades in place when this build opens it: its data is kept,
// and members, grants, tokens and submitters work on it.
func TestMigrateFromV1(t *testing.T) {
	path, c := openV1(t)
	s := openTest(t, path)
	ctx := t.Context()

	requireLatestSchema(t, s)
	if got, err := s.Collection(ctx, "root", "c"); err != nil || got.ID != c {
		t.Errorf("collection after upgrade: %+v, %v", got, err)
	}
	p, err := s.Objects(ctx, c, store.Query{Limit: 10})
	if err != nil || len(p.Records) != 1 || string(p.Records[0].Content) != `{"type":"indicator","id":"indicator--1"}` {
		t.Errorf("objects after upgrade: %+v, %v", p.Records, err)
	}
	st, err := s.Status(ctx, "root", "status-1")
	if err != nil || st.Submitter != "" || len(st.Successes) != 1 {
		t.Errorf("old status after upgrade: %+v, %v; want it unchanged, with no submitter", st, err)
	}
	st.Submitter = "cert-eu"
	if err := s.SaveStatus(ctx, st); err != nil {
		t.Fatalf("save status: %v", err)
	}
	if got, err := s.Status(ctx, "root", "status-1"); err != nil || got.Submitter != "cert-eu" {
		t.Errorf("status with a submitter: %+v, %v", got, err)
	}

	// The new tables work on the old collection, foreign keys included.
	if err := s.CreateMember(ctx, store.Member{ID: "cert-eu", Name: "CERT-EU"}); err != nil {
		t.Fatalf("create member: %v", err)
	}
	g := store.Grant{MemberID: "cert-eu", APIRoot: "root", CollectionID: c, Read: true}
	if err := s.PutGrant(ctx, g); err != nil {
		t.Fatalf("put grant: %v", err)
	}
	if got, err := s.CollectionGrants(ctx, c); err != nil || len(got) != 1 || got[0] != g {
		t.Errorf("grants on the old collection: %+v, %v", got, err)
	}
	if err := s.SaveToken(ctx, store.Token{ID: "jti", Kind: store.PartnerToken, Subject: "cert-eu",
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("save token: %v", err)
	}
	if err := s.DeleteCollection(ctx, "root", c); err != nil {
		t.Fatalf("delete the old collection: %v", err)
	}
	if got, err := s.Grants(ctx, "cert-eu"); err != nil || len(got) != 0 {
		t.Errorf("grants after deleting the collection: %+v, %v", got, err)
	}
	assertIntact(t, s.read)

	// Opening it again is a no-op.
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path)
	if _, err := s.Member(ctx, "cert-eu"); err != nil {
		t.Errorf("member after reopening: %v", err)
	}
}

// A migration that fails leaves the file at the schema it had: the tables created and the column
// added before the failure are rolled back with it.
func TestFailedMigrationKeepsV1(t *testing.T) {
	path, _ := openV1(t)
	ctx := t.Context()
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Something migration 2 creates, already there: CREATE TABLE tokens fails after members and
	// grants were created.
	if _, err := db.ExecContext(ctx, `CREATE TABLE tokens (x)`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, path); err == nil || !strings.HasPrefix(err.Error(), "sqlitestore: ") {
		t.Fatalf("open with a failing migration: %v", err)
	}
	var v, members, submitter int
	err = db.QueryRowContext(ctx, `SELECT
		(SELECT user_version FROM pragma_user_version),
		(SELECT count(*) FROM sqlite_schema WHERE name = 'members'),
		(SELECT count(*) FROM pragma_table_info('statuses') WHERE name = 'submitter')`).Scan(&v, &members, &submitter)
	if err != nil || v != 1 || members != 0 || submitter != 0 {
		t.Errorf("after the failed migration: user_version %d, members table %d, submitter column %d (%v); want 1, 0, 0",
			v, members, submitter, err)
	}
}

// assertIntact checks the file's integrity and that no row breaks a foreign key.
func assertIntact(t *testing.T, db *sql.DB) {
	t.Helper()
	var ok string
	if err := db.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check: %s, %v", ok, err)
	}
	rows, err := db.QueryContext(t.Context(), "PRAGMA foreign_key_check")
	if err != nil {
		t.Fatalf("foreign_key_check: %v", err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Errorf("foreign_key_check reports violations")
	}
}

// Deleting a member and a collection leaves no dangling grant, and a member's deletion revokes only
// its own partner tokens still usable: an operator token of the same name and a token revoked before
// keep their state.
func TestDeleteMemberRevokesOnlyItsUsablePartnerTokens(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := t.Context()
	c := newCollection(t, s)
	if err := s.CreateMember(ctx, store.Member{ID: "ops"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutGrant(ctx, store.Grant{MemberID: "ops", APIRoot: "root", CollectionID: c, Write: true}); err != nil {
		t.Fatal(err)
	}
	issued := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	earlier, at := issued.Add(time.Hour), issued.Add(2*time.Hour)
	for _, tk := range []store.Token{
		{ID: "partner", Kind: store.PartnerToken, Subject: "ops", IssuedAt: issued},
		{ID: "old", Kind: store.PartnerToken, Subject: "ops", IssuedAt: issued, RevokedAt: earlier},
		{ID: "operator", Kind: store.OperatorToken, Subject: "ops", IssuedAt: issued},
	} {
		if err := s.SaveToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteMember(ctx, "ops", at); err != nil {
		t.Fatalf("delete: %v", err)
	}
	for id, want := range map[string]time.Time{"partner": at, "old": earlier, "operator": {}} {
		if got, err := s.Token(ctx, id); err != nil || !got.RevokedAt.Equal(want) {
			t.Errorf("token %s: %+v, %v; want revoked at %v", id, got, err, want)
		}
	}
	assertIntact(t, s.read)
}

// A zero time would record a token as never revoked, so revoking at one is refused and changes
// nothing.
func TestZeroRevocationTimeIsRefused(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := t.Context()
	if err := s.CreateMember(ctx, store.Member{ID: "m"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveToken(ctx, store.Token{ID: "t", Kind: store.PartnerToken, Subject: "m"}); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"revoke token":  s.RevokeToken(ctx, "t", time.Time{}),
		"delete member": s.DeleteMember(ctx, "m", time.Time{}),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), "sqlitestore: ") ||
			errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s at zero time: %v", name, err)
		}
	}
	if _, err := s.Member(ctx, "m"); err != nil {
		t.Errorf("member after a refused delete: %v", err)
	}
}

// The reads of grants, tokens, keys and the audit log are indexed: a collection's grants and the
// token and key lists come in order without a sort, a deleted member's tokens are found without a
// scan, and a page of the audit log is a range of its key.
func TestAccessQueryPlans(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := t.Context()
	for _, tc := range []struct {
		name, query string
		args        []any
		want        string
		sortedOK    bool
	}{
		{"grants of a member", sqlGrantsOfMember, []any{"m"},
			"SEARCH g USING INDEX sqlite_autoindex_grants_1 (member_id=?)", true},
		{"grants on a collection", sqlGrantsOnCollection, []any{"c"},
			"SEARCH g USING INDEX grants_by_collection (collection_id=?)", false},
		{"delete a collection's grants", `DELETE FROM grants WHERE collection_id = ?`, []any{"c"},
			"SEARCH grants USING COVERING INDEX grants_by_collection (collection_id=?)", false},
		{"tokens", sqlTokens, nil, "SCAN tokens USING INDEX tokens_issued", false},
		{"revoke a member's tokens", sqlRevokeMemberTokens, []any{1, "m", "partner"},
			"SEARCH tokens USING INDEX tokens_by_subject (subject=? AND kind=?)", false},
		{"verification keys", sqlVerificationKeys, nil,
			"SCAN verification_keys USING INDEX verification_keys_created", false},
		{"audit page", sqlAudit, []any{5, 10}, "SEARCH audit USING INTEGER PRIMARY KEY (rowid>?)", false},
	} {
		rows, err := s.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var lines []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, detail)
		}
		rows.Close()
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, tc.want) || !tc.sortedOK && strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan\n%s\nwant %q", tc.name, plan, tc.want)
		}
	}
}

// fileAtSchema makes a new database file migrated to the given schema version only, as an older
// build left it, and returns a connection to fill it with and its path. The caller closes db before
// opening the file with the current code.
func fileAtSchema(t *testing.T, version int) (db *sql.DB, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "hub.db")
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if err := migrateWith(t.Context(), db, migrations[:version]); err != nil {
		db.Close()
		t.Fatalf("migrate to v%d: %v", version, err)
	}
	return db, path
}

// sqlStatement is one statement, with its arguments, of the data put into a file at an older schema.
type sqlStatement struct {
	sql  string
	args []any
}

// fillFile runs the statements on a file at schema version.
func fillFile(t *testing.T, db *sql.DB, version int, stmts []sqlStatement) {
	t.Helper()
	for _, stmt := range stmts {
		if _, err := db.ExecContext(t.Context(), stmt.sql, stmt.args...); err != nil {
			t.Fatalf("fill v%d database: %v", version, err)
		}
	}
}

// requireLatestSchema fails t unless the store's file is at this build's schema version.
func requireLatestSchema(t *testing.T, s *Store) {
	t.Helper()
	var v int
	if err := s.read.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("user_version = %d, %v; want %d", v, err, schemaVersion)
	}
}
