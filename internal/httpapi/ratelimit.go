package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// Limits are the request limits of one hub node. Each node keeps its buckets in its own memory, so
// behind a load balancer that spreads a member's requests over n nodes, the member can reach about
// n times the rate. A zero rate means no limit of that kind.
type Limits struct {
	// MemberRate is how many requests per second each member may sustain, in bursts of up to
	// MemberBurst. Beyond it the member's requests answer 429 with Retry-After; other members are
	// not affected.
	MemberRate  float64
	MemberBurst int
	// FailureRate is how many failed authentications per second one client address may sustain, in
	// bursts of up to FailureBurst. Beyond it the address's requests answer 429 before their
	// credentials are checked, which blunts token guessing and spares the store the lookups.
	// IPv6 addresses count by /64, the block one host is usually given.
	FailureRate  float64
	FailureBurst int
}

// maxBuckets bounds the memory the limiters may take: a few hundred bytes per bucket.
const maxBuckets = 100_000

// buckets are token buckets by key (a member id, a client address). A bucket left unused long
// enough to have filled up again is the same as a new one, so it is forgotten: memory follows the
// keys seen recently, not every key ever seen. A nil *buckets admits everything.
type buckets struct {
	limit rate.Limit
	burst int
	// idle is how long an unused bucket takes to fill up completely.
	idle    time.Duration
	maxKeys int

	mu    sync.Mutex
	byKey map[string]*bucket
	swept time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

// newBuckets returns buckets refilling at perSecond up to burst, or nil when perSecond is zero.
func newBuckets(perSecond float64, burst, maxKeys int) *buckets {
	if perSecond <= 0 {
		return nil
	}
	burst = max1(burst)
	return &buckets{
		limit:   rate.Limit(perSecond),
		burst:   burst,
		idle:    time.Duration(float64(burst) / perSecond * float64(time.Second)),
		maxKeys: maxKeys,
		byKey:   map[string]*bucket{},
	}
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// take spends one token of key's bucket. When there is none it spends nothing and says how long
// until there will be one.
func (b *buckets) take(key string, now time.Time) (wait time.Duration, ok bool) {
	if b == nil {
		return 0, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.bucket(key, now)
	if e.lim.AllowN(now, 1) {
		return 0, true
	}
	return b.refill(e, now), false
}

// check says whether key's bucket holds a token, without spending it.
func (b *buckets) check(key string, now time.Time) (wait time.Duration, ok bool) {
	if b == nil {
		return 0, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e, found := b.byKey[key]
	if !found || e.lim.TokensAt(now) >= 1 {
		return 0, true
	}
	return b.refill(e, now), false
}

func (b *buckets) refill(e *bucket, now time.Time) time.Duration {
	missing := 1 - e.lim.TokensAt(now)
	return time.Duration(missing / float64(b.limit) * float64(time.Second))
}

// bucket returns key's bucket, making one if needed. Callers hold b.mu.
func (b *buckets) bucket(key string, now time.Time) *bucket {
	b.sweep(now)
	e, ok := b.byKey[key]
	if !ok {
		if len(b.byKey) >= b.maxKeys {
			// Every bucket is in use: someone is spraying keys faster than they expire. Dropping
			// one at random keeps memory bounded; the worst it does is forgive one key early.
			for k := range b.byKey {
				delete(b.byKey, k)
				break
			}
		}
		e = &bucket{lim: rate.NewLimiter(b.limit, b.burst)}
		b.byKey[key] = e
	}
	e.used = now
	return e
}

// sweep forgets the buckets that have filled up again, at most once per idle period, so that its
// cost is spread over the calls in between.
func (b *buckets) sweep(now time.Time) {
	if now.Sub(b.swept) < b.idle {
		return
	}
	b.swept = now
	for k, e := range b.byKey {
		if now.Sub(e.used) >= b.idle {
			delete(b.byKey, k)
		}
	}
}

// size is how many buckets are held, for tests.
func (b *buckets) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.byKey)
}

// retryAfter is the Retry-After value for a wait: whole seconds, rounded up, at least one.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(int(math.Max(1, math.Ceil(wait.Seconds()))))
}

// tooManyRequests is the 429 a limited request answers, as a TAXII error resource.
func tooManyRequests(wait time.Duration, why string) error {
	return &requestError{status: http.StatusTooManyRequests, code: "too-many-requests", title: "Too many requests",
		description: fmt.Sprintf("%s Retry in %s s.", why, retryAfter(wait))}
}

// memberLimit is each member's request rate, applied once authentication has named the member.
type memberLimit struct {
	buckets *buckets // nil: members are not limited
	metrics *httpMetrics
}

// limitMembers answers 429 with Retry-After to a member over its rate. It runs right after
// authentication, the member being what is limited; the principal stays in the gin context, so the
// access log and the metrics name the member refused.
func (a *api) limitMembers(c *gin.Context) {
	if wait, ok := a.members.buckets.take(principal(c).MemberID, a.now()); !ok {
		a.members.metrics.limited.WithLabelValues("member").Inc()
		c.Header("Retry-After", retryAfter(wait))
		writeError(c, a.log, tooManyRequests(wait, "Your organisation has sent more requests than this hub accepts."))
		c.Abort()
		return
	}
	c.Next()
}

// clientKey is the bucket key of a client address. An IPv6 host usually holds a whole /64, so it
// counts as one client; an address gin could not parse counts as itself.
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	p, _ := addr.Prefix(64) // cannot fail for an IPv6 address
	return p.String()
}

// limitFailures refuses clients that have failed to authenticate too often, before their credentials
// are checked, and counts each 401 against the client's address. The probes and /metrics are never
// refused: a load balancer whose address got blocked must still see the node as healthy.
func (o *operations) limitFailures(c *gin.Context) {
	if o.failures == nil || isOpsRoute(c.FullPath()) {
		c.Next()
		return
	}
	key := clientKey(c.ClientIP())
	wait, ok := o.failures.check(key, o.now())
	if !ok {
		// Over its budget, an address still gets through with valid credentials: it may be a NAT
		// or a proxy that partners share with the one guessing. Its failures answer 429 instead
		// of 401 (see refuseFailure); checking a credential costs a signature check, and a store
		// read only for a signature the hub made.
		c.Set(failureWaitKey, wait)
	}
	c.Next()
	switch status := c.Writer.Status(); {
	case status == http.StatusUnauthorized:
		o.failures.take(key, o.now())
	case status == http.StatusTooManyRequests && !ok && c.GetBool(failureRefusedKey):
		o.metrics.limited.WithLabelValues("address").Inc()
	}
}

// failureWaitKey holds, for a request from an address over its failed-authentication budget, how
// long until the budget allows another failure; failureRefusedKey marks the request refused so.
const (
	failureWaitKey    = "failure_wait"
	failureRefusedKey = "failure_refused"
)

// refuseFailure turns a failed authentication from an address over its budget into a 429 with
// Retry-After; any other error is returned as it is.
func refuseFailure(c *gin.Context, err error) error {
	v, over := c.Get(failureWaitKey)
	if !over {
		return err
	}
	if cl, _ := classify(err); cl.status != http.StatusUnauthorized {
		return err
	}
	wait := v.(time.Duration)
	c.Set(failureRefusedKey, true)
	c.Header("Retry-After", retryAfter(wait))
	return tooManyRequests(wait, "Too many requests from your address failed to authenticate.")
}
