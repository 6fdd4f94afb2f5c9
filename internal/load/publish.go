package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// maxObjectFailures is how often an object may be listed among a 202's failures before its publisher
// stops resubmitting it: a hub that could not write it says so each time, but an object the hub
// judges invalid would be refused forever.
const maxObjectFailures = 3

// Resubmission backoff: a failed batch waits this long before its next attempt, doubling per attempt.
const (
	retryMin = 50 * time.Millisecond
	retryMax = 2 * time.Second
)

// publishLedger counts what publishers could not get accepted, and keeps a few reasons.
type publishLedger struct {
	refused     atomic.Int64 // objects the hub refused for good (4xx, or failures repeated)
	mu          sync.Mutex
	refusalNote []string
}

func (l *publishLedger) refuse(n int, why string) {
	l.refused.Add(int64(n))
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.refusalNote) < 5 {
		l.refusalNote = append(l.refusalNote, why)
	}
}

// publish runs the publishers until publishing should stop, and waits for their last batches.
func (r *runner) publish(ctx context.Context, ledger *publishLedger) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var index uint16
	r.publishers = make(map[uint16]Member)
	for _, m := range r.cfg.Members {
		var colls []*collection
		for _, c := range r.collections {
			if c.shape.typ == "" {
				continue // it takes none of the types the load makes
			}
			for _, w := range c.writers {
				if w.ID == m.ID {
					colls = append(colls, c)
				}
			}
		}
		if len(colls) == 0 {
			continue
		}
		for range r.cfg.Publishers {
			index++
			r.publishers[index] = m
			p := &publisher{r: r, member: m, index: index, colls: colls, ledger: ledger}
			wg.Go(func() { p.run(ctx, stop) })
		}
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()

	var deadline <-chan time.Time
	if r.cfg.Duration > 0 {
		t := time.NewTimer(r.cfg.Duration)
		defer t.Stop()
		deadline = t.C
	}
	select {
	case <-deadline:
	case <-r.cfg.StopPublishing: // nil when not set, and then never ready
	case <-ctx.Done():
	case <-done: // the object budget is spent
	}
	close(stop)
	<-done
}

// publisher is one goroutine posting batches of new objects for one member, cycling through the
// collections the member may write.
type publisher struct {
	r      *runner
	member Member
	index  uint16
	colls  []*collection
	ledger *publishLedger
}

func (p *publisher) run(ctx context.Context, stop <-chan struct{}) {
	var seq uint64
	for round := 0; ; round++ {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		n := p.r.cfg.Batch
		if p.r.cfg.Objects > 0 {
			if n = p.r.take(n); n == 0 {
				return
			}
		}
		keys := make([]key, n)
		for i := range keys {
			keys[i] = newKey(p.index, seq)
			seq++
		}
		p.submit(ctx, p.colls[round%len(p.colls)], keys)
	}
}

// retryable reports whether a request answered with status may succeed if sent again: the hub was
// failing, timing out or rate-limiting, rather than refusing the request itself.
func retryable(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// retryAfter is how long to wait before sending again after the answer a: what a 429 or 503 asks
// for in Retry-After (in seconds, at most retryAfterMax), else wait.
func retryAfter(a answer, wait time.Duration) time.Duration {
	if a.status != http.StatusTooManyRequests && a.status != http.StatusServiceUnavailable {
		return wait
	}
	secs, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || secs < 0 {
		return wait
	}
	return max(wait, min(time.Duration(secs)*time.Second, retryAfterMax))
}

// retryAfterMax caps what a Retry-After header can make a publisher or poller wait.
const retryAfterMax = 30 * time.Second

// take reserves up to n objects of the budget.
func (r *runner) take(n int) int {
	for {
		left := r.budget.Load()
		if left <= 0 {
			return 0
		}
		k := min(left, int64(n))
		if r.budget.CompareAndSwap(left, left-k) {
			return int(k)
		}
	}
}

// statusResource is what a publisher needs of a 202's status resource.
type statusResource struct {
	Successes []statusDetail `json:"successes"`
	Failures  []statusDetail `json:"failures"`
}

type statusDetail struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// submit posts the objects until each is accepted or refused for good, or until GiveUpAfter passes
// or ctx ends; the objects left then stay unconfirmed. Publishing stopping does not cut it short:
// a batch in flight is seen through, so that what was sent gets confirmed.
func (p *publisher) submit(ctx context.Context, c *collection, keys []key) {
	r := p.r
	c.markPending(keys)
	r.sent.Add(int64(len(keys)))
	giveUp := time.Now().Add(r.cfg.GiveUpAfter)
	failures := make(map[key]int)
	wait, pause := retryMin, time.Duration(0)
	for attempt := 0; len(keys) > 0; attempt++ {
		if attempt > 0 {
			if time.Now().After(giveUp) || sleep(ctx, pause) != nil {
				break
			}
		}
		a, err := r.do(ctx, request{method: http.MethodPost, path: c.path(), member: p.member,
			body: r.objects.envelope(keys, c.shape), stats: &r.posts})
		if err != nil || retryable(a.status) {
			pause = retryAfter(a, wait)
			wait = min(2*wait, retryMax)
			continue
		}
		if a.status != http.StatusAccepted {
			p.ledger.refuse(len(keys), fmt.Sprintf("POST %s answered %d: %s", c.name(), a.status, truncate(a.body, 300)))
			return
		}
		var st statusResource
		if err := json.Unmarshal(a.body, &st); err != nil {
			p.ledger.refuse(len(keys), "POST "+c.name()+": unreadable status resource: "+err.Error())
			return
		}
		r.accept(c, st.Successes)
		accepted := make(map[key]bool, len(st.Successes))
		for _, s := range st.Successes {
			if k, ours := r.objects.parseID(s.ID); ours {
				accepted[k] = true
			}
		}
		notes := make(map[key]string, len(st.Failures))
		for _, f := range st.Failures {
			if k, ours := r.objects.parseID(f.ID); ours {
				notes[k] = f.Message
			}
		}
		var again []key
		for _, k := range keys {
			if accepted[k] {
				continue
			}
			// Listed among the failures, or not at all (a status still pending): resubmit.
			if failures[k]++; failures[k] >= maxObjectFailures {
				p.ledger.refuse(1, "POST "+c.name()+": "+r.objects.id(k, c.shape)+" failed "+
					"repeatedly: "+notes[k])
				c.unmarkPending(k)
				continue
			}
			again = append(again, k)
		}
		keys = again
		wait, pause = retryMin, retryMin
	}
	if len(keys) > 0 {
		r.log.WarnContext(ctx, "gave up on objects", "member", p.member.ID, "collection", c.name(), "objects", len(keys))
	}
}

func (c *collection) markPending(keys []key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		c.pending[k] = struct{}{}
	}
}

func (c *collection) unmarkPending(k key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, k)
}

// accept records the successes of a status resource as accepted in c.
func (r *runner) accept(c *collection, successes []statusDetail) {
	added := 0
	c.mu.Lock()
	for _, s := range successes {
		k, ours := r.objects.parseID(s.ID)
		if !ours {
			continue
		}
		if _, dup := c.accepted[k]; !dup {
			c.accepted[k] = struct{}{}
			added++
		}
		delete(c.pending, k)
	}
	c.mu.Unlock()
	r.accepted.Add(int64(added))
	r.expected.Add(int64(added * len(c.readers) * r.cfg.Pollers))
}
