package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
)

// BrowsePage is the page size the search and browse benchmarks read: a console's page.
const BrowsePage = 50

// SearchBench is a collection filled with realistic indicators for the value-search and browse
// benchmarks: indicator n names the domain bad-n.example (one object) and an address 16 objects
// name, whatever the size, so that searches at 10k and at 1M objects find as many objects.
type SearchBench struct {
	Collection string
	Size       int
	// added are the dates added of the objects, in order.
	added []time.Time
}

// FillSearchBench stores size realistic indicators in a new collection of s, through AddObjects in
// batches of 5,000, so that a million load in minutes rather than over HTTP.
func FillSearchBench(tb testing.TB, s store.Store, size int) SearchBench {
	tb.Helper()
	sb := SearchBench{Collection: newCollection(tb, s), Size: size, added: make([]time.Time, 0, size)}
	sb.fill(tb, s, sb.Collection, size)
	return sb
}

// FillSearchBenchIn is FillSearchBench into an existing collection.
func FillSearchBenchIn(tb testing.TB, s store.Store, collection string, size int) SearchBench {
	tb.Helper()
	sb := SearchBench{Collection: collection, Size: size, added: make([]time.Time, 0, size)}
	sb.fill(tb, s, collection, size)
	return sb
}

func (sb *SearchBench) fill(tb testing.TB, s store.Store, collection string, size int) {
	const fillBatch = 5000
	start := time.Now()
	for from := 0; from < size; from += fillBatch {
		objs := make([]store.Object, 0, fillBatch)
		for n := from; n < min(from+fillBatch, size); n++ {
			objs = append(objs, realisticIndicator(n))
		}
		out, err := s.AddObjects(tb.Context(), collection, objs)
		if err != nil {
			tb.Fatalf("fill: %v", err)
		}
		for _, o := range out {
			sb.added = append(sb.added, o.DateAdded)
		}
	}
	tb.Logf("stored %d indicators in %s", size, time.Since(start).Round(time.Second))
}

// Value returns a value the collection holds, chosen by r: half the time an object's domain,
// written in upper case as analysts paste it, half the time an address several objects name
// (which the search also looks up as every network containing it).
func (sb SearchBench) Value(r *rand.Rand) string {
	n := r.IntN(sb.Size)
	if r.IntN(2) == 0 {
		return fmt.Sprintf("BAD-%d.EXAMPLE", n)
	}
	return fmt.Sprintf("198.51.%d.%d", n/16/256%256, n/16%256)
}

// Before returns where a browse page starts, chosen by r: the newest page one time in four,
// otherwise a page at a random depth.
func (sb SearchBench) Before(r *rand.Rand) time.Time {
	if r.IntN(4) == 0 {
		return time.Time{}
	}
	return sb.added[r.IntN(len(sb.added))]
}

// Latencies collects the duration of each operation of a benchmark and reports percentiles.
type Latencies []time.Duration

// Time runs op and records how long it took.
func (l *Latencies) Time(op func()) {
	start := time.Now()
	op()
	*l = append(*l, time.Since(start))
}

// Report reports the 50th and 99th percentiles in milliseconds.
func (l Latencies) Report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	at := func(p float64) float64 {
		return float64(s[min(len(s)-1, int(float64(len(s))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkValueSearch measures, on a collection of size realistic indicators, a value search as
// the hub runs it (every normalised form of the value, a page of BrowsePage objects) and a browse
// page of BrowsePage indicators newest first, reporting p50 and p99 latencies. Their p99 should
// not grow with the collection: both read an index, never a scan.
func BenchmarkValueSearch(b *testing.B, open func(testing.TB) store.Store, size int) {
	s := open(b)
	sb := FillSearchBench(b, s, size)
	// The reader's other collections, empty, as a member reading several partnerships has.
	scopes := []store.SearchScope{{CollectionID: sb.Collection}}
	for range 4 {
		scopes = append(scopes, store.SearchScope{CollectionID: newCollection(b, s), MaxTLP: store.TLPAmber})
	}
	b.Run("search", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		var l Latencies
		for b.Loop() {
			q := store.ValueSearch{Values: policy.SearchForms(sb.Value(r)), Scopes: scopes, Limit: BrowsePage}
			l.Time(func() {
				hits, err := s.SearchValues(b.Context(), q)
				if err != nil || len(hits.Hits) == 0 {
					b.Fatalf("search %v: %d hits, %v", q.Values[0], len(hits.Hits), err)
				}
			})
		}
		l.Report(b)
	})
	b.Run("browse", func(b *testing.B) {
		r := rand.New(rand.NewPCG(3, 4))
		var l Latencies
		for b.Loop() {
			q := store.BrowseQuery{Type: "indicator", Before: sb.Before(r), Limit: BrowsePage}
			l.Time(func() {
				if _, err := s.Browse(b.Context(), sb.Collection, q); err != nil {
					b.Fatalf("browse: %v", err)
				}
			})
		}
		l.Report(b)
	})
}
