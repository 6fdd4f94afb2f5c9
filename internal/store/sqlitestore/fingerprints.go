package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"taxiihub/internal/store"
)

// upgradeName marks, in upgrades, that the origins of the first fingerprint scheme were re-keyed.
const upgradeName = "fingerprints-v2"

// upgradePage is how many stored versions upgradeFingerprints reads at a time.
const upgradePage = 500

// upgradeFingerprints gives every origin of a first-scheme fingerprint whose content a collection
// still holds an origin under the current scheme's key, in the same partnership, for the same
// member and time, naming the origin it derives from; then records that it did, so that it runs
// once. It runs in one write transaction at Open: a hub that stops midway re-keys from the start.
// Origins of content no collection holds any more keep only their old key, which the hub still
// looks up for content posted unchanged.
func (s *Store) upgradeFingerprints(ctx context.Context, upgrade store.FingerprintUpgrade) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("upgrade fingerprints: %w", err)
	}
	defer rollback(tx)
	var done bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM upgrades WHERE name = ?)`, upgradeName).Scan(&done); err != nil {
		return fmt.Errorf("upgrade fingerprints: %w", err)
	}
	if done {
		return nil
	}
	if err := rekeyOrigins(ctx, tx, upgrade); err != nil {
		return fmt.Errorf("upgrade fingerprints: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO upgrades (name, at) VALUES (?, ?)`, upgradeName, s.now().UnixMicro()); err != nil {
		return fmt.Errorf("upgrade fingerprints: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("upgrade fingerprints: commit: %w", err)
	}
	return nil
}

func rekeyOrigins(ctx context.Context, tx *sql.Tx, upgrade store.FingerprintUpgrade) error {
	// Nothing to re-key on a database without first-scheme origins, the common case.
	var legacy bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM origins WHERE key LIKE 'fp:%' AND key NOT LIKE ?)`,
		store.OriginKeyFingerprint(currentSchemePrefix)+"%").Scan(&legacy); err != nil {
		return err
	}
	if !legacy {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, api_root FROM collections ORDER BY id`)
	if err != nil {
		return err
	}
	type coll struct{ id, root string }
	var colls []coll
	for rows.Next() {
		var c coll
		if err := rows.Scan(&c.id, &c.root); err != nil {
			rows.Close()
			return err
		}
		colls = append(colls, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range colls {
		for after := int64(-1); ; {
			page, last, err := upgradePageOf(ctx, tx, c.id, after, upgrade)
			if err != nil {
				return err
			}
			if err := deriveOrigins(ctx, tx, c.root, page); err != nil {
				return err
			}
			if last < 0 {
				break
			}
			after = last
		}
	}
	return nil
}

// currentSchemePrefix starts the current scheme's fingerprints (policy.FingerprintScheme); the
// store knows it only to tell which origins are older.
const currentSchemePrefix = "v2-"

// upgradePageOf reads the versions of a collection added after after and returns the current key
// of each one's legacy key, and the date added to resume after (-1 at the end).
func upgradePageOf(ctx context.Context, tx *sql.Tx, collectionID string, after int64, upgrade store.FingerprintUpgrade) (map[string]string, int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT date_added, content FROM objects WHERE collection_id = ? AND date_added > ?
		ORDER BY date_added LIMIT ?`, collectionID, after, upgradePage)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	keys := map[string]string{}
	n, last := 0, int64(-1)
	for rows.Next() {
		var content []byte
		if err := rows.Scan(&last, &content); err != nil {
			return nil, 0, err
		}
		n++
		if legacy, current := upgrade(content); legacy != "" && current != "" {
			keys[store.OriginKeyFingerprint(legacy)] = store.OriginKeyFingerprint(current)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if n < upgradePage {
		last = -1
	}
	return keys, last, nil
}

// deriveOrigins adds, for each legacy key with an origin in root, an origin of its current key.
func deriveOrigins(ctx context.Context, tx *sql.Tx, root string, keys map[string]string) error {
	if len(keys) == 0 {
		return nil
	}
	legacy := make([]string, 0, len(keys))
	for k := range keys {
		legacy = append(legacy, k)
	}
	var b strings.Builder
	b.WriteString(`SELECT key, member_id, at FROM origins WHERE api_root = ?`)
	args, err := whereIn(&b, []any{root}, "key", legacy)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return err
	}
	type found struct {
		key, member string
		at          int64
	}
	var origins []found
	for rows.Next() {
		var f found
		if err := rows.Scan(&f.key, &f.member, &f.at); err != nil {
			rows.Close()
			return err
		}
		origins = append(origins, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, o := range origins {
		if _, err := tx.ExecContext(ctx, `INSERT INTO origins (key, api_root, member_id, at, derived_from) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (key, api_root) DO NOTHING`, keys[o.key], root, o.member, o.at, o.key); err != nil {
			return err
		}
	}
	return nil
}

// sqlLastPulls reads ledger_content_pulls: the conditions repeat the index's, so that SQLite uses it.
const sqlLastPulls = `SELECT api_root, MAX(at) FROM ledger
	WHERE member_id = ? AND kind = 'pull' AND endpoint IN ('objects', 'object') AND (items <> '[]' OR pulled <> '')`

func lastPullsQuery(member string, roots []string) (string, []any, error) {
	var b strings.Builder
	b.WriteString(sqlLastPulls)
	args, err := whereIn(&b, []any{member}, "api_root", roots)
	if err != nil {
		return "", nil, err
	}
	b.WriteString(` GROUP BY api_root`)
	return b.String(), args, nil
}

// LastPulls returns when member last received content from each of roots.
func (s *Store) LastPulls(ctx context.Context, member string, roots []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(roots) == 0 {
		return out, nil
	}
	query, args, err := lastPullsQuery(member, roots)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: last pulls: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: last pulls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			root string
			at   int64
		)
		if err := rows.Scan(&root, &at); err != nil {
			return nil, fmt.Errorf("sqlitestore: last pulls: %w", err)
		}
		out[root] = fromMicros(at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: last pulls: %w", err)
	}
	return out, nil
}
