package auth

import (
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
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, wc)
	tok.Header["kid"] = t.keys.SigningKeyID()
	s, err := tok.SignedString(t.keys.signing)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Verify checks a token's signature, algorithm, issuer, audience and validity window, and returns
// its claims. Only EdDSA is accepted: naming the one algorithm the hub signs with closes the door
// on "none" and on algorithm-confusion tricks.
func (t *Tokens) Verify(raw string, aud Audience) (Claims, error) {
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
		pub, ok := t.keys.verificationKey(kid)
		if !ok {
			return nil, errors.New("unknown signing key")
		}
		return pub, nil
	})
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
