package auth

import (
	"context"
	"errors"
	"fmt"

	"taxiihub/internal/store"
)

// Records is what authentication reads from the store on every request. Grants and revocations are
// read at request time, not baked into tokens, so taking a right away takes effect at once.
type Records interface {
	Token(ctx context.Context, id string) (store.Token, error)
	Grants(ctx context.Context, memberID string) ([]store.Grant, error)
}

// Principal is an authenticated partner and the collections it may use.
type Principal struct {
	MemberID string
	TokenID  string
	// Reviewer reports that the token may release or reject objects held for review, as recorded
	// with the token in the store (store.Token.Reviewer), not as the token claims.
	Reviewer bool
	grants   map[string]store.Grant // by collection id
	roots    map[string]bool
}

// NewPrincipal builds a principal from its grants.
func NewPrincipal(memberID, tokenID string, grants []store.Grant) Principal {
	p := Principal{MemberID: memberID, TokenID: tokenID, grants: map[string]store.Grant{}, roots: map[string]bool{}}
	for _, g := range grants {
		if g.MemberID != memberID || !(g.Read || g.Write) {
			continue
		}
		p.grants[g.CollectionID] = g
		p.roots[g.APIRoot] = true
	}
	return p
}

// InRoot reports whether the principal holds any grant in the API root; only then may it see the root.
func (p Principal) InRoot(root string) bool { return p.roots[root] }

// Access returns the principal's rights on a collection of an API root. seen is false when it holds
// none, in which case the collection must look like it does not exist.
func (p Principal) Access(root, collectionID string) (canRead, canWrite, seen bool) {
	g, ok := p.grants[collectionID]
	if !ok || g.APIRoot != root {
		return false, false, false
	}
	return g.Read, g.Write, true
}

// Authenticator turns credentials into a principal.
type Authenticator struct {
	tokens  *Tokens
	records Records
}

// NewAuthenticator returns an authenticator verifying with tokens and checking records.
func NewAuthenticator(tokens *Tokens, records Records) *Authenticator {
	return &Authenticator{tokens: tokens, records: records}
}

// Partner authenticates a partner from an Authorization header value.
func (a *Authenticator) Partner(ctx context.Context, authorization string) (Principal, error) {
	claims, rec, err := a.verify(ctx, authorization, PartnerAudience, store.PartnerToken)
	if err != nil {
		return Principal{}, err
	}
	grants, err := a.records.Grants(ctx, claims.Subject)
	if err != nil {
		return Principal{}, fmt.Errorf("auth: grants of %s: %w", claims.Subject, err)
	}
	p := NewPrincipal(claims.Subject, claims.ID, grants)
	p.Reviewer = rec.Reviewer
	return p, nil
}

// Operator authenticates an operator and returns the operator's name.
func (a *Authenticator) Operator(ctx context.Context, authorization string) (string, error) {
	claims, _, err := a.verify(ctx, authorization, OperatorAudience, store.OperatorToken)
	if err != nil {
		return "", err
	}
	return claims.Subject, nil
}

func (a *Authenticator) verify(ctx context.Context, authorization string, aud Audience, kind store.TokenKind) (Claims, store.Token, error) {
	raw, err := TokenFromAuthorization(authorization)
	if err != nil {
		return Claims{}, store.Token{}, err
	}
	claims, err := a.tokens.VerifyContext(ctx, raw, aud)
	if err != nil {
		return Claims{}, store.Token{}, err
	}
	rec, err := a.records.Token(ctx, claims.ID)
	if errors.Is(err, store.ErrNotFound) {
		return Claims{}, store.Token{}, &CredentialError{Reason: "the token is not known to this hub"}
	}
	if err != nil {
		return Claims{}, store.Token{}, fmt.Errorf("auth: look up token: %w", err)
	}
	switch {
	case rec.Revoked():
		return Claims{}, store.Token{}, &CredentialError{Reason: "the token has been revoked"}
	case rec.Kind != kind || rec.Subject != claims.Subject:
		return Claims{}, store.Token{}, &CredentialError{Reason: "the token is not valid for this hub"}
	}
	return claims, rec, nil
}
