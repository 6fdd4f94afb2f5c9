package load

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// mediaType is what the hub speaks and expects.
const mediaType = "application/taxii+json;version=2.1"

// startMargin moves the start of polling back from the hub's clock as its Date header tells it
// (whole seconds, and only as right as the clocks of several nodes agree), so that no object of the
// run is added before it. Objects of other runs that pollers meet are ignored.
const startMargin = 5 * time.Second

// maxAnswer bounds what is read of one answer: a full page of the largest objects is well below it.
const maxAnswer = 64 << 20

// ErrUnreachable reports that no hub answered discovery, so nothing was loaded.
var ErrUnreachable = errors.New("no hub could be reached")

// runner is one Run.
type runner struct {
	cfg     Config
	client  *http.Client
	log     *slog.Logger
	objects objects
	rr      atomic.Uint64 // round-robin position over cfg.Hubs

	collections []*collection
	// publishers maps each publisher's number, the high bits of its objects' keys, to its member;
	// written before the publishers start.
	publishers map[uint16]Member
	startAfter string // added_after of every poller's first request

	posts, gets requestStats

	budget    atomic.Int64 // objects still to send when cfg.Objects is set
	sent      atomic.Int64
	accepted  atomic.Int64
	seen      atomic.Int64  // objects of the run seen by pollers, repeats included
	expected  atomic.Int64  // accepted objects times the pollers each should reach
	publishAt time.Time     // publishing started
	stopped   chan struct{} // closed when publishers are done
	stoppedAt time.Time     // written before stopped is closed
}

// collection is one collection some member can reach, with the ledger of what was published to it.
type collection struct {
	rootPath               string // "/eu-japan/", as discovery lists it
	root, id, alias, title string
	readers, writers       []Member
	shape                  shape // of the objects published to it

	mu       sync.Mutex
	accepted map[key]struct{}
	pending  map[key]struct{} // sent and not yet accepted
}

func (c *collection) name() string {
	if c.alias != "" {
		return c.root + "/" + c.alias
	}
	return c.root + "/" + c.id
}

func (c *collection) path() string {
	return c.rootPath + "collections/" + url.PathEscape(c.id) + "/objects/"
}

// Run loads the hub as cfg says and reports what happened. It returns an error only when the load
// could not start (a bad config, no hub reachable, no collection to use); whether the hub kept its
// promises is in the report (Report.Problems). Cancelling ctx stops everything at once and leaves the
// report incomplete.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	r := &runner{cfg: cfg, client: cfg.Client, log: cfg.Logger, stopped: make(chan struct{})}
	if r.client == nil {
		r.client = newClient(len(cfg.Members) * (cfg.Publishers + 4*cfg.Pollers))
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	var run [4]byte
	_, _ = rand.Read(run[:])
	r.objects = objects{run: binary.BigEndian.Uint32(run[:]), size: cfg.ObjectSize,
		created: time.Now().UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")}
	if cfg.Objects > 0 {
		r.budget.Store(int64(cfg.Objects))
	}

	hubTime, err := r.discover(ctx)
	if err != nil {
		return nil, err
	}
	r.startAfter = hubTime.Add(-startMargin).UTC().Format("2006-01-02T15:04:05.000000Z")
	return r.load(ctx), nil
}

func newClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = max(conns, 16)
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t}
}

// load runs the publishers and pollers, then the final read, and builds the report.
func (r *runner) load(ctx context.Context) *Report {
	started := time.Now()
	stopProgress := r.startProgress(started)

	var pollersDone sync.WaitGroup
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	var polls []*poller
	for _, c := range r.collections {
		for _, m := range c.readers {
			for i := range r.cfg.Pollers {
				p := &poller{r: r, member: m, index: i + 1, c: c, seen: make(map[key]uint32)}
				polls = append(polls, p)
				pollersDone.Go(func() { p.run(pollCtx, r.startAfter) })
			}
		}
	}

	var ledger publishLedger
	r.publishAt = time.Now()
	r.publish(ctx, &ledger)
	r.stoppedAt = time.Now()
	close(r.stopped)

	// Pollers get Drain to catch up with what was published.
	drained := make(chan struct{})
	go func() {
		pollersDone.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(r.cfg.Drain):
		stopPolling()
		<-drained
	}
	stopProgress()

	// A final read of every readable collection, after everything, finds what is still there.
	var finals []*poller
	finalCtx, cancelFinal := context.WithTimeout(ctx, r.cfg.Drain)
	defer cancelFinal()
	var finalsDone sync.WaitGroup
	for _, c := range r.collections {
		if len(c.readers) == 0 {
			continue
		}
		p := &poller{r: r, member: c.readers[0], final: true, c: c, seen: make(map[key]uint32)}
		finals = append(finals, p)
		finalsDone.Go(func() { p.run(finalCtx, r.startAfter) })
	}
	finalsDone.Wait()

	rep := r.report(ctx, started, &ledger, polls, finals)
	if r.cfg.Cleanup {
		rep.Cleanup = r.cleanup(ctx)
	}
	return rep
}

// request is one HTTP request to the next hub in turn, timed, counted and passed to OnRequest.
type request struct {
	method, path string
	query        url.Values
	member       Member
	body         []byte
	stats        *requestStats
}

type answer struct {
	hub    string
	status int
	header http.Header
	body   []byte
}

// do sends req to the next hub. err is set only when no answer arrived.
func (r *runner) do(ctx context.Context, req request) (answer, error) {
	hub := r.cfg.Hubs[int(r.rr.Add(1)-1)%len(r.cfg.Hubs)]
	ctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	defer cancel()
	ev := RequestEvent{Hub: hub, Method: req.method, Path: req.path, Member: req.member.ID, Start: time.Now()}
	var wrote atomic.Int64
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(time.Now().UnixNano())
			}
		},
	})
	a, err := r.send(ctx, hub, req)
	ev.End = time.Now()
	if w := wrote.Load(); w != 0 {
		ev.Wrote = time.Unix(0, w)
	}
	ev.Status, ev.Err = a.status, err
	req.stats.record(a.status, ev.End.Sub(ev.Start))
	if r.cfg.OnRequest != nil {
		r.cfg.OnRequest(ev)
	}
	if err != nil {
		r.log.DebugContext(ctx, "request failed", "hub", hub, "method", req.method, "path", req.path, "error", err)
	} else if a.status >= 300 {
		r.log.DebugContext(ctx, "request refused", "hub", hub, "method", req.method, "path", req.path,
			"status", a.status, "answer", truncate(a.body, 300))
	}
	return a, err
}

func (r *runner) send(ctx context.Context, hub string, req request) (answer, error) {
	u := strings.TrimSuffix(hub, "/") + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, body)
	if err != nil {
		return answer{}, err
	}
	hr.Header.Set("Accept", mediaType)
	hr.Header.Set("Authorization", "Bearer "+req.member.Token)
	if req.body != nil {
		hr.Header.Set("Content-Type", mediaType)
	}
	resp, err := r.client.Do(hr)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		// Headers without the whole body are no answer a client could act on.
		return answer{}, fmt.Errorf("read answer (status %d): %w", resp.StatusCode, err)
	}
	return answer{hub: hub, status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// discover asks every member's view of the hub: its API roots and the collections it can read or
// write there. It returns the hub's clock, as its Date header says, when discovery began.
func (r *runner) discover(ctx context.Context) (time.Time, error) {
	byKey := make(map[string]*collection)
	var hubTime time.Time
	for _, m := range r.cfg.Members {
		var disc struct {
			APIRoots []string `json:"api_roots"`
		}
		a, err := r.getJSON(ctx, m, "/taxii2/", &disc)
		if err != nil {
			return time.Time{}, err
		}
		if t, err := http.ParseTime(a.header.Get("Date")); err == nil && (hubTime.IsZero() || t.Before(hubTime)) {
			hubTime = t
		}
		for _, ref := range disc.APIRoots {
			rootPath, err := rootPath(ref)
			if err != nil {
				return time.Time{}, fmt.Errorf("load: discovery of %s: %w", m.ID, err)
			}
			var list struct {
				Collections []struct {
					ID       string `json:"id"`
					Alias    string `json:"alias"`
					Title    string `json:"title"`
					CanRead  bool   `json:"can_read"`
					CanWrite bool   `json:"can_write"`
					// The sharing rules the hub advertises, so that the load posts what it accepts.
					AllowedTypes      []string            `json:"x_taxiihub_allowed_types"`
					AllowedProperties map[string][]string `json:"x_taxiihub_allowed_properties"`
					TLPMax            string              `json:"x_taxiihub_tlp_max"`
					Clearance         string              `json:"x_taxiihub_clearance"`
					// Review, when set, holds what is posted until a person releases it: the load
					// has no reviewer, so it publishes only where objects are stored at once.
					Review string `json:"x_taxiihub_review"`
				} `json:"collections"`
			}
			if _, err := r.getJSON(ctx, m, rootPath+"collections/", &list); err != nil {
				return time.Time{}, err
			}
			for _, lc := range list.Collections {
				if !r.uses(strings.Trim(rootPath, "/"), lc.ID, lc.Alias) {
					continue
				}
				k := rootPath + lc.ID
				c := byKey[k]
				if c == nil {
					c = &collection{rootPath: rootPath, root: strings.Trim(rootPath, "/"),
						id: lc.ID, alias: lc.Alias, title: lc.Title, shape: shapeFor(lc.AllowedTypes, lc.AllowedProperties, lc.TLPMax),
						accepted: make(map[key]struct{}), pending: make(map[key]struct{})}
					byKey[k] = c
					r.collections = append(r.collections, c)
				}
				// A member cleared only for TLP:CLEAR is not entitled to the TLP:GREEN objects the load
				// publishes, and the hub rightly withholds them.
				if lc.CanRead && !(c.shape.green && (lc.Clearance == "clear" || lc.Clearance == "white")) {
					c.readers = append(c.readers, m)
				}
				if lc.CanWrite && lc.Review == "" {
					c.writers = append(c.writers, m)
				}
			}
		}
	}
	slices.SortFunc(r.collections, func(a, b *collection) int { return strings.Compare(a.name(), b.name()) })
	var unreached []string
	for _, name := range r.cfg.Collections {
		root, coll, _ := strings.Cut(name, "/")
		if !slices.ContainsFunc(r.collections, func(c *collection) bool {
			return c.root == root && (coll == "*" || coll == c.id || coll == c.alias)
		}) {
			unreached = append(unreached, name)
		}
	}
	if len(unreached) > 0 {
		return time.Time{}, fmt.Errorf("load: no member reaches the collections %s", strings.Join(unreached, ", "))
	}
	used := false
	for _, c := range r.collections {
		if len(c.writers) > 0 && r.cfg.Publishers > 0 || len(c.readers) > 0 && r.cfg.Pollers > 0 {
			used = true
		}
	}
	if !used {
		return time.Time{}, errors.New("load: the members' tokens open no collection to publish to or poll")
	}
	if hubTime.IsZero() {
		hubTime = time.Now()
	}
	return hubTime, nil
}

// uses reports whether the load may use a collection: one Config.Collections names, or any with
// WriteRealData.
func (r *runner) uses(root, id, alias string) bool {
	if r.cfg.WriteRealData {
		return true
	}
	for _, name := range r.cfg.Collections {
		if nr, nc, _ := strings.Cut(name, "/"); nr == root && (nc == "*" || nc == id || (alias != "" && nc == alias)) {
			return true
		}
	}
	return false
}

// discoveryAttempts is how often a discovery request is tried, across the hubs in turn.
const discoveryAttempts = 5

// getJSON fetches a resource for discovery, trying the hubs in turn.
func (r *runner) getJSON(ctx context.Context, m Member, path string, into any) (answer, error) {
	var lastErr error
	for attempt := range discoveryAttempts * len(r.cfg.Hubs) {
		if attempt > 0 {
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
				return answer{}, err
			}
		}
		a, err := r.do(ctx, request{method: http.MethodGet, path: path, member: m, stats: &r.gets})
		switch {
		case err != nil:
			lastErr = fmt.Errorf("%w: GET %s as %s: %w", ErrUnreachable, path, m.ID, err)
			continue
		case a.status >= 500 || a.status == http.StatusTooManyRequests:
			lastErr = fmt.Errorf("load: GET %s as %s: %d %s", path, m.ID, a.status, truncate(a.body, 300))
			continue
		case a.status != http.StatusOK:
			return answer{}, fmt.Errorf("load: GET %s as %s: %d %s", path, m.ID, a.status, truncate(a.body, 300))
		}
		if err := json.Unmarshal(a.body, into); err != nil {
			return answer{}, fmt.Errorf("load: GET %s as %s: %w", path, m.ID, err)
		}
		return a, nil
	}
	return answer{}, lastErr
}

// rootPath turns an api_roots entry ("/eu-japan/", or an absolute URL, whose host is then ignored in
// favour of the hubs configured) into the root's path with its trailing slash.
func rootPath(ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("API root %q: %w", ref, err)
	}
	p := strings.TrimSuffix(u.Path, "/") + "/"
	if !strings.HasPrefix(p, "/") || p == "/" {
		return "", fmt.Errorf("API root %q has no path", ref)
	}
	return p, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
