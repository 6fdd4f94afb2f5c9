package httpapi

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
)

// accessLog writes one structured line per request once it is answered: who (member or operator,
// and the client address), in which partnership, what, and how it went. Requests that fail
// authentication still name no member. The probes and scrapes log at debug level: they arrive every
// few seconds from every load balancer and would drown the partners' requests.
func (a *api) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	attrs := []slog.Attr{
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.String("route", routeLabel(c.FullPath())),
		slog.Int("status", c.Writer.Status()),
		slog.Int("bytes", c.Writer.Size()),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("client_ip", c.ClientIP()),
	}
	if member := memberOf(c); member != "" {
		attrs = append(attrs, slog.String("member", member))
	}
	if operator := c.GetString(operatorKey); operator != "" {
		attrs = append(attrs, slog.String("operator", operator))
	}
	if root := c.Param("root"); root != "" {
		attrs = append(attrs, slog.String("partnership", root))
	}
	level := slog.LevelInfo
	if isOpsRoute(c.FullPath()) {
		level = slog.LevelDebug
	}
	a.log.LogAttrs(c.Request.Context(), level, "request", attrs...)
}
