package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Audience says what a token opens. Partner and operator tokens carry different audiences, so
// neither can be used where the other belongs even though one key signs both.
type Audience string

const (
	// PartnerAudience tokens open the TAXII API, within the partner's grants.
	PartnerAudience Audience = "taxiihub:taxii"
	// OperatorAudience tokens open the admin API.
	OperatorAudience Audience = "taxiihub:admin"
)

// DefaultIssuer is the iss claim of tokens when no issuer is configured.
const DefaultIssuer = "taxiihub"

// clockSkew tolerates partners whose clocks are a little off when checking exp, nbf and iat.
const clockSkew = 30 * time.Second

// Claims are what a hub token asserts.
type Claims struct {
	// ID is the jti, under which the hub records the token so it can be revoked.
	ID string
	// Subject is the member id of a partner token, or the operator's name.
	Subject   string
	Audience  Audience
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
}

// ErrUnauthenticated reports missing or unusable credentials.
var ErrUnauthenticated = errors.New("unauthenticated")

// CredentialError says why credentials were refused. Reason is safe to show the client: it names the
// kind of problem, never key material or the token's contents.
type CredentialError struct{ Reason string }

func (e *CredentialError) Error() string { return "auth: credentials refused: " + e.Reason }

// Is makes every CredentialError match ErrUnauthenticated.
func (e *CredentialError) Is(target error) bool { return target == ErrUnauthenticated }

// Tokens signs and verifies hub tokens.
type Tokens struct {
	keys   *Keyring
	issuer string
	now    func() time.Time
}

// NewTokens returns a token signer and verifier; now is the clock (time.Now in production).
func NewTokens(keys *Keyring, issuer string, now func() time.Time) *Tokens {
	if issuer == "" {
		issuer = DefaultIssuer
	}
	return &Tokens{keys: keys, issuer: issuer, now: now}
}

// NewTokenID returns a random jti.
func NewTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on supported platforms
	return hex.EncodeToString(b[:])
}

type wireClaims struct {
	jwt.RegisteredClaims
}

// Sign returns the compact JWT for c, signed with the current signing key.
func (t *Tokens) Sign(c Claims) (string, error) {
	if c.ID == "" || c.Subject == "" || c.Audience == "" || c.ExpiresAt.IsZero() {
		return "", errors.New("auth: sign: a token needs an id, a subject, an audience and an expiry")
	}
	wc := wireClaims{jwt.RegisteredClaims{
		ID:        c.ID,
		Subject:   c.Subject,
		Issuer:    t.issuer,
		Audience:  jwt.ClaimStrings{string(c.Audience)},
		IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
		ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
	}}
	if !c.NotBefore.IsZero() {
		wc.NotBefore = jwt.NewNumericDate(c.NotBefore)
	}
	kid, key := t.keys.signer()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, wc)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Verify checks a token's signature, algorithm, issuer, audience and validity window, and returns
// its claims. Only EdDSA is accepted: naming the one algorithm the hub signs with closes the door
// on "none" and on algorithm-confusion tricks. It verifies with the keys the keyring holds now;
// VerifyContext also learns keys other hub processes have published.
func (t *Tokens) Verify(raw string, aud Audience) (Claims, error) {
	return t.verify(raw, aud, t.keys.knownKey)
}

// VerifyContext is Verify with a shared keyring that may read its source first: when what it last
// read is too old, or when the token names a key it does not know. A failure to read the keys is
// returned as an error of the hub, not as refused credentials.
func (t *Tokens) VerifyContext(ctx context.Context, raw string, aud Audience) (Claims, error) {
	return t.verify(raw, aud, func(kid string) (ed25519.PublicKey, error) {
		return t.keys.verificationKey(ctx, kid)
	})
}

func (t *Tokens) verify(raw string, aud Audience, key func(kid string) (ed25519.PublicKey, error)) (Claims, error) {
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(string(aud)),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(clockSkew),
		jwt.WithTimeFunc(t.now),
		jwt.WithStrictDecoding(),
	)
	var wc wireClaims
	_, err := parser.ParseWithClaims(raw, &wc, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		return key(kid)
	})
	if errors.Is(err, errKeySource) {
		return Claims{}, fmt.Errorf("auth: verify token: %w", err)
	}
	if err != nil {
		return Claims{}, &CredentialError{Reason: reason(err)}
	}
	if wc.ID == "" || wc.Subject == "" {
		return Claims{}, &CredentialError{Reason: "the token has no id or subject"}
	}
	c := Claims{ID: wc.ID, Subject: wc.Subject, Audience: aud}
	if wc.IssuedAt != nil {
		c.IssuedAt = wc.IssuedAt.Time
	}
	if wc.NotBefore != nil {
		c.NotBefore = wc.NotBefore.Time
	}
	c.ExpiresAt = wc.ExpiresAt.Time
	return c, nil
}

// reason turns a parser error into words fit for the client.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "the token is not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "the token is not meant for this API"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "the token is malformed"
	default:
		return "the token is not valid for this hub"
	}
}
