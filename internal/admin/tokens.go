package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// IssueToken signs a new partner or operator token and records it, so that it can be listed and
// revoked. The JWT is returned once and kept nowhere; the audit trail names its id, never its value.
func (s *Service) IssueToken(ctx context.Context, actor string, r TokenRequest) (IssuedToken, error) {
	var bad problems
	kind := store.TokenKind(r.Kind)
	if r.Kind == "" {
		kind = store.PartnerToken
	}
	var aud auth.Audience
	switch kind {
	case store.PartnerToken:
		aud = auth.PartnerAudience
	case store.OperatorToken:
		aud = auth.OperatorAudience
		checkName(&bad, "operator name", r.Subject)
	default:
		bad.add("kind %q is neither partner nor operator", r.Kind)
	}
	ttl, unreadable := s.defaultTTL, false
	if r.TTL != "" {
		d, err := ParseTTL(r.TTL)
		if err != nil {
			bad.add("%v", err)
		}
		ttl = d
		unreadable = err != nil
	}
	// A lifetime that could not be read has been reported; its zero value is no second problem.
	if !unreadable && (ttl < MinTokenTTL || ttl > s.maxTTL) {
		bad.add("token lifetime %s is outside %s..%s", FormatTTL(ttl), FormatTTL(MinTokenTTL), FormatTTL(s.maxTTL))
	}
	checkText(&bad, "note", r.Note, false, maxNote)
	switch {
	case r.Role == "":
	case r.Role != TokenRoleReviewer:
		bad.add("role %q must be reviewer, or left out", r.Role)
	case kind != store.PartnerToken:
		bad.add("role reviewer is for partner tokens only")
	}
	if err := bad.err("the token request"); err != nil {
		return IssuedToken{}, err
	}
	if kind == store.PartnerToken {
		if _, err := s.member(ctx, r.Subject); err != nil {
			return IssuedToken{}, err
		}
	}

	// Whole seconds: the JWT carries its times in seconds, and the record should say the same.
	now := s.now().UTC().Truncate(time.Second)
	claims := auth.Claims{ID: auth.NewTokenID(), Subject: r.Subject, Audience: aud, IssuedAt: now, ExpiresAt: now.Add(ttl)}
	raw, err := s.signer.Sign(claims)
	if err != nil {
		return IssuedToken{}, fmt.Errorf("admin: sign token for %s: %w", r.Subject, err)
	}
	rec := store.Token{ID: claims.ID, Kind: kind, Subject: r.Subject, IssuedAt: now, ExpiresAt: claims.ExpiresAt, Note: r.Note,
		Reviewer: r.Role == TokenRoleReviewer}
	if err := s.store.SaveToken(ctx, rec); err != nil {
		return IssuedToken{}, fmt.Errorf("admin: record token for %s: %w", r.Subject, err)
	}
	issued := IssuedToken{Token: tokenOf(rec, now), JWT: raw}
	return issued, s.record(ctx, actor, Change{Action: "issue", Kind: "token", Target: rec.ID,
		Detail: fmt.Sprintf("%s token%s for %s, expires %s", kind, map[bool]string{true: " (reviewer)"}[rec.Reviewer], rec.Subject,
			rec.ExpiresAt.Format(time.RFC3339))})
}

// TokenFilter selects tokens to list; empty fields select all.
type TokenFilter struct {
	Subject string
	Kind    string
}

// Tokens lists the recorded tokens the filter selects, oldest first.
func (s *Service) Tokens(ctx context.Context, f TokenFilter) ([]Token, error) {
	all, err := s.store.Tokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin: list tokens: %w", err)
	}
	now := s.now()
	out := []Token{}
	for _, t := range all {
		if (f.Subject == "" || t.Subject == f.Subject) && (f.Kind == "" || string(t.Kind) == f.Kind) {
			out = append(out, tokenOf(t, now))
		}
	}
	return out, nil
}

// Token returns the record of one token.
func (s *Service) Token(ctx context.Context, id string) (Token, error) {
	t, err := s.store.Token(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Token{}, notFound(err, "there is no token %s", id)
	}
	if err != nil {
		return Token{}, fmt.Errorf("admin: token %s: %w", id, err)
	}
	return tokenOf(t, s.now()), nil
}

// RevokeToken stops a token from working. Every hub node checks the token record on each request,
// so the token is refused everywhere from the next request on. Revoking a revoked token changes
// nothing and is not recorded again.
func (s *Service) RevokeToken(ctx context.Context, actor, id string) (Token, error) {
	t, err := s.store.Token(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Token{}, notFound(err, "there is no token %s", id)
	}
	if err != nil {
		return Token{}, fmt.Errorf("admin: token %s: %w", id, err)
	}
	if t.Revoked() {
		return tokenOf(t, s.now()), nil
	}
	now := s.stamp()
	if err := s.store.RevokeToken(ctx, id, now); err != nil {
		return Token{}, fmt.Errorf("admin: revoke token %s: %w", id, err)
	}
	t.RevokedAt = now
	return tokenOf(t, now), s.record(ctx, actor, Change{Action: "revoke", Kind: "token", Target: id,
		Detail: fmt.Sprintf("%s token for %s", t.Kind, t.Subject)})
}

// HasActiveOperatorToken reports whether some operator token recorded in the store is neither
// revoked nor expired: whether anyone can still open the admin API.
func (s *Service) HasActiveOperatorToken(ctx context.Context) (bool, error) {
	all, err := s.store.Tokens(ctx)
	if err != nil {
		return false, fmt.Errorf("admin: list tokens: %w", err)
	}
	now := s.now()
	for _, t := range all {
		if t.Kind == store.OperatorToken && tokenOf(t, now).Status == TokenActive {
			return true, nil
		}
	}
	return false, nil
}
