//go:build linux

package hostile

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxContentLength is the hub's default max_content_length.
const maxContentLength = 32 << 20

// maxBody streams an envelope of 10,000 indicators filling the default max_content_length less a
// kibibyte, distinct per run, without holding it: twenty of them at once would otherwise cost the
// benchmark more memory than the hub it measures.
func maxBody(run string) io.Reader {
	const objects = 10_000
	pad := `,"description":"` + strings.Repeat(".", (maxContentLength-1024)/objects-len(indicator(run, objects, ""))-20) + `"`
	r, w := io.Pipe()
	go func() {
		_, err := io.WriteString(w, `{"objects":[`)
		for i := 0; i < objects && err == nil; i++ {
			if i > 0 {
				_, err = io.WriteString(w, ",")
			}
			if err == nil {
				_, err = io.WriteString(w, indicator(run, i, pad))
			}
		}
		if err == nil {
			_, err = io.WriteString(w, `]}`)
		}
		w.CloseWithError(err)
	}()
	return r
}

// BenchmarkPeakRSSConcurrentMaxPosts sends 1, 5 and 20 POSTs of the largest body at once to a hub
// process with the default configuration and reports its peak resident set size (VmHWM) against
// max_content_length, with the answers counted by status: the ingest budget lets three such bodies
// in at a time, and the others wait or are answered 503 with Retry-After.
func BenchmarkPeakRSSConcurrentMaxPosts(b *testing.B) {
	for _, posts := range []int{1, 5, 20} {
		b.Run(fmt.Sprintf("posts=%d", posts), func(b *testing.B) {
			for b.Loop() {
				h := startHub(b, hubOptions{})
				token := h.token(writer)
				if a := post(b, h, []byte(`{"objects":[`+indicator(runID(), 1, "")+`]}`)); a.status != http.StatusAccepted {
					b.Fatalf("warm-up POST: %s", a)
				}
				before, cpuBefore := h.vmHWM(), h.cpuSeconds()
				var (
					mu       sync.Mutex
					statuses = map[int]int{}
					wg       sync.WaitGroup
				)
				started := time.Now()
				for p := range posts {
					run := fmt.Sprintf("%04x%04x", uint16(started.UnixNano()), p)
					wg.Go(func() {
						req, _ := http.NewRequestWithContext(b.Context(), http.MethodPost, h.URL()+collection+"objects/", maxBody(run))
						req.Header.Set("Accept", taxiiType)
						req.Header.Set("Content-Type", taxiiType)
						req.Header.Set("Authorization", "Bearer "+token)
						code := 0
						if resp, err := http.DefaultClient.Do(req); err == nil {
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							code = resp.StatusCode
						}
						mu.Lock()
						statuses[code]++
						mu.Unlock()
					})
				}
				wg.Wait()
				peak, cpu := h.vmHWM(), h.cpuSeconds()-cpuBefore
				b.Logf("%d POSTs of %d MiB at once in %s, %.1f s of the hub's CPU: answers %v (0: no answer); peak RSS %.0f MiB before, %.0f MiB after",
					posts, maxContentLength>>20, time.Since(started).Round(time.Millisecond), cpu, statuses, float64(before)/(1<<20), float64(peak)/(1<<20))
				b.ReportMetric(cpu, "hub-CPU-s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
				b.ReportMetric(float64(peak)/maxContentLength, "peak/max_content_length")
				b.ReportMetric(float64(peak-before)/maxContentLength, "growth/max_content_length")
				b.ReportMetric(float64(statuses[http.StatusAccepted]), "accepted")
				b.ReportMetric(float64(statuses[http.StatusServiceUnavailable]), "503s")
			}
		})
	}
}

// BenchmarkLargeObjectPost posts to a hub process, on each backend, one envelope holding an object
// with a 30 MiB string (refused as over the object size limit, its neighbour stored), and one
// holding an object of almost the largest size (stored). Against the body's size it reports the
// bytes the hub allocated for the request (go_memstats_alloc_bytes_total from /metrics), the growth
// of its peak resident set size (VmHWM) and the CPU time it spent, so that a copy of the large
// string on its way to the store shows as one more body's worth.
func BenchmarkLargeObjectPost(b *testing.B) {
	for _, backend := range backends {
		for _, c := range []struct {
			name   string
			size   int
			stored int
		}{
			{"string=30MiB", 30 << 20, 1},
			// The object limit is 8 MiB of JSON; the indicator's other properties take under 1 KiB.
			{"object=8MiB", 8<<20 - 1024, 2},
		} {
			b.Run("backend="+backend+"/"+c.name, func(b *testing.B) {
				for b.Loop() {
					metrics := freeAddr(b)
					h := startHub(b, hubOptions{backend: backend, args: []string{"--metrics-listen", metrics}})
					if a := post(b, h, envelope(indicator(runID(), 1, ""))); a.status != http.StatusAccepted {
						b.Fatalf("warm-up POST: %s", a)
					}
					run := runID()
					body := envelope(bigObject(run, 1, c.size), indicator(run, 2, ""))
					allocBefore, cpuBefore := scrape(b, metrics)
					rssBefore := h.vmHWM()
					a := post(b, h, body)
					allocAfter, cpuAfter := scrape(b, metrics)
					rssAfter := h.vmHWM()
					if a.status != http.StatusAccepted || decodeStatus(b, a).SuccessCount != c.stored {
						b.Fatalf("POST: %.300s", a)
					}
					size := float64(len(body))
					b.Logf("%s, %s: body %.1f MiB; allocated %.1f MiB; peak RSS %.0f → %.0f MiB; CPU %.0f ms", backend, c.name,
						size/(1<<20), (allocAfter-allocBefore)/(1<<20), float64(rssBefore)/(1<<20), float64(rssAfter)/(1<<20), (cpuAfter-cpuBefore)*1000)
					b.ReportMetric((allocAfter-allocBefore)/size, "allocated/body")
					b.ReportMetric(float64(rssAfter-rssBefore)/size, "RSS-growth/body")
					b.ReportMetric(float64(rssAfter)/size, "peak-RSS/body")
					b.ReportMetric((cpuAfter-cpuBefore)*1000, "CPU-ms")
				}
			})
		}
	}
}

// scrape reads from a hub's /metrics the bytes its Go runtime has allocated so far and the CPU
// seconds its process has used.
func scrape(b *testing.B, addr string) (allocated, cpu float64) {
	b.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	found := 0
	for line := range strings.Lines(string(text)) {
		for name, dst := range map[string]*float64{"go_memstats_alloc_bytes_total ": &allocated, "process_cpu_seconds_total ": &cpu} {
			if rest, ok := strings.CutPrefix(line, name); ok {
				if _, err := fmt.Sscan(rest, dst); err != nil {
					b.Fatalf("%s%s: %v", name, rest, err)
				}
				found++
			}
		}
	}
	if found != 2 {
		b.Fatalf("/metrics lacks go_memstats_alloc_bytes_total or process_cpu_seconds_total:\n%.2000s", text)
	}
	return allocated, cpu
}

// cpuSeconds is the CPU time the hub process has used, user and system, from /proc/<pid>/stat: on a
// shared machine a steadier measure of work than the time taken.
func (h *hub) cpuSeconds() float64 {
	h.t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", h.pid()))
	if err != nil {
		h.t.Fatal(err)
	}
	// The fields after the command's closing parenthesis start with the third, the state; utime and
	// stime are the 14th and 15th, in clock ticks of 1/100 s.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	var utime, stime float64
	if _, err := fmt.Sscan(fields[11]+" "+fields[12], &utime, &stime); err != nil {
		h.t.Fatalf("parse /proc/%d/stat: %v", h.pid(), err)
	}
	return (utime + stime) / 100
}
