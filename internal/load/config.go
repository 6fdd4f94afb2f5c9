// Package load drives a taxiihub the way its partners do, through TAXII over HTTP only: several
// members publish STIX indicators and poll every collection they may read, all at once, through one
// or more hub nodes. At the end it checks that every object a hub reported as a success in a 202 reached
// every poller entitled to it exactly once, byte for byte.
//
// It is the engine of the taxiiload command and the load generator of the reliability tests, which
// run it in-process against hub processes they start, stop and kill. It keeps no package-level state:
// each Run is independent.
//
// What counts:
//
//   - Accepted: listed among the successes of a 202 status resource. A publisher resubmits a batch
//     that failed (a transport error, 429, 5xx, or objects listed among the failures) to the next hub
//     until it is accepted or GiveUpAfter passes; resubmitting is safe because adding a stored version
//     again is a no-op reported as success.
//   - Unconfirmed: sent, but never confirmed by a 202. The hub may or may not have stored it, so a
//     poller may see it (once) or not.
//   - A poller is one member reading one collection, from the start of the run, following next while
//     more is true and then added_after set to the last X-TAXII-Date-Added-Last, retrying failed
//     requests. After publishing stops it keeps reading until a page requested after that moment ends
//     the collection. Every member with read access to a collection runs Pollers pollers on it.
//   - Missing: accepted for the collection but never seen by a poller. Duplicated: seen more than
//     once by one poller. Unexpected: an object of this run seen though it was never sent to the
//     collection. Corrupted: served with other bytes than were sent.
//
// After the pollers, a final read of each readable collection from the start of the run checks that
// every accepted object is still there.
//
// The objects are fake, and partners' systems would take them for intelligence: a load writes only
// into the collections Config.Collections names (set aside for load tests), unless told with
// WriteRealData that every collection its members reach may take them. With Cleanup it withdraws
// what it published once it is done, so that pollers are told to drop it.
package load

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Defaults, named so that the command's help and the README agree with the code.
const (
	DefaultPublishers   = 1
	DefaultPollers      = 1
	DefaultBatch        = 100
	DefaultPageSize     = 1000
	DefaultPollInterval = 200 * time.Millisecond
	DefaultDrain        = 2 * time.Minute
	DefaultGiveUpAfter  = 2 * time.Minute
	DefaultProgress     = time.Second
	// DefaultRequestTimeout bounds one request; the hub's own deadline is 30 s.
	DefaultRequestTimeout = 60 * time.Second

	// MaxBatch and MaxPageSize are the hub's limits on objects per envelope and per page.
	MaxBatch    = 10_000
	MaxPageSize = 1000
)

// Member is a partner the load acts as.
type Member struct {
	// ID names the member in the report; the hub knows it from the token.
	ID string
	// Token is the member's partner token, sent as a Bearer token.
	Token string
}

// Config says how to load the hub. Publishing runs until Duration passes, Objects objects have been
// sent, or StopPublishing is closed, whichever comes first; at least one of them must be set.
type Config struct {
	// Hubs are the base URLs of the hub nodes (http://127.0.0.1:8080). Requests go round-robin, and a
	// failed request is retried on the next node: a poor man's load balancer.
	Hubs []string
	// Members are the partners to act as. Each publishes to every collection among Collections it
	// may write and polls every one it may read, as the hub's discovery tells it.
	Members []Member
	// Collections are the collections the load uses, as "PARTNERSHIP/COLLECTION" (the collection's
	// alias or id) or "PARTNERSHIP/*" for all of a partnership's: collections set aside for load
	// tests. Each must be reachable by some member. Needed unless WriteRealData is set.
	Collections []string
	// WriteRealData lets the load publish to, and poll, every collection its members reach, real
	// partners' collections included, which then hold fake indicators partners would take for real.
	WriteRealData bool
	// Cleanup withdraws every object the run published (accepted or unconfirmed) once it is over,
	// each as the member that published it, through TAXII's withdrawal: pollers then receive a
	// tombstone telling them to drop it. It costs one request per object.
	Cleanup bool

	Duration       time.Duration
	Objects        int
	StopPublishing <-chan struct{}

	// Publishers and Pollers are per member: publishers for members that may write somewhere, pollers
	// per collection a member may read. Zero means none (the command defaults both to one).
	Publishers int
	Pollers    int
	// Batch is the number of objects per POST; PageSize the limit of each GET.
	Batch    int
	PageSize int
	// ObjectSize pads each indicator's description so that its JSON is about this many bytes; zero
	// leaves indicators at about 600 bytes.
	ObjectSize int

	// PollInterval is how long a poller that reached the end of its collection waits before asking
	// again. Drain is how long pollers may take to catch up once publishing has stopped. GiveUpAfter is
	// how long a publisher keeps resubmitting one batch. RequestTimeout bounds each request.
	PollInterval   time.Duration
	Drain          time.Duration
	GiveUpAfter    time.Duration
	RequestTimeout time.Duration

	// Progress, when set, receives a progress line every ProgressInterval. With Terminal set, each line
	// overwrites the previous one (for a terminal); otherwise lines are appended (for a log).
	Progress         io.Writer
	ProgressInterval time.Duration
	Terminal         bool

	// Client is the HTTP client; nil means one suited to many concurrent requests to a few hosts.
	Client *http.Client
	// OnRequest, when set, is called after every request, from the goroutine that made it, and so
	// from many goroutines at once.
	OnRequest func(RequestEvent)
	// Logger receives one line per failed request (at debug level) and per batch given up (warn);
	// nil discards them.
	Logger *slog.Logger
}

// RequestEvent describes one HTTP request the load made.
type RequestEvent struct {
	Hub    string // base URL of the node asked
	Method string
	Path   string
	Member string
	Start  time.Time
	// Wrote is when the request had been written in full, zero if it never was.
	Wrote time.Time
	End   time.Time
	// Status is the HTTP status, zero when the request failed without an answer (Err says why).
	Status int
	Err    error
}

func (c *Config) setDefaults() {
	orDefault := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	orDefaultDuration := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	orDefault(&c.Batch, DefaultBatch)
	orDefault(&c.PageSize, DefaultPageSize)
	orDefaultDuration(&c.PollInterval, DefaultPollInterval)
	orDefaultDuration(&c.Drain, DefaultDrain)
	orDefaultDuration(&c.GiveUpAfter, DefaultGiveUpAfter)
	orDefaultDuration(&c.RequestTimeout, DefaultRequestTimeout)
	orDefaultDuration(&c.ProgressInterval, DefaultProgress)
}

// Validate reports every problem of the config at once, after filling in defaults as Run does.
func (c Config) Validate() error {
	c.setDefaults()
	return c.validate()
}

func (c *Config) validate() error {
	var errs []error
	if len(c.Hubs) == 0 {
		errs = append(errs, errors.New("no hub URL"))
	}
	if len(c.Members) == 0 {
		errs = append(errs, errors.New("no member to act as"))
	}
	ids := make(map[string]bool)
	for _, m := range c.Members {
		if m.ID == "" || m.Token == "" {
			errs = append(errs, fmt.Errorf("member %q: an id and a token are needed", m.ID))
		}
		if ids[m.ID] {
			errs = append(errs, fmt.Errorf("member %q is listed twice", m.ID))
		}
		ids[m.ID] = true
	}
	if c.Duration <= 0 && c.Objects <= 0 && c.StopPublishing == nil {
		errs = append(errs, errors.New("nothing ends publishing: set a duration, a number of objects, or a stop channel"))
	}
	if c.Duration < 0 || c.Objects < 0 {
		errs = append(errs, errors.New("duration and number of objects must not be negative"))
	}
	if c.Publishers < 0 || c.Pollers < 0 {
		errs = append(errs, errors.New("publishers and pollers per member must not be negative"))
	}
	if len(c.Members)*c.Publishers > 1<<16-1 {
		errs = append(errs, fmt.Errorf("%d publishers in all; at most %d", len(c.Members)*c.Publishers, 1<<16-1))
	}
	if len(c.Collections) == 0 && !c.WriteRealData {
		errs = append(errs, errors.New("name the collections to load (set aside for load tests) as PARTNERSHIP/COLLECTION, "+
			"or say explicitly that every collection the members reach may take fake objects: they would reach partners as intelligence"))
	}
	for _, name := range c.Collections {
		if root, coll, ok := strings.Cut(name, "/"); !ok || root == "" || coll == "" || strings.Contains(coll, "/") {
			errs = append(errs, fmt.Errorf("collection %q: want PARTNERSHIP/COLLECTION or PARTNERSHIP/*", name))
		}
	}
	if c.Publishers == 0 && c.Pollers == 0 {
		errs = append(errs, errors.New("neither publishers nor pollers"))
	}
	if c.Batch < 1 || c.Batch > MaxBatch {
		errs = append(errs, fmt.Errorf("batch %d is outside 1..%d", c.Batch, MaxBatch))
	}
	if c.PageSize < 1 || c.PageSize > MaxPageSize {
		errs = append(errs, fmt.Errorf("page size %d is outside 1..%d", c.PageSize, MaxPageSize))
	}
	if c.ObjectSize < 0 {
		errs = append(errs, fmt.Errorf("object size %d is negative", c.ObjectSize))
	}
	return errors.Join(errs...)
}
