package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/semaphore"
)

// Transfers: how slowly a client may send a body or take an answer, and how many bodies the hub
// reads and checks at once. Both bound what clients can hold without ever doing anything wrong
// that a check of their content would see: trickling bytes, or sending many large bodies at once.

// pace is the slowest transfer the hub waits for: after grace, at least rate bytes a second on
// average. A zero rate turns the check off.
type pace struct {
	rate  int64
	grace time.Duration
}

// deadline is when n bytes, counted from start, must have moved.
func (p pace) deadline(start time.Time, n int64) time.Time {
	return start.Add(p.grace + time.Duration(float64(n)/float64(p.rate)*float64(time.Second)))
}

// paceTransfers holds every request body and every answer to the pace: the body through read
// deadlines that move as its bytes arrive, the answer through a write deadline set as it is
// written. The server's own WriteTimeout only covers the request timeout; an answer's deadline
// grows with its size, so that the largest page can still be taken by a slow client. Requests that
// are refused never read their body, so its pace only matters to those the hub serves.
func (a *api) paceTransfers(c *gin.Context) {
	if a.pace.rate <= 0 {
		c.Next()
		return
	}
	rc := http.NewResponseController(c.Writer)
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		// On a copy of the request: the server judges by its own request's body whether the
		// handler left it unread, and then closes the connection rather than wait for the rest.
		paced := c.Request.WithContext(c.Request.Context())
		paced.Body = &pacedBody{body: c.Request.Body, rc: rc, pace: a.pace, now: a.now}
		c.Request = paced
	}
	c.Writer = &pacedWriter{ResponseWriter: c.Writer, rc: rc, pace: a.pace, now: a.now}
	c.Next()
}

// SlowBodyError reports a body that arrived more slowly than the hub's minimum transfer rate; the
// connection's read deadline has passed, and it is answered 408 and closed.
type SlowBodyError struct {
	Rate int64
	Read int64
}

func (e *SlowBodyError) Error() string {
	return fmt.Sprintf("httpapi: the body arrived more slowly than %d bytes a second (%d bytes read)", e.Rate, e.Read)
}

// pacedBody moves the connection's read deadline forward as the body arrives: before each read,
// to when the next byte is due, counting from the first read at the minimum rate after the grace.
// A client that keeps up on average never meets it, whatever the size of the body; one that
// trickles meets it about grace after it began.
type pacedBody struct {
	body  io.ReadCloser
	rc    *http.ResponseController
	pace  pace
	now   func() time.Time
	start time.Time // of the first read: time spent waiting for the ingest budget is not the client's
	n     int64
	// unpaced is set when the connection takes no deadlines (a test's recorder).
	unpaced bool
}

func (b *pacedBody) Read(p []byte) (int, error) {
	if !b.unpaced {
		if b.start.IsZero() {
			b.start = b.now()
		}
		if err := b.rc.SetReadDeadline(b.pace.deadline(b.start, b.n+1)); err != nil {
			b.unpaced = true
		}
	}
	n, err := b.body.Read(p)
	b.n += int64(n)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return n, &SlowBodyError{Rate: b.pace.rate, Read: b.n}
	}
	return n, err
}

func (b *pacedBody) Close() error { return b.body.Close() }

// pacedWriter sets the connection's write deadline before each write to when that write is due.
type pacedWriter struct {
	gin.ResponseWriter
	rc   *http.ResponseController
	pace pace
	now  func() time.Time
}

func (w *pacedWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(w.pace.deadline(w.now(), int64(len(p)))) // a recorder takes none
	return w.ResponseWriter.Write(p)
}

func (w *pacedWriter) WriteString(s string) (int, error) {
	_ = w.rc.SetWriteDeadline(w.pace.deadline(w.now(), int64(len(s))))
	return w.ResponseWriter.WriteString(s)
}

// Unwrap lets http.ResponseController reach the connection beneath.
func (w *pacedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ingestBudget bounds, hub-wide, the bytes of request bodies being read, decoded and checked at
// once, so that the hub's memory stays under a multiple of the budget whatever the concurrency: a
// POST reserves its declared length (max_content_length when it declares none) before reading a
// byte, and gives it back once answered. golang.org/x/sync/semaphore serves waiters in order, so
// a large POST is not starved by small ones.
type ingestBudget struct {
	sem   *semaphore.Weighted
	size  int64
	wait  time.Duration
	retry string // Retry-After of a POST that found no room
}

func newIngestBudget(size int64, wait time.Duration) *ingestBudget {
	if size <= 0 {
		return nil
	}
	return &ingestBudget{sem: semaphore.NewWeighted(size), size: size, wait: wait,
		retry: strconv.Itoa(max(1, int(wait.Round(time.Second)/time.Second)))}
}

// errIngestBusy answers a POST that found no room in the ingest budget in time.
func errIngestBusy(wait time.Duration) error {
	return &requestError{status: http.StatusServiceUnavailable, code: "busy", title: "Busy",
		description: fmt.Sprintf("The hub is reading as many bodies as its memory budget allows and found no room within %s; retry after the time Retry-After gives.", wait)}
}

// reserve waits, at most b.wait, for n bytes of the budget; release gives them back. A nil budget
// reserves nothing.
func (b *ingestBudget) reserve(c *gin.Context, n int64) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	n = min(n, b.size)
	ctx, cancel := context.WithTimeout(c.Request.Context(), b.wait)
	defer cancel()
	if err := b.sem.Acquire(ctx, n); err != nil {
		if c.Request.Context().Err() != nil {
			return nil, c.Request.Context().Err() // the client went, or the request's own deadline passed
		}
		c.Header("Retry-After", b.retry)
		return nil, errIngestBusy(b.wait)
	}
	return func() { b.sem.Release(n) }, nil
}

// reserveBody takes room in the ingest budget for the request's body before its first byte is read:
// its declared length, or max_content_length when it declares none (chunked).
func (a *api) reserveBody(c *gin.Context) (release func(), err error) {
	declared := c.Request.ContentLength
	if declared < 0 {
		declared = a.maxContentLength
	}
	return a.ingest.reserve(c, declared)
}

// afterTransfer gives the hub's work on a request whose body has been read the whole request
// timeout again. A body's transfer is bounded by the minimum transfer rate, not by the request
// timeout, which would otherwise leave a large body sent at an honest pace no time to be judged and
// stored. A client that goes away still cancels the work; a parent past its deadline does not.
func (a *api) afterTransfer(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), a.timeout)
	stop := context.AfterFunc(parent, func() {
		if errors.Is(parent.Err(), context.Canceled) {
			cancel()
		}
	})
	return ctx, func() {
		stop()
		cancel()
	}
}
