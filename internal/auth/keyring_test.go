package auth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"taxiihub/internal/store"
	"taxiihub/internal/store/sqlitestore"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	return st
}

// countingKeys counts the reads of a real store's verification keys, or fails them on demand.
type countingKeys struct {
	store.Store
	reads atomic.Int64
	fail  atomic.Bool
}

func (c *countingKeys) VerificationKeys(ctx context.Context) ([]store.VerificationKey, error) {
	c.reads.Add(1)
	if c.fail.Load() {
		return nil, errors.New("store unreachable: mongodb://admin:secret@db")
	}
	return c.Store.VerificationKeys(ctx)
}

// node is one hub process: its own key, published to the shared store.
func node(t *testing.T, src KeySource, st store.Store, opts ...KeyringOption) *Tokens {
	t.Helper()
	key := newKey(t)
	if err := st.SaveVerificationKey(t.Context(), VerificationKeyOf(key, time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	return NewTokens(NewSharedKeyring(key, src, opts...), "", time.Now)
}

func signFor(t *testing.T, tokens *Tokens) string {
	t.Helper()
	now := time.Now()
	raw, err := tokens.Sign(Claims{ID: NewTokenID(), Subject: "cert-eu", Audience: PartnerAudience, IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestSharedKeyringVerifiesWhatOtherNodesSign(t *testing.T) {
	st := openStore(t)
	a, b := node(t, st, st), node(t, st, st)
	ctx := t.Context()
	// b has read the store once before a's next key exists; a new key must still verify at once.
	if _, err := b.VerifyContext(ctx, signFor(t, a), PartnerAudience); err != nil {
		t.Fatalf("b refuses a's token: %v", err)
	}
	next := newKey(t)
	if err := st.SaveVerificationKey(ctx, VerificationKeyOf(next, time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	a.keys.SetSigningKey(next)
	if _, err := b.VerifyContext(ctx, signFor(t, a), PartnerAudience); err != nil {
		t.Errorf("b refuses a token a signed with its new key: %v", err)
	}
	// Verify alone never reads the store: it knows only what the keyring holds.
	c := node(t, st, st)
	if _, err := c.Verify(signFor(t, a), PartnerAudience); err == nil {
		t.Errorf("Verify accepted a key it has never read")
	}
}

// Time in the bubble moves only when every goroutine in it waits, so the maximum age passes at once.
func TestSharedKeyringDropsRetiredKeys(t *testing.T) {
	synctest.Test(t, sharedKeyringDropsRetiredKeys)
}

func sharedKeyringDropsRetiredKeys(t *testing.T) {
	st := openStore(t)
	a, b := node(t, st, st), node(t, st, st, WithKeyringClock(time.Now))
	ctx := t.Context()
	tok := signFor(t, a)
	if _, err := b.VerifyContext(ctx, tok, PartnerAudience); err != nil {
		t.Fatal(err)
	}
	if err := st.RetireVerificationKey(ctx, a.keys.SigningKeyID(), time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	// Past the maximum age, which is longer than the read gap, so the reread starts at once.
	time.Sleep(b.keys.maxAge + time.Millisecond)
	_, err := b.VerifyContext(ctx, tok, PartnerAudience)
	var ce *CredentialError
	if !errors.As(err, &ce) {
		t.Errorf("a token signed with a retired key: got %v, want refused credentials", err)
	}
	// A node stops trusting its own key too once the store retires it.
	if _, err := a.VerifyContext(ctx, tok, PartnerAudience); !errors.As(err, &ce) {
		t.Errorf("a node accepts its own retired key: %v", err)
	}
}

func TestUnknownKidsCannotFloodTheStore(t *testing.T) {
	st := openStore(t)
	src := &countingKeys{Store: st}
	verifier := node(t, src, st)
	verifier.keys.gap = 200 * time.Millisecond
	stranger := NewTokens(NewKeyring(newKey(t)), "", time.Now) // a key nobody published
	forged := signFor(t, stranger)
	ctx := t.Context()

	start := time.Now()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := verifier.VerifyContext(ctx, forged, PartnerAudience); !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("a token from an unpublished key: %v", err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	// One read when the cache was empty, then reads at most one gap apart.
	if max := int64(elapsed/verifier.keys.gap) + 2; src.reads.Load() > max {
		t.Errorf("%d reads of the store in %v for 50 unknown-kid requests; want at most %d", src.reads.Load(), elapsed, max)
	}

	// A kid that cannot be one of ours is refused without asking the store.
	before := src.reads.Load()
	for _, kid := range []string{"", "short", "has/slash-and-is-long-enough", "x' OR 1=1 --aaaaa"} {
		if _, err := verifier.keys.verificationKey(ctx, kid); !errors.Is(err, errUnknownKey) {
			t.Errorf("kid %q: %v", kid, err)
		}
	}
	if src.reads.Load() != before {
		t.Errorf("implausible kids made %d store reads", src.reads.Load()-before)
	}
}

func TestKeySourceFailureIsNotACredentialError(t *testing.T) {
	st := openStore(t)
	src := &countingKeys{Store: st}
	src.fail.Store(true)
	tokens := node(t, src, st)
	_, err := tokens.VerifyContext(t.Context(), signFor(t, tokens), PartnerAudience)
	var ce *CredentialError
	if err == nil || errors.As(err, &ce) || errors.Is(err, ErrUnauthenticated) {
		t.Errorf("a store failure: got %v, want an error of the hub, not refused credentials", err)
	}
	// A cancelled request gives up waiting rather than hang.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := tokens.VerifyContext(ctx, signFor(t, tokens), PartnerAudience); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestReplaceSigningKeyFileKeepsTheOldKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), SigningKeyFile)
	old, _, err := LoadOrCreateSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	next := newKey(t)
	archived, err := ReplaceSigningKeyFile(path, old, next)
	if err != nil {
		t.Fatalf("replace: %v", err)
	}
	if want := filepath.Join(filepath.Dir(path), "signing-key."+KeyID(old.Public().(ed25519.PublicKey))+".pem"); archived != want {
		t.Errorf("archived as %s, want %s", archived, want)
	}
	for file, want := range map[string]ed25519.PrivateKey{path: next, archived: old} {
		got, err := ReadSigningKey(file)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: wrong key (%v)", file, err)
		}
		info, err := os.Stat(file)
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", file, info.Mode().Perm(), err)
		}
	}
	if _, err := os.Stat(path + ".new"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary file was left behind: %v", err)
	}
}
