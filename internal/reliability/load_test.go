//go:build linux

package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"taxiihub/internal/load"
)

// exampleCollections are the example partnerships' collections, which the tests' hubs hold for
// the load alone.
var exampleCollections = []string{"eu-china-cyber/*", "eu-japan/*", "eu-immigration-ct/*"}

// loadConfig is the load every reliability test runs: all seven example members, one publisher
// and one poller each, into every example collection, through the given hubs, until the test
// stops it.
func loadConfig(members []load.Member, hubs ...string) load.Config {
	return load.Config{
		Hubs:        hubs,
		Members:     members,
		Collections: exampleCollections,
		Publishers:  1,
		Pollers:     1,
		Batch:       100,
		PageSize:    500,
		// Short pauses keep pollers close behind the publishers, so that they read while things break.
		PollInterval: 100 * time.Millisecond,
		// Generous: a failover or a restart stalls a batch for seconds, and the machine is shared.
		GiveUpAfter:    90 * time.Second,
		Drain:          90 * time.Second,
		RequestTimeout: 45 * time.Second,
	}
}

// loadRun is a load.Run in the background, with every request it made.
type loadRun struct {
	t       *testing.T
	stop    chan struct{}
	done    chan struct{}
	rep     *load.Report
	err     error
	tracker *tracker

	mu     sync.Mutex
	events []load.RequestEvent
}

// startLoad starts cfg in the background; it publishes until finish is called.
func startLoad(t *testing.T, cfg load.Config) *loadRun {
	t.Helper()
	l := &loadRun{t: t, stop: make(chan struct{}), done: make(chan struct{}), tracker: newTracker()}
	cfg.StopPublishing = l.stop
	cfg.Client = &http.Client{Transport: l.tracker}
	cfg.OnRequest = func(ev load.RequestEvent) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.events = append(l.events, ev)
	}
	cfg.Progress, cfg.ProgressInterval = testWriter{t}, 5*time.Second
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(l.done)
		l.rep, l.err = load.Run(ctx, cfg)
	}()
	t.Cleanup(func() {
		// Normally finish has run; after a t.Fatal it has not, and the load must not outlive the test.
		cancel()
		<-l.done
	})
	return l
}

// finish stops publishing, waits for the pollers and the final read, and returns the report.
func (l *loadRun) finish() *load.Report {
	l.t.Helper()
	close(l.stop)
	<-l.done
	if l.err != nil {
		l.t.Fatalf("load: %v", l.err)
	}
	var b strings.Builder
	if err := l.rep.WriteText(&b); err != nil {
		l.t.Fatal(err)
	}
	l.t.Logf("load report:\n%s", b.String())
	return l.rep
}

// snapshot returns the requests made so far.
func (l *loadRun) snapshot() []load.RequestEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]load.RequestEvent(nil), l.events...)
}

// waitAcceptedAfter waits until a POST started after since has been answered 202, and returns when
// that answer came: proof that publishing works again after whatever happened at since.
func (l *loadRun) waitAcceptedAfter(since time.Time, timeout time.Duration) time.Time {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, ev := range l.snapshot() {
			if ev.Method == http.MethodPost && ev.Status == http.StatusAccepted && ev.Start.After(since) {
				return ev.End
			}
		}
		select {
		case <-l.done:
			l.t.Fatalf("the load stopped early: %v", l.err)
		default:
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("no POST started after %s was accepted within %s", since.Format("15:04:05.000"), timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitPostInFlight waits until a POST to hub has been in flight for at least age, so that whatever
// happens to the hub next happens mid-ingest.
func (l *loadRun) waitPostInFlight(h *hub, age, timeout time.Duration) {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	for !l.tracker.inFlightSince(http.MethodPost, h.addr, time.Now().Add(-age)) {
		if time.Now().After(deadline) {
			l.t.Fatalf("no POST to hub %s was in flight for %s within %s", h.name, age, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// requireDelivered fails the test for every way the run fell short of exactly-once delivery.
func requireDelivered(t *testing.T, rep *load.Report) {
	t.Helper()
	for _, p := range rep.Problems() {
		t.Error(p)
	}
	if rep.Accepted == 0 {
		t.Error("nothing was accepted")
	}
}

// tracker is an http.RoundTripper that knows which requests are in flight.
type tracker struct {
	base http.RoundTripper
	mu   sync.Mutex
	// started holds the start of every request in flight, by method and host.
	started map[*http.Request]time.Time
	// acked holds, for every object a 202 listed among its successes, when that answer arrived.
	acked map[string]time.Time
}

func newTracker() *tracker {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &tracker{base: t, started: make(map[*http.Request]time.Time), acked: make(map[string]time.Time)}
}

func (tr *tracker) RoundTrip(req *http.Request) (*http.Response, error) {
	tr.mu.Lock()
	tr.started[req] = time.Now()
	tr.mu.Unlock()
	defer func() {
		tr.mu.Lock()
		delete(tr.started, req)
		tr.mu.Unlock()
	}()
	resp, err := tr.base.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || resp.StatusCode != http.StatusAccepted {
		return resp, err
	}
	// The status is read here, whole, so that the time of the acknowledgement is the answer's.
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var status struct {
		Successes []struct {
			ID string `json:"id"`
		} `json:"successes"`
	}
	if json.Unmarshal(body, &status) == nil {
		now := time.Now()
		tr.mu.Lock()
		for _, s := range status.Successes {
			if _, seen := tr.acked[s.ID]; !seen {
				tr.acked[s.ID] = now
			}
		}
		tr.mu.Unlock()
	}
	return resp, nil
}

// ackedBefore returns the objects a 202 acknowledged before t.
func (tr *tracker) ackedBefore(t time.Time) []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var ids []string
	for id, at := range tr.acked {
		if at.Before(t) {
			ids = append(ids, id)
		}
	}
	return ids
}

// inFlightSince reports whether a request with the method to host started before t and is still
// waiting for its answer.
func (tr *tracker) inFlightSince(method, host string, t time.Time) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for req, started := range tr.started {
		if req.Method == method && req.URL.Host == host && started.Before(t) {
			return true
		}
	}
	return false
}

// testWriter sends the load's progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// count tallies the requests for which keep returns true.
func count(events []load.RequestEvent, keep func(load.RequestEvent) bool) int {
	n := 0
	for _, ev := range events {
		if keep(ev) {
			n++
		}
	}
	return n
}
