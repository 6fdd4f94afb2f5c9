package sqlitestore

import (
	"path/filepath"
	"testing"

	"taxiihub/internal/store"
	"taxiihub/internal/store/storetest"
)

func openBench(tb testing.TB) store.Store { return openTest(tb, filepath.Join(tb.TempDir(), "hub.db")) }

func BenchmarkAddObjects(b *testing.B) { storetest.BenchmarkAddObjects(b, openBench) }
func BenchmarkPublish(b *testing.B)    { storetest.BenchmarkPublish(b, openBench) }

func BenchmarkTailPage(b *testing.B) {
	b.Run("collection=10k", func(b *testing.B) { storetest.BenchmarkTailPage(b, openBench, 10_000) })
	b.Run("collection=1M", func(b *testing.B) { storetest.BenchmarkTailPage(b, openBench, 1_000_000) })
}

func BenchmarkPublishLargeObject(b *testing.B) { storetest.BenchmarkPublishLargeObject(b, openBench) }
