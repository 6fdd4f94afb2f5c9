// Package httpapi is the hub's HTTP face: the gin engine, its middleware, and the TAXII 2.1 handlers.
// It is the only package that imports gin.
package httpapi

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"taxiihub/internal/auth"
	"taxiihub/internal/requestlog"
	"taxiihub/internal/sharing"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// TAXIIMediaType is the content type of every response, errors included: strict clients such as
// taxii2-client reject any 2xx answer without it.
const TAXIIMediaType = taxii.MediaType

// DefaultRequestTimeout bounds each request, so that a slow store cannot pile up goroutines.
const DefaultRequestTimeout = 30 * time.Second

// Store is what the probes ask of the store: whether it answers.
type Store interface {
	APIRoots(ctx context.Context) ([]store.APIRoot, error)
}

// Authenticator turns an Authorization header into a partner principal.
type Authenticator interface {
	Partner(ctx context.Context, authorization string) (auth.Principal, error)
}

// Config is what New needs.
type Config struct {
	// Sharing carries out what partners ask of the TAXII API.
	Sharing *sharing.Service
	// Store is asked by /readyz whether it answers.
	Store Store
	Auth  Authenticator
	// Logger receives the access log and the server faults. New makes every record logged with a
	// request's context name the request, unless the logger does already (package requestlog).
	Logger *slog.Logger
	// Title and Description appear in the discovery resource.
	Title       string
	Description string
	// RequestTimeout bounds each request; zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxContentLength is the largest request body, advertised in every API root; zero means
	// taxii.DefaultMaxContentLength.
	MaxContentLength int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Admin, when set, is served as the admin API under /admin/, to the operator tokens Operators
	// accepts; without it there is no admin API.
	Admin     Admin
	Operators OperatorAuthenticator

	// Metrics receives the HTTP layer's metrics; nil keeps them in a registry nobody reads.
	Metrics prometheus.Registerer
	// MetricsHandler, when set, answers GET /metrics on this handler to operators only: the series
	// name every member, and this is the partners' listener. It needs Operators; without them
	// /metrics is not served here. The server leaves it unset when metrics have an address of
	// their own, where scrapers need no token.
	MetricsHandler http.Handler
	// Limits are the per-member and per-address request limits; the zero value limits nothing.
	Limits Limits
	// Certificates, when set, authenticates partners that send no token by the TLS client
	// certificate their connection presented, once verified.
	Certificates CertificateAuthenticator
	// TrustedProxies are the addresses or CIDR ranges of the proxies whose X-Forwarded-For names the
	// client, for the logs and the per-address limit; nil trusts none, since anyone else could name
	// any address. An entry that does not parse is a programming error: the server validates them.
	TrustedProxies []string
	// MinTransferRate, in bytes per second, is the slowest a body may arrive and an answer be
	// written once TransferGrace has passed; zero turns the check off.
	MinTransferRate int64
	TransferGrace   time.Duration
	// IngestMemory is the hub-wide budget, in bytes, of POST bodies read and checked at once; a POST
	// beyond it waits up to IngestWait, then is answered 503 with Retry-After. Zero means no budget.
	IngestMemory int64
	IngestWait   time.Duration

	// Console, when set, is the partners' web console, served under /console/ on the partners'
	// listener; a browser asking for / is sent there. OperatorConsole is the operators' console,
	// served under /console/ on the admin listener only (NewApart): on one shared listener the
	// partners' console takes the path.
	Console         http.Handler
	OperatorConsole http.Handler
}

type api struct {
	sharing          *sharing.Service
	auth             Authenticator
	log              *slog.Logger
	title            string
	description      string
	timeout          time.Duration
	maxContentLength int64
	now              func() time.Time
	admin            Admin
	operators        OperatorAuthenticator
	// partners authenticates the TAXII routes' callers and members limits their rate; both are set
	// by operations.instrument.
	partners partnerAuthenticator
	members  memberLimit
	// pace is the slowest transfer waited for; ingest the budget of bodies read at once.
	pace   pace
	ingest *ingestBudget
	// trustedProxies are Config.TrustedProxies, for each engine.
	trustedProxies []string
	// console and operatorConsole are Config.Console and Config.OperatorConsole.
	console, operatorConsole http.Handler
}

// UseReleaseMode takes gin, process-wide, out of its debug mode, in which it prints every route and
// a warning. gin keeps its mode in a package variable, so only main and TestMain call this; it lives
// here so that no other package needs to import gin.
func UseReleaseMode() { gin.SetMode(gin.ReleaseMode) }

// New returns the hub's HTTP handler: TAXII, the probes and, when configured, the admin API under
// /admin/ and /metrics, on one listener.
func New(cfg Config) http.Handler {
	a, ops := newAPI(cfg)
	return a.engine(ops, serveTAXII|serveAdmin)
}

// NewApart returns the hub's HTTP handlers for two listeners: partners, serving TAXII and the
// probes, which answers 404 under /admin/ and at /metrics as for any unknown path; and operators,
// serving the admin API, /metrics (when configured) and the probes. Keeping the admin API off the
// partners' listener means that no proxy rule or firewall slip can expose it to them.
func NewApart(cfg Config) (partners, operators http.Handler) {
	a, ops := newAPI(cfg)
	return a.engine(ops, serveTAXII), a.engine(ops, serveAdmin)
}

// What an engine serves besides the probes.
const (
	serveTAXII = 1 << iota
	// serveAdmin is the admin API and /metrics, both for operator tokens.
	serveAdmin
)

func newAPI(cfg Config) (*api, *operations) {
	a := &api{
		sharing:          cfg.Sharing,
		auth:             cfg.Auth,
		log:              slog.New(requestlog.NewHandler(cfg.Logger.Handler())),
		title:            cmp.Or(cfg.Title, "taxiihub"),
		description:      cfg.Description,
		timeout:          cmp.Or(cfg.RequestTimeout, DefaultRequestTimeout),
		maxContentLength: cmp.Or(cfg.MaxContentLength, taxii.DefaultMaxContentLength),
		now:              cfg.Now,
		admin:            cfg.Admin,
		operators:        cfg.Operators,
		pace:             pace{rate: cfg.MinTransferRate, grace: cfg.TransferGrace},
		ingest:           newIngestBudget(cfg.IngestMemory, cfg.IngestWait),
		console:          cfg.Console,
		operatorConsole:  cfg.OperatorConsole,
	}
	if a.now == nil {
		a.now = time.Now
	}
	if err := gin.New().SetTrustedProxies(cfg.TrustedProxies); err != nil {
		panic(fmt.Sprintf("httpapi: trusted proxies: %v", err))
	}
	ops := newOperations(cfg, cfg.Store, a.log, a.now)
	ops.instrument(a)
	a.trustedProxies = cfg.TrustedProxies
	return a, ops
}

func (a *api) engine(ops *operations, serves int) *gin.Engine {
	// gin's default redirects would turn a POST into a GET at the other path and lose its body;
	// every route is registered with and without its trailing slash instead.
	e := gin.New()
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = true
	_ = e.SetTrustedProxies(a.trustedProxies) // checked in newAPI
	e.Use(protectAnswers, a.paceTransfers, a.requestContext, a.recoverPanics, a.accessLog, ops.observe, ops.limitFailures, a.boundQuery)
	ops.mountProbes(e)
	e.NoRoute(a.handle(func(*gin.Context) error {
		return notFound("There is no TAXII resource at this path.")
	}))
	e.NoMethod(a.handle(func(c *gin.Context) error {
		return &requestError{status: http.StatusMethodNotAllowed, code: "method-not-allowed",
			title: "Method not allowed", description: c.Request.Method + " is not supported on this resource."}
	}))
	if serves&serveTAXII != 0 {
		a.mountTAXII(e)
		a.mountConvert(e)
		a.mountSearch(e)
		a.mountConsole(e, a.console)
	} else if serves&serveAdmin != 0 {
		a.mountConsole(e, a.operatorConsole)
	}
	if serves&serveAdmin != 0 {
		ops.mountMetrics(e)
		a.mountAdmin(e)
	}
	return e
}

// route registers a handler under its path with and without the trailing slash.
func route(r gin.IRoutes, method, path string, h gin.HandlerFunc) {
	r.Handle(method, path, h)
	r.Handle(method, strings.TrimSuffix(path, "/"), h)
}

// boundQuery refuses a query string longer than taxii.MaxQueryLength before anything parses it.
func (a *api) boundQuery(c *gin.Context) {
	if n := len(c.Request.URL.RawQuery); n > taxii.MaxQueryLength {
		writeError(c, a.log, &taxii.FilterError{Param: "query", Reason: fmt.Sprintf(
			"is %d bytes long, more than the %d accepted; split the request", n, taxii.MaxQueryLength)})
		c.Abort()
		return
	}
	c.Next()
}

// protectAnswers marks every answer for what it is: never to be cached (answers carry partners'
// intelligence and their rights, and a shared cache would hand them to the next caller), never to be
// sniffed into another content type by a browser, and, over TLS, to be asked for over TLS only.
func protectAnswers(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if c.Request.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Next()
}

const requestIDKey = "request_id"

// Client-supplied request ids are kept only when harmless in logs and headers.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestContext gives each request an id and a deadline. The id goes into the request's context, so
// that whatever logs with that context, here or in the packages the handlers call, names the request.
func (a *api) requestContext(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !requestIDPattern.MatchString(id) {
		var b [12]byte
		_, _ = rand.Read(b[:]) // crypto/rand does not fail on supported platforms
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-ID", id)
	ctx, cancel := context.WithTimeout(requestlog.WithID(c.Request.Context(), id), a.timeout)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// recoverPanics answers a panic with a TAXII error resource instead of gin's plain-text 500.
func (a *api) recoverPanics(c *gin.Context) {
	defer func() {
		rec := recover()
		if rec == nil {
			return
		}
		if rec == http.ErrAbortHandler {
			panic(rec) // the server's own signal to drop the connection
		}
		a.log.ErrorContext(c.Request.Context(), "panic while serving request",
			"panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
		if !c.Writer.Written() {
			writeError(c, a.log, fmt.Errorf("httpapi: panic: %v", rec))
		}
		c.Abort()
	}()
	c.Next()
}

// writeTAXII renders a TAXII resource with the TAXII media type.
func writeTAXII(c *gin.Context, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Resources are plain structs of strings, numbers and lists: this is a programming error.
		panic(fmt.Sprintf("httpapi: encode %T: %v", v, err))
	}
	c.Data(status, TAXIIMediaType, body)
}

// mountConsole serves a web console under /console/, and sends a browser asking for / there. The
// console answers in HTML, not TAXII: it is a face of its own over the same application layer.
func (a *api) mountConsole(e *gin.Engine, console http.Handler) {
	if console == nil {
		return
	}
	h := gin.WrapH(console)
	e.Any("/console/*path", func(c *gin.Context) {
		// Signing in checks a token, as TAXII's authentication does; an address over its budget of
		// failed authentications may check none until the budget allows (whether the token would
		// be good or not: the console cannot answer a failure late, as TAXII does).
		if v, over := c.Get(failureWaitKey); over && c.Request.Method == http.MethodPost && c.Param("path") == "/signin" {
			wait := v.(time.Duration)
			c.Set(failureRefusedKey, true)
			c.Header("Retry-After", retryAfter(wait))
			c.String(http.StatusTooManyRequests, "Too many sign-ins from your address failed; try again in %s.", retryAfter(wait)+" seconds")
			return
		}
		h(c)
	})
	e.GET("/", func(c *gin.Context) {
		if !strings.Contains(c.GetHeader("Accept"), "text/html") {
			writeError(c, a.log, notFound("There is no TAXII resource at this path."))
			return
		}
		c.Redirect(http.StatusSeeOther, "/console/")
	})
}
