package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/policy"
	"taxiihub/internal/sharing"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
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

// statusClientClosedRequest is the status a request the client abandoned is counted and logged
// with, as nginx does; no client reads it.
const statusClientClosedRequest = 499

// refusedBodyGrace is how long the server may go on reading a refused request's body, so that a
// client sending it at any reasonable speed reads the answer instead of a reset connection.
const refusedBodyGrace = time.Second

// classification is the one table that turns an error into what the client sees.
type classification struct {
	status int
	code   string
	title  string
}

func classify(err error) (classification, string) {
	var (
		re        *requestError
		refused   *admin.Error
		denied    *sharing.Error
		cred      *auth.CredentialError
		filter    *taxii.FilterError
		cursor    *store.CursorError
		query     *store.QueryError
		envelope  *taxii.EnvelopeError
		tooMany   *taxii.TooManyObjectsError
		bodyLimit *http.MaxBytesError
		unread    *taxii.ReadError
		slow      *SlowBodyError
	)
	switch {
	case errors.As(err, &re):
		return classification{re.status, re.code, re.title}, re.description
	case errors.As(err, &refused):
		return adminClassification(refused.Kind), sentence(refused.Message)
	case errors.As(err, &denied):
		return sharingClassification(denied.Kind), denied.Message
	case errors.As(err, &cred):
		return classification{http.StatusUnauthorized, "unauthenticated", "Authentication required"},
			"Send a hub token as Bearer, as Token, or as the Basic password: " + cred.Reason + "."
	case errors.Is(err, auth.ErrUnauthenticated):
		return classification{http.StatusUnauthorized, "unauthenticated", "Authentication required"},
			"Send a hub token as Bearer, as Token, or as the Basic password."
	case errors.As(err, &filter):
		return classification{http.StatusBadRequest, "invalid-filter", "Invalid filter"},
			fmt.Sprintf("The %s parameter %s.", filter.Param, filter.Reason)
	case errors.As(err, &cursor):
		return classification{http.StatusBadRequest, "invalid-next", "Invalid next"},
			"The next parameter cannot be used here: " + cursor.Reason + ". Start again without next."
	case errors.As(err, &query):
		return classification{http.StatusBadRequest, "invalid-filter", "Invalid filter"}, query.Reason
	case errors.As(err, &tooMany):
		return classification{http.StatusRequestEntityTooLarge, "too-many-objects", "Too many objects"},
			fmt.Sprintf("The envelope holds more than %d objects, the most accepted per request; send them in several requests.", tooMany.Max)
	case errors.As(err, &bodyLimit):
		return classification{http.StatusRequestEntityTooLarge, "too-large", "Request too large"},
			fmt.Sprintf("The body exceeds %d bytes (max_content_length).", bodyLimit.Limit)
	case errors.As(err, &slow):
		return classification{http.StatusRequestTimeout, "too-slow", "Body too slow"},
			fmt.Sprintf("The body arrived more slowly than %d bytes a second; send it faster, or in smaller requests.", slow.Rate)
	case errors.As(err, &unread):
		return classification{http.StatusBadRequest, "unreadable-body", "Unreadable body"},
			"The request body could not be read completely."
	case errors.As(err, &envelope):
		return classification{http.StatusUnprocessableEntity, "invalid-envelope", "Unprocessable envelope"},
			envelope.Reason + "."
	case errors.Is(err, store.ErrNotFound):
		return classification{http.StatusNotFound, "not-found", "Not found"}, ""
	case errors.Is(err, store.ErrConflict):
		return classification{http.StatusConflict, "conflict", "Conflict"},
			"The request conflicts with the hub's current state; look again and retry."
	case errors.Is(err, context.Canceled):
		// The client went away: nobody reads this answer, and the hub did nothing wrong.
		return classification{statusClientClosedRequest, "client-closed-request", "Client closed the request"},
			"The client closed the request before the hub answered."
	case errors.Is(err, context.DeadlineExceeded):
		return classification{http.StatusServiceUnavailable, "timeout", "The request took too long"},
			"The hub could not answer within its deadline; retry later."
	default:
		return classification{http.StatusInternalServerError, "internal", "Internal error"},
			"The hub could not complete the request; quote the error_id when reporting it."
	}
}

// adminClassification is how the operator service's refusals answer.
func adminClassification(k admin.Kind) classification {
	switch k {
	case admin.Invalid:
		return classification{http.StatusBadRequest, "invalid-request", "Invalid request"}
	case admin.NotFound:
		return classification{http.StatusNotFound, "not-found", "Not found"}
	case admin.Conflict:
		return classification{http.StatusConflict, "conflict", "Conflict"}
	case admin.Weakens:
		return classification{http.StatusConflict, "weakens-rules", "The change weakens sharing rules"}
	default:
		return classification{http.StatusInternalServerError, "internal", "Internal error"}
	}
}

// sharingClassification is how the sharing service's refusals answer.
func sharingClassification(k sharing.Kind) classification {
	switch k {
	case sharing.NotFound:
		return classification{http.StatusNotFound, "not-found", "Not found"}
	case sharing.Forbidden:
		return classification{http.StatusForbidden, "forbidden", "Not permitted"}
	case sharing.OneWay:
		return classification{http.StatusForbidden, policy.CodeOneWay, "Not permitted in this direction"}
	case sharing.NotOwner:
		return classification{http.StatusForbidden, "not-owner", "Not the publisher"}
	case sharing.Invalid:
		return classification{http.StatusBadRequest, "invalid-request", "Invalid request"}
	case sharing.TooLarge:
		return classification{http.StatusRequestEntityTooLarge, "too-many-objects", "Too many objects"}
	default:
		return classification{http.StatusInternalServerError, "internal", "Internal error"}
	}
}

// writeError answers with a TAXII error resource. Server faults are logged with the request id,
// which the body carries as error_id so an operator can find the cause.
func writeError(c *gin.Context, log *slog.Logger, err error) {
	err = refuseFailure(c, err)
	cl, description := classify(err)
	id := requestID(c)
	if cl.status == http.StatusUnauthorized {
		// Two challenges: Basic for the many clients that speak nothing else, Bearer for the rest.
		c.Header("WWW-Authenticate", `Basic realm="taxiihub", charset="UTF-8", Bearer realm="taxiihub"`)
	}
	if c.Request.ContentLength != 0 {
		// A refused request's body may still be on its way, and the server would wait to read it
		// before answering on a connection it keeps: a client trickling a body with no token could
		// hold the connection for good. Closing it answers at once and reads nothing more.
		c.Header("Connection", "close")
		// The server still reads up to 256 KiB of what is left of the body before it closes, so that
		// the client, still sending, gets the answer rather than a reset: a trickled body would
		// hold the connection all the same, so that reading gets refusedBodyGrace and no more.
		_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(refusedBodyGrace)) // a test's recorder takes none
	}
	switch {
	case cl.status == statusClientClosedRequest:
		log.InfoContext(c.Request.Context(), "client closed the request", "error", err)
	case cl.status >= http.StatusInternalServerError:
		log.ErrorContext(c.Request.Context(), "request failed", "status", cl.status, "error", err)
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
