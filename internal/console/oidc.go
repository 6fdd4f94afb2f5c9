package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Provider is an OpenID Connect identity provider the console signs people in with: a member's
// (Member set), trusted only for that member's people, or the operators' (Operators set).
type Provider struct {
	// Name names the provider in the console's paths and on its sign-in button.
	Name string `yaml:"name"`
	// Member is the member whose people the provider signs in; they act for that member whatever
	// their tokens say.
	Member string `yaml:"member"`
	// Operators makes it the operators' provider, served by the operators' console only.
	Operators bool   `yaml:"operators"`
	Issuer    string `yaml:"issuer"`
	ClientID  string `yaml:"client_id"`
	// The client secret comes from a file or an environment variable, never from the file that
	// lists providers, which is meant to be shared and versioned.
	ClientSecretFile string `yaml:"client_secret_file"`
	ClientSecretEnv  string `yaml:"client_secret_env"`
	// RolesClaim is the claim (of the ID token, else of the userinfo answer) listing the person's
	// roles: analyst, reviewer, member-admin; operator for the operators' provider.
	RolesClaim string `yaml:"roles_claim"`

	clientSecret string
}

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Check reports what is wrong with the provider, and reads its client secret.
func (p *Provider) Check() error {
	var problems []string
	if !providerName.MatchString(p.Name) {
		problems = append(problems, "name must be lower-case letters, digits and hyphens")
	}
	if (p.Member == "") == !p.Operators {
		problems = append(problems, "exactly one of member and operators must be set")
	}
	if !strings.HasPrefix(p.Issuer, "https://") && !strings.HasPrefix(p.Issuer, "http://") {
		problems = append(problems, "issuer must be an http(s) URL")
	}
	if p.ClientID == "" {
		problems = append(problems, "client_id is missing")
	}
	if p.RolesClaim == "" {
		problems = append(problems, "roles_claim is missing")
	}
	switch {
	case p.ClientSecretFile != "" && p.ClientSecretEnv != "":
		problems = append(problems, "give the client secret in client_secret_file or client_secret_env, not both")
	case p.ClientSecretFile != "":
		b, err := os.ReadFile(p.ClientSecretFile)
		if err != nil {
			problems = append(problems, "client_secret_file: "+err.Error())
		}
		p.clientSecret = strings.TrimSpace(string(b))
	case p.ClientSecretEnv != "":
		p.clientSecret = os.Getenv(p.ClientSecretEnv)
		if p.clientSecret == "" {
			problems = append(problems, "client_secret_env: "+p.ClientSecretEnv+" is empty or unset")
		}
	default:
		problems = append(problems, "client_secret_file or client_secret_env is missing")
	}
	if len(problems) > 0 {
		return fmt.Errorf("identity provider %q: %s", p.Name, strings.Join(problems, "; "))
	}
	return nil
}

// relyingParty is the console's side of one provider. Discovery happens at the first sign-in, not
// at start, so that a provider down when the hub starts keeps no one else out.
type relyingParty struct {
	cfg      Provider
	redirect string
	client   *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

func (rp *relyingParty) discover(ctx context.Context) (*oidc.Provider, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.provider != nil {
		return rp.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, rp.client), rp.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("console: discover %s: %w", rp.cfg.Issuer, err)
	}
	rp.provider = p
	return p, nil
}

func (rp *relyingParty) oauth2(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: rp.cfg.ClientID, ClientSecret: rp.cfg.clientSecret, Endpoint: p.Endpoint(),
		RedirectURL: rp.redirect, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
}

// authURL is where a person is sent to sign in: the authorization code flow with PKCE (S256) and a
// nonce.
func (rp *relyingParty) authURL(ctx context.Context, state string, login pendingLogin) (string, error) {
	p, err := rp.discover(ctx)
	if err != nil {
		return "", err
	}
	return rp.oauth2(p).AuthCodeURL(state, oidc.Nonce(login.nonce), oauth2.S256ChallengeOption(login.verifier)), nil
}

// signedIdentity is who the provider says signed in.
type signedIdentity struct {
	issuer, subject, name string
	roles                 []string
}

// exchange turns the code the provider sent back into the person it signed in: it redeems the code
// with the PKCE verifier, verifies the ID token (signature, issuer, audience, expiry, nonce) and
// reads the roles claim from it, else from the userinfo answer.
func (rp *relyingParty) exchange(ctx context.Context, code string, login pendingLogin) (signedIdentity, error) {
	p, err := rp.discover(ctx)
	if err != nil {
		return signedIdentity{}, err
	}
	ctx = oidc.ClientContext(ctx, rp.client)
	conf := rp.oauth2(p)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(login.verifier))
	if err != nil {
		return signedIdentity{}, fmt.Errorf("console: redeem the code at %s: %w", rp.cfg.Issuer, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return signedIdentity{}, errors.New("console: the provider sent no ID token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: rp.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return signedIdentity{}, fmt.Errorf("console: verify the ID token: %w", err)
	}
	if !sameToken(idt.Nonce, login.nonce) {
		return signedIdentity{}, errors.New("console: the ID token does not carry the nonce of this sign-in")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return signedIdentity{}, fmt.Errorf("console: read the ID token's claims: %w", err)
	}
	if _, ok := claims[rp.cfg.RolesClaim]; !ok || claims["email"] == nil && claims["name"] == nil {
		info, err := p.UserInfo(ctx, conf.TokenSource(ctx, tok))
		if err != nil {
			return signedIdentity{}, fmt.Errorf("console: read userinfo: %w", err)
		}
		if info.Subject != idt.Subject {
			return signedIdentity{}, errors.New("console: the userinfo answer is about someone else than the ID token")
		}
		more := map[string]any{}
		if err := info.Claims(&more); err != nil {
			return signedIdentity{}, fmt.Errorf("console: read the userinfo claims: %w", err)
		}
		for k, v := range more {
			if _, held := claims[k]; !held {
				claims[k] = v
			}
		}
	}
	id := signedIdentity{issuer: idt.Issuer, subject: idt.Subject, roles: stringsOf(claims[rp.cfg.RolesClaim])}
	for _, k := range []string{"email", "name", "preferred_username"} {
		if s, ok := claims[k].(string); ok && s != "" {
			id.name = s
			break
		}
	}
	return id, nil
}

// stringsOf reads a roles claim: a list of strings, or one string of space-separated roles.
func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func rolesOf(names []string) roles {
	var r roles
	for _, n := range names {
		switch n {
		case "analyst":
			r.analyst = true
		case "reviewer":
			r.reviewer = true
		case "member-admin":
			r.memberAdmin = true
		case "operator":
			r.operator = true
		}
	}
	return r
}
