package sqlitestore

import (
	"context"
	"errors"
	"fmt"

	"taxiihub/internal/store"
)

// RecordSeed records that a seed file was applied; recording a digest again keeps the first record.
func (s *Store) RecordSeed(ctx context.Context, sd store.Seed) error {
	if sd.Digest == "" {
		return errors.New("sqlitestore: record seed: empty digest")
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO seeds (digest, path, applied_at) VALUES (?, ?, ?)
		ON CONFLICT (digest) DO NOTHING`, sd.Digest, sd.Path, sd.AppliedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlitestore: record seed %s: %w", sd.Digest, err)
	}
	return nil
}

// Seeds lists the seed files applied, oldest first.
func (s *Store) Seeds(ctx context.Context) ([]store.Seed, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT digest, path, applied_at FROM seeds ORDER BY applied_at, digest`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list seeds: %w", err)
	}
	defer rows.Close()
	var out []store.Seed
	for rows.Next() {
		var (
			sd store.Seed
			at int64
		)
		if err := rows.Scan(&sd.Digest, &sd.Path, &at); err != nil {
			return nil, fmt.Errorf("sqlitestore: list seeds: %w", err)
		}
		sd.AppliedAt = fromMicros(at)
		out = append(out, sd)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list seeds: %w", err)
	}
	return out, nil
}
