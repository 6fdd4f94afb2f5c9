package server

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// keyStore is where a node publishes its verification key and learns everyone else's.
type keyStore interface {
	SaveVerificationKey(ctx context.Context, k store.VerificationKey) error
	VerificationKeys(ctx context.Context) ([]store.VerificationKey, error)
}

// nodeKey is the key this hub node signs tokens with. Private keys never leave the node's disk:
// each node signs with its own key and publishes the public half to the store, and every node
// verifies with every key published there. Rotation is therefore per node.
type nodeKey struct {
	// path is the data directory's key file, which rotation replaces; empty when the operator
	// provides the key with --signing-key-file, which the hub must not replace.
	path    string
	keyring *auth.Keyring
	store   keyStore
	log     *slog.Logger
	now     func() time.Time
	// rotating serialises rotations, which replace files on disk.
	rotating sync.Mutex
}

var _ admin.KeyManager = (*nodeKey)(nil)

// openNodeKey loads the configured signing key, or the data directory's (created on first start),
// and publishes its public half.
func openNodeKey(ctx context.Context, cfg Config, st keyStore, log *slog.Logger) (*nodeKey, error) {
	var (
		key  ed25519.PrivateKey
		path string
		err  error
	)
	if cfg.SigningKeyFile != "" {
		key, err = auth.ReadSigningKey(cfg.SigningKeyFile)
	} else {
		path = filepath.Join(cfg.DataDir, auth.SigningKeyFile)
		var created bool
		key, created, err = auth.LoadOrCreateSigningKey(path)
		if created {
			log.InfoContext(ctx, "created a signing key", "path", path, "kid", auth.KeyID(key.Public().(ed25519.PublicKey)))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	n := &nodeKey{path: path, keyring: auth.NewSharedKeyring(key, st), store: st, log: log, now: time.Now}
	kid := n.keyring.SigningKeyID()

	retired, err := n.retired(ctx, kid)
	if err != nil {
		return nil, err
	}
	switch {
	case retired && path == "":
		return nil, fmt.Errorf("signing key %s in %s has been retired, so no hub would accept the tokens "+
			"this node signs; install a new key file", kid, cfg.SigningKeyFile)
	case retired:
		// The operator retired the key this node signs with while it was down. Signing on with it
		// would issue tokens every node refuses: start with a new key instead.
		rotated, err := n.RotateSigningKey(ctx)
		if err != nil {
			return nil, fmt.Errorf("replace retired signing key %s: %w", kid, err)
		}
		log.WarnContext(ctx, "the signing key had been retired; this node signs with a new one", "retired_kid", kid, "kid", rotated.KID)
		return n, nil
	}
	if err := st.SaveVerificationKey(ctx, auth.VerificationKeyOf(key, n.now().UTC())); err != nil {
		return nil, fmt.Errorf("publish verification key %s: %w", kid, err)
	}
	return n, nil
}

func (n *nodeKey) retired(ctx context.Context, kid string) (bool, error) {
	keys, err := n.store.VerificationKeys(ctx)
	if err != nil {
		return false, fmt.Errorf("read verification keys: %w", err)
	}
	for _, k := range keys {
		if k.KID == kid {
			return !k.RetiredAt.IsZero(), nil
		}
	}
	return false, nil
}

// SigningKeyID is the kid of the key this node signs new tokens with.
func (n *nodeKey) SigningKeyID() string { return n.keyring.SigningKeyID() }

// RotateSigningKey makes a new signing key, publishes its public half, installs it in the data
// directory (keeping the old key file under a kid-suffixed name) and signs with it from then on.
// Publishing comes first: a token signed with the new key must verify on every node from the start.
// A failure after publishing leaves an unused public key behind, which is harmless.
func (n *nodeKey) RotateSigningKey(ctx context.Context) (store.VerificationKey, error) {
	if n.path == "" {
		return store.VerificationKey{}, admin.ErrKeyNotManaged
	}
	n.rotating.Lock()
	defer n.rotating.Unlock()
	current := n.keyring.SigningKey()
	next, err := auth.GenerateSigningKey()
	if err != nil {
		return store.VerificationKey{}, err
	}
	rec := auth.VerificationKeyOf(next, n.now().UTC())
	if err := n.store.SaveVerificationKey(ctx, rec); err != nil {
		return store.VerificationKey{}, fmt.Errorf("publish verification key %s: %w", rec.KID, err)
	}
	archived, err := auth.ReplaceSigningKeyFile(n.path, current, next)
	if err != nil {
		return store.VerificationKey{}, err
	}
	n.keyring.SetSigningKey(next)
	n.log.InfoContext(ctx, "rotated the signing key", "kid", rec.KID,
		"previous_kid", auth.KeyID(current.Public().(ed25519.PublicKey)), "previous_key_file", archived)
	return rec, nil
}
