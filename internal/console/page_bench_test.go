//go:build linux

package console_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/auth"
	"taxiihub/internal/console"
	"taxiihub/internal/mongotest"
	"taxiihub/internal/policy"
	"taxiihub/internal/sharing"
	"taxiihub/internal/stix"
	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/sqlitestore"
	"taxiihub/internal/store/storetest"
)

// BenchmarkConsolePages measures the partners' console's browse and search pages as a signed-in
// analyst's browser gets them (the console handler served in-process, session cookie, page rendered)
// on both backends, with 10k and 1M indicators in the collection, reporting p50 and p99. The
// collection is loaded through the store in batches, as storetest's search benchmark fills it. A
// browse page starts at a random depth (added_after a random object's date added), a search asks
// for a value the collection holds. The p99 should stay under 100 ms and grow at most 1.5 times
// from 10k to 1M: both pages read an index, never a scan.
func BenchmarkConsolePages(b *testing.B) {
	var mongod *mongotest.Server
	openMongo := func(b *testing.B) store.Store {
		if mongod == nil {
			srv, err := mongotest.Start(context.Background(), io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			mongod = srv
		}
		s, err := mongostore.Open(b.Context(), mongostore.Config{URI: mongod.URI(), Database: mongod.Database(b),
			ValueIndexer: policy.IndexValues})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close(context.Background()) })
		return s
	}
	defer func() {
		if mongod != nil {
			mongod.Stop()
		}
	}()
	backends := map[string]func(b *testing.B) store.Store{
		"sqlite": func(b *testing.B) store.Store {
			s, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "hub.db"), sqlitestore.WithValueIndexer(policy.IndexValues))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close(context.Background()) })
			return s
		},
		"mongo": openMongo,
	}
	sizes := []struct {
		name string
		n    int
	}{{"10k", 10_000}, {"1M", 1_000_000}}
	only := os.Getenv("CONSOLE_BENCH_BACKEND") // lets one backend be measured at a time
	for _, backend := range []string{"sqlite", "mongo"} {
		if only != "" && only != backend {
			continue
		}
		for _, size := range sizes {
			b.Run(backend+"/collection="+size.name, func(b *testing.B) {
				benchmarkConsolePages(b, backends[backend](b), size.n)
			})
		}
	}
}

func benchmarkConsolePages(b *testing.B, st store.Store, size int) {
	ctx := b.Context()
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	must(st.CreateAPIRoot(ctx, store.APIRoot{Slug: "eu", Title: "Partnership eu"}))
	coll := store.Collection{ID: "0f6c1c1e-6c55-4d3c-9a7e-3c1f7f7e0b01", APIRoot: "eu", Title: "Shared", Alias: "shared"}
	must(st.CreateCollection(ctx, coll))
	must(st.CreateMember(ctx, store.Member{ID: "cert-fr", Name: "CERT-FR", Jurisdiction: "EU"}))
	must(st.PutGrant(ctx, store.Grant{MemberID: "cert-fr", APIRoot: "eu", CollectionID: coll.ID, Read: true}))
	sb := storetest.FillSearchBenchIn(b, st, coll.ID, size)

	_, key, err := ed25519.GenerateKey(rand.Reader)
	must(err)
	tokens := auth.NewTokens(auth.NewKeyring(key), "", time.Now)
	now := time.Now()
	claims := auth.Claims{ID: auth.NewTokenID(), Subject: "cert-fr", Audience: auth.PartnerAudience, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	raw, err := tokens.Sign(claims)
	must(err)
	must(st.SaveToken(ctx, store.Token{ID: claims.ID, Kind: store.PartnerToken, Subject: "cert-fr", IssuedAt: now, ExpiresAt: claims.ExpiresAt}))
	checker, err := stix.NewValidator()
	must(err)
	log := slog.New(slog.DiscardHandler)
	svc, err := sharing.New(sharing.Config{Store: st, Checker: checker, Logger: log})
	must(err)
	c, err := console.New(console.Config{Sharing: svc, Auth: auth.NewAuthenticator(tokens, st), Logger: log})
	must(err)
	srv := httptest.NewServer(c)
	b.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	must(err)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(srv.URL+"/console/signin", url.Values{"token": {raw}})
	must(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign-in: %s", resp.Status)
	}
	get := func(path, want string) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			b.Fatalf("GET %s: %s %v, want %q in the page", path, resp.Status, err, want)
		}
	}

	b.Run("browse", func(b *testing.B) {
		r := mathrand.New(mathrand.NewPCG(3, 4))
		var l storetest.Latencies
		for b.Loop() {
			path := "/console/collections/eu/" + coll.ID + "/"
			if before := sb.Before(r); !before.IsZero() {
				path += "?added_after=" + url.QueryEscape(before.Add(-time.Nanosecond).Format(time.RFC3339Nano))
			}
			l.Time(func() { get(path, "/objects/indicator--") })
		}
		l.Report(b)
	})
	b.Run("search", func(b *testing.B) {
		r := mathrand.New(mathrand.NewPCG(1, 2))
		var l storetest.Latencies
		for b.Loop() {
			value := sb.Value(r)
			l.Time(func() { get("/console/search?value="+url.QueryEscape(value), "/objects/indicator--") })
		}
		l.Report(b)
	})
}
