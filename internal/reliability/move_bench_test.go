//go:build linux

package reliability

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"taxiihub/internal/admin"
	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/sqlitestore"
)

// exportBenchObjects is how many object versions BenchmarkExportImport moves; the README's figures
// per million objects are extrapolated from it.
const exportBenchObjects = 20_000

// BenchmarkExportImport measures the move of a hub between backends as taxiictl export and import
// do it, through the operator service in-process (the HTTP transfer adds only a copy): an SQLite
// store holding exportBenchObjects indicators published in batches of 500 (with their ledger
// entries and origins) is exported to a file, which is imported into a new MongoDB store and a new
// SQLite store. Each indicator is about 700 bytes with 32 random bytes in it, so that the file does
// not compress better than real intelligence would. Reports objects/s each way and the export's
// size per million objects.
func BenchmarkExportImport(b *testing.B) {
	for b.Loop() {
		ctx := b.Context()
		src, err := sqlitestore.Open(ctx, filepath.Join(b.TempDir(), "hub.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer src.Close(ctx)
		if err := src.CreateAPIRoot(ctx, store.APIRoot{Slug: "bench", Title: "Bench"}); err != nil {
			b.Fatal(err)
		}
		coll := uuid.NewString()
		if err := src.CreateCollection(ctx, store.Collection{ID: coll, APIRoot: "bench", Title: "Bench"}); err != nil {
			b.Fatal(err)
		}
		for first := 0; first < exportBenchObjects; first += 500 {
			objs := make([]store.Object, 0, 500)
			for range 500 {
				objs = append(objs, randomIndicator())
			}
			if _, err := src.Publish(ctx, store.Publication{CollectionID: coll, Member: "cert-eu", TokenID: "t", Objects: objs}); err != nil {
				b.Fatal(err)
			}
		}
		file := filepath.Join(b.TempDir(), "hub.export")
		f, err := os.Create(file)
		if err != nil {
			b.Fatal(err)
		}
		started := time.Now()
		res, err := admin.New(admin.Config{Store: src}).Export(ctx, "bench", f)
		if err != nil {
			b.Fatal(err)
		}
		exportTook := time.Since(started)
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		n := float64(res.Manifest.Counts[store.KindObject])

		mongo, err := mongostore.Open(ctx, mongostore.Config{URI: rs.URI(), Database: rs.Database(b)})
		if err != nil {
			b.Fatal(err)
		}
		defer mongo.Close(ctx)
		toMongo := importFile(b, mongo, file)
		lite, err := sqlitestore.Open(ctx, filepath.Join(b.TempDir(), "copy.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer lite.Close(ctx)
		toSQLite := importFile(b, lite, file)

		b.ReportMetric(n/exportTook.Seconds(), "export-objects/s")
		b.ReportMetric(n/toMongo.Seconds(), "import-mongodb-objects/s")
		b.ReportMetric(n/toSQLite.Seconds(), "import-sqlite-objects/s")
		b.ReportMetric(float64(res.Bytes)/n, "export-MB/million-objects")
		b.Logf("%d objects: export %s, %d bytes; import into MongoDB %s, into SQLite %s",
			int(n), exportTook.Round(time.Millisecond), res.Bytes, toMongo.Round(time.Millisecond), toSQLite.Round(time.Millisecond))
	}
}

func importFile(b *testing.B, st admin.Store, file string) time.Duration {
	b.Helper()
	f, err := os.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	started := time.Now()
	if _, err := admin.New(admin.Config{Store: st}).Import(b.Context(), "bench", f); err != nil {
		b.Fatal(err)
	}
	return time.Since(started)
}

func randomIndicator() store.Object {
	var r [32]byte
	_, _ = rand.Read(r[:])
	id := "indicator--" + uuid.NewString()
	content := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-03-01T10:00:00.000Z",`+
		`"modified":"2026-03-01T10:00:00.000Z","name":"Phishing domain %x","description":"Sender infrastructure of `+
		`a phishing campaign against ministries, reported by a partner CERT; seen in mail headers and proxy logs.",`+
		`"indicator_types":["malicious-activity"],"pattern":"[domain-name:value = '%x.example']","pattern_type":"stix",`+
		`"valid_from":"2026-03-01T10:00:00.000Z","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}`,
		id, r[:8], r[8:])
	return store.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Version: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		Content: []byte(content), Fingerprint: hex.EncodeToString(r[:16])}
}
