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
}

func newOperations(cfg Config, st Store, log *slog.Logger, now func() time.Time) *operations {
	return &operations{
		log:      log,
		now:      now,
		metrics:  newHTTPMetrics(cfg.Metrics),
		members:  newBuckets(cfg.Limits.MemberRate, cfg.Limits.MemberBurst, maxBuckets),
		failures: newBuckets(cfg.Limits.FailureRate, cfg.Limits.FailureBurst, maxBuckets),
		certs:    cfg.Certificates,
		store:    st,
		scrape:   cfg.MetricsHandler,
	}
}

// instrument wraps what the API uses, so that publishing and authenticating are counted and limited
// without the handlers knowing.
func (o *operations) instrument(a *api) {
	a.sharing = a.sharing.WithTally(objectTally{accepted: o.metrics.accepted, refused: o.metrics.refused})
	a.auth = partnerGate{tokens: a.auth, certs: o.certs, members: o.members, metrics: o.metrics, now: o.now}
	if a.operators != nil {
		a.operators = operatorGate{next: a.operators, metrics: o.metrics}
	}
}

// admissionKey finds the request's *admission in its context.
type admissionKey struct{}

// admission carries, from the middleware in front of the routes to the partner authenticator, what
// authenticating a partner needs besides the Authorization header, which is all the authenticator
// is handed: the verified client certificate, the response header for Retry-After, and, back the
// other way, the member authenticated (also when its rate then refuses it) for the logs and metrics.
type admission struct {
	cert   *x509.Certificate
	header http.Header
	member string
}

// admit puts the request's admission in its context.
func (o *operations) admit(c *gin.Context) {
	adm := &admission{header: c.Writer.Header()}
	if tls := c.Request.TLS; tls != nil && len(tls.VerifiedChains) > 0 && len(tls.VerifiedChains[0]) > 0 {
		adm.cert = tls.VerifiedChains[0][0]
	}
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), admissionKey{}, adm))
	c.Next()
}

func admissionOf(ctx context.Context) *admission {
	adm, _ := ctx.Value(admissionKey{}).(*admission)
	return adm
}

// memberOf is the partner a request was authenticated as, or "" when none was.
func memberOf(c *gin.Context) string {
	if p, ok := c.Get(principalKey); ok {
		return p.(auth.Principal).MemberID
	}
	if adm := admissionOf(c.Request.Context()); adm != nil {
		return adm.member
	}
	return ""
}

// partnerGate is the Authenticator the TAXII routes see. It accepts a verified client certificate
// in place of a token, counts refused credentials, and applies the per-member rate, which can only
// be done once the member is known.
type partnerGate struct {
	tokens  Authenticator
	certs   CertificateAuthenticator
	members *buckets
	metrics *httpMetrics
	now     func() time.Time
}

func (g partnerGate) Partner(ctx context.Context, authorization string) (auth.Principal, error) {
	adm := admissionOf(ctx)
	p, err := g.authenticate(ctx, adm, authorization)
	if err != nil {
		g.metrics.authFailed("taxii", err)
		return auth.Principal{}, err
	}
	if adm != nil {
		adm.member = p.MemberID
	}
	if wait, ok := g.members.take(p.MemberID, g.now()); !ok {
		g.metrics.limited.WithLabelValues("member").Inc()
		if adm != nil {
			adm.header.Set("Retry-After", retryAfter(wait))
		}
		return auth.Principal{}, tooManyRequests(wait, "Your organisation has sent more requests than this hub accepts.")
	}
	return p, nil
}

// authenticate uses the token when one is sent, else the client certificate. A token is the more
// specific credential: a gateway presenting one organisation's certificate may carry a partner's token.
func (g partnerGate) authenticate(ctx context.Context, adm *admission, authorization string) (auth.Principal, error) {
	if strings.TrimSpace(authorization) == "" && adm != nil && adm.cert != nil && g.certs != nil {
		return g.certs.Partner(ctx, adm.cert)
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

// mount serves the probes and, when configured, /metrics. They answer plain JSON (or the Prometheus
// text format) without authentication: probes and scrapers hold no hub token, and neither answer
// says anything about partnerships or their data.
func (o *operations) mount(e *gin.Engine) {
	e.GET("/healthz", o.healthz)
	e.GET("/readyz", o.readyz)
	if o.scrape != nil {
		e.GET("/metrics", gin.WrapH(o.scrape))
	}
}

type health struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// healthz says the process serves HTTP, and nothing more: a liveness probe that also checked the
// store would have every node restarted while the database fails over.
func (o *operations) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, health{Status: "ok"})
}

// readyz says whether this node can serve: its store answers within readyTimeout. The cause of a
// failure goes to the log only, since the probe is open to anyone who reaches the port.
func (o *operations) readyz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	if _, err := o.store.APIRoots(ctx); err != nil {
		o.log.WarnContext(ctx, "not ready: the store does not answer", "request_id", requestID(c), "error", err)
		c.JSON(http.StatusServiceUnavailable, health{Status: "unavailable", Reason: "the store does not answer"})
		return
	}
	c.JSON(http.StatusOK, health{Status: "ready"})
}
