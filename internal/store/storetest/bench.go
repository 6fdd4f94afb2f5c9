package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/store"
)

// BatchSize is how many objects one benchmark write carries: a typical partner envelope.
const BatchSize = 1000

// realisticIndicator is an indicator shaped like what partner CERTs exchange: a pattern, a
// description, kill-chain phases, an external reference and TLP marking, about 1 KiB encoded. Its
// pattern names a domain of its own and an address it shares with 15 others (indicators n to n+15
// when n is a multiple of 16), as addresses recur across reports.
func realisticIndicator(n int) store.Object {
	id := fmt.Sprintf("indicator--%08x-%04x-4%03x-8%03x-%012x", n, n%0xffff, n%0xfff, n%0xfff, n)
	modified := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
	content := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"%s","created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",`+
		`"created":"2026-01-01T00:00:00.000Z","modified":"%s","name":"C2 beacon to bad-%d.example",`+
		`"description":"Command and control traffic observed by the submitting CERT during incident handling; seen from several hosts in the energy sector.",`+
		`"indicator_types":["malicious-activity","attribution"],"pattern":"[domain-name:value = 'bad-%d.example'] OR [ipv4-addr:value = '198.51.%d.%d']",`+
		`"pattern_type":"stix","pattern_version":"2.1","valid_from":"2026-01-01T00:00:00Z","valid_until":"2027-01-01T00:00:00Z",`+
		`"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"command-and-control"}],"confidence":80,"lang":"en",`+
		`"labels":["c2","energy"],"external_references":[{"source_name":"cert-report","url":"https://cert.example/reports/%d","external_id":"R-%d"}],`+
		`"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}`,
		id, modified, n, n, n/16/256%256, n/16%256, n, n)
	return store.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Version: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Millisecond).Truncate(time.Millisecond), Content: []byte(content)}
}

// BenchmarkAddObjects measures writes of BatchSize realistic indicators, each batch new, and reports
// objects per second.
func BenchmarkAddObjects(b *testing.B, open func(testing.TB) store.Store) {
	benchmarkWrites(b, open, func(ctx context.Context, s store.Store, c string, objs []store.Object) ([]store.Outcome, error) {
		return s.AddObjects(ctx, c, objs)
	})
}

// BenchmarkPublish is BenchmarkAddObjects through Publish, as the hub writes: withdrawals looked up,
// origins recorded (each object with a fingerprint) and a ledger entry appended. Its rate over
// BenchmarkAddObjects's is what a member's publication costs beyond storing the objects.
func BenchmarkPublish(b *testing.B, open func(testing.TB) store.Store) {
	benchmarkWrites(b, open, func(ctx context.Context, s store.Store, c string, objs []store.Object) ([]store.Outcome, error) {
		for i := range objs {
			objs[i].Fingerprint = fmt.Sprintf("fp-%s", objs[i].ID)
		}
		return s.Publish(ctx, store.Publication{CollectionID: c, Member: "bench-member", TokenID: "bench-token", Objects: objs})
	})
}

func benchmarkWrites(b *testing.B, open func(testing.TB) store.Store,
	write func(context.Context, store.Store, string, []store.Object) ([]store.Outcome, error)) {
	s := open(b)
	c := newCollection(b, s)
	next := 0
	batches := 0
	for b.Loop() {
		objs := make([]store.Object, BatchSize)
		for i := range objs {
			objs[i] = realisticIndicator(next)
			next++
		}
		out, err := write(b.Context(), s, c, objs)
		if err != nil {
			b.Fatalf("add: %v", err)
		}
		if out[len(out)-1].Result != store.Added {
			b.Fatalf("last object: %v", out[len(out)-1].Result)
		}
		batches++
	}
	b.ReportMetric(float64(batches*BatchSize)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkTailPage reads the last page of BatchSize objects of a collection holding size objects,
// the read a poller that keeps up makes every few minutes. With keyset cursors its cost should not
// grow with the collection.
func BenchmarkTailPage(b *testing.B, open func(testing.TB) store.Store, size int) {
	s := open(b)
	c := newCollection(b, s)
	const fillBatch = 5000
	var tail time.Time
	for start := 0; start < size; start += fillBatch {
		objs := make([]store.Object, 0, fillBatch)
		for n := start; n < min(start+fillBatch, size); n++ {
			objs = append(objs, realisticIndicator(n))
		}
		out, err := s.AddObjects(b.Context(), c, objs)
		if err != nil {
			b.Fatalf("fill: %v", err)
		}
		for i, o := range out {
			if start+i == size-BatchSize-1 {
				tail = o.DateAdded
			}
		}
	}
	q := store.Query{AddedAfter: tail, Limit: BatchSize}
	for b.Loop() {
		p, err := s.Objects(b.Context(), c, q)
		if err != nil {
			b.Fatalf("read: %v", err)
		}
		if len(p.Records) != BatchSize || p.More {
			b.Fatalf("tail page: %d records, more=%v", len(p.Records), p.More)
		}
	}
}

// BenchmarkPublishLargeObject publishes one object of almost the hub's largest object size (8 MiB
// of JSON, nearly all one string) per operation, and reports the bytes allocated against the
// object's: how often the backend copies content on its way to the database.
func BenchmarkPublishLargeObject(b *testing.B, open func(testing.TB) store.Store) {
	s := open(b)
	c := newCollection(b, s)
	description := strings.Repeat("s", 8<<20-1024)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		b.StopTimer()
		o := realisticIndicator(n)
		o.Content = fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"%s","description":"%s"}`, o.ID, description)
		o.Fingerprint = "fp-" + o.ID
		n++
		b.SetBytes(int64(len(o.Content)))
		b.StartTimer()
		out, err := s.Publish(b.Context(), store.Publication{CollectionID: c, Member: "bench-member", TokenID: "bench-token", Objects: []store.Object{o}})
		if err != nil || out[0].Result != store.Added {
			b.Fatalf("publish: %v %v", out, err)
		}
	}
}
