package server

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// TestTokenSecurityTable presents forged, stale and misplaced tokens to both APIs of a whole hub.
// Every one must be refused with 401 or 403: never a 2xx, and never a 5xx that would betray a
// check the hub failed to make.
func TestTokenSecurityTable(t *testing.T) {
	dir := t.TempDir()
	// Hundreds of refusals from one address: the per-address limit would answer 429 after twenty,
	// and this table is about what the checks answer. The limit has tests of its own.
	s, srv, _ := start(t, dir, "--auth-failure-rate", "0")
	ctx := t.Context()
	svc := s.Admin()
	if _, err := svc.Apply(ctx, "test", admin.Spec{
		Partnerships: []admin.PartnershipSpec{{Slug: "eu-japan", Title: "EU–Japan",
			Collections: []admin.CollectionSpec{{Alias: "cyber-threats", Title: "Cyber threats"}}}},
		Members: []admin.Member{{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU"}},
		Grants:  []admin.GrantSpec{{Member: "cert-eu", Partnership: "eu-japan", Collection: "cyber-threats", Read: true, Write: true}},
	}, false, false); err != nil {
		t.Fatal(err)
	}
	key, err := auth.ReadSigningKey(filepath.Join(dir, auth.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	kid := auth.KeyID(pub)
	now := time.Now()

	// claims are a token the hub would accept, recorded under its jti, before a case spoils it.
	claims := func(kind store.TokenKind, subject string, aud auth.Audience) jwt.RegisteredClaims {
		c := jwt.RegisteredClaims{ID: auth.NewTokenID(), Subject: subject, Issuer: auth.DefaultIssuer,
			Audience: jwt.ClaimStrings{string(aud)}, IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}
		rec := store.Token{ID: c.ID, Kind: kind, Subject: subject, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.Store().SaveToken(ctx, rec); err != nil {
			t.Fatal(err)
		}
		return c
	}
	partner := func() jwt.RegisteredClaims { return claims(store.PartnerToken, "cert-eu", auth.PartnerAudience) }
	operator := func() jwt.RegisteredClaims { return claims(store.OperatorToken, "alice", auth.OperatorAudience) }
	sign := func(method jwt.SigningMethod, signWith any, c jwt.RegisteredClaims, kid string) string {
		tok := jwt.NewWithClaims(method, c)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		raw, err := tok.SignedString(signWith)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	good := func(c jwt.RegisteredClaims) string { return sign(jwt.SigningMethodEdDSA, key, c, kid) }
	with := func(c jwt.RegisteredClaims, spoil func(*jwt.RegisteredClaims)) jwt.RegisteredClaims {
		spoil(&c)
		return c
	}
	unpublished, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	revoke := func(c jwt.RegisteredClaims) jwt.RegisteredClaims {
		if _, err := svc.RevokeToken(ctx, "test", c.ID); err != nil {
			t.Fatal(err)
		}
		return c
	}
	unrecorded := partner()
	unrecorded.ID = auth.NewTokenID()

	// Both kinds of token, forged or spoiled in every way the hub must catch.
	forged := map[string]string{}
	for prefix, base := range map[string]func() jwt.RegisteredClaims{"partner": partner, "operator": operator} {
		forged[prefix+": expired"] = good(with(base(), func(c *jwt.RegisteredClaims) {
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute))
		}))
		forged[prefix+": not yet valid"] = good(with(base(), func(c *jwt.RegisteredClaims) {
			c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour))
		}))
		forged[prefix+": issued in the future"] = good(with(base(), func(c *jwt.RegisteredClaims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour))
		}))
		forged[prefix+": wrong issuer"] = good(with(base(), func(c *jwt.RegisteredClaims) { c.Issuer = "someone-else" }))
		forged[prefix+": wrong audience"] = good(with(base(), func(c *jwt.RegisteredClaims) {
			c.Audience = jwt.ClaimStrings{"taxiihub:elsewhere"}
		}))
		forged[prefix+": no expiry"] = good(with(base(), func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil }))
		forged[prefix+": alg none"] = sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, base(), kid)
		forged[prefix+": HS256 keyed with the public key"] = sign(jwt.SigningMethodHS256, []byte(pub), base(), kid)
		forged[prefix+": unknown kid"] = sign(jwt.SigningMethodEdDSA, unpublished, base(),
			auth.KeyID(unpublished.Public().(ed25519.PublicKey)))
		forged[prefix+": another key under the hub's kid"] = sign(jwt.SigningMethodEdDSA, unpublished, base(), kid)
		forged[prefix+": no kid"] = sign(jwt.SigningMethodEdDSA, key, base(), "")
		forged[prefix+": revoked"] = good(revoke(base()))
	}
	forged["partner: never recorded"] = good(unrecorded)
	forged["partner: subject differs from the record"] = good(with(partner(), func(c *jwt.RegisteredClaims) { c.Subject = "cncert-cc" }))
	forged["partner token claiming the operator audience"] = good(with(partner(), func(c *jwt.RegisteredClaims) {
		c.Audience = jwt.ClaimStrings{string(auth.OperatorAudience)}
	}))

	partnerToken, operatorToken := good(partner()), good(operator())
	endpoints := []struct {
		method, path, body string
		api                string
	}{
		{http.MethodGet, "/taxii2/", "", "taxii"},
		{http.MethodGet, "/eu-japan/collections/", "", "taxii"},
		{http.MethodGet, "/eu-japan/collections/cyber-threats/objects/", "", "taxii"},
		{http.MethodPost, "/eu-japan/collections/cyber-threats/objects/", `{"objects":[` + indicator(1, "x") + `]}`, "taxii"},
		{http.MethodGet, "/admin/partnerships/", "", "admin"},
		{http.MethodGet, "/admin/tokens/", "", "admin"},
		{http.MethodPost, "/admin/tokens/", `{"kind":"operator","subject":"mallory"}`, "admin"},
		{http.MethodPost, "/admin/keys/rotate/", "", "admin"},
	}
	// The untouched tokens open their own API, so the refusals below are the checks' doing.
	for _, e := range endpoints {
		tok := partnerToken
		if e.api == "admin" {
			tok = operatorToken
		}
		if e.path == "/admin/keys/rotate/" {
			continue // a real rotation would change the key the table signs with
		}
		if code, body := call(t, srv, e.method, e.path, tok, e.body); code/100 != 2 {
			t.Fatalf("baseline %s %s: %d %s", e.method, e.path, code, body)
		}
	}
	forged["operator token on TAXII"] = operatorToken
	forged["partner token on admin"] = partnerToken

	t.Cleanup(func() {
		// The baseline issued one; no forged token may have issued another.
		// t.Context is cancelled by the time cleanups run.
		tokens, err := svc.Tokens(context.Background(), admin.TokenFilter{Subject: "mallory"})
		if err != nil || len(tokens) != 1 {
			t.Errorf("forged tokens issued operator tokens: %+v, %v", tokens, err)
		}
	})
	for name, tok := range forged {
		// In parallel: tokens naming unknown kids are each held back by the keyring's read gap.
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, e := range endpoints {
				if name == "operator token on TAXII" && e.api == "admin" || name == "partner token on admin" && e.api == "taxii" {
					continue
				}
				code, body := call(t, srv, e.method, e.path, tok, e.body)
				if code != http.StatusUnauthorized && code != http.StatusForbidden {
					t.Errorf("%s %s answered %d: %s", e.method, e.path, code, body)
				}
			}
		})
	}
}
