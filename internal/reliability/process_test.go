//go:build linux

package reliability

import (
	"net/http"
	"testing"
	"time"

	"taxiihub/internal/load"
)

// backends are the stores the process tests run on. With the embedded database a hub is the only
// one; on MongoDB two share the database, behind the load's round-robin.
var backends = []string{"sqlite", "mongodb"}

// startHubs starts the hubs of a backend, the first one seeded, and returns it with every hub's URL.
func startHubs(t *testing.T, backend string) (first *hub, urls []string) {
	t.Helper()
	if backend == "sqlite" {
		a := startHub(t, "a", hubOptions{seed: true})
		return a, []string{a.URL()}
	}
	db := rs.Database(t)
	a := startHub(t, "a", hubOptions{mongoDB: db, seed: true})
	b := startHub(t, "b", hubOptions{mongoDB: db})
	return a, []string{a.URL(), b.URL()}
}

// TestHubKilledMidIngest kills a hub process with SIGKILL while a POST to it is in flight, and
// restarts it on the same address and data. With the embedded database the killed hub is the only
// one, so the load waits for it; on MongoDB a second hub carries the load meanwhile. Afterwards every
// object reported as a success in a 202 must be there and every poller must have seen it exactly once.
//
// On MongoDB the killed process may leave a transaction open that holds its collection's write lock
// until the server aborts it (transactionLifetimeLimitSeconds, 60 s by default, 10 s in these tests):
// the other hub's writes to that collection wait or fail meanwhile. The test allows for that.
func TestHubKilledMidIngest(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			a, urls := startHubs(t, backend)
			l := startLoad(t, loadConfig(a.members(), urls...))
			l.waitAcceptedAfter(time.Now().Add(time.Second), recoveryTimeout)

			l.waitPostInFlight(a, 5*time.Millisecond, 30*time.Second)
			killed := time.Now()
			a.kill()
			time.Sleep(500 * time.Millisecond) // the load meets a dead hub for a moment
			a.start()
			recovered := l.waitAcceptedAfter(killed, recoveryTimeout)
			t.Logf("hub a killed and restarted; publishing resumed %s after the kill", recovered.Sub(killed).Round(time.Millisecond))
			l.waitAcceptedAfter(time.Now().Add(2*time.Second), recoveryTimeout)
			rep := l.finish()

			requireDelivered(t, rep)
			cut := count(l.snapshot(), func(ev load.RequestEvent) bool {
				return ev.Method == http.MethodPost && ev.Err != nil && ev.Start.Before(killed) && ev.End.After(killed)
			})
			t.Logf("%d POSTs in flight lost their answer to the kill", cut)
			if cut == 0 {
				t.Error("no POST in flight lost its answer to the kill, so the test did not kill mid-ingest")
			}
		})
	}
}

// drainMargin is how long before SIGTERM a request must have been written for the test to count it
// as in flight: by then the hub has read it and is serving it.
const drainMargin = 100 * time.Millisecond

// TestSIGTERMDrainsInFlight stops a hub with SIGTERM while large POSTs to it are in flight, as an
// orchestrator does in a rolling restart, then starts it again. Every request the hub had received
// before the signal must be answered, with success; no client may see a 5xx while it drains; it must
// exit with status 0; and delivery must stay exactly-once. On MongoDB a second hub carries the load
// meanwhile; with the embedded database the load waits for the restart.
func TestSIGTERMDrainsInFlight(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			a, urls := startHubs(t, backend)
			cfg := loadConfig(a.members(), urls...)
			cfg.Batch = 1000 // POSTs that take a while, so that some are in flight at the signal
			l := startLoad(t, cfg)
			l.waitAcceptedAfter(time.Now().Add(time.Second), recoveryTimeout)

			l.waitPostInFlight(a, 2*drainMargin, 30*time.Second)
			termed := time.Now()
			a.signalTerm()
			if err := a.wait(hubStopTimeout); err != nil {
				t.Errorf("hub a after SIGTERM: %v", err)
			}
			exited := time.Now()
			t.Logf("hub a drained and exited %s after SIGTERM", exited.Sub(termed).Round(time.Millisecond))
			if len(urls) > 1 {
				l.waitAcceptedAfter(exited, recoveryTimeout) // the other hub carries on alone
			}
			a.start()
			l.waitAcceptedAfter(time.Now().Add(2*time.Second), recoveryTimeout)
			rep := l.finish()
			requireDelivered(t, rep)

			events := l.snapshot()
			inFlight := 0
			for _, ev := range events {
				if ev.Hub != a.URL() || ev.Wrote.IsZero() || !ev.Wrote.Before(termed.Add(-drainMargin)) || !ev.End.After(termed) {
					continue
				}
				inFlight++
				if ev.Status < 200 || ev.Status > 299 {
					t.Errorf("%s %s in flight at SIGTERM (written %s before) ended with status %d, error %v",
						ev.Method, ev.Path, termed.Sub(ev.Wrote).Round(time.Millisecond), ev.Status, ev.Err)
				}
			}
			t.Logf("%d requests were in flight at hub a when it got SIGTERM", inFlight)
			if inFlight == 0 {
				t.Error("no request was in flight at SIGTERM, so the test checked nothing")
			}
			for _, ev := range events {
				if ev.Status >= 500 && ev.End.After(termed) && ev.Start.Before(exited) {
					t.Errorf("%s %s on %s answered %d during the drain", ev.Method, ev.Path, ev.Hub, ev.Status)
				}
			}
		})
	}
}
