//go:build linux

package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"taxiihub/internal/load"
	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/sqlitestore"
)

// The benchmarks measure the hub end to end, as real processes, and report ratios. Each runs one
// round per backend (go test -run '^$' -bench . -benchtime 1x ./internal/reliability/); the README's
// "Load and reliability" section lists what they measure.

// openStore opens the store a hub with these options uses, in-process, for direct inserts. The
// embedded database must not be open in a hub process meanwhile.
func openStore(b *testing.B, h *hub) store.Store {
	b.Helper()
	var s store.Store
	var err error
	if h.opts.mongoDB != "" {
		s, err = mongostore.Open(b.Context(), mongostore.Config{URI: rs.URI(), Database: h.opts.mongoDB})
	} else {
		s, err = sqlitestore.Open(b.Context(), filepath.Join(h.dataDir, "taxiihub.db"))
	}
	if err != nil {
		b.Fatalf("open store: %v", err)
	}
	return s
}

// benchHub starts a seeded hub on a fresh database of the backend.
func benchHub(b *testing.B, name, backend, db string) *hub {
	b.Helper()
	opts := hubOptions{seed: true}
	if backend == "mongodb" {
		opts.mongoDB = db
	}
	return startHub(b, name, opts)
}

func freshDB(b *testing.B, backend string) string {
	if backend == "mongodb" {
		return rs.Database(b)
	}
	return ""
}

// indicator is a valid STIX 2.1 indicator of about size bytes (at least about 560), distinct per n.
func indicator(run string, n, size int) store.Object {
	id := fmt.Sprintf("indicator--%s-%04x-4000-8000-%012x", run, n>>48&0xffff, n)
	head := `{"type":"indicator","spec_version":"2.1","id":"` + id + `","created":"2026-03-01T10:00:00.000Z",` +
		`"modified":"2026-03-01T10:00:00.000Z","name":"benchmark ` + run + ` address ` + strconv.Itoa(n) + `","description":"Synthetic indicator`
	tail := fmt.Sprintf(`","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.%d.%d.%d']",`+
		`"pattern_type":"stix","valid_from":"2026-03-01T10:00:00.000Z",`+
		`"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}`, n>>16&0xff, n>>8&0xff, n&0xff)
	pad := max(0, size-len(head)-len(tail))
	content := head + string(bytes.Repeat([]byte("."), pad)) + tail
	return store.Object{ID: id, Type: "indicator", SpecVersion: "2.1",
		Version: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Content: []byte(content)}
}

func runID() string { return fmt.Sprintf("%08x", rand.Uint32()) }

// BenchmarkIngestHTTPVersusStore compares the rate at which objects are accepted through HTTP (a
// hub process, TAXII, authentication, STIX validation, the store) with the rate of the same number
// of inserts of the same size, batch and concurrency straight into the store, each writer taking the
// collections its member publishes to in turn, as the load does, so that writers meet on shared
// collections both ways. Reported: both rates and their ratio.
func BenchmarkIngestHTTPVersusStore(b *testing.B) {
	const (
		batch   = 1000
		objects = 100_000
	)
	writers := []string{"cert-eu", "cncert-cc", "jpcert-cc", "frontex"}
	for _, backend := range backends {
		b.Run("backend="+backend, func(b *testing.B) {
			for b.Loop() {
				// Through HTTP: four members that may write, one publisher each, no pollers.
				h := benchHub(b, "http", backend, freshDB(b, backend))
				members := h.members()
				members = slices.DeleteFunc(members, func(m load.Member) bool {
					return !slices.Contains(writers, m.ID)
				})
				rep, err := load.Run(b.Context(), load.Config{Hubs: []string{h.URL()}, Members: members, Collections: exampleCollections,
					Objects: objects, Batch: batch, Publishers: 1, Drain: time.Minute, GiveUpAfter: time.Minute})
				if err != nil {
					b.Fatal(err)
				}
				if ps := rep.Problems(); len(ps) > 0 {
					b.Fatalf("load: %q", ps)
				}
				httpRate := rep.ObjectsPerSecond()

				// Straight into the store: the same members' collections, batch and object size.
				d := benchHub(b, "direct", backend, freshDB(b, backend))
				if err := d.terminate(); err != nil {
					b.Fatal(err)
				}
				st := openStore(b, d)
				colls := make([][]string, len(writers))
				for w, member := range writers {
					grants, err := st.Grants(b.Context(), member)
					if err != nil {
						b.Fatal(err)
					}
					for _, g := range grants {
						if g.Write {
							colls[w] = append(colls[w], g.CollectionID)
						}
					}
				}
				run := runID()
				started := time.Now()
				var wg sync.WaitGroup
				errs := make([]error, len(writers))
				for w := range writers {
					wg.Go(func() {
						n := len(writers)
						for round, first := 0, w*objects/n; first < (w+1)*objects/n; round, first = round+1, first+batch {
							objs := make([]store.Object, batch)
							for i := range objs {
								objs[i] = indicator(run, first+i, 0)
							}
							if _, err := st.AddObjects(b.Context(), colls[w][round%len(colls[w])], objs); err != nil {
								errs[w] = err
								return
							}
						}
					})
				}
				wg.Wait()
				directRate := objects / time.Since(started).Seconds()
				st.Close(context.Background())
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(httpRate, "http-obj/s")
				b.ReportMetric(directRate, "store-obj/s")
				b.ReportMetric(httpRate/directRate, "http/store")
			}
		})
	}
}

// BenchmarkPageLatencyByCollectionSize compares the latency of pages read through a hub process from
// a collection of 1,000,000 objects with one of 10,000, at random positions (added_after set to the
// date added of a random object), with limit 100 (the default) and 1,000 (the maximum). Reported:
// p50 and p99 of each and the ratios large/small.
func BenchmarkPageLatencyByCollectionSize(b *testing.B) {
	const (
		small   = 10_000
		large   = 1_000_000
		samples = 400
	)
	for _, backend := range backends {
		b.Run("backend="+backend, func(b *testing.B) {
			for b.Loop() {
				h := benchHub(b, "a", backend, freshDB(b, backend))
				reader := h.members()[slices.IndexFunc(h.members(), func(m load.Member) bool { return m.ID == "jpcert-cc" })]
				ids := collectionIDs(b, h, reader, "eu-japan")
				smallID, largeID := ids["cyber-threats"], ids["critical-infrastructure"]
				if err := h.terminate(); err != nil {
					b.Fatal(err)
				}

				st := openStore(b, h)
				started := time.Now()
				smallDates := fill(b, st, smallID, small, samples)
				largeDates := fill(b, st, largeID, large, samples)
				st.Close(context.Background())
				b.Logf("%s: filled %d + %d objects in %s", backend, small, large, time.Since(started).Round(time.Second))
				h.start()

				for _, limit := range []int{100, 1000} {
					smallLat, largeLat := make([]time.Duration, 0, samples), make([]time.Duration, 0, samples)
					get := func(coll string, dates []string, into *[]time.Duration, i int) {
						q := "?limit=" + strconv.Itoa(limit) + "&added_after=" + dates[i%len(dates)]
						d := timedGet(b, h.URL()+"/eu-japan/collections/"+coll+"/objects/"+q, reader.Token)
						if into != nil {
							*into = append(*into, d)
						}
					}
					for i := range 40 { // warm up both
						get(smallID, smallDates, nil, i)
						get(largeID, largeDates, nil, i)
					}
					for i := range samples { // interleaved, so that both share the machine's moods
						get(smallID, smallDates, &smallLat, i)
						get(largeID, largeDates, &largeLat, i)
					}
					s50, s99 := percentile(smallLat, 0.50), percentile(smallLat, 0.99)
					l50, l99 := percentile(largeLat, 0.50), percentile(largeLat, 0.99)
					b.Logf("%s limit %d: 10k p50 %s p99 %s; 1M p50 %s p99 %s", backend, limit, s50, s99, l50, l99)
					unit := "limit" + strconv.Itoa(limit)
					b.ReportMetric(float64(l50)/float64(s50), unit+"-p50-1M/10k")
					b.ReportMetric(float64(l99)/float64(s99), unit+"-p99-1M/10k")
					b.ReportMetric(float64(l50)/1e6, unit+"-p50-1M-ms")
					b.ReportMetric(float64(l99)/1e6, unit+"-p99-1M-ms")
				}
			}
		})
	}
}

// collectionIDs maps the aliases of a root's collections to their ids, as the member sees them.
func collectionIDs(b *testing.B, h *hub, m load.Member, root string) map[string]string {
	b.Helper()
	req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, h.URL()+"/"+root+"/collections/", nil)
	req.Header.Set("Authorization", "Bearer "+m.Token)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Collections []struct{ ID, Alias string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		b.Fatal(err)
	}
	ids := make(map[string]string)
	for _, c := range list.Collections {
		ids[c.Alias] = c.ID
	}
	return ids
}

// fill adds n objects to a collection in large batches and returns the dates added of about samples
// of them, spread evenly, formatted for added_after.
func fill(b *testing.B, st store.Store, coll string, n, samples int) []string {
	b.Helper()
	const batch = 5000
	run := runID()
	every := max(1, n/samples)
	var dates []string
	for first := 0; first < n; first += batch {
		objs := make([]store.Object, 0, batch)
		for i := first; i < min(first+batch, n); i++ {
			objs = append(objs, indicator(run, i, 0))
		}
		out, err := st.AddObjects(b.Context(), coll, objs)
		if err != nil {
			b.Fatalf("fill: %v", err)
		}
		for i, o := range out {
			if (first+i)%every == 0 {
				dates = append(dates, o.DateAdded.UTC().Format("2006-01-02T15:04:05.000000Z"))
			}
		}
	}
	rand.Shuffle(len(dates), func(i, j int) { dates[i], dates[j] = dates[j], dates[i] })
	return dates
}

func timedGet(b *testing.B, url, token string) time.Duration {
	req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	started := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(started)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return d
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// BenchmarkPeakRSSOneMaxPost sends one POST of the largest body the hub accepts (32 MiB, 10,000
// objects) to a hub process and compares the process's peak resident set size (VmHWM) with the body
// size: as a whole, and the growth over the peak before the POST.
func BenchmarkPeakRSSOneMaxPost(b *testing.B) {
	const (
		maxBody    = 32 << 20
		maxObjects = 10_000
	)
	for _, backend := range backends {
		b.Run("backend="+backend, func(b *testing.B) {
			for b.Loop() {
				h := benchHub(b, "a", backend, freshDB(b, backend))
				writer := h.members()[slices.IndexFunc(h.members(), func(m load.Member) bool { return m.ID == "cert-eu" })]
				path := h.URL() + "/eu-china-cyber/collections/indicators/objects/"
				run := runID()
				post := func(n, objectSize int) (bodySize int, took time.Duration) {
					var body bytes.Buffer
					body.WriteString(`{"objects":[`)
					for i := range n {
						if i > 0 {
							body.WriteByte(',')
						}
						body.Write(indicator(run, i+n*objectSize, objectSize).Content)
					}
					body.WriteString(`]}`)
					if body.Len() > maxBody {
						b.Fatalf("body of %d bytes is over the limit", body.Len())
					}
					req, _ := http.NewRequestWithContext(b.Context(), http.MethodPost, path, &body)
					req.Header.Set("Authorization", "Bearer "+writer.Token)
					req.Header.Set("Accept", "application/taxii+json;version=2.1")
					req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
					bodySize = body.Len()
					started := time.Now()
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					answer, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted || !bytes.Contains(answer, []byte(`"success_count":`+strconv.Itoa(n))) {
						b.Fatalf("POST: %d %.300s", resp.StatusCode, answer)
					}
					return bodySize, time.Since(started)
				}
				post(100, 0) // warm up: connections, caches, the validator
				before, err := h.vmHWM()
				if err != nil {
					b.Fatal(err)
				}
				// Objects as large as fit 10,000 into the limit with room for the envelope.
				size, took := post(maxObjects, (maxBody-1024)/maxObjects-1)
				peak, err := h.vmHWM()
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("%s: body %.1f MiB in %s; peak RSS %.1f MiB before, %.1f MiB after",
					backend, float64(size)/(1<<20), took.Round(time.Millisecond), float64(before)/(1<<20), float64(peak)/(1<<20))
				b.ReportMetric(float64(size)/(1<<20), "body-MiB")
				b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
				b.ReportMetric(float64(peak)/float64(size), "peak/body")
				b.ReportMetric(float64(peak-before)/float64(size), "growth/body")
			}
		})
	}
}

// BenchmarkThroughputTwoNodesVersusOne runs the same publish-and-poll load, all seven example members
// with one publisher and one poller each, against one hub process and then against two on the same
// replica set (the load's round-robin being the load balancer). Reported: objects accepted per second
// and pages read per second with each, and the ratios two/one.
func BenchmarkThroughputTwoNodesVersusOne(b *testing.B) {
	const duration = 20 * time.Second
	for b.Loop() {
		rates := make(map[int][2]float64)
		for _, nodes := range []int{1, 2} {
			db := rs.Database(b)
			a := startHub(b, "a", hubOptions{mongoDB: db, seed: true})
			urls := []string{a.URL()}
			if nodes == 2 {
				urls = append(urls, startHub(b, "b", hubOptions{mongoDB: db}).URL())
			}
			cfg := loadConfig(a.members(), urls...)
			cfg.Duration, cfg.StopPublishing = duration, nil
			rep, err := load.Run(b.Context(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			if ps := rep.Problems(); len(ps) > 0 {
				b.Fatalf("load with %d nodes: %q", nodes, ps)
			}
			pages := float64(rep.Gets.Count) / rep.Publishing.Seconds()
			rates[nodes] = [2]float64{rep.ObjectsPerSecond(), pages}
			b.Logf("%d node(s): %.0f objects/s accepted, %.0f pages/s read; POST p50 %s p99 %s",
				nodes, rep.ObjectsPerSecond(), pages, rep.Posts.P50, rep.Posts.P99)
		}
		b.ReportMetric(rates[1][0], "1node-obj/s")
		b.ReportMetric(rates[2][0], "2nodes-obj/s")
		b.ReportMetric(rates[2][0]/rates[1][0], "obj/s-2/1")
		b.ReportMetric(rates[2][1]/rates[1][1], "pages/s-2/1")
	}
}
