package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"taxiihub/internal/store"
)

// CreateMember adds a partner organisation. ErrConflict if the id is taken.
func (s *Store) CreateMember(ctx context.Context, m store.Member) error {
	if m.ID == "" {
		return errors.New("sqlitestore: create member: empty id")
	}
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO members (id, name, jurisdiction, contact, identity_provider) VALUES (?, ?, ?, ?, ?)`,
		m.ID, m.Name, m.Jurisdiction, m.Contact, encodeProvider(m.IdentityProvider))
	switch {
	case isTaken(err):
		return fmt.Errorf("sqlitestore: create member %s: %w", m.ID, store.ErrConflict)
	case err != nil:
		return fmt.Errorf("sqlitestore: create member %s: %w", m.ID, err)
	}
	return nil
}

// Member returns the member with the id. ErrNotFound if there is none.
func (s *Store) Member(ctx context.Context, id string) (store.Member, error) {
	m := store.Member{ID: id}
	var provider string
	err := s.read.QueryRowContext(ctx, `SELECT name, jurisdiction, contact, identity_provider FROM members WHERE id = ?`, id).
		Scan(&m.Name, &m.Jurisdiction, &m.Contact, &provider)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Member{}, fmt.Errorf("sqlitestore: member %s: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Member{}, fmt.Errorf("sqlitestore: member %s: %w", id, err)
	}
	if m.IdentityProvider, err = decodeProvider(provider); err != nil {
		return store.Member{}, fmt.Errorf("sqlitestore: member %s: %w", id, err)
	}
	return m, nil
}

// UpdateMember replaces a member's name, jurisdiction and contact. ErrNotFound if there is none;
// ErrJurisdiction if a partnership in which it holds a grant or membership excludes the new
// jurisdiction.
func (s *Store) UpdateMember(ctx context.Context, m store.Member) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE members SET name = ?, jurisdiction = ?, contact = ?, identity_provider = ? WHERE id = ?`,
			m.Name, m.Jurisdiction, m.Contact, encodeProvider(m.IdentityProvider), m.ID)
		if err := updated(res, err); err != nil {
			return err
		}
		return checkJurisdictions(ctx, tx, sqlOutsidersOfMember, m.ID)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: update member %s: %w", m.ID, err)
	}
	return nil
}

// The reads behind the jurisdiction rule: each member with a grant or membership in a root, with its
// jurisdiction and the root's allowed jurisdictions, for one root or for one member. The one
// parameter is passed three times.
const (
	sqlOutsidersOfRoot = `SELECT m.id, m.jurisdiction, r.slug, r.jurisdictions
		FROM api_roots r
		JOIN (SELECT g.member_id AS member_id FROM grants g JOIN collections c ON c.id = g.collection_id
			WHERE c.api_root = ?
			UNION SELECT member_id FROM memberships WHERE api_root = ?) p
		JOIN members m ON m.id = p.member_id
		WHERE r.slug = ? ORDER BY m.id`
	sqlOutsidersOfMember = `SELECT m.id, m.jurisdiction, r.slug, r.jurisdictions
		FROM members m
		JOIN (SELECT c.api_root AS api_root FROM grants g JOIN collections c ON c.id = g.collection_id
			WHERE g.member_id = ?
			UNION SELECT api_root FROM memberships WHERE member_id = ?) p
		JOIN api_roots r ON r.slug = p.api_root
		WHERE m.id = ? ORDER BY r.slug`
)

// checkJurisdictions runs one of the queries above and refuses with ErrJurisdiction, naming every
// member and root concerned, when a member's jurisdiction is outside its root's.
func checkJurisdictions(ctx context.Context, tx *sql.Tx, query, arg string) error {
	rows, err := tx.QueryContext(ctx, query, arg, arg, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	var outside []string
	for rows.Next() {
		var member, jurisdiction, root, allowed string
		if err := rows.Scan(&member, &jurisdiction, &root, &allowed); err != nil {
			return err
		}
		list, err := decodeList(allowed)
		if err != nil {
			return fmt.Errorf("jurisdictions of %s: %w", root, err)
		}
		if !(store.PartnershipPolicy{Jurisdictions: list}).AllowsJurisdiction(jurisdiction) {
			outside = append(outside, fmt.Sprintf("%s (%s) in %s", member, jurisdiction, root))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(outside) > 0 {
		return fmt.Errorf("%s: %w", strings.Join(outside, ", "), store.ErrJurisdiction)
	}
	return nil
}

// checkJoin refuses with ErrJurisdiction when root's policy excludes the member's jurisdiction, and
// with ErrNotFound when either does not exist.
func checkJoin(ctx context.Context, tx *sql.Tx, memberID, root string) error {
	var jurisdiction, allowed sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT
		(SELECT jurisdiction FROM members WHERE id = ?),
		(SELECT jurisdictions FROM api_roots WHERE slug = ?)`, memberID, root).Scan(&jurisdiction, &allowed)
	switch {
	case err != nil:
		return err
	case !jurisdiction.Valid:
		return fmt.Errorf("member %s: %w", memberID, store.ErrNotFound)
	case !allowed.Valid:
		return fmt.Errorf("api root %s: %w", root, store.ErrNotFound)
	}
	list, err := decodeList(allowed.String)
	if err != nil {
		return fmt.Errorf("jurisdictions of %s: %w", root, err)
	}
	if !(store.PartnershipPolicy{Jurisdictions: list}).AllowsJurisdiction(jurisdiction.String) {
		return fmt.Errorf("%s (%s) in %s: %w", memberID, jurisdiction.String, root, store.ErrJurisdiction)
	}
	return nil
}

// Members lists every member, ordered by id.
func (s *Store) Members(ctx context.Context) ([]store.Member, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, jurisdiction, contact, identity_provider FROM members ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list members: %w", err)
	}
	defer rows.Close()
	var out []store.Member
	for rows.Next() {
		var m store.Member
		var provider string
		if err := rows.Scan(&m.ID, &m.Name, &m.Jurisdiction, &m.Contact, &provider); err != nil {
			return nil, fmt.Errorf("sqlitestore: list members: %w", err)
		}
		if m.IdentityProvider, err = decodeProvider(provider); err != nil {
			return nil, fmt.Errorf("sqlitestore: member %s: %w", m.ID, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list members: %w", err)
	}
	return out, nil
}

// DeleteMember removes a member with its grants, and revokes at the time given those of its partner
// tokens not revoked yet, all in one transaction. ErrNotFound if there is none.
//
// A zero time is refused: it would record the tokens as never revoked.
func (s *Store) DeleteMember(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("sqlitestore: delete member %s: zero revocation time", id)
	}
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx,
			`SELECT EXISTS (SELECT 1 FROM members WHERE id = ?)`, id).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE member_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE member_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlRevokeMemberTokens, at.UnixMicro(), id, string(store.PartnerToken)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM members WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: delete member %s: %w", id, err)
	}
	return nil
}

// PutGrant creates or replaces the grant of a member on a collection. ErrNotFound if the member
// does not exist or the API root holds no such collection.
func (s *Store) PutGrant(ctx context.Context, g store.Grant) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		var member, collection bool
		if err := tx.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM members WHERE id = ?),
			EXISTS (SELECT 1 FROM collections WHERE id = ? AND api_root = ?)`,
			g.MemberID, g.CollectionID, g.APIRoot).Scan(&member, &collection); err != nil {
			return err
		}
		switch {
		case !member:
			return fmt.Errorf("member %s: %w", g.MemberID, store.ErrNotFound)
		case !collection:
			return fmt.Errorf("collection %s in %s: %w", g.CollectionID, g.APIRoot, store.ErrNotFound)
		}
		if err := checkJoin(ctx, tx, g.MemberID, g.APIRoot); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO grants (member_id, collection_id, can_read, can_write)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (member_id, collection_id) DO UPDATE
			SET can_read = excluded.can_read, can_write = excluded.can_write`,
			g.MemberID, g.CollectionID, g.Read, g.Write)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: put grant of %s on %s: %w", g.MemberID, g.CollectionID, err)
	}
	return nil
}

// PutMembership creates or replaces a member's membership of a partnership. ErrNotFound if the member
// or the API root does not exist; ErrJurisdiction if the root's policy excludes the member.
func (s *Store) PutMembership(ctx context.Context, m store.Membership) error {
	if !m.Role.Valid() {
		return fmt.Errorf("sqlitestore: put membership of %s in %s: invalid role %q", m.MemberID, m.APIRoot, m.Role)
	}
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		if err := checkJoin(ctx, tx, m.MemberID, m.APIRoot); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO memberships (api_root, member_id, role, clearance) VALUES (?, ?, ?, ?)
			ON CONFLICT (api_root, member_id) DO UPDATE SET role = excluded.role, clearance = excluded.clearance`,
			m.APIRoot, m.MemberID, string(m.Role), int(m.Clearance))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: put membership of %s in %s: %w", m.MemberID, m.APIRoot, err)
	}
	return nil
}

// DeleteMembership removes a member's membership of a partnership. ErrNotFound if there is none.
func (s *Store) DeleteMembership(ctx context.Context, memberID, root string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM memberships WHERE api_root = ? AND member_id = ?`, root, memberID)
	if err := updated(res, err); err != nil {
		return fmt.Errorf("sqlitestore: delete membership of %s in %s: %w", memberID, root, err)
	}
	return nil
}

const sqlMembership = `SELECT member_id, api_root, role, clearance FROM memberships`

func scanMembership(row interface{ Scan(...any) error }) (store.Membership, error) {
	var (
		m         store.Membership
		role      string
		clearance int
	)
	if err := row.Scan(&m.MemberID, &m.APIRoot, &role, &clearance); err != nil {
		return store.Membership{}, err
	}
	m.Role, m.Clearance = store.Role(role), store.TLP(clearance)
	return m, nil
}

// Membership returns a member's membership of a partnership. ErrNotFound if there is none.
func (s *Store) Membership(ctx context.Context, memberID, root string) (store.Membership, error) {
	m, err := scanMembership(s.read.QueryRowContext(ctx, sqlMembership+` WHERE api_root = ? AND member_id = ?`, root, memberID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Membership{}, fmt.Errorf("sqlitestore: membership of %s in %s: %w", memberID, root, store.ErrNotFound)
	case err != nil:
		return store.Membership{}, fmt.Errorf("sqlitestore: membership of %s in %s: %w", memberID, root, err)
	}
	return m, nil
}

// Memberships lists the memberships of a partnership, ordered by member id.
func (s *Store) Memberships(ctx context.Context, root string) ([]store.Membership, error) {
	rows, err := s.read.QueryContext(ctx, sqlMembership+` WHERE api_root = ? ORDER BY member_id`, root)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: memberships in %s: %w", root, err)
	}
	defer rows.Close()
	var out []store.Membership
	for rows.Next() {
		m, err := scanMembership(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: memberships in %s: %w", root, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: memberships in %s: %w", root, err)
	}
	return out, nil
}

// DeleteGrant removes a member's grant on a collection. ErrNotFound if there is none.
func (s *Store) DeleteGrant(ctx context.Context, memberID, collectionID string) error {
	res, err := s.write.ExecContext(ctx,
		`DELETE FROM grants WHERE member_id = ? AND collection_id = ?`, memberID, collectionID)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	switch {
	case err != nil:
		return fmt.Errorf("sqlitestore: delete grant of %s on %s: %w", memberID, collectionID, err)
	case n == 0:
		return fmt.Errorf("sqlitestore: delete grant of %s on %s: %w", memberID, collectionID, store.ErrNotFound)
	}
	return nil
}

// The reads of grants and tokens, named for TestAccessQueryPlans. A grant's API root is read from its
// collection.
const (
	sqlGrantsOfMember = `SELECT g.member_id, c.api_root, g.collection_id, g.can_read, g.can_write
		FROM grants g JOIN collections c ON c.id = g.collection_id
		WHERE g.member_id = ? ORDER BY c.api_root, g.collection_id`
	sqlGrantsOnCollection = `SELECT g.member_id, c.api_root, g.collection_id, g.can_read, g.can_write
		FROM grants g JOIN collections c ON c.id = g.collection_id
		WHERE g.collection_id = ? ORDER BY g.member_id`
	sqlTokens           = `SELECT ` + tokenColumns + ` FROM tokens ORDER BY issued_at, id`
	sqlVerificationKeys = `SELECT kid, public_key, created_at, retired_at FROM verification_keys
		ORDER BY created_at, kid`
	sqlRevokeMemberTokens = `UPDATE tokens SET revoked_at = ?
		WHERE subject = ? AND kind = ? AND revoked_at IS NULL`
)

// Grants lists a member's grants, ordered by API root then collection id; none for an unknown member.
func (s *Store) Grants(ctx context.Context, memberID string) ([]store.Grant, error) {
	out, err := s.grants(ctx, sqlGrantsOfMember, memberID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: grants of %s: %w", memberID, err)
	}
	return out, nil
}

// CollectionGrants lists the grants on a collection, ordered by member id.
func (s *Store) CollectionGrants(ctx context.Context, collectionID string) ([]store.Grant, error) {
	out, err := s.grants(ctx, sqlGrantsOnCollection, collectionID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: grants on %s: %w", collectionID, err)
	}
	return out, nil
}

func (s *Store) grants(ctx context.Context, query string, arg string) ([]store.Grant, error) {
	rows, err := s.read.QueryContext(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Grant
	for rows.Next() {
		var g store.Grant
		if err := rows.Scan(&g.MemberID, &g.APIRoot, &g.CollectionID, &g.Read, &g.Write); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// SaveToken records an issued token. ErrConflict if its id is taken.
func (s *Store) SaveToken(ctx context.Context, t store.Token) error {
	if t.ID == "" {
		return errors.New("sqlitestore: save token: empty id")
	}
	var revoked sql.NullInt64
	if t.Revoked() {
		revoked = sql.NullInt64{Int64: t.RevokedAt.UnixMicro(), Valid: true}
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO tokens
		(id, kind, subject, issued_at, expires_at, revoked_at, note, reviewer) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, string(t.Kind), t.Subject, t.IssuedAt.UnixMicro(), t.ExpiresAt.UnixMicro(), revoked, t.Note, t.Reviewer)
	switch {
	case isTaken(err):
		return fmt.Errorf("sqlitestore: save token %s: %w", t.ID, store.ErrConflict)
	case err != nil:
		return fmt.Errorf("sqlitestore: save token %s: %w", t.ID, err)
	}
	return nil
}

const tokenColumns = `id, kind, subject, issued_at, expires_at, revoked_at, note, reviewer`

func scanToken(row interface{ Scan(...any) error }) (store.Token, error) {
	var (
		t               store.Token
		kind            string
		issued, expires int64
		revoked         sql.NullInt64
	)
	if err := row.Scan(&t.ID, &kind, &t.Subject, &issued, &expires, &revoked, &t.Note, &t.Reviewer); err != nil {
		return store.Token{}, err
	}
	t.Kind = store.TokenKind(kind)
	t.IssuedAt, t.ExpiresAt = fromMicros(issued), fromMicros(expires)
	if revoked.Valid {
		t.RevokedAt = fromMicros(revoked.Int64)
	}
	return t, nil
}

// Token returns the token record with the id. ErrNotFound if there is none.
func (s *Store) Token(ctx context.Context, id string) (store.Token, error) {
	t, err := scanToken(s.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Token{}, fmt.Errorf("sqlitestore: token %s: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Token{}, fmt.Errorf("sqlitestore: token %s: %w", id, err)
	}
	return t, nil
}

// Tokens lists every token record, ordered by issue time then id.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.read.QueryContext(ctx, sqlTokens)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken marks a token revoked at the time given; revoking it again keeps the first time.
// ErrNotFound if there is none. A zero time is refused: it would record the token as never revoked.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("sqlitestore: revoke token %s: zero revocation time", id)
	}
	// SQLite counts a row the WHERE matched as changed even when coalesce keeps its value, so no
	// row changed means no such token.
	res, err := s.write.ExecContext(ctx,
		`UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, at.UnixMicro(), id)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	switch {
	case err != nil:
		return fmt.Errorf("sqlitestore: revoke token %s: %w", id, err)
	case n == 0:
		return fmt.Errorf("sqlitestore: revoke token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// SaveVerificationKey records the public half of a signing key. Saving a kid again changes nothing:
// the key keeps the public key, creation time and retirement it was first saved with, so that a
// process restarting and publishing its key again cannot bring a retired key back.
func (s *Store) SaveVerificationKey(ctx context.Context, k store.VerificationKey) error {
	switch {
	case k.KID == "":
		return errors.New("sqlitestore: save verification key: empty kid")
	case len(k.PublicKey) == 0:
		return fmt.Errorf("sqlitestore: save verification key %s: empty public key", k.KID)
	}
	var retired sql.NullInt64
	if !k.RetiredAt.IsZero() {
		retired = sql.NullInt64{Int64: k.RetiredAt.UnixMicro(), Valid: true}
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO verification_keys (kid, public_key, created_at, retired_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (kid) DO NOTHING`,
		k.KID, k.PublicKey, k.CreatedAt.UnixMicro(), retired)
	if err != nil {
		return fmt.Errorf("sqlitestore: save verification key %s: %w", k.KID, err)
	}
	return nil
}

// VerificationKeys lists every recorded key, retired ones included, ordered by creation time then kid.
func (s *Store) VerificationKeys(ctx context.Context) ([]store.VerificationKey, error) {
	rows, err := s.read.QueryContext(ctx, sqlVerificationKeys)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list verification keys: %w", err)
	}
	defer rows.Close()
	var out []store.VerificationKey
	for rows.Next() {
		var (
			k       store.VerificationKey
			created int64
			retired sql.NullInt64
		)
		if err := rows.Scan(&k.KID, &k.PublicKey, &created, &retired); err != nil {
			return nil, fmt.Errorf("sqlitestore: list verification keys: %w", err)
		}
		k.CreatedAt = fromMicros(created)
		if retired.Valid {
			k.RetiredAt = fromMicros(retired.Int64)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list verification keys: %w", err)
	}
	return out, nil
}

// RetireVerificationKey stops a key from verifying tokens from the time given; retiring it again
// keeps the first time. ErrNotFound if there is none. A zero time is refused: it would record the
// key as never retired.
func (s *Store) RetireVerificationKey(ctx context.Context, kid string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("sqlitestore: retire verification key %s: zero retirement time", kid)
	}
	res, err := s.write.ExecContext(ctx,
		`UPDATE verification_keys SET retired_at = coalesce(retired_at, ?) WHERE kid = ?`, at.UnixMicro(), kid)
	if err := updated(res, err); err != nil {
		return fmt.Errorf("sqlitestore: retire verification key %s: %w", kid, err)
	}
	return nil
}

// providerJSON is how a member's identity provider is kept in its column: ” for none.
type providerJSON struct {
	Issuer           string `json:"issuer"`
	ClientID         string `json:"client_id"`
	ClientSecretFile string `json:"client_secret_file,omitempty"`
	ClientSecretEnv  string `json:"client_secret_env,omitempty"`
	RolesClaim       string `json:"roles_claim"`
}

func encodeProvider(p *store.IdentityProvider) string {
	if p == nil {
		return ""
	}
	b, err := json.Marshal(providerJSON(*p))
	if err != nil {
		// Strings only: Marshal cannot fail.
		panic(fmt.Sprintf("sqlitestore: encode identity provider: %v", err))
	}
	return string(b)
}

func decodeProvider(s string) (*store.IdentityProvider, error) {
	if s == "" {
		return nil, nil
	}
	var p providerJSON
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return nil, fmt.Errorf("decode identity provider: %w", err)
	}
	out := store.IdentityProvider(p)
	return &out, nil
}
