package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/store"
)

// errorResource is the TAXII 2.1 error message resource, the body of every 4xx and 5xx answer.
type errorResource struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	ErrorID     string `json:"error_id,omitempty"`
	ErrorCode   string `json:"error_code,omitempty"`
	HTTPStatus  string `json:"http_status,omitempty"`
}

// requestError is an error a handler returns to answer with a specific status. Description is shown
// to the client, so it must never carry internal detail; the wrapped cause only goes to the log.
type requestError struct {
	status      int
	code        string
	title       string
	description string
	cause       error
}

func (e *requestError) Error() string {
	if e.cause != nil {
		return e.title + ": " + e.cause.Error()
	}
	return e.title
}

func (e *requestError) Unwrap() error { return e.cause }

func notFound(description string) error {
	return &requestError{status: http.StatusNotFound, code: "not-found", title: "Not found", description: description}
}

// classification is the one table that turns an error into what the client sees.
type classification struct {
	status int
	code   string
	title  string
}

func classify(err error) (classification, string) {
	var re *requestError
	switch {
	case errors.As(err, &re):
		return classification{re.status, re.code, re.title}, re.description
	case errors.Is(err, store.ErrNotFound):
		return classification{http.StatusNotFound, "not-found", "Not found"}, ""
	case errors.Is(err, context.DeadlineExceeded):
		return classification{http.StatusServiceUnavailable, "timeout", "The request took too long"},
			"The hub could not answer within its deadline; retry later."
	default:
		return classification{http.StatusInternalServerError, "internal", "Internal error"},
			"The hub could not complete the request; quote the error_id when reporting it."
	}
}

// writeError answers with a TAXII error resource. Server faults are logged with the request id,
// which the body carries as error_id so an operator can find the cause.
func writeError(c *gin.Context, log *slog.Logger, err error) {
	cl, description := classify(err)
	id := requestID(c)
	if cl.status >= http.StatusInternalServerError {
		log.ErrorContext(c.Request.Context(), "request failed", "request_id", id, "status", cl.status, "error", err)
	}
	writeTAXII(c, cl.status, errorResource{
		Title:       cl.title,
		Description: description,
		ErrorID:     id,
		ErrorCode:   cl.code,
		HTTPStatus:  strconv.Itoa(cl.status),
	})
}

// handle adapts a handler that returns an error, so that every failure is rendered in one place.
func (a *api) handle(fn func(*gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			writeError(c, a.log, err)
		}
	}
}
