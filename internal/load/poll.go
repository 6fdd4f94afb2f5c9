package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// poller is one member reading one collection from the start of the run, as a TAXII client that
// keeps its place would.
type poller struct {
	r      *runner
	member Member
	index  int  // numbers the pollers of one member on one collection, from 1
	final  bool // the read after the run, rather than one during it
	c      *collection

	seen      map[key]uint32 // times each object of the run was served
	foreign   int            // objects of other runs
	corrupted int            // objects of the run served with other bytes than were sent
	caughtUp  bool
	err       string
}

// run polls until it has read to the end of the collection after publishing stopped, or ctx ends.
func (p *poller) run(ctx context.Context, startAfter string) {
	r := p.r
	addedAfter, next := startAfter, ""
	wait := retryMin
	var buf []byte
	for {
		began := time.Now()
		q := url.Values{"limit": {strconv.Itoa(r.cfg.PageSize)}}
		if next != "" {
			q.Set("next", next)
		} else {
			q.Set("added_after", addedAfter)
		}
		a, err := r.do(ctx, request{method: http.MethodGet, path: p.c.path(), query: q, member: p.member, stats: &r.gets})
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil || retryable(a.status):
			if sleep(ctx, retryAfter(a, wait)) != nil {
				return
			}
			wait = min(2*wait, retryMax)
			continue
		case a.status != http.StatusOK:
			p.err = fmt.Sprintf("GET %s answered %d: %s", p.c.name(), a.status, truncate(a.body, 300))
			return
		}
		wait = retryMin
		var env struct {
			More    bool              `json:"more"`
			Next    string            `json:"next"`
			Objects []json.RawMessage `json:"objects"`
		}
		if err := json.Unmarshal(a.body, &env); err != nil {
			p.err = fmt.Sprintf("GET %s: unreadable envelope: %v", p.c.name(), err)
			return
		}
		for _, raw := range env.Objects {
			var head struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(raw, &head) // an id that cannot be read is not one of ours
			k, ours := r.objects.parseID(head.ID)
			if !ours {
				p.foreign++
				continue
			}
			p.seen[k]++
			if !p.final {
				r.seen.Add(1)
			}
			buf = r.objects.appendObject(buf[:0], k, p.c.shape)
			if !bytes.Equal(raw, buf) {
				p.corrupted++
			}
		}
		last := a.header.Get("X-TAXII-Date-Added-Last")
		if last != "" {
			addedAfter = last
		}
		if env.More {
			if env.Next == "" && last == "" {
				p.err = fmt.Sprintf("GET %s: more is true, but the page has neither next nor X-TAXII-Date-Added-Last to resume from", p.c.name())
				return
			}
			next = env.Next // when empty, the next page is asked for by added_after
			continue
		}
		next = ""
		if r.stoppedBefore(began) {
			p.caughtUp = true
			return
		}
		if sleep(ctx, r.cfg.PollInterval) != nil {
			return
		}
	}
}

// stoppedBefore reports whether publishing had stopped by t: a page asked for after that and ending
// the collection proves a poller has seen everything accepted.
func (r *runner) stoppedBefore(t time.Time) bool {
	select {
	case <-r.stopped:
		return !r.stoppedAt.After(t)
	default:
		return false
	}
}
