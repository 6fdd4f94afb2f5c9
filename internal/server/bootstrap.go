package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// Files the hub writes into its data directory.
const (
	// OperatorTokenFile holds the first operator token, issued when the store has none.
	OperatorTokenFile = "operator.token"
	// TokensDir holds one partner token per member declared in the seed file, as <member-id>.jwt.
	TokensDir = "tokens"
)

// Actors the audit trail names for what the hub does by itself.
const (
	bootstrapActor = "taxiihub"
	seedActor      = "taxiihub --seed"
)

// bootstrapOperator gives a hub its first operator token: when no operator token in the store is
// active (on first start, there is none at all), it issues one and writes it to the data directory
// with mode 0600. It never overwrites a token file, so an operator locked out after the last
// operator token expired removes the file and restarts; it logs where the token is, never the token.
func bootstrapOperator(ctx context.Context, svc *admin.Service, dataDir string, log *slog.Logger) error {
	active, err := svc.HasActiveOperatorToken(ctx)
	if err != nil || active {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dataDir, OperatorTokenFile)
	// Claim the file before issuing, so that a token is only issued when it can be handed over.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		log.WarnContext(ctx, "no operator token is active, and the operator token file is left alone; "+
			"remove it and restart to have a new token issued", "path", path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("create operator token file: %w", err)
	}
	issued, err := svc.IssueToken(ctx, bootstrapActor, admin.TokenRequest{Kind: "operator", Subject: "operator",
		Note: "first operator token, written to " + OperatorTokenFile})
	if err != nil {
		return errors.Join(fmt.Errorf("issue the first operator token: %w", err), f.Close(), os.Remove(path))
	}
	if err := errors.Join(writeToken(f, issued.JWT), f.Sync(), f.Close()); err != nil {
		// Nobody holds the token: revoke it rather than leave a live credential behind.
		_, revokeErr := svc.RevokeToken(ctx, bootstrapActor, issued.Token.ID)
		return errors.Join(fmt.Errorf("write %s: %w", path, err), os.Remove(path), revokeErr)
	}
	log.InfoContext(ctx, "issued the first operator token", "path", path, "token_id", issued.Token.ID,
		"expires_at", issued.Token.ExpiresAt)
	return nil
}

func writeToken(f *os.File, jwt string) error {
	_, err := f.WriteString(jwt + "\n")
	return err
}

// seedRecords is what seed reads and writes in the store besides what Apply changes.
type seedRecords interface {
	Seeds(ctx context.Context) ([]store.Seed, error)
	RecordSeed(ctx context.Context, sd store.Seed) error
	APIRoots(ctx context.Context) ([]store.APIRoot, error)
	Members(ctx context.Context) ([]store.Member, error)
}

// seed bootstraps a new hub from the spec file at path: it applies the file, writes a token for
// every member it declares, and records the file's digest in the store. It does so only for a store
// that was never seeded and holds no partnership or member. Anything else is left alone, whatever
// the file says now: a seed reapplied at each restart would re-create what operators removed,
// change back what they changed and replace tokens they revoked, and the same goes for an edited
// file, which would also undo removals. Applying a file to a running hub is taxiictl apply's job,
// which shows the plan first. A store seeded before seeds were recorded holds partnerships or
// members, and is recorded as seeded without the file being applied.
func seed(ctx context.Context, svc *admin.Service, st seedRecords, authn *auth.Authenticator, path, dataDir string,
	now time.Time, log *slog.Logger) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	// The file is checked even when it will not be applied, so that a broken file is found now
	// rather than on the day someone applies it.
	spec, err := admin.ParseSpecFile(path, data)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	seeded, err := st.Seeds(ctx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if len(seeded) > 0 {
		last := seeded[len(seeded)-1]
		if slices.ContainsFunc(seeded, func(sd store.Seed) bool { return sd.Digest == digest }) {
			log.InfoContext(ctx, "the store was seeded with this file already; it is not applied again, "+
				"so that changes made since stay", "path", path, "sha256", digest)
			return nil
		}
		log.WarnContext(ctx, "the store was seeded with another file (or another version of this one), and "+
			"a seed file is applied only to a store never seeded; to apply this one, review the plan of "+
			"taxiictl apply --dry-run -f FILE, then run it without --dry-run", "path", path, "sha256", digest,
			"seeded_from", last.Path, "seeded_sha256", last.Digest, "seeded_at", last.AppliedAt)
		return nil
	}
	roots, err := st.APIRoots(ctx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	members, err := st.Members(ctx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if len(roots) > 0 || len(members) > 0 {
		log.WarnContext(ctx, "the store holds partnerships or members already, so the seed file is not applied "+
			"(it bootstraps new hubs only); use taxiictl apply to apply it", "path", path, "sha256", digest,
			"partnerships", len(roots), "members", len(members))
		if err := st.RecordSeed(ctx, store.Seed{Digest: digest, Path: path, AppliedAt: now}); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		return nil
	}

	res, err := svc.Apply(ctx, seedActor, spec, false, false)
	if err != nil {
		return fmt.Errorf("seed %s: %w", path, err)
	}
	log.InfoContext(ctx, "applied the seed file to a new hub", "path", path, "sha256", digest, "changes", len(res.Changes))
	if err := writeSeedTokens(ctx, svc, authn, spec, dataDir, log); err != nil {
		return err
	}
	// Recorded last: a hub that fails before this point applies the file again at its next start,
	// which changes nothing that was applied, and writes the tokens that are missing.
	if err := st.RecordSeed(ctx, store.Seed{Digest: digest, Path: path, AppliedAt: now}); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// writeSeedTokens makes sure that every member the seed declares has a usable token in the data
// directory. A token file still valid and unrevoked is kept; any other is replaced.
func writeSeedTokens(ctx context.Context, svc *admin.Service, authn *auth.Authenticator, spec admin.Spec, dataDir string, log *slog.Logger) error {
	dir := filepath.Join(dataDir, TokensDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("seed: create token directory: %w", err)
	}
	for _, m := range spec.Members {
		file := filepath.Join(dir, m.ID+".jwt")
		usable, err := usableToken(ctx, authn, file, m.ID)
		if err != nil {
			return fmt.Errorf("seed: check %s: %w", file, err)
		}
		if usable {
			continue
		}
		issued, err := svc.IssueToken(ctx, seedActor, admin.TokenRequest{Subject: m.ID, Note: "seeded, written to " + filepath.Join(TokensDir, m.ID+".jwt")})
		if err != nil {
			return fmt.Errorf("seed: token for %s: %w", m.ID, err)
		}
		if err := replaceTokenFile(file, issued.JWT); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		log.InfoContext(ctx, "wrote a partner token", "member", m.ID, "path", file, "token_id", issued.Token.ID,
			"expires_at", issued.Token.ExpiresAt)
	}
	return nil
}

// usableToken reports whether the file holds a token that would open the TAXII API as the member
// now: signed by a key the hub accepts, unexpired, recorded and unrevoked.
func usableToken(ctx context.Context, authn *auth.Authenticator, path, member string) (bool, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p, err := authn.Partner(ctx, "Bearer "+strings.TrimSpace(string(raw)))
	if errors.Is(err, auth.ErrUnauthenticated) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return p.MemberID == member, nil
}

// replaceTokenFile writes a token through a temporary file renamed into place, so that a reader
// never sees half a token and a crash leaves the old file or the new one.
func replaceTokenFile(path, jwt string) error {
	tmp := path + ".new"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale %s: %w", tmp, err)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create token file: %w", err)
	}
	if err := errors.Join(writeToken(f, jwt), f.Sync(), f.Close()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	return nil
}
