package admin_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/store"
	"taxiihub/internal/store/sqlitestore"
)

// memoryKeys rotates a keyring without files: the service's side of rotation is what these tests
// check; the files are internal/server's.
type memoryKeys struct {
	keyring *auth.Keyring
	store   store.Store
}

func (k memoryKeys) SigningKeyID() string { return k.keyring.SigningKeyID() }

func (k memoryKeys) RotateSigningKey(ctx context.Context) (store.VerificationKey, error) {
	next, err := auth.GenerateSigningKey()
	if err != nil {
		return store.VerificationKey{}, err
	}
	rec := auth.VerificationKeyOf(next, time.Now().UTC())
	if err := k.store.SaveVerificationKey(ctx, rec); err != nil {
		return store.VerificationKey{}, err
	}
	k.keyring.SetSigningKey(next)
	return rec, nil
}

// unmanagedKeys is a node whose key file the operator provides.
type unmanagedKeys struct{ memoryKeys }

func (unmanagedKeys) RotateSigningKey(context.Context) (store.VerificationKey, error) {
	return store.VerificationKey{}, admin.ErrKeyNotManaged
}

type env struct {
	svc    *admin.Service
	store  store.Store
	tokens *auth.Tokens
	keys   memoryKeys
}

func newEnv(t *testing.T) env {
	t.Helper()
	st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	key, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveVerificationKey(t.Context(), auth.VerificationKeyOf(key, time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	keyring := auth.NewSharedKeyring(key, st)
	tokens := auth.NewTokens(keyring, "", time.Now)
	keys := memoryKeys{keyring: keyring, store: st}
	svc := admin.New(admin.Config{Store: st, Signer: tokens, Keys: keys})
	return env{svc: svc, store: st, tokens: tokens, keys: keys}
}

// wantKind checks that err is an *admin.Error of the kind, whose message and problems mention
// every fragment.
func wantKind(t *testing.T, what string, err error, kind admin.Kind, fragments ...string) {
	t.Helper()
	var ae *admin.Error
	if !errors.As(err, &ae) {
		t.Errorf("%s: got %v, want an *admin.Error of kind %d", what, err, kind)
		return
	}
	if ae.Kind != kind {
		t.Errorf("%s: kind %d, want %d: %v", what, ae.Kind, kind, err)
	}
	text := ae.Message + "\n" + strings.Join(ae.Problems, "\n")
	for _, f := range fragments {
		if !strings.Contains(text, f) {
			t.Errorf("%s: %q does not mention %q", what, text, f)
		}
	}
}

func changeLines(cs []admin.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Action + " " + c.Kind + " " + c.Target
	}
	return out
}

func auditActions(t *testing.T, st store.Store) []string {
	t.Helper()
	entries, err := st.Audit(t.Context(), 0, store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Actor+" "+e.Action+" "+e.Target)
	}
	return out
}

func sameLines(got, want []string) bool { return slices.Equal(got, want) }
