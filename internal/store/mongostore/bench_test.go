//go:build unix

package mongostore_test

import (
	"testing"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
	"taxiihub/internal/store/storetest"
)

// openBench opens a store as the hub does, keeping the value-search index.
func openBench(tb testing.TB) store.Store {
	tb.Helper()
	return openIndexed(tb, mongod.Database(tb), policy.IndexValues)
}

func BenchmarkAddObjects(b *testing.B) { storetest.BenchmarkAddObjects(b, openBench) }

func BenchmarkPublish(b *testing.B) { storetest.BenchmarkPublish(b, openBench) }

func BenchmarkTailPage(b *testing.B) {
	b.Run("collection=10k", func(b *testing.B) { storetest.BenchmarkTailPage(b, openBench, 10_000) })
	b.Run("collection=1M", func(b *testing.B) { storetest.BenchmarkTailPage(b, openBench, 1_000_000) })
}

func BenchmarkPublishLargeObject(b *testing.B) { storetest.BenchmarkPublishLargeObject(b, openBench) }

func BenchmarkValueSearch(b *testing.B) {
	b.Run("collection=10k", func(b *testing.B) { storetest.BenchmarkValueSearch(b, openBench, 10_000) })
	b.Run("collection=1M", func(b *testing.B) { storetest.BenchmarkValueSearch(b, openBench, 1_000_000) })
}
