package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func partnerClaims() Claims {
	return Claims{ID: NewTokenID(), Subject: "cert-eu", Audience: PartnerAudience,
		IssuedAt: now.Add(-time.Hour), ExpiresAt: now.Add(24 * time.Hour)}
}

func TestSignedTokensVerify(t *testing.T) {
	tokens := NewTokens(NewKeyring(newKey(t)), "", func() time.Time { return now })
	want := partnerClaims()
	raw, err := tokens.Sign(want)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	got, err := tokens.Verify(raw, PartnerAudience)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got.ID != want.ID || got.Subject != want.Subject || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestVerifyRefuses(t *testing.T) {
	key := newKey(t)
	clock := func() time.Time { return now }
	tokens := NewTokens(NewKeyring(key), "", clock)
	sign := func(c Claims) string {
		raw, err := tokens.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// Forge tokens the hub's own Sign would never produce.
	forge := func(method jwt.SigningMethod, key any, claims jwt.Claims, kid string) string {
		tok := jwt.NewWithClaims(method, claims)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		raw, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	valid := wireClaims{jwt.RegisteredClaims{ID: "x", Subject: "cert-eu", Issuer: DefaultIssuer,
		Audience: jwt.ClaimStrings{string(PartnerAudience)}, ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		IssuedAt: jwt.NewNumericDate(now)}}
	kid := KeyID(key.Public().(ed25519.PublicKey))
	otherIssuer := valid
	otherIssuer.Issuer = "someone-else"
	noExpiry := valid
	noExpiry.ExpiresAt = nil
	pub := key.Public().(ed25519.PublicKey)

	expired := partnerClaims()
	expired.ExpiresAt = now.Add(-time.Minute)
	early := partnerClaims()
	early.NotBefore = now.Add(time.Hour)
	future := partnerClaims()
	future.IssuedAt = now.Add(time.Hour)
	operator := partnerClaims()
	operator.Audience = OperatorAudience

	otherKeyTokens := NewTokens(NewKeyring(newKey(t)), "", clock)
	foreign, err := otherKeyTokens.Sign(partnerClaims())
	if err != nil {
		t.Fatal(err)
	}
	good := sign(partnerClaims())
	parts := strings.Split(good, ".")
	tamperedPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"cert-cn","jti":"x","iss":"taxiihub","aud":["taxiihub:taxii"],"exp":9999999999}`)) + "." + parts[2]

	cases := map[string]string{
		"expired":                         sign(expired),
		"not yet valid":                   sign(early),
		"issued in the future":            sign(future),
		"operator token on TAXII":         sign(operator),
		"signed by another key":           foreign,
		"alg none":                        forge(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid, kid),
		"HS256 keyed with the public key": forge(jwt.SigningMethodHS256, []byte(pub), valid, kid),
		"other issuer":                    forge(jwt.SigningMethodEdDSA, key, otherIssuer, kid),
		"no expiry":                       forge(jwt.SigningMethodEdDSA, key, noExpiry, kid),
		"no kid":                          forge(jwt.SigningMethodEdDSA, key, valid, ""),
		"tampered payload":                tamperedPayload,
		"garbage":                         "not.a.jwt",
		"empty":                           "",
	}
	for name, raw := range cases {
		_, err := tokens.Verify(raw, PartnerAudience)
		var ce *CredentialError
		if !errors.As(err, &ce) || !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: got %v, want a CredentialError", name, err)
		}
	}
}

func TestRotatedKeysKeepVerifying(t *testing.T) {
	oldKey, newKeyPair := newKey(t), newKey(t)
	clock := func() time.Time { return now }
	before, err := NewTokens(NewKeyring(oldKey), "", clock).Sign(partnerClaims())
	if err != nil {
		t.Fatal(err)
	}
	rotated := NewTokens(NewKeyring(newKeyPair, oldKey.Public().(ed25519.PublicKey)), "", clock)
	if _, err := rotated.Verify(before, PartnerAudience); err != nil {
		t.Errorf("a token signed before rotation no longer verifies: %v", err)
	}
	after, err := rotated.Sign(partnerClaims())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewTokens(NewKeyring(oldKey), "", clock).Verify(after, PartnerAudience); err == nil {
		t.Errorf("a hub that never learned the new key accepted a token signed with it")
	}
}

func TestTokenFromAuthorization(t *testing.T) {
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	for header, want := range map[string]string{
		"Bearer abc.def.ghi":       "abc.def.ghi",
		"bearer abc.def.ghi":       "abc.def.ghi",
		"BEARER   abc.def.ghi  ":   "abc.def.ghi",
		"Token abc.def.ghi":        "abc.def.ghi",
		basic("sentinel", "a.b.c"): "a.b.c",
		basic("", "a.b.c"):         "a.b.c",
		"basic " + base64.StdEncoding.EncodeToString([]byte("misp:a.b:c")): "a.b:c",
	} {
		got, err := TokenFromAuthorization(header)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", header, got, err, want)
		}
	}
	for _, header := range []string{"", "Bearer", "Bearer ", "Digest x", "Basic !!!", basic("user", ""),
		"Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon"))} {
		if _, err := TokenFromAuthorization(header); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%q: got %v, want ErrUnauthenticated", header, err)
		}
	}
}

func TestSigningKeyIsCreatedOnceWithPrivateMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", SigningKeyFile)
	k1, created, err := LoadOrCreateSigningKey(path)
	if err != nil || !created {
		t.Fatalf("first load: created=%v err=%v", created, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
	k2, created, err := LoadOrCreateSigningKey(path)
	if err != nil || created || !k1.Equal(k2) {
		t.Errorf("second load: created=%v err=%v same=%v", created, err, k1.Equal(k2))
	}
	if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateSigningKey(path); err == nil {
		t.Errorf("a corrupt key file was silently replaced or accepted")
	}
}
