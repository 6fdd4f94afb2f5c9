package httpapi

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/auth"
)

// CertificateAuthenticator turns a TLS client certificate, already verified against the hub's
// client CA, into a partner principal.
type CertificateAuthenticator interface {
	Partner(ctx context.Context, cert *x509.Certificate) (auth.Principal, error)
}

// operations is what the hub adds around its two APIs to run in production: metrics, the health
// endpoints, request limits and client-certificate authentication.
type operations struct {
	log      *slog.Logger
	now      func() time.Time
	metrics  *httpMetrics
	members  *buckets // nil: members are not limited
	failures *buckets // nil: failed authentications are not limited
	certs    CertificateAuthenticator
	store    Store
	scrape   http.Handler // nil: /metrics is served elsewhere, or not at all
	// operators authenticate the scrapers of /metrics on this listener.
	operators OperatorAuthenticator
}

func newOperations(cfg Config, st Store, log *slog.Logger, now func() time.Time) *operations {
	return &operations{
		log:       log,
		now:       now,
		metrics:   newHTTPMetrics(cfg.Metrics),
		members:   newBuckets(cfg.Limits.MemberRate, cfg.Limits.MemberBurst, maxBuckets),
		failures:  newBuckets(cfg.Limits.FailureRate, cfg.Limits.FailureBurst, maxBuckets),
		certs:     cfg.Certificates,
		store:     st,
		scrape:    cfg.MetricsHandler,
		operators: cfg.Operators,
	}
}

// instrument wraps what the API uses, so that publishing and authenticating are counted and limited
// without the handlers knowing, and gives the API the per-member rate it applies after authentication.
func (o *operations) instrument(a *api) {
	a.sharing = a.sharing.WithTally(objectTally{accepted: o.metrics.accepted, refused: o.metrics.refused, released: o.metrics.released})
	a.partners = partnerGate{tokens: a.auth, certs: o.certs, metrics: o.metrics}
	a.members = memberLimit{buckets: o.members, metrics: o.metrics}
	if a.operators != nil {
		a.operators = operatorGate{next: a.operators, metrics: o.metrics}
	}
}

// partnerGate authenticates the TAXII routes' callers: it accepts a verified client certificate in
// place of a token, and counts refused credentials.
type partnerGate struct {
	tokens  Authenticator
	certs   CertificateAuthenticator
	metrics *httpMetrics
}

func (g partnerGate) Partner(ctx context.Context, authorization string, cert *x509.Certificate) (auth.Principal, error) {
	p, err := g.authenticate(ctx, authorization, cert)
	if err != nil {
		g.metrics.authFailed("taxii", err)
		return auth.Principal{}, err
	}
	return p, nil
}

// authenticate uses the token when one is sent, else the client certificate. A token is the more
// specific credential: a gateway presenting one organisation's certificate may carry a partner's token.
func (g partnerGate) authenticate(ctx context.Context, authorization string, cert *x509.Certificate) (auth.Principal, error) {
	if strings.TrimSpace(authorization) == "" && cert != nil && g.certs != nil {
		return g.certs.Partner(ctx, cert)
	}
	return g.tokens.Partner(ctx, authorization)
}

// operatorGate counts the admin API's refused credentials.
type operatorGate struct {
	next    OperatorAuthenticator
	metrics *httpMetrics
}

func (g operatorGate) Operator(ctx context.Context, authorization string) (string, error) {
	name, err := g.next.Operator(ctx, authorization)
	if err != nil {
		g.metrics.authFailed("admin", err)
	}
	return name, err
}

// readyTimeout bounds the store check of /readyz, below the probe timeouts in deploy/.
const readyTimeout = 2 * time.Second

// mountProbes serves the probes on every listener. They answer plain JSON without authentication:
// probes hold no hub token, and their answers say nothing about partnerships or their data.
func (o *operations) mountProbes(e *gin.Engine) {
	e.GET("/healthz", o.healthz)
	e.GET("/readyz", o.readyz)
}

// mountMetrics serves /metrics to operator tokens, when the hub serves it here.
func (o *operations) mountMetrics(e *gin.Engine) {
	if o.scrape != nil && o.operators != nil {
		e.GET("/metrics", o.operatorOnly, gin.WrapH(o.scrape))
	}
}

// operatorOnly admits operator tokens alone: on the partners' listener, /metrics would otherwise
// tell anyone who reaches the port which members there are and what they do. Prometheus sends the
// token as a bearer credential (authorization.credentials_file).
func (o *operations) operatorOnly(c *gin.Context) {
	if _, err := o.operators.Operator(c.Request.Context(), c.GetHeader("Authorization")); err != nil {
		o.metrics.authFailed("metrics", err)
		writeAdminError(c, o.log, err)
		c.Abort()
		return
	}
	c.Next()
}

type health struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// healthz says the process serves HTTP, and nothing more: a liveness probe that also checked the
// store would have every node restarted while the database fails over.
func (o *operations) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, health{Status: "ok"})
}

// readyz says whether this node can serve: its store answers within readyTimeout. The cause of a
// failure goes to the log only, since the probe is open to anyone who reaches the port.
func (o *operations) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	if _, err := o.store.APIRoots(ctx); err != nil {
		o.log.WarnContext(ctx, "not ready: the store does not answer", "error", err)
		c.JSON(http.StatusServiceUnavailable, health{Status: "unavailable", Reason: "the store does not answer"})
		return
	}
	c.JSON(http.StatusOK, health{Status: "ready"})
}
