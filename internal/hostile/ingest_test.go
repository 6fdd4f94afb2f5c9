//go:build linux

package hostile

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Caps the README documents for a status: at most this many problems per object, each of at most
// this many bytes.
const (
	problemsShown  = 20
	maxProblemSize = 300
)

// post publishes an envelope as the writer.
func post(t testing.TB, h *hub, body []byte) answer {
	t.Helper()
	return call(t, http.MethodPost, h.URL()+collection+"objects/", h.token(writer), body)
}

// TestStatusAmplification posts 10,000 objects, the most an envelope may hold, all but three with
// 100 invalid property names each, and those three valid neighbours: the answer is 202, every faulty object is refused with a bounded message, the
// neighbours are stored, and the status can be read back, also on MongoDB, where it does not fit
// one document.
func TestStatusAmplification(t *testing.T) {
	const (
		total  = 10_000
		faulty = total - 3
		names  = 100
	)
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			// The request timeout is raised because two CPUs shared with other work may take longer
			// than 30 s to judge a million faults; what is checked is the answer, not the time.
			h := startHub(t, hubOptions{backend: backend, args: []string{"--request-timeout", "5m"}})
			run := runID()
			var bad strings.Builder
			for i := range names {
				fmt.Fprintf(&bad, `,"b-%02d":1`, i) // a dash is not allowed in a property name
			}
			objects := make([]string, 0, total)
			var neighbours []string
			for i := range total {
				if i == 0 || i == total/2 || i == total-1 {
					objects = append(objects, indicator(run, i, ""))
					neighbours = append(neighbours, indicatorID(run, i))
					continue
				}
				objects = append(objects, indicator(run, i, bad.String()))
			}
			body := envelope(objects...)
			a := post(t, h, body)
			if a.status != http.StatusAccepted {
				t.Fatalf("POST of %d objects with %d invalid names each (%.1f MiB): %s", faulty, names, float64(len(body))/(1<<20), a)
			}
			st := decodeStatus(t, a)
			// Each failure: its id and version, at most twenty problems of bounded size, the count of the rest.
			bound := faulty * (problemsShown*(maxProblemSize+2) + 200)
			t.Logf("%s: body %.1f MiB, status %.1f MiB (bound %.1f MiB), %d refused, %d stored; hub peak RSS %.0f MiB",
				backend, float64(len(body))/(1<<20), float64(len(a.body))/(1<<20), float64(bound)/(1<<20), st.FailureCount, st.SuccessCount,
				float64(h.vmHWM())/(1<<20))
			if st.FailureCount != faulty || st.SuccessCount != len(neighbours) || len(a.body) > bound {
				t.Errorf("status: %d refused, %d stored, %d bytes; want %d, %d and at most %d bytes",
					st.FailureCount, st.SuccessCount, len(a.body), faulty, len(neighbours), bound)
			}
			for _, f := range st.Failures[:min(3, len(st.Failures))] {
				if n := strings.Count(f.Message, "[invalid-property-name]"); n != problemsShown || !strings.Contains(f.Message, fmt.Sprintf("and %d more", names-problemsShown)) {
					t.Errorf("a failure says %d problems: %.200s…; want %d and the count of the rest", n, f.Message, problemsShown)
				}
			}
			requireStored(t, h, h.token(writer), neighbours...)

			again := call(t, http.MethodGet, h.URL()+"/eu-china-cyber/status/"+st.ID+"/", h.token(writer), nil)
			if again.status != http.StatusOK {
				t.Fatalf("read the status back: %s", again)
			}
			if back := decodeStatus(t, again); back.FailureCount != faulty || back.SuccessCount != len(neighbours) || len(back.Failures) != faulty {
				t.Errorf("status read back with %d refused (%d listed) and %d stored; want it whole", back.FailureCount, len(back.Failures), back.SuccessCount)
			}
		})
	}
}

// bigObject is a valid indicator whose description holds size bytes.
func bigObject(run string, n, size int) string {
	return indicator(run, n, `,"description":"`+strings.Repeat("d", size)+`"`)
}

// TestBigObjectsAreRefusedAlone posts objects over the 8 MiB object limit, one first and one in
// the middle of 500 neighbours: each is refused as object-too-large, and every neighbour is stored.
func TestBigObjectsAreRefusedAlone(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			h := startHub(t, hubOptions{backend: backend})
			run := runID()
			objects := []string{bigObject(run, 0, 17<<20)}
			var neighbours []string
			for i := 1; i <= 500; i++ {
				if i == 250 {
					objects = append(objects, bigObject(run, 100_000, 9<<20))
				}
				objects = append(objects, indicator(run, i, ""))
				neighbours = append(neighbours, indicatorID(run, i))
			}
			a := post(t, h, envelope(objects...))
			if a.status != http.StatusAccepted {
				t.Fatalf("POST with objects of 17 MiB and 9 MiB: %s", a)
			}
			st := decodeStatus(t, a)
			if st.FailureCount != 2 || st.SuccessCount != len(neighbours) {
				t.Errorf("status: %d refused, %d stored; want 2 and %d", st.FailureCount, st.SuccessCount, len(neighbours))
			}
			for _, f := range st.Failures {
				if !strings.Contains(f.Message, "[object-too-large]") {
					t.Errorf("%s refused with %.200s; want object-too-large", f.ID, f.Message)
				}
			}
			requireStored(t, h, h.token(writer), neighbours[0], neighbours[248], neighbours[249], neighbours[len(neighbours)-1])
		})
	}
}

// TestConcurrentHugeStringPosts sends five POSTs at once, each holding a 30 MiB string among ten
// neighbours. Each is answered 202 (the big object refused, the neighbours stored) or 503 with
// Retry-After and a TAXII error when the ingest budget is full; nothing else, and every neighbour a
// 202 acknowledged is there afterwards.
func TestConcurrentHugeStringPosts(t *testing.T) {
	const posts = 5
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			h := startHub(t, hubOptions{backend: backend})
			huge := strings.Repeat("s", 30<<20)
			type result struct {
				a          answer
				err        error
				neighbours []string
			}
			results := make([]result, posts)
			var wg sync.WaitGroup
			for p := range posts {
				run := runID()[:4] + fmt.Sprintf("%04x", p)
				objects := []string{indicator(run, 0, `,"description":"`+huge+`"`)}
				for i := 1; i <= 10; i++ {
					objects = append(objects, indicator(run, i, ""))
					results[p].neighbours = append(results[p].neighbours, indicatorID(run, i))
				}
				body := envelope(objects...)
				token := h.token(writer)
				wg.Go(func() {
					results[p].a, results[p].err = try(t.Context(), http.MethodPost, h.URL()+collection+"objects/", token, body)
				})
			}
			wg.Wait()
			accepted, busy := 0, 0
			for _, r := range results {
				if r.err != nil {
					t.Errorf("no answer: %v", r.err)
					continue
				}
				switch r.a.status {
				case http.StatusAccepted:
					accepted++
					if st := decodeStatus(t, r.a); st.SuccessCount != len(r.neighbours) || st.FailureCount != 1 {
						t.Errorf("status: %d stored, %d refused; want %d and the big object: %s", st.SuccessCount, st.FailureCount, len(r.neighbours), r.a)
					}
					requireStored(t, h, h.token(writer), r.neighbours...)
				case http.StatusServiceUnavailable:
					busy++
					requireTAXIIError(t, r.a, http.StatusServiceUnavailable, "busy")
					if r.a.header.Get("Retry-After") == "" {
						t.Errorf("503 without Retry-After: %s", r.a)
					}
				default:
					t.Errorf("answer %s; want 202, or 503 with Retry-After", r.a)
				}
			}
			t.Logf("%s: %d accepted, %d busy; hub peak RSS %.0f MiB", backend, accepted, busy, float64(h.vmHWM())/(1<<20))
			if accepted == 0 {
				t.Error("no POST was accepted, so nothing was checked")
			}
		})
	}
}

// TestIngestBudgetAnswersBusy fills a hub's ingest budget with one POST whose body is still on its
// way: a second POST waits its turn, then is answered 503 with Retry-After, its body unread; once
// the first is gone, the next POST is served.
func TestIngestBudgetAnswersBusy(t *testing.T) {
	const budget = 1 << 20
	h := startHub(t, hubOptions{args: []string{"--max-content-length", fmt.Sprint(budget), "--ingest-memory", fmt.Sprint(budget),
		"--ingest-wait", "1s", "--transfer-grace", "10m"}})
	token := h.token(writer)
	holder := dial(t, h, "")
	if _, err := fmt.Fprintf(holder, "POST %sobjects/ HTTP/1.1\r\nHost: hub\r\nAccept: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nAuthorization: Bearer %s\r\n\r\n{\"objects\":[",
		collection, taxiiType, taxiiType, budget, token); err != nil {
		t.Fatal(err)
	}
	// The holder's body has begun to arrive once the hub reads it; a request it answers meanwhile
	// shows that the hub is serving, and the holder holds the whole budget from its first byte.
	run := runID()
	deadline := time.Now().Add(patience)
	var busy answer
	for {
		busy = post(t, h, envelope(indicator(run, 1, "")))
		if busy.status != http.StatusAccepted || time.Now().After(deadline) {
			break
		}
		// The holder's request was not yet read: it is, within moments.
		time.Sleep(100 * time.Millisecond)
	}
	requireTAXIIError(t, busy, http.StatusServiceUnavailable, "busy")
	if busy.header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After: %s", busy)
	}
	// The analysts' conversion endpoint reads bodies under the same budget.
	converted := call(t, http.MethodPost, h.URL()+collection+"x-taxiihub-convert/?format=lines", token, []byte("198.51.100.7\n"))
	requireTAXIIError(t, converted, http.StatusServiceUnavailable, "busy")
	holder.Close()
	// The holder's reservation is given back when its request ends, which its closed connection causes.
	for {
		a := post(t, h, envelope(indicator(run, 2, "")))
		if a.status == http.StatusAccepted {
			requireStored(t, h, token, indicatorID(run, 2))
			break
		}
		if a.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after the holder left: %s; want 202", a)
		}
	}
}
