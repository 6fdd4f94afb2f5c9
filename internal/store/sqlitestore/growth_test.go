package sqlitestore

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"taxiihub/internal/store"
)

// BenchmarkGrowthPerMillion measures what the database grows by as partners publish and pull: it
// publishes growthObjects indicators of about 600 bytes (requests of 1,000, each with its status, as
// the TAXII layer saves them), pulls them all once in pages of 1,000 (each page's ledger entry as the
// sharing layer records it), and reports the bytes each table's rows hold, per million objects
// published and per million pulled: an extrapolation from growthObjects, linear since every row
// grows with the objects or pages alone. The README's "Retention" gives the figures.
func BenchmarkGrowthPerMillion(b *testing.B) {
	const growthObjects, page = 50_000, 1_000
	for b.Loop() {
		s := openTest(b, filepath.Join(b.TempDir(), "hub.db"))
		ctx := b.Context()
		if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: "growth", Title: "Growth"}); err != nil {
			b.Fatal(err)
		}
		coll := uuid.NewString()
		if err := s.CreateCollection(ctx, store.Collection{ID: coll, APIRoot: "growth", Title: "Indicators"}); err != nil {
			b.Fatal(err)
		}
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for n := 0; n < growthObjects; n += page {
			objs := make([]store.Object, page)
			plan := store.StatusPlan{Status: store.Status{ID: uuid.NewString(), APIRoot: "growth", Submitter: "cert-eu", RequestTimestamp: at}}
			for i := range objs {
				id := "indicator--" + uuid.NewString()
				content := fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":%q,"created":"2026-01-01T00:00:00.000Z",`+
					`"modified":"2026-01-01T00:00:00.000Z","name":"Load test indicator %d of a campaign against ministries",`+
					`"pattern":"[domain-name:value = 'c2-%d.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",`+
					`"labels":["malicious-activity"],"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],`+
					`"description":"Padding that stands for the text an analyst writes about an indicator, its context and its source."}`,
					id, n+i, n+i)
				objs[i] = store.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Version: at, Content: content,
					Fingerprint: fmt.Sprintf("%064x", n+i)}
				plan.Details = append(plan.Details, store.PlannedDetail{Detail: store.StatusDetail{ID: id, Version: "2026-01-01T00:00:00.000Z"}})
			}
			if _, err := s.Publish(ctx, store.Publication{CollectionID: coll, Member: "cert-eu", TokenID: "tok-1", Objects: objs, Status: &plan}); err != nil {
				b.Fatal(err)
			}
		}
		before := growthSizes(b, s)
		q := store.Query{Limit: page}
		for {
			p, err := s.Objects(ctx, coll, q)
			if err != nil {
				b.Fatal(err)
			}
			e := store.LedgerEntry{Member: "jpcert", TokenID: "tok-2", APIRoot: "growth", Collection: coll, Endpoint: "objects",
				Items: make([]store.LedgerItem, len(p.Records))}
			for i, r := range p.Records {
				e.Items[i] = store.LedgerItem{ID: r.ID, Version: r.Version}
			}
			if err := s.RecordPull(ctx, e); err != nil {
				b.Fatal(err)
			}
			if !p.More {
				break
			}
			q.Cursor = p.Next
		}
		after := growthSizes(b, s)
		perMillion := func(bytes int64) float64 { return float64(bytes) * 1e6 / growthObjects / (1 << 20) }
		b.ReportMetric(perMillion(before["objects"]), "objects-MiB/M-published")
		b.ReportMetric(perMillion(before["statuses"]), "statuses-MiB/M-published")
		b.ReportMetric(perMillion(before["ledger"]), "ledger-MiB/M-published")
		b.ReportMetric(perMillion(before["origins"]), "origins-MiB/M-published")
		b.ReportMetric(perMillion(after["ledger"]-before["ledger"]), "ledger-MiB/M-pulled")
		b.ReportMetric(perMillion(after["pull_details"]-before["pull_details"]), "pull-details-MiB/M-pulled")
	}
}

// growthSizes returns the bytes the rows of each table hold: the sum of their columns' lengths, a
// lower bound of their pages on disk that does not depend on free pages or the WAL.
func growthSizes(tb testing.TB, s *Store) map[string]int64 {
	tb.Helper()
	out := map[string]int64{}
	for table, sum := range map[string]string{
		"objects":  `SELECT COALESCE(SUM(length(object_id) + length(spec_version) + length(type) + length(content_sha256) + length(content) + 40), 0) FROM objects`,
		"statuses": `SELECT COALESCE(SUM(length(api_root) + length(id) + length(submitter) + length(body) + 8), 0) FROM statuses`,
		"ledger": `SELECT COALESCE(SUM(length(kind) + length(member_id) + length(token_id) + length(api_root) + length(collection_id) +
			length(endpoint) + length(items) + length(prev_hash) + length(hash) + length(pulled) + 16), 0) FROM ledger`,
		"pull_details": `SELECT COALESCE(SUM(length(items) + 16), 0) FROM pull_details`,
		"origins":      `SELECT COALESCE(SUM(length(key) + length(api_root) + length(member_id) + length(derived_from) + 8), 0) FROM origins`,
	} {
		var n int64
		if err := s.read.QueryRowContext(tb.Context(), sum).Scan(&n); err != nil {
			tb.Fatalf("size of %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}
