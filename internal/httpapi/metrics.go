package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
)

// requestBuckets reach the request timeout's default (30 s), past which a request is cut off.
var requestBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// httpMetrics are the HTTP layer's series. Every label takes its values from a small set fixed by
// the hub's code or its operator (routes, methods, statuses, members, reason codes), never from what
// a client puts in a path, so that no client can make the series grow without bound.
type httpMetrics struct {
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	pages        *prometheus.HistogramVec
	authFailures *prometheus.CounterVec
	limited      *prometheus.CounterVec
	accepted     *prometheus.CounterVec
	refused      *prometheus.CounterVec
	released     prometheus.Histogram
}

// releaseBuckets span a review's wait, from minutes to the longest review timeout's order.
var releaseBuckets = []float64{60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 2 * 24 * 3600, 7 * 24 * 3600, 30 * 24 * 3600}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	if reg == nil {
		// Collected but never exposed: the code counting need not care whether anyone reads.
		reg = prometheus.NewRegistry()
	}
	f := promauto.With(reg)
	return &httpMetrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "taxiihub_http_requests_total",
			Help: "Requests answered, by method, route template, status and authenticated member (empty when none).",
		}, []string{"method", "route", "status", "member"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "taxiihub_http_request_duration_seconds",
			Help:    "Time to answer a request, by method and route template.",
			Buckets: requestBuckets,
		}, []string{"method", "route"}),
		pages: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "taxiihub_taxii_page_duration_seconds",
			Help:    "Time to serve one page of objects, manifest, object or versions (200 answers only), by route template.",
			Buckets: requestBuckets,
		}, []string{"route"}),
		authFailures: f.NewCounterVec(prometheus.CounterOpts{
			Name: "taxiihub_auth_failures_total",
			Help: "Credentials refused, by API (taxii, admin) and reason (missing, expired, revoked, unknown, certificate, invalid).",
		}, []string{"api", "reason"}),
		limited: f.NewCounterVec(prometheus.CounterOpts{
			Name: "taxiihub_rate_limited_total",
			Help: "Requests refused with 429, by limit (member: the member's request rate; address: failed authentications from one address).",
		}, []string{"limit"}),
		accepted: f.NewCounterVec(prometheus.CounterOpts{
			Name: "taxiihub_objects_accepted_total",
			Help: "Submitted objects the collection holds afterwards, by result (added, unchanged, kept-existing).",
		}, []string{"result"}),
		refused: f.NewCounterVec(prometheus.CounterOpts{
			Name: "taxiihub_objects_refused_total",
			Help: "Submitted objects refused, by reason: the first reason code (of the validator or the sharing rules), or what the store answered (withdrawn, not-stored).",
		}, []string{"reason"}),
		released: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "taxiihub_review_release_seconds",
			Help:    "Time from the post of an object held for review to its release by a reviewer.",
			Buckets: releaseBuckets,
		}),
	}
}

// opsRoutes are served beside the APIs, outside TAXII and its trailing-slash convention.
var opsRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

func isOpsRoute(route string) bool { return opsRoutes[route] }

// pageRoutes are the routes that serve pages of objects, for the page latency histogram.
var pageRoutes = map[string]bool{
	"/:root/collections/:collection/objects/":                  true,
	"/:root/collections/:collection/manifest/":                 true,
	"/:root/collections/:collection/objects/:object/":          true,
	"/:root/collections/:collection/objects/:object/versions/": true,
}

// routeLabel is the route template gin matched, never the raw path: ids in paths would make a
// series per object. Routes answer with and without their trailing slash; both count as one.
func routeLabel(fullPath string) string {
	switch {
	case fullPath == "":
		return "unmatched"
	case isOpsRoute(fullPath) || strings.HasSuffix(fullPath, "/"):
		return fullPath
	default:
		return fullPath + "/"
	}
}

// methodLabel keeps a client's invented methods (answered 405) from each making a series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	default:
		return "other"
	}
}

// observe counts and times every request once it has been answered.
func (o *operations) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	elapsed := time.Since(start).Seconds()
	method, route, status := methodLabel(c.Request.Method), routeLabel(c.FullPath()), c.Writer.Status()
	o.metrics.requests.WithLabelValues(method, route, strconv.Itoa(status), memberOf(c)).Inc()
	o.metrics.duration.WithLabelValues(method, route).Observe(elapsed)
	if method == http.MethodGet && status == http.StatusOK && pageRoutes[route] {
		o.metrics.pages.WithLabelValues(route).Observe(elapsed)
	}
}

// authFailed counts refused credentials. Failures of the hub itself (a store that does not answer)
// are not token failures and are left to the request and store series.
func (m *httpMetrics) authFailed(api string, err error) {
	if errors.Is(err, auth.ErrUnauthenticated) {
		m.authFailures.WithLabelValues(api, failureReason(err)).Inc()
	}
}

// failureReason sorts the auth package's reasons into a few labels an operator alerts on: a surge of
// "expired" is a partner who forgot to renew, one of "invalid" someone probing.
func failureReason(err error) string {
	var cred *auth.CredentialError
	if !errors.As(err, &cred) {
		return "invalid"
	}
	switch r := cred.Reason; {
	case r == "no credentials were sent":
		return "missing"
	case strings.Contains(r, "expired"):
		return "expired"
	case strings.Contains(r, "revoked"):
		return "revoked"
	case strings.Contains(r, "not known to this hub"):
		return "unknown"
	case strings.Contains(r, "client certificate"):
		return "certificate"
	default:
		return "invalid"
	}
}

// objectTally counts what became of every published object, by the result the store gave it or
// the first reason it was refused for: the one a submitter must fix first. One reason per object
// keeps the series summing to the objects refused. Reasons are the hub's own codes, never a client's
// text, so the series stay few.
type objectTally struct {
	accepted, refused *prometheus.CounterVec
	released          prometheus.Histogram
}

func (t objectTally) Released(waited time.Duration) { t.released.Observe(waited.Seconds()) }

func (t objectTally) Stored(r store.Result) {
	t.accepted.WithLabelValues(strings.ReplaceAll(r.String(), " ", "-")).Inc()
}

func (t objectTally) Refused(reason string) { t.refused.WithLabelValues(reason).Inc() }
