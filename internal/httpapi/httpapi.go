// Package httpapi is the hub's HTTP face: the gin engine, its middleware, and the TAXII 2.1 handlers.
// It is the only package that imports gin.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/store"
)

// TAXIIMediaType is the content type of every response, errors included: strict clients such as
// taxii2-client reject any 2xx answer without it.
const TAXIIMediaType = "application/taxii+json;version=2.1"

// DefaultRequestTimeout bounds each request, so that a slow store cannot pile up goroutines.
const DefaultRequestTimeout = 30 * time.Second

// Store is what the HTTP layer reads from storage.
type Store interface {
	APIRoots(ctx context.Context) ([]store.APIRoot, error)
}

// Config is what New needs.
type Config struct {
	Store  Store
	Logger *slog.Logger
	// Title and Description appear in the discovery resource.
	Title       string
	Description string
	// RequestTimeout bounds each request; zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
}

type api struct {
	store       Store
	log         *slog.Logger
	title       string
	description string
	timeout     time.Duration
}

// New returns the hub's HTTP handler.
func New(cfg Config) http.Handler {
	a := &api{
		store:       cfg.Store,
		log:         cfg.Logger,
		title:       cfg.Title,
		description: cfg.Description,
		timeout:     cfg.RequestTimeout,
	}
	if a.timeout <= 0 {
		a.timeout = DefaultRequestTimeout
	}
	if a.title == "" {
		a.title = "taxiihub"
	}
	// gin's default redirects would turn a POST into a GET at the other path and lose its body;
	// every route is registered with and without its trailing slash instead.
	e := gin.New()
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = true
	e.Use(a.requestContext, a.recoverPanics, a.accessLog)
	e.NoRoute(a.handle(func(*gin.Context) error {
		return notFound("There is no TAXII resource at this path.")
	}))
	e.NoMethod(a.handle(func(c *gin.Context) error {
		return &requestError{status: http.StatusMethodNotAllowed, code: "method-not-allowed",
			title: "Method not allowed", description: c.Request.Method + " is not supported on this resource."}
	}))
	get(e, "/taxii2/", a.handle(a.discovery))
	return e
}

// get registers a GET route under its path with and without the trailing slash.
func get(r gin.IRoutes, path string, h gin.HandlerFunc) {
	r.GET(path, h)
	if len(path) > 1 {
		r.GET(path[:len(path)-1], h)
	}
}

const requestIDKey = "request_id"

// Client-supplied request ids are kept only when harmless in logs and headers.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestContext gives each request an id and a deadline.
func (a *api) requestContext(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !requestIDPattern.MatchString(id) {
		var b [12]byte
		_, _ = rand.Read(b[:]) // crypto/rand does not fail on supported platforms
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-ID", id)
	ctx, cancel := context.WithTimeout(c.Request.Context(), a.timeout)
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
			"request_id", requestID(c), "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
		if !c.Writer.Written() {
			writeError(c, a.log, fmt.Errorf("httpapi: panic: %v", rec))
		}
		c.Abort()
	}()
	c.Next()
}

func (a *api) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	a.log.InfoContext(c.Request.Context(), "request",
		"request_id", requestID(c),
		"method", c.Request.Method,
		"path", c.Request.URL.Path,
		"status", c.Writer.Status(),
		"bytes", c.Writer.Size(),
		"duration_ms", float64(time.Since(start).Microseconds())/1000,
	)
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
