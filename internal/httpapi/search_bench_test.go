package httpapi_test

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"taxiihub/internal/auth"
	"taxiihub/internal/policy"
	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/sqlitestore"
	"taxiihub/internal/store/storetest"
)

// BenchmarkSearchUseCase measures the console's two reads through the application layer, on both
// backends, with 10k and 1M indicators in the collection read: a value search (rights decided over
// every partnership, the store's search, the pull recorded) and a browse page of 50 (the pull
// recorded). The store-level figures are the backends' BenchmarkValueSearch; the difference is
// what the use case adds.
func BenchmarkSearchUseCase(b *testing.B) {
	backends := map[string]func(b *testing.B) store.Store{
		"sqlite": func(b *testing.B) store.Store {
			s, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "hub.db"), sqlitestore.WithValueIndexer(policy.IndexValues))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close(context.Background()) })
			return s
		},
		"mongo": func(b *testing.B) store.Store {
			s, err := mongostore.Open(b.Context(), mongostore.Config{URI: mongod.URI(), Database: mongod.Database(b),
				ValueIndexer: policy.IndexValues})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close(context.Background()) })
			return s
		},
	}
	for _, backend := range []string{"sqlite", "mongo"} {
		for _, size := range []struct {
			name string
			n    int
		}{{"10k", 10_000}, {"1M", 1_000_000}} {
			b.Run(backend+"/collection="+size.name, func(b *testing.B) {
				benchmarkSearchUseCase(b, backends[backend](b), size.n)
			})
		}
	}
}

func benchmarkSearchUseCase(b *testing.B, st store.Store, size int) {
	ctx := b.Context()
	h := &hub{t: b, store: st}
	h.root("eu")
	h.root("asia")
	coll := h.collection("eu", "Shared")
	other := h.collection("asia", "Other")
	h.member("cert-fr")
	h.grant("cert-fr", "eu", coll, true, false)
	h.grant("cert-fr", "asia", other, true, false)
	if err := st.PutMembership(ctx, store.Membership{MemberID: "cert-fr", APIRoot: "asia", Role: store.RoleBoth, Clearance: store.TLPAmber}); err != nil {
		b.Fatal(err)
	}
	sb := storetest.FillSearchBenchIn(b, st, coll, size)
	svc := newSharing(b, st, slog.New(slog.DiscardHandler), nil)
	grants, err := st.Grants(ctx, "cert-fr")
	if err != nil {
		b.Fatal(err)
	}
	caller := auth.NewPrincipal("cert-fr", "tok-fr", grants)

	b.Run("search", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		var l storetest.Latencies
		for b.Loop() {
			value := sb.Value(r)
			l.Time(func() {
				got, err := svc.Search(b.Context(), caller, value, storetest.BrowsePage)
				if err != nil || len(got.Results) == 0 {
					b.Fatalf("search %s: %d results, %v", value, len(got.Results), err)
				}
			})
		}
		l.Report(b)
	})
	b.Run("browse", func(b *testing.B) {
		acc, err := svc.Access(b.Context(), caller, "eu", coll)
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(3, 4))
		var l storetest.Latencies
		for b.Loop() {
			before := sb.Before(r)
			l.Time(func() {
				if _, err := svc.Browse(b.Context(), acc, "indicator", before, storetest.BrowsePage); err != nil {
					b.Fatalf("browse: %v", err)
				}
			})
		}
		l.Report(b)
	})
}
