package sqlitestore

import (
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/store"
)

// openV2 makes a database file of schema version 2, as the build before verification keys and the
// audit log wrote it, holding one root, one collection with one object, one member with a grant on
// it and a token, and one status with its submitter. It returns the file's path and the
// collection's id.
func openV2(t *testing.T) (path, collection string) {
	t.Helper()
	db, path := fileAtSchema(t, 2)
	defer db.Close()
	collection = "9a3c5f0e-7b1d-4e2a-8c6f-1d2e3f4a5b6c"
	content := []byte(`{"type":"indicator","id":"indicator--1"}`)
	added := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC).UnixMicro()
	fillFile(t, db, 2, []sqlStatement{
		{`INSERT INTO api_roots VALUES ('root', 'Root', '')`, nil},
		{`INSERT INTO collections (id, api_root, title, alias, description, media_types, last_added)
			VALUES (?, 'root', 'C', 'c', '', '[]', ?)`, []any{collection, added}},
		{`INSERT INTO objects VALUES (?, 'indicator--1', 1, '2.1', 'indicator', ?, ?, ?)`,
			[]any{collection, added, []byte{0}, content}},
		{`INSERT INTO members VALUES ('cert-eu', 'CERT-EU', 'EU', '')`, nil},
		{`INSERT INTO grants VALUES ('cert-eu', ?, 1, 0)`, []any{collection}},
		{`INSERT INTO tokens VALUES ('jti', 'partner', 'cert-eu', ?, ?, NULL, '')`, []any{added, added + 1}},
		{`INSERT INTO statuses (api_root, id, body, submitter) VALUES ('root', 'status-1',
			'{"pending":false,"request_timestamp":"2025-01-02T03:04:05.000006Z","successes":[{"id":"indicator--1"}]}',
			'cert-eu')`, nil},
	})
	return path, collection
}

// A file the previous build created upgrades in place when this build opens it: its data is kept,
// and verification keys, the audit log and the updates work on it.
func TestMigrateFromV2(t *testing.T) {
	path, c := openV2(t)
	s := openTest(t, path)
	ctx := t.Context()

	requireLatestSchema(t, s)
	p, err := s.Objects(ctx, c, store.Query{Limit: 10})
	if err != nil || len(p.Records) != 1 || string(p.Records[0].Content) != `{"type":"indicator","id":"indicator--1"}` {
		t.Errorf("objects after upgrade: %+v, %v", p.Records, err)
	}
	if got, err := s.Grants(ctx, "cert-eu"); err != nil || len(got) != 1 || got[0].CollectionID != c || !got[0].Read {
		t.Errorf("grants after upgrade: %+v, %v", got, err)
	}
	if got, err := s.Token(ctx, "jti"); err != nil || got.Subject != "cert-eu" || got.Revoked() {
		t.Errorf("token after upgrade: %+v, %v", got, err)
	}
	if got, err := s.Status(ctx, "root", "status-1"); err != nil || got.Submitter != "cert-eu" {
		t.Errorf("status after upgrade: %+v, %v", got, err)
	}

	// The updates work on the old rows.
	if err := s.UpdateAPIRoot(ctx, store.APIRoot{Slug: "root", Title: "Renamed"}); err != nil {
		t.Errorf("update the old root: %v", err)
	}
	if err := s.UpdateCollection(ctx, store.Collection{ID: c, APIRoot: "root", Title: "C", Alias: "renamed"}); err != nil {
		t.Errorf("update the old collection: %v", err)
	}
	if got, err := s.Collection(ctx, "root", "renamed"); err != nil || got.ID != c {
		t.Errorf("collection by its new alias: %+v, %v", got, err)
	}
	if err := s.UpdateMember(ctx, store.Member{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU", Contact: "x"}); err != nil {
		t.Errorf("update the old member: %v", err)
	}

	// The new tables work.
	key := store.VerificationKey{KID: "kid", PublicKey: []byte{1, 2, 3}, CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.SaveVerificationKey(ctx, key); err != nil {
		t.Fatalf("save key: %v", err)
	}
	entry := store.AuditEntry{At: time.Date(2026, 1, 1, 0, 0, 0, 1000, time.UTC), Actor: "op", Action: "member.update",
		Target: "member cert-eu", Detail: "contact"}
	if err := s.AppendAudit(ctx, entry); err != nil {
		t.Fatalf("append audit: %v", err)
	}
	assertIntact(t, s.read)

	// Opening it again is a no-op.
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path)
	if got, err := s.VerificationKeys(ctx); err != nil || len(got) != 1 || !sameKey(got[0], key) {
		t.Errorf("keys after reopening: %+v, %v", got, err)
	}
	entry.Seq = 1
	if got, err := s.Audit(ctx, 0, 10); err != nil || len(got) != 1 || !sameEntry(got[0], entry) {
		t.Errorf("audit after reopening: %+v, %v; want %+v", got, err, entry)
	}
}

// A migration that fails leaves the file at the schema it had: the tables created before the
// failure are rolled back with it.
func TestFailedMigrationKeepsV2(t *testing.T) {
	path, _ := openV2(t)
	ctx := t.Context()
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Something migration 3 creates, already there: CREATE TABLE audit fails after verification_keys
	// was created.
	if _, err := db.ExecContext(ctx, `CREATE TABLE audit (x)`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, path); err == nil || !strings.HasPrefix(err.Error(), "sqlitestore: ") {
		t.Fatalf("open with a failing migration: %v", err)
	}
	var v, keys int
	err = db.QueryRowContext(ctx, `SELECT
		(SELECT user_version FROM pragma_user_version),
		(SELECT count(*) FROM sqlite_schema WHERE name = 'verification_keys')`).Scan(&v, &keys)
	if err != nil || v != 2 || keys != 0 {
		t.Errorf("after the failed migration: user_version %d, verification_keys table %d (%v); want 2, 0", v, keys, err)
	}
}

func sameKey(a, b store.VerificationKey) bool {
	return a.KID == b.KID && slices.Equal(a.PublicKey, b.PublicKey) && a.CreatedAt.Equal(b.CreatedAt) && a.RetiredAt.Equal(b.RetiredAt)
}

func sameEntry(a, b store.AuditEntry) bool {
	return a.Seq == b.Seq && a.At.Equal(b.At) && a.Actor == b.Actor && a.Action == b.Action &&
		a.Target == b.Target && a.Detail == b.Detail
}

// Keys without a name or a public key, and retirement at a zero time, which would record the key as
// never retired, are refused and change nothing. A key saved already retired keeps its retirement.
func TestVerificationKeyInputs(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := t.Context()
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	retired := store.VerificationKey{KID: "old", PublicKey: []byte{1}, CreatedAt: created, RetiredAt: created.Add(time.Hour)}
	if err := s.SaveVerificationKey(ctx, retired); err != nil {
		t.Fatalf("save a retired key: %v", err)
	}
	for name, err := range map[string]error{
		"save without kid":        s.SaveVerificationKey(ctx, store.VerificationKey{PublicKey: []byte{1}, CreatedAt: created}),
		"save without public key": s.SaveVerificationKey(ctx, store.VerificationKey{KID: "k", CreatedAt: created}),
		"retire at zero time":     s.RetireVerificationKey(ctx, "old", time.Time{}),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), "sqlitestore: ") ||
			errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got, err := s.VerificationKeys(ctx); err != nil || len(got) != 1 || !sameKey(got[0], retired) {
		t.Errorf("keys: %+v, %v; want only %+v", got, err, retired)
	}
}

// A limit outside 1..MaxLimit is refused as a query the store cannot run; MaxLimit itself is fine.
func TestAuditLimit(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := t.Context()
	for _, limit := range []int{0, -1, store.MaxLimit + 1} {
		_, err := s.Audit(ctx, 0, limit)
		var qe *store.QueryError
		if !errors.As(err, &qe) || !strings.HasPrefix(err.Error(), "sqlitestore: ") {
			t.Errorf("limit %d: %v; want a *store.QueryError", limit, err)
		}
	}
	if got, err := s.Audit(ctx, 0, store.MaxLimit); err != nil || len(got) != 0 {
		t.Errorf("limit %d on an empty log: %+v, %v", store.MaxLimit, got, err)
	}
}

// A sequence number is never handed out twice: even with the last entry removed by hand, the next
// one appended gets a number above it, so a reader that had passed it cannot skip the new entry.
func TestAuditSeqNeverReused(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := t.Context()
	for range 3 {
		if err := s.AppendAudit(ctx, store.AuditEntry{At: time.Now(), Actor: "op", Action: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.write.ExecContext(ctx, `DELETE FROM audit WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, store.AuditEntry{At: time.Now(), Actor: "op", Action: "y"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Audit(ctx, 2, 10)
	if err != nil || len(got) != 1 || got[0].Seq != 4 || got[0].Action != "y" {
		t.Errorf("after removing seq 3: %+v, %v; want the new entry at seq 4", got, err)
	}
}

// Updating a collection with the alias it already has is no conflict, clearing aliases leaves many
// collections without one, and an update refused for a taken alias changes nothing.
func TestUpdateCollectionAliases(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := t.Context()
	a := newCollection(t, s)
	b := store.Collection{ID: "0f1e2d3c-4b5a-4968-8776-655443322110", APIRoot: "root", Title: "B", Alias: "b"}
	if err := s.CreateCollection(ctx, b); err != nil {
		t.Fatal(err)
	}
	keep := b
	keep.Title = "B renamed"
	if err := s.UpdateCollection(ctx, keep); err != nil {
		t.Errorf("update keeping the alias: %v", err)
	}
	if err := s.UpdateCollection(ctx, store.Collection{ID: a, APIRoot: "root", Title: "A", Alias: "b", Description: "lost"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("take b's alias: %v; want ErrConflict", err)
	}
	if got, err := s.Collection(ctx, "root", a); err != nil || got.Alias != "" || got.Description != "" || got.Title != "C" {
		t.Errorf("collection after a refused update: %+v, %v", got, err)
	}
	for _, c := range []store.Collection{{ID: a, APIRoot: "root", Title: "A"}, {ID: b.ID, APIRoot: "root", Title: "B"}} {
		if err := s.UpdateCollection(ctx, c); err != nil {
			t.Errorf("clear the alias of %s: %v", c.ID, err)
		}
	}
	if got, err := s.Collections(ctx, "root"); err != nil || len(got) != 2 || got[0].Alias != "" || got[1].Alias != "" {
		t.Errorf("collections after clearing aliases: %+v, %v", got, err)
	}
}
