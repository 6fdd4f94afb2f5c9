package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"taxiihub/internal/store"
)

// CreateAPIRoot adds an API root. ErrConflict if its slug is taken.
func (s *Store) CreateAPIRoot(ctx context.Context, root store.APIRoot) error {
	if root.Slug == "" {
		return fmt.Errorf("sqlitestore: create api root: empty slug")
	}
	p := root.Policy
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_roots
		(slug, title, description, personal_data, jurisdictions, no_onward_sharing, reviewers) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		root.Slug, root.Title, root.Description, string(p.PersonalData), encodeList(p.Jurisdictions), p.NoOnwardSharing,
		encodeList(p.Reviewers))
	switch {
	case isTaken(err):
		return fmt.Errorf("sqlitestore: create api root %s: %w", root.Slug, store.ErrConflict)
	case err != nil:
		return fmt.Errorf("sqlitestore: create api root %s: %w", root.Slug, err)
	}
	return nil
}

const apiRootColumns = `slug, title, description, personal_data, jurisdictions, no_onward_sharing, reviewers`

func scanAPIRoot(row interface{ Scan(...any) error }) (store.APIRoot, error) {
	var (
		r                  store.APIRoot
		personal, jur, rev string
	)
	if err := row.Scan(&r.Slug, &r.Title, &r.Description, &personal, &jur, &r.Policy.NoOnwardSharing, &rev); err != nil {
		return store.APIRoot{}, err
	}
	r.Policy.PersonalData = store.PersonalDataMode(personal)
	var err error
	if r.Policy.Jurisdictions, err = decodeList(jur); err != nil {
		return store.APIRoot{}, fmt.Errorf("jurisdictions of %s: %w", r.Slug, err)
	}
	if r.Policy.Reviewers, err = decodeList(rev); err != nil {
		return store.APIRoot{}, fmt.Errorf("reviewers of %s: %w", r.Slug, err)
	}
	return r, nil
}

// APIRoot returns the root with the slug. ErrNotFound if there is none.
func (s *Store) APIRoot(ctx context.Context, slug string) (store.APIRoot, error) {
	r, err := scanAPIRoot(s.read.QueryRowContext(ctx, `SELECT `+apiRootColumns+` FROM api_roots WHERE slug = ?`, slug))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.APIRoot{}, fmt.Errorf("sqlitestore: api root %s: %w", slug, store.ErrNotFound)
	case err != nil:
		return store.APIRoot{}, fmt.Errorf("sqlitestore: api root %s: %w", slug, err)
	}
	return r, nil
}

// APIRoots lists every API root, ordered by slug.
func (s *Store) APIRoots(ctx context.Context) ([]store.APIRoot, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+apiRootColumns+` FROM api_roots ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list api roots: %w", err)
	}
	defer rows.Close()
	var out []store.APIRoot
	for rows.Next() {
		r, err := scanAPIRoot(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list api roots: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list api roots: %w", err)
	}
	return out, nil
}

// UpdateAPIRoot replaces the title, description and policy of an API root. ErrNotFound if there is
// none; ErrJurisdiction if the policy would exclude a member holding a grant or membership in it.
func (s *Store) UpdateAPIRoot(ctx context.Context, root store.APIRoot) error {
	p := root.Policy
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_roots
			SET title = ?, description = ?, personal_data = ?, jurisdictions = ?, no_onward_sharing = ?, reviewers = ?
			WHERE slug = ?`,
			root.Title, root.Description, string(p.PersonalData), encodeList(p.Jurisdictions), p.NoOnwardSharing,
			encodeList(p.Reviewers), root.Slug)
		if err := updated(res, err); err != nil {
			return err
		}
		// Under the write lock, no grant or membership can be added between this check and the commit.
		return checkJurisdictions(ctx, tx, sqlOutsidersOfRoot, root.Slug)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: update api root %s: %w", root.Slug, err)
	}
	return nil
}

// DeleteAPIRoot removes an API root, its status resources and its members collection. ErrNotFound
// if there is none; ErrConflict while it still holds any other collection.
func (s *Store) DeleteAPIRoot(ctx context.Context, slug string) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		var exists, busy bool
		err := tx.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM api_roots WHERE slug = ?),
			EXISTS (SELECT 1 FROM collections WHERE api_root = ? AND NOT members)`, slug, slug).Scan(&exists, &busy)
		switch {
		case err != nil:
			return err
		case !exists:
			return store.ErrNotFound
		case busy:
			return store.ErrConflict
		}
		// Only the members collection is left; it goes with the root, its objects and grants first,
		// as DeleteCollection removes them.
		for _, q := range []string{
			`DELETE FROM objects WHERE collection_id IN (SELECT id FROM collections WHERE api_root = ?)`,
			`DELETE FROM grants WHERE collection_id IN (SELECT id FROM collections WHERE api_root = ?)`,
			`DELETE FROM collections WHERE api_root = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, slug); err != nil {
				return err
			}
		}
		// Statuses only report on past requests; left behind, they would reappear under a new root
		// that reuses the slug, as would memberships.
		if _, err := tx.ExecContext(ctx, `DELETE FROM statuses WHERE api_root = ?`, slug); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE api_root = ?`, slug); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM api_roots WHERE slug = ?`, slug)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: delete api root %s: %w", slug, err)
	}
	return nil
}

// CreateCollection adds a collection to an existing API root. ErrNotFound if the root does not
// exist; ErrConflict if the id is taken anywhere, the alias is taken within the root, or the root
// has a members collection already and this is another (the unique index collections_members).
func (s *Store) CreateCollection(ctx context.Context, c store.Collection) error {
	if c.ID == "" {
		return fmt.Errorf("sqlitestore: create collection in %s: empty id", c.APIRoot)
	}
	media, err := json.Marshal(c.MediaTypes)
	if err != nil {
		return fmt.Errorf("sqlitestore: create collection %s: %w", c.ID, err)
	}
	err = s.inWrite(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx,
			`SELECT EXISTS (SELECT 1 FROM api_roots WHERE slug = ?)`, c.APIRoot).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("api root %s: %w", c.APIRoot, store.ErrNotFound)
		}
		p := c.Policy
		_, err := tx.ExecContext(ctx, `INSERT INTO collections
			(id, api_root, title, alias, description, media_types, allowed_types, denied_properties, max_tlp, members,
			unmarked, allowed_properties, review, review_timeout, retention)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.APIRoot, c.Title, c.Alias, c.Description, string(media),
			encodeList(p.AllowedTypes), encodeList(p.DeniedProperties), int(p.MaxTLP), c.Members,
			string(p.Unmarked), encodeProperties(p.AllowedProperties), string(p.Review), int64(p.ReviewTimeout),
			int64(p.Retention))
		if isTaken(err) {
			return store.ErrConflict
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: create collection %s: %w", c.ID, err)
	}
	return nil
}

const collectionColumns = `id, api_root, title, alias, description, media_types,
	allowed_types, denied_properties, max_tlp, members, unmarked, allowed_properties, review, review_timeout, retention`

func scanCollection(row interface{ Scan(...any) error }) (store.Collection, error) {
	var (
		c                                       store.Collection
		media, types, denied, unmarked, allowed string
		maxTLP                                  int
		review                                  string
		reviewTimeout, retention                int64
	)
	if err := row.Scan(&c.ID, &c.APIRoot, &c.Title, &c.Alias, &c.Description, &media, &types, &denied, &maxTLP, &c.Members,
		&unmarked, &allowed, &review, &reviewTimeout, &retention); err != nil {
		return store.Collection{}, err
	}
	if err := json.Unmarshal([]byte(media), &c.MediaTypes); err != nil {
		return store.Collection{}, fmt.Errorf("media types of collection %s: %w", c.ID, err)
	}
	var err error
	if c.Policy.AllowedTypes, err = decodeList(types); err != nil {
		return store.Collection{}, fmt.Errorf("allowed types of collection %s: %w", c.ID, err)
	}
	if c.Policy.DeniedProperties, err = decodeList(denied); err != nil {
		return store.Collection{}, fmt.Errorf("denied properties of collection %s: %w", c.ID, err)
	}
	c.Policy.MaxTLP = store.TLP(maxTLP)
	c.Policy.Unmarked = store.UnmarkedRule(unmarked)
	c.Policy.Review = store.ReviewRule(review)
	c.Policy.ReviewTimeout = time.Duration(reviewTimeout)
	c.Policy.Retention = time.Duration(retention)
	if err := json.Unmarshal([]byte(allowed), &c.Policy.AllowedProperties); err != nil {
		return store.Collection{}, fmt.Errorf("allowed properties of collection %s: %w", c.ID, err)
	}
	c.Policy.AllowedProperties = store.SortedProperties(c.Policy.AllowedProperties)
	return c, nil
}

// encodeProperties stores allowed properties as a JSON object of type to sorted paths; none is {}.
func encodeProperties(props map[string][]string) string {
	props = store.SortedProperties(props)
	if props == nil {
		return "{}"
	}
	b, err := json.Marshal(props)
	if err != nil {
		// A map of strings to string slices always encodes.
		panic(fmt.Sprintf("sqlitestore: encode allowed properties: %v", err))
	}
	return string(b)
}

// encodeList stores a set of strings as a JSON array, sorted and without duplicates, so that equal
// sets are stored alike.
func encodeList(values []string) string {
	b, err := json.Marshal(store.SortedSet(values))
	if err != nil || string(b) == "null" {
		return "[]"
	}
	return string(b)
}

// decodeList reads what encodeList stored; an empty set reads as nil.
func decodeList(s string) ([]string, error) {
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// Collection returns the collection of the root whose id, or else whose alias, is ref.
// ErrNotFound if there is none in that root.
func (s *Store) Collection(ctx context.Context, root, ref string) (store.Collection, error) {
	// An id match wins over an alias match: ids are what other records point at.
	c, err := scanCollection(s.read.QueryRowContext(ctx, `SELECT `+collectionColumns+`
		FROM collections WHERE api_root = ? AND (id = ? OR (alias = ? AND alias <> ''))
		ORDER BY id = ? DESC LIMIT 1`, root, ref, ref, ref))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Collection{}, fmt.Errorf("sqlitestore: collection %s in %s: %w", ref, root, store.ErrNotFound)
	case err != nil:
		return store.Collection{}, fmt.Errorf("sqlitestore: collection %s in %s: %w", ref, root, err)
	}
	return c, nil
}

// UpdateCollection replaces the title, alias, description and media types of a collection; its id
// and API root never change. ErrNotFound if the root holds no collection with that id; ErrConflict
// if the alias is taken by another collection of the root.
func (s *Store) UpdateCollection(ctx context.Context, c store.Collection) error {
	media, err := json.Marshal(c.MediaTypes)
	if err != nil {
		return fmt.Errorf("sqlitestore: update collection %s in %s: %w", c.ID, c.APIRoot, err)
	}
	// The unique index collections_alias refuses an alias another collection of the root holds; a
	// collection keeping its own alias is no conflict.
	p := c.Policy
	res, err := s.write.ExecContext(ctx, `UPDATE collections
		SET title = ?, alias = ?, description = ?, media_types = ?, allowed_types = ?, denied_properties = ?, max_tlp = ?,
			unmarked = ?, allowed_properties = ?, review = ?, review_timeout = ?, retention = ?
		WHERE id = ? AND api_root = ?`,
		c.Title, c.Alias, c.Description, string(media), encodeList(p.AllowedTypes), encodeList(p.DeniedProperties),
		int(p.MaxTLP), string(p.Unmarked), encodeProperties(p.AllowedProperties), string(p.Review), int64(p.ReviewTimeout),
		int64(p.Retention), c.ID, c.APIRoot)
	if isTaken(err) {
		err = store.ErrConflict
	}
	if err := updated(res, err); err != nil {
		return fmt.Errorf("sqlitestore: update collection %s in %s: %w", c.ID, c.APIRoot, err)
	}
	return nil
}

// Collections lists the collections of a root, ordered by title then id. ErrNotFound if the root
// does not exist.
func (s *Store) Collections(ctx context.Context, root string) ([]store.Collection, error) {
	var out []store.Collection
	err := s.inRead(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx,
			`SELECT EXISTS (SELECT 1 FROM api_roots WHERE slug = ?)`, root).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return store.ErrNotFound
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+collectionColumns+`
			FROM collections WHERE api_root = ? ORDER BY title, id`, root)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCollection(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list collections of %s: %w", root, err)
	}
	return out, nil
}

// DeleteCollection removes a collection, every object version in it and every grant on it.
// ErrNotFound if the root holds no collection with that id.
func (s *Store) DeleteCollection(ctx context.Context, root, id string) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS
			(SELECT 1 FROM collections WHERE id = ? AND api_root = ?)`, id, root).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE collection_id = ?`, id); err != nil {
			return err
		}
		// Objects held for review go with the collection they were posted to.
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending WHERE collection_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE collection_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM collections WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: delete collection %s in %s: %w", id, root, err)
	}
	return nil
}

// statusJSON is how a status resource is kept: the contract's types carry no encoding tags, and
// this shape is the file format, which must not change when they do.
type statusJSON struct {
	Pending          bool         `json:"pending"`
	RequestTimestamp string       `json:"request_timestamp"` // RFC 3339 with nanoseconds
	Successes        []detailJSON `json:"successes"`
	Failures         []detailJSON `json:"failures"`
	Pendings         []detailJSON `json:"pendings"`
}

type detailJSON struct {
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
	Message string `json:"message,omitempty"`
}

func toDetailsJSON(in []store.StatusDetail) []detailJSON {
	if in == nil {
		return nil
	}
	out := make([]detailJSON, len(in))
	for i, d := range in {
		out[i] = detailJSON(d)
	}
	return out
}

func fromDetailsJSON(in []detailJSON) []store.StatusDetail {
	if in == nil {
		return nil
	}
	out := make([]store.StatusDetail, len(in))
	for i, d := range in {
		out[i] = store.StatusDetail(d)
	}
	return out
}

// SaveStatus creates or replaces a status resource.
func (s *Store) SaveStatus(ctx context.Context, st store.Status) error {
	return saveStatus(ctx, s.write, st)
}

// execer is what saveStatus writes through: the writer connection, or a write transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func saveStatus(ctx context.Context, db execer, st store.Status) error {
	body, err := json.Marshal(statusJSON{
		Pending:          st.Pending,
		RequestTimestamp: st.RequestTimestamp.UTC().Format(time.RFC3339Nano),
		Successes:        toDetailsJSON(st.Successes),
		Failures:         toDetailsJSON(st.Failures),
		Pendings:         toDetailsJSON(st.Pendings),
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: save status %s: %w", st.ID, err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO statuses (api_root, id, submitter, body, request_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (api_root, id) DO UPDATE SET submitter = excluded.submitter, body = excluded.body,
			request_at = excluded.request_at`,
		st.APIRoot, st.ID, st.Submitter, string(body), st.RequestTimestamp.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlitestore: save status %s: %w", st.ID, err)
	}
	return nil
}

// Status returns the status resource with the id in the root. ErrNotFound if there is none.
func (s *Store) Status(ctx context.Context, root, id string) (store.Status, error) {
	return readStatus(ctx, s.read, root, id)
}

// readStatus reads a status with db: the reading pool, or a write transaction changing it.
func readStatus(ctx context.Context, db interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, root, id string) (store.Status, error) {
	var submitter, body string
	err := db.QueryRowContext(ctx,
		`SELECT submitter, body FROM statuses WHERE api_root = ? AND id = ?`, root, id).Scan(&submitter, &body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Status{}, fmt.Errorf("sqlitestore: status %s in %s: %w", id, root, store.ErrNotFound)
	case err != nil:
		return store.Status{}, fmt.Errorf("sqlitestore: status %s in %s: %w", id, root, err)
	}
	var j statusJSON
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		return store.Status{}, fmt.Errorf("sqlitestore: status %s in %s: %w", id, root, err)
	}
	ts, err := time.Parse(time.RFC3339Nano, j.RequestTimestamp)
	if err != nil {
		return store.Status{}, fmt.Errorf("sqlitestore: status %s in %s: request timestamp: %w", id, root, err)
	}
	return store.Status{
		ID:               id,
		APIRoot:          root,
		Submitter:        submitter,
		Pending:          j.Pending,
		RequestTimestamp: ts.UTC(),
		Successes:        fromDetailsJSON(j.Successes),
		Failures:         fromDetailsJSON(j.Failures),
		Pendings:         fromDetailsJSON(j.Pendings),
	}, nil
}
