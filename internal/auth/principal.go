package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	// MemberAdmin reports that the caller may see the member's own administration (its token
	// records): a console session of a member admin, or of a partner token, which speaks for its
	// member as a whole. Machines on the TAXII API never are.
	MemberAdmin bool
	// Person is who acted for the member, when a person signed in to the console did; zero for a
	// machine presenting a token. The ledger records it beside the member.
	Person store.Person
	grants map[string]store.Grant // by collection id
	roots  map[string]bool
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

// ResumePartner rebuilds the principal of a console session opened with the partner token tokenID:
// the token is read again, so that revoking it ends the sessions it opened at their next request,
// and so are the member's grants, so that a grant taken away takes effect at once.
func (a *Authenticator) ResumePartner(ctx context.Context, tokenID string, now time.Time) (Principal, error) {
	rec, err := a.current(ctx, tokenID, store.PartnerToken, now)
	if err != nil {
		return Principal{}, err
	}
	p, err := a.Member(ctx, rec.Subject, store.Person{})
	if err != nil {
		return Principal{}, err
	}
	p.TokenID = rec.ID
	p.Reviewer = rec.Reviewer
	return p, nil
}

// ResumeOperator checks that the operator token tokenID, which opened a console session, is still
// valid, and returns the operator's name.
func (a *Authenticator) ResumeOperator(ctx context.Context, tokenID string, now time.Time) (string, error) {
	rec, err := a.current(ctx, tokenID, store.OperatorToken, now)
	if err != nil {
		return "", err
	}
	return rec.Subject, nil
}

// Member returns the principal of a person of a member signed in through the member's identity
// provider: the member's grants, no token, and the person.
func (a *Authenticator) Member(ctx context.Context, memberID string, person store.Person) (Principal, error) {
	grants, err := a.records.Grants(ctx, memberID)
	if err != nil {
		return Principal{}, fmt.Errorf("auth: grants of %s: %w", memberID, err)
	}
	p := NewPrincipal(memberID, "", grants)
	p.Person = person
	return p, nil
}

func (a *Authenticator) current(ctx context.Context, tokenID string, kind store.TokenKind, now time.Time) (store.Token, error) {
	rec, err := a.records.Token(ctx, tokenID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, &CredentialError{Reason: "the token is not known to this hub"}
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("auth: look up token: %w", err)
	}
	switch {
	case rec.Revoked():
		return store.Token{}, &CredentialError{Reason: "the token has been revoked"}
	case !rec.ExpiresAt.IsZero() && !now.Before(rec.ExpiresAt):
		return store.Token{}, &CredentialError{Reason: "the token has expired"}
	case rec.Kind != kind:
		return store.Token{}, &CredentialError{Reason: "the token is not valid for this hub"}
	}
	return rec, nil
}

// VerifyOperator authenticates an operator token presented once and returns the operator's name
// and the token's id.
func (a *Authenticator) VerifyOperator(ctx context.Context, authorization string) (name, tokenID string, err error) {
	claims, _, err := a.verify(ctx, authorization, OperatorAudience, store.OperatorToken)
	if err != nil {
		return "", "", err
	}
	return claims.Subject, claims.ID, nil
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
