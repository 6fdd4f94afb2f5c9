package sqlitestore

import (
	"path/filepath"
	"testing"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
	"taxiihub/internal/store/storetest"
)

// openBench opens a store as the hub does, keeping the value-search index.
func openBench(tb testing.TB) store.Store {
	return openTest(tb, filepath.Join(tb.TempDir(), "hub.db"), WithValueIndexer(policy.IndexValues))
}

func BenchmarkAddObjects(b *testing.B) { storetest.BenchmarkAddObjects(b, openBench) }
func BenchmarkPublish(b *testing.B)    { storetest.BenchmarkPublish(b, openBench) }

func BenchmarkTailPage(b *testing.B) {
	b.Run("collection=10k", func(b *testing.B) { storetest.BenchmarkTailPage(b, openBench, 10_000) })
	b.Run("collection=1M", func(b *testing.B) { storetest.BenchmarkTailPage(b, openBench, 1_000_000) })
}

func BenchmarkPublishLargeObject(b *testing.B) { storetest.BenchmarkPublishLargeObject(b, openBench) }

func BenchmarkValueSearch(b *testing.B) {
	b.Run("collection=10k", func(b *testing.B) { storetest.BenchmarkValueSearch(b, openBench, 10_000) })
	b.Run("collection=1M", func(b *testing.B) { storetest.BenchmarkValueSearch(b, openBench, 1_000_000) })
}

// BenchmarkValueIndexFill measures the first Open with the value indexer of a database of 100,000
// indicators stored without it, as after an upgrade, and reports versions indexed per second.
func BenchmarkValueIndexFill(b *testing.B) {
	const size = 100_000
	path := filepath.Join(b.TempDir(), "hub.db")
	plain, err := Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	storetest.FillSearchBench(b, plain, size)
	if err := plain.Close(b.Context()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		// Forget the fill, so that every iteration indexes the whole database again.
		s, err := Open(b.Context(), path)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(b.Context()); err != nil {
			b.Fatal(err)
		}
		s, err = Open(b.Context(), path, WithValueIndexer(policy.IndexValues))
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "versions/s")
}
