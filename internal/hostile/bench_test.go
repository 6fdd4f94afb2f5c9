//go:build linux

package hostile

import (
	"fmt"
	"io"
	"net/http"
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
				before := h.vmHWM()
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
				peak := h.vmHWM()
				b.Logf("%d POSTs of %d MiB at once in %s: answers %v (0: no answer); peak RSS %.0f MiB before, %.0f MiB after",
					posts, maxContentLength>>20, time.Since(started).Round(time.Millisecond), statuses, float64(before)/(1<<20), float64(peak)/(1<<20))
				b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
				b.ReportMetric(float64(peak)/maxContentLength, "peak/max_content_length")
				b.ReportMetric(float64(peak-before)/maxContentLength, "growth/max_content_length")
				b.ReportMetric(float64(statuses[http.StatusAccepted]), "accepted")
				b.ReportMetric(float64(statuses[http.StatusServiceUnavailable]), "503s")
			}
		})
	}
}
