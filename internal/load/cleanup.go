package load

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// cleanupWorkers is how many withdrawals are in flight at once: enough to keep a hub busy, few
// enough not to crowd out its partners on a hub in use.
const cleanupWorkers = 8

// maxCleanupNotes bounds the reasons of failed withdrawals a report keeps.
const maxCleanupNotes = 5

// Cleanup is what withdrawing the run's objects achieved.
type Cleanup struct {
	// Withdrawn counts objects withdrawn; NotStored those the hub did not hold (sent but never
	// stored: 404); Failed those still there, with a few reasons in Failures.
	Withdrawn, NotStored, Failed int64
	Failures                     []string
	Requests                     Requests
}

// withdrawal is one object to withdraw, as the member that published it.
type withdrawal struct {
	c      *collection
	member Member
	id     string
}

// cleanup withdraws every object of the run the hub may hold: those accepted, and those sent but
// never confirmed. It runs after every publisher and poller has finished.
func (r *runner) cleanup(ctx context.Context) *Cleanup {
	var todo []withdrawal
	for _, c := range r.collections {
		c.mu.Lock()
		for _, set := range []map[key]struct{}{c.accepted, c.pending} {
			for k := range set {
				todo = append(todo, withdrawal{c: c, member: r.publishers[k.publisher()], id: r.objects.id(k, c.shape)})
			}
		}
		c.mu.Unlock()
	}
	var (
		out       Cleanup
		withdrawn atomic.Int64
		notStored atomic.Int64
		failed    atomic.Int64
		stats     requestStats
		mu        sync.Mutex
		next      atomic.Int64
		wg        sync.WaitGroup
	)
	for range min(cleanupWorkers, len(todo)) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(todo)); i = next.Add(1) - 1 {
				switch err := r.withdraw(ctx, todo[i], &stats); {
				case err == nil:
					withdrawn.Add(1)
				case errors.Is(err, errNotStored):
					notStored.Add(1)
				default:
					failed.Add(1)
					mu.Lock()
					if len(out.Failures) < maxCleanupNotes {
						out.Failures = append(out.Failures, err.Error())
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	out.Withdrawn, out.NotStored, out.Failed = withdrawn.Load(), notStored.Load(), failed.Load()
	out.Requests = stats.summary()
	return &out
}

// errNotStored is a withdrawal of an object the hub does not hold.
var errNotStored = errors.New("not stored")

// withdraw asks the hub to withdraw one object, retrying as a publisher does until GiveUpAfter.
func (r *runner) withdraw(ctx context.Context, w withdrawal, stats *requestStats) error {
	path := w.c.rootPath + "collections/" + url.PathEscape(w.c.id) + "/objects/" + url.PathEscape(w.id) + "/withdraw/"
	giveUp := time.Now().Add(r.cfg.GiveUpAfter)
	wait, pause := retryMin, time.Duration(0)
	for attempt := 0; ; attempt++ {
		if attempt > 0 && (time.Now().After(giveUp) || sleep(ctx, pause) != nil) {
			return fmt.Errorf("withdraw %s from %s: gave up", w.id, w.c.name())
		}
		a, err := r.do(ctx, request{method: http.MethodPost, path: path, member: w.member, stats: stats})
		switch {
		case err != nil || retryable(a.status):
			pause = retryAfter(a, wait)
			wait = min(2*wait, retryMax)
		case a.status == http.StatusOK:
			return nil
		case a.status == http.StatusNotFound:
			return errNotStored
		default:
			return fmt.Errorf("withdraw %s from %s: %d %s", w.id, w.c.name(), a.status, truncate(a.body, 200))
		}
	}
}
