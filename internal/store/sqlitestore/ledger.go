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

// pulledJSON is how a compact pull's summary is kept in the pulled column: the file format. Times
// are Unix microseconds, 0 for none.
type pulledJSON struct {
	Count  int    `json:"count"`
	SHA256 []byte `json:"sha256"`
	First  int64  `json:"first_added,omitempty"`
	Last   int64  `json:"last_added,omitempty"`
}

func encodePulled(p *store.PullSummary) (string, error) {
	if p == nil {
		return "", nil
	}
	j := pulledJSON{Count: p.Count, SHA256: p.SHA256}
	if !p.FirstAdded.IsZero() {
		j.First, j.Last = p.FirstAdded.UnixMicro(), p.LastAdded.UnixMicro()
	}
	b, err := json.Marshal(j)
	return string(b), err
}

func decodePulled(s string) (*store.PullSummary, error) {
	if s == "" {
		return nil, nil
	}
	var j pulledJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return nil, err
	}
	p := &store.PullSummary{Count: j.Count, SHA256: j.SHA256}
	if j.First != 0 {
		p.FirstAdded, p.LastAdded = fromMicros(j.First), fromMicros(j.Last)
	}
	return p, nil
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
	_, err := s.appendChained(ctx, tx, e)
	return err
}

// appendChained is appendLedger that returns the entry as chained.
func (s *Store) appendChained(ctx context.Context, tx *sql.Tx, e store.LedgerEntry) (store.LedgerEntry, error) {
	var (
		seq  int64
		hash = store.GenesisHash()
	)
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM ledger_head WHERE id = 1`).Scan(&seq, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("read ledger head: %w", err)
	}
	e = e.Chain(seq, hash, s.now())
	if err := insertLedger(ctx, tx, e); err != nil {
		return e, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_head (id, seq, hash) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`, e.Seq, e.Hash); err != nil {
		return e, fmt.Errorf("move ledger head: %w", err)
	}
	return e, nil
}

// insertLedger writes a chained entry, every field its hash commits to, as it is: appends and
// imports write entries alike, so that an imported entry verifies as it did where it was appended.
func insertLedger(ctx context.Context, tx *sql.Tx, e store.LedgerEntry) error {
	items, err := encodeItems(e.Items)
	if err != nil {
		return fmt.Errorf("encode ledger items: %w", err)
	}
	pulled, err := encodePulled(e.Pulled)
	if err != nil {
		return fmt.Errorf("encode a pull's summary: %w", err)
	}
	// The number is given, not left to AUTOINCREMENT, because the hash commits to it.
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger
		(seq, at, kind, member_id, token_id, api_root, collection_id, endpoint, items, prev_hash, hash, pulled, person)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At.UnixMicro(), string(e.Kind), e.Member, e.TokenID, e.APIRoot, e.Collection, e.Endpoint,
		items, e.PrevHash, e.Hash, pulled, encodePerson(e.Person)); err != nil {
		return fmt.Errorf("append ledger entry %d: %w", e.Seq, err)
	}
	return nil
}

// RecordPull appends a pull entry, or a dry run's probe entry, to the ledger.
func (s *Store) RecordPull(ctx context.Context, e store.LedgerEntry) error {
	e.Kind = store.ReadKind(e.Kind)
	e, details := store.CompactPull(e)
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		chained, err := s.appendChained(ctx, tx, e)
		if err != nil || details == nil {
			return err
		}
		items, err := encodeItems(details)
		if err != nil {
			return fmt.Errorf("encode pull details: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO pull_details (seq, at, items) VALUES (?, ?, ?)`,
			chained.Seq, chained.At.UnixMicro(), items)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: record pull of %s by %s: %w", e.Collection, e.Member, err)
	}
	return nil
}

// sqlLedger reads one page of the ledger: a range of the rowid.
const sqlLedger = `SELECT seq, at, kind, member_id, token_id, api_root, collection_id, endpoint, items, prev_hash, hash, pulled, person
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
			pulled      string
			person      string
		)
		if err := rows.Scan(&e.Seq, &at, &kind, &e.Member, &e.TokenID, &e.APIRoot, &e.Collection, &e.Endpoint,
			&items, &e.PrevHash, &e.Hash, &pulled, &person); err != nil {
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
		if e.Pulled, err = decodePulled(pulled); err != nil {
			e.Pulled = &store.PullSummary{SHA256: []byte("undecodable: " + err.Error())}
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

// PullDetails returns the items kept for the compact pull entries numbered seqs.
func (s *Store) PullDetails(ctx context.Context, seqs []int64) (map[int64][]store.LedgerItem, error) {
	if len(seqs) > store.MaxLimit {
		return nil, fmt.Errorf("sqlitestore: pull details: %w",
			&store.QueryError{Reason: fmt.Sprintf("%d entries asked for; at most %d", len(seqs), store.MaxLimit)})
	}
	out := map[int64][]store.LedgerItem{}
	if len(seqs) == 0 {
		return out, nil
	}
	list, err := json.Marshal(seqs)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: pull details: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT seq, items FROM pull_details
		WHERE seq IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: pull details: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq   int64
			items string
		)
		if err := rows.Scan(&seq, &items); err != nil {
			return nil, fmt.Errorf("sqlitestore: pull details: %w", err)
		}
		if out[seq], err = decodeItems(items); err != nil {
			// Details that no longer decode were altered; they no longer match the entry's digest.
			out[seq] = []store.LedgerItem{{ID: "undecodable: " + err.Error()}}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: pull details: %w", err)
	}
	return out, nil
}

// PullDetailsAfter returns up to limit pull details of entries numbered above after, in order.
func (s *Store) PullDetailsAfter(ctx context.Context, after int64, limit int) ([]store.PullDetail, error) {
	if err := limitError(limit); err != nil {
		return nil, fmt.Errorf("sqlitestore: pull details: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT seq, at, items FROM pull_details WHERE seq > ? ORDER BY seq LIMIT ?`,
		after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: pull details: %w", err)
	}
	defer rows.Close()
	var out []store.PullDetail
	for rows.Next() {
		var (
			d     store.PullDetail
			at    int64
			items string
		)
		if err := rows.Scan(&d.Seq, &at, &items); err != nil {
			return nil, fmt.Errorf("sqlitestore: pull details: %w", err)
		}
		d.At = fromMicros(at)
		if d.Items, err = decodeItems(items); err != nil {
			return nil, fmt.Errorf("sqlitestore: pull details of entry %d: %w", d.Seq, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: pull details: %w", err)
	}
	return out, nil
}

// PurgePullDetails removes up to limit pull details of entries appended before before.
func (s *Store) PurgePullDetails(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 || limit > store.MaxLimit {
		return 0, fmt.Errorf("sqlitestore: purge pull details: %w",
			&store.QueryError{Reason: fmt.Sprintf("limit %d is outside 1..%d", limit, store.MaxLimit)})
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM pull_details WHERE seq IN (
		SELECT seq FROM pull_details WHERE at < ? ORDER BY at LIMIT ?)`, before.UnixMicro(), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: purge pull details: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: purge pull details: %w", err)
	}
	return int(n), nil
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
