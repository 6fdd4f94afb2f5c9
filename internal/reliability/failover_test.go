//go:build linux

package reliability

import (
	"context"
	"net/http"
	"testing"
	"time"

	"taxiihub/internal/load"
)

// recoveryTimeout bounds how long publishing may stall after a failure before the test calls the
// hubs stuck. A failover takes 2–4 s here (election timeout 2 s); the rest is slack for a shared
// machine and for the abandoned transactions a killed process leaves (see transactionLifetime).
const recoveryTimeout = 45 * time.Second

// TestFailoverUnderLoad runs two hub processes on a three-member replica set of its own under a publish and
// poll load, steps the primary down, then kills the new primary with SIGKILL and later restarts it.
// The hubs must carry on by themselves after each election: no restart, no operator. Requests in
// flight during an election may fail (the load retries them); what matters is that every object
// reported as a success in a 202 is there afterwards, and that every poller saw it exactly once.
func TestFailoverUnderLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	set := startReplicaSet(t)
	db := set.Database(t)
	a := startHub(t, "a", hubOptions{mongoDB: db, set: set, seed: true})
	b := startHub(t, "b", hubOptions{mongoDB: db, set: set})
	l := startLoad(t, loadConfig(a.members(), a.URL(), b.URL()))
	l.waitAcceptedAfter(time.Now().Add(time.Second), recoveryTimeout)

	stepped := time.Now()
	from, to, err := set.StepDown(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recovered := l.waitAcceptedAfter(stepped, recoveryTimeout)
	t.Logf("primary stepped down from member %d to %d; publishing resumed %s after the step-down began",
		from, to, recovered.Sub(stepped).Round(time.Millisecond))
	l.waitAcceptedAfter(time.Now().Add(2*time.Second), recoveryTimeout)

	killed := time.Now()
	if err := set.Kill(to); err != nil {
		t.Fatal(err)
	}
	next, err := set.Primary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recovered = l.waitAcceptedAfter(killed, recoveryTimeout)
	t.Logf("primary (member %d) killed; member %d elected %s later; publishing resumed after %s",
		to, next, time.Since(killed).Round(time.Millisecond), recovered.Sub(killed).Round(time.Millisecond))
	l.waitAcceptedAfter(time.Now().Add(2*time.Second), recoveryTimeout)

	if err := set.Restart(ctx, to); err != nil {
		t.Fatal(err)
	}
	l.waitAcceptedAfter(time.Now().Add(time.Second), recoveryTimeout)
	rep := l.finish()

	requireDelivered(t, rep)
	for _, h := range []*hub{a, b} {
		if !h.running() {
			t.Errorf("hub %s exited during the failover: %v", h.name, h.exitErr())
		}
	}
	events := l.snapshot()
	t.Logf("answers during the run: %d POST, %d GET; %d with 5xx, %d without an answer",
		count(events, isMethod(http.MethodPost)), count(events, isMethod(http.MethodGet)),
		count(events, func(ev load.RequestEvent) bool { return ev.Status >= 500 }),
		count(events, func(ev load.RequestEvent) bool { return ev.Err != nil }))
}

func isMethod(m string) func(load.RequestEvent) bool {
	return func(ev load.RequestEvent) bool { return ev.Method == m }
}
