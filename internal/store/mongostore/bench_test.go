//go:build unix

package mongostore_test

import (
	"context"
	"testing"

	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/storetest"
)

func openBench(tb testing.TB) store.Store {
	tb.Helper()
	s, err := mongostore.Open(tb.Context(), mongostore.Config{URI: mongod.URI(), Database: mongod.Database(tb)})
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func BenchmarkAddObjects(b *testing.B) { storetest.BenchmarkAddObjects(b, openBench) }

func BenchmarkPublish(b *testing.B) { storetest.BenchmarkPublish(b, openBench) }

func BenchmarkTailPage(b *testing.B) {
	b.Run("collection=10k", func(b *testing.B) { storetest.BenchmarkTailPage(b, openBench, 10_000) })
	b.Run("collection=1M", func(b *testing.B) { storetest.BenchmarkTailPage(b, openBench, 1_000_000) })
}

func BenchmarkPublishLargeObject(b *testing.B) { storetest.BenchmarkPublishLargeObject(b, openBench) }
