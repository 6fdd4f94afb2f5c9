package admin

import (
	"context"
	"errors"
	"fmt"

	"taxiihub/internal/store"
)

// Keys lists every verification key, retired ones included, oldest first.
func (s *Service) Keys(ctx context.Context) ([]Key, error) {
	keys, err := s.store.VerificationKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin: list keys: %w", err)
	}
	signing := s.keys.SigningKeyID()
	out := make([]Key, len(keys))
	for i, k := range keys {
		out[i] = keyOf(k, signing)
	}
	return out, nil
}

// RotateKey switches the hub node that runs the service to a new signing key. Every node signs
// with its own key and verifies with all published ones, so rotation is per node; tokens signed
// with the old key keep working until it is retired.
func (s *Service) RotateKey(ctx context.Context, actor string) (Key, error) {
	old := s.keys.SigningKeyID()
	k, err := s.keys.RotateSigningKey(ctx)
	if errors.Is(err, ErrKeyNotManaged) {
		return Key{}, conflict(err, "this hub node signs with the key file given by --signing-key-file, "+
			"which the hub does not replace; install a new key file and restart the node instead")
	}
	if err != nil {
		return Key{}, fmt.Errorf("admin: rotate signing key: %w", err)
	}
	return keyOf(k, k.KID), s.record(ctx, actor, Change{Action: "rotate", Kind: "key", Target: k.KID,
		Detail: "replaces " + old + ", which keeps verifying until retired"})
}

// RetireKey stops a key from verifying tokens; every node stops accepting tokens signed with it
// within auth.DefaultKeyMaxAge. It refuses the key this node signs with, whose tokens would be
// refused from the moment they are issued.
func (s *Service) RetireKey(ctx context.Context, actor, kid string) (Key, error) {
	if kid == s.keys.SigningKeyID() {
		return Key{}, conflict(nil, "this hub node signs new tokens with key %s; rotate it first", kid)
	}
	keys, err := s.store.VerificationKeys(ctx)
	if err != nil {
		return Key{}, fmt.Errorf("admin: list keys: %w", err)
	}
	var found *store.VerificationKey
	for i := range keys {
		if keys[i].KID == kid {
			found = &keys[i]
		}
	}
	if found == nil {
		return Key{}, notFound(nil, "there is no key %s", kid)
	}
	if !found.RetiredAt.IsZero() {
		return keyOf(*found, ""), nil
	}
	now := s.stamp()
	if err := s.store.RetireVerificationKey(ctx, kid, now); err != nil {
		return Key{}, fmt.Errorf("admin: retire key %s: %w", kid, err)
	}
	found.RetiredAt = now
	return keyOf(*found, ""), s.record(ctx, actor, Change{Action: "retire", Kind: "key", Target: kid,
		Detail: "tokens signed with it are refused"})
}
