// Package requestlog ties log lines to the request they were written for. The HTTP layer puts each
// request's id into the request's context; Handler then adds it to every record logged with that
// context, so that any package logging with log.InfoContext(ctx, ...) names the request without
// knowing about HTTP.
package requestlog

import (
	"context"
	"log/slog"
)

// Key is the attribute that carries the request id in log records.
const Key = "request_id"

// idKey finds the request id in a context.
type idKey struct{}

// WithID returns ctx carrying the request id id.
func WithID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, idKey{}, id)
}

// ID is the request id ctx carries, or "" when it carries none.
func ID(ctx context.Context) string {
	id, _ := ctx.Value(idKey{}).(string)
	return id
}

// Handler adds the request id of a record's context to the record. Under a group opened with
// WithGroup the id lands inside that group, like every attribute added to a record there.
type Handler struct {
	next slog.Handler
}

// NewHandler wraps next so that records logged with a request's context name the request. A Handler
// is returned as it is: wrapping twice would name the request twice in every line, and the server
// and the HTTP layer each make sure the logger they are given is wrapped.
func NewHandler(next slog.Handler) *Handler {
	if h, ok := next.(*Handler); ok {
		return h
	}
	return &Handler{next: next}
}

func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		// Copies of a record share its attributes: a clone keeps the id out of the record a handler
		// fanning out to several others (this one among them) passes on to the rest.
		r = r.Clone()
		r.AddAttrs(slog.String(Key, id))
	}
	return h.next.Handle(ctx, r)
}

func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs)}
}

func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name)}
}
