package auth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"time"

	"taxiihub/internal/store"
)

// KeySource is where a shared keyring learns which keys verify tokens: the store, to which every hub
// process sharing it publishes the public half of the key it signs with.
type KeySource interface {
	VerificationKeys(ctx context.Context) ([]store.VerificationKey, error)
}

const (
	// DefaultKeyMaxAge bounds how long a shared keyring trusts what it last read from its source, so a
	// key retired in the store stops verifying on every hub process within this time.
	DefaultKeyMaxAge = 5 * time.Second
	// DefaultKeyReadGap is the least time between two reads of the source. A token naming a kid the
	// keyring does not know makes it read the source at once, so that a key another process has just
	// published verifies on the first request; but a request arriving within this gap of the last
	// read waits for the next one, so tokens with made-up kids cannot turn into a stream of store
	// reads.
	DefaultKeyReadGap = 500 * time.Millisecond
)

// errKeySource marks a failure to read the verification keys, which is the hub's fault and not the
// caller's: Tokens.VerifyContext reports it as an error, not as refused credentials.
var errKeySource = errors.New("verification keys unavailable")

// errUnknownKey is the keyfunc's answer for a kid no usable key has.
var errUnknownKey = errors.New("unknown signing key")

// Keyring holds the key the hub signs tokens with and tells which keys verify them. Keys are named
// by a kid derived from the public key, so a token names the key that can verify it and a key
// rotated out keeps verifying the tokens it signed until it is retired.
//
// A shared keyring (NewSharedKeyring) verifies with every key published to its source and not
// retired there, besides the keys it signed with itself; a fixed keyring (NewKeyring) only with the
// keys it was given. A keyring is safe for concurrent use.
type Keyring struct {
	mu         sync.Mutex
	signingKID string
	signing    ed25519.PrivateKey
	// own holds every key this keyring has signed with and the extra keys it was made with.
	own map[string]ed25519.PublicKey

	source KeySource // nil for a fixed keyring
	maxAge time.Duration
	gap    time.Duration
	now    func() time.Time
	// published and retired are what the last successful read of source found; loaded is when that
	// read began, and lastRead when the latest read, successful or not, began.
	published map[string]ed25519.PublicKey
	retired   map[string]bool
	loaded    time.Time
	lastRead  time.Time
	// reading is closed when the read in progress ends; nil while none is.
	reading chan struct{}
}

// NewKeyring makes a fixed keyring that signs with signing and also verifies with the extra keys.
func NewKeyring(signing ed25519.PrivateKey, alsoVerify ...ed25519.PublicKey) *Keyring {
	k := &Keyring{own: map[string]ed25519.PublicKey{}}
	k.setSigning(signing)
	for _, p := range alsoVerify {
		k.own[KeyID(p)] = p
	}
	return k
}

// KeyringOption changes how NewSharedKeyring sets up a keyring.
type KeyringOption func(*Keyring)

// WithKeyringClock makes a shared keyring tell how old its last read of the source is, and when the
// next read may begin, by now instead of time.Now, so that a test can move time on instead of
// waiting for it.
func WithKeyringClock(now func() time.Time) KeyringOption {
	return func(k *Keyring) { k.now = now }
}

// NewSharedKeyring makes a keyring that signs with signing and verifies with it and with every key
// that src lists and has not retired, rereading src at most DefaultKeyMaxAge after its last read and
// at once (within DefaultKeyReadGap) when a token names a kid it does not know.
func NewSharedKeyring(signing ed25519.PrivateKey, src KeySource, opts ...KeyringOption) *Keyring {
	k := NewKeyring(signing)
	k.source = src
	k.maxAge = DefaultKeyMaxAge
	k.gap = DefaultKeyReadGap
	k.now = time.Now
	for _, opt := range opts {
		opt(k)
	}
	return k
}

// SigningKeyID is the kid of the key new tokens are signed with.
func (k *Keyring) SigningKeyID() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.signingKID
}

// SigningKey is the key new tokens are signed with.
func (k *Keyring) SigningKey() ed25519.PrivateKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.signing
}

// SetSigningKey makes key the one new tokens are signed with. The key it replaces keeps verifying
// on this keyring unless its source retires it; the caller publishes the new key first, so that
// other processes can verify what this one signs from the first token on.
func (k *Keyring) SetSigningKey(key ed25519.PrivateKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.setSigning(key)
}

func (k *Keyring) setSigning(key ed25519.PrivateKey) {
	pub := key.Public().(ed25519.PublicKey)
	k.signing = key
	k.signingKID = KeyID(pub)
	k.own[k.signingKID] = pub
}

func (k *Keyring) signer() (string, ed25519.PrivateKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.signingKID, k.signing
}

// knownKey looks kid up in what the keyring holds now, without reading its source.
func (k *Keyring) knownKey(kid string) (ed25519.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.retired[kid] {
		return nil, errUnknownKey
	}
	if pub, ok := k.own[kid]; ok {
		return pub, nil
	}
	if pub, ok := k.published[kid]; ok {
		return pub, nil
	}
	return nil, errUnknownKey
}

// verificationKey returns the key named kid, first rereading the source when what the keyring read
// is older than its maximum age, or when kid is unknown and might have been published since.
func (k *Keyring) verificationKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	if k.source == nil {
		return k.knownKey(kid)
	}
	start := k.now()
	if err := k.readSince(ctx, start.Add(-k.maxAge)); err != nil {
		return nil, err
	}
	pub, err := k.knownKey(kid)
	if err == nil || !plausibleKID(kid) {
		return pub, err
	}
	if err := k.readSince(ctx, start); err != nil {
		return nil, err
	}
	return k.knownKey(kid)
}

// readSince makes sure the keyring holds what a read of its source begun at or after since found.
// Concurrent callers share one read, and reads are at least the keyring's gap apart.
func (k *Keyring) readSince(ctx context.Context, since time.Time) error {
	for {
		k.mu.Lock()
		if !k.loaded.IsZero() && !k.loaded.Before(since) {
			k.mu.Unlock()
			return nil
		}
		if done := k.reading; done != nil {
			k.mu.Unlock()
			select {
			case <-done:
				continue // it may have begun too early for this caller, or failed: look again
			case <-ctx.Done():
				return fmt.Errorf("auth: wait for verification keys: %w: %w", errKeySource, ctx.Err())
			}
		}
		done := make(chan struct{})
		k.reading = done
		wait := k.lastRead.Add(k.gap).Sub(k.now())
		k.mu.Unlock()

		err := k.read(ctx, wait)
		k.mu.Lock()
		k.reading = nil
		k.mu.Unlock()
		close(done)
		if err != nil {
			return err
		}
	}
}

// read waits, then reads the source and replaces what the keyring knows from it.
func (k *Keyring) read(ctx context.Context, wait time.Duration) error {
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return fmt.Errorf("auth: wait to read verification keys: %w: %w", errKeySource, ctx.Err())
		}
	}
	started := k.now()
	k.mu.Lock()
	k.lastRead = started
	k.mu.Unlock()
	keys, err := k.source.VerificationKeys(ctx)
	if err != nil {
		return fmt.Errorf("auth: read verification keys: %w: %w", errKeySource, err)
	}
	published := make(map[string]ed25519.PublicKey, len(keys))
	retired := map[string]bool{}
	for _, vk := range keys {
		switch {
		case !vk.RetiredAt.IsZero():
			retired[vk.KID] = true
		case len(vk.PublicKey) == ed25519.PublicKeySize && KeyID(vk.PublicKey) == vk.KID:
			// A record whose kid does not match its key is not ours to trust.
			published[vk.KID] = ed25519.PublicKey(vk.PublicKey)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.published, k.retired, k.loaded = published, retired, started
	return nil
}

// VerificationKeyOf is the record that publishes key's public half, created at the time given.
func VerificationKeyOf(key ed25519.PrivateKey, at time.Time) store.VerificationKey {
	pub := key.Public().(ed25519.PublicKey)
	return store.VerificationKey{KID: KeyID(pub), PublicKey: []byte(pub), CreatedAt: at}
}
