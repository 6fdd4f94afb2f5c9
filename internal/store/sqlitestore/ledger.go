package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"taxiihub/internal/store"
)

// itemJSON is how a ledger item is kept in the items column: the file format, which must not change
// when store.LedgerItem does. Versions are Unix microseconds, 0 for none.
type itemJSON struct {
	ID      string `json:"id"`
	Version int64  `json:"version,omitempty"`
	Verdict string `json:"verdict,omitempty"`
	// Absent from items written before the ledger recorded them.
	SHA256      []byte `json:"sha256,omitempty"` // base64, as encoding/json writes bytes
	Fingerprint string `json:"fp,omitempty"`
}

func encodeItems(items []store.LedgerItem) (string, error) {
	out := make([]itemJSON, len(items))
	for i, it := range items {
		out[i] = itemJSON{ID: it.ID, Verdict: it.Verdict, SHA256: it.SHA256, Fingerprint: it.Fingerprint}
		if !it.Version.IsZero() {
			out[i].Version = it.Version.UnixMicro()
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func decodeItems(s string) ([]store.LedgerItem, error) {
	var in []itemJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, err
	}
	out := make([]store.LedgerItem, len(in))
	for i, it := range in {
		out[i] = store.LedgerItem{ID: it.ID, Verdict: it.Verdict, SHA256: it.SHA256, Fingerprint: it.Fingerprint}
		if it.Version != 0 {
			out[i].Version = fromMicros(it.Version)
		}
	}
	return out, nil
}

// appendLedger chains e after the recorded head and appends it, moving the head, in tx. The write
// lock tx holds serializes appends, in this process and in others sharing the file, so the head
// cannot move between reading and writing it.
func (s *Store) appendLedger(ctx context.Context, tx *sql.Tx, e store.LedgerEntry) error {
	var (
		seq  int64
		hash = store.GenesisHash()
	)
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM ledger_head WHERE id = 1`).Scan(&seq, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read ledger head: %w", err)
	}
	e = e.Chain(seq, hash, s.now())
	items, err := encodeItems(e.Items)
	if err != nil {
		return fmt.Errorf("encode ledger items: %w", err)
	}
	// The number is given, not left to AUTOINCREMENT, because the hash commits to it.
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger
		(seq, at, kind, member_id, token_id, api_root, collection_id, endpoint, items, prev_hash, hash, person)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At.UnixMicro(), string(e.Kind), e.Member, e.TokenID, e.APIRoot, e.Collection, e.Endpoint,
		items, e.PrevHash, e.Hash, encodePerson(e.Person)); err != nil {
		return fmt.Errorf("append ledger entry %d: %w", e.Seq, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_head (id, seq, hash) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`, e.Seq, e.Hash); err != nil {
		return fmt.Errorf("move ledger head: %w", err)
	}
	return nil
}

// RecordPull appends a pull entry, or a dry run's probe entry, to the ledger.
func (s *Store) RecordPull(ctx context.Context, e store.LedgerEntry) error {
	e.Kind = store.ReadKind(e.Kind)
	if err := s.inWrite(ctx, func(tx *sql.Tx) error { return s.appendLedger(ctx, tx, e) }); err != nil {
		return fmt.Errorf("sqlitestore: record pull of %s by %s: %w", e.Collection, e.Member, err)
	}
	return nil
}

// sqlLedger reads one page of the ledger: a range of the rowid.
const sqlLedger = `SELECT seq, at, kind, member_id, token_id, api_root, collection_id, endpoint, items, prev_hash, hash, person
	FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?`

// Ledger returns up to limit entries with a sequence number above after, in order.
func (s *Store) Ledger(ctx context.Context, after int64, limit int) ([]store.LedgerEntry, error) {
	if limit < 1 || limit > store.MaxLimit {
		return nil, fmt.Errorf("sqlitestore: ledger after %d: %w", after,
			&store.QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", limit, store.MaxLimit)})
	}
	rows, err := s.read.QueryContext(ctx, sqlLedger, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: ledger after %d: %w", after, err)
	}
	defer rows.Close()
	var out []store.LedgerEntry
	for rows.Next() {
		var (
			e           store.LedgerEntry
			at          int64
			kind, items string
			person      string
		)
		if err := rows.Scan(&e.Seq, &at, &kind, &e.Member, &e.TokenID, &e.APIRoot, &e.Collection, &e.Endpoint,
			&items, &e.PrevHash, &e.Hash, &person); err != nil {
			return nil, fmt.Errorf("sqlitestore: ledger after %d: %w", after, err)
		}
		e.At, e.Kind = fromMicros(at), store.LedgerKind(kind)
		if e.Person, err = decodePerson(person); err != nil {
			// Like undecodable items: the entry was altered, and its hash no longer verifies.
			e.Person = store.Person{Name: "undecodable: " + err.Error()}
		}
		if e.Items, err = decodeItems(items); err != nil {
			// An entry whose items no longer decode was altered; verification reports it as such.
			e.Items = []store.LedgerItem{{ID: "undecodable: " + err.Error()}}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: ledger after %d: %w", after, err)
	}
	return out, nil
}

// LedgerHead returns where the ledger ends.
func (s *Store) LedgerHead(ctx context.Context) (store.LedgerHead, error) {
	var h store.LedgerHead
	err := s.read.QueryRowContext(ctx, `SELECT seq, hash FROM ledger_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.LedgerHead{}, fmt.Errorf("sqlitestore: ledger head: %w", err)
	}
	return h, nil
}

// personJSON is how the person of a ledger entry is kept in the person column: ” for none.
type personJSON struct {
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	Name    string `json:"name"`
}

func encodePerson(p store.Person) string {
	if p.IsZero() {
		return ""
	}
	b, err := json.Marshal(personJSON{Issuer: p.Issuer, Subject: p.Subject, Name: p.Name})
	if err != nil {
		// Strings only: Marshal cannot fail.
		panic(fmt.Sprintf("sqlitestore: encode person: %v", err))
	}
	return string(b)
}

func decodePerson(s string) (store.Person, error) {
	if s == "" {
		return store.Person{}, nil
	}
	var p personJSON
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return store.Person{}, err
	}
	return store.Person{Issuer: p.Issuer, Subject: p.Subject, Name: p.Name}, nil
}
