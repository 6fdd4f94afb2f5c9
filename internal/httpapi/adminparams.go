package httpapi

import (
	"time"

	"github.com/gin-gonic/gin"
)

// timeParam reads an RFC 3339 timestamp from the query; absent, it is the zero time.
func timeParam(c *gin.Context, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badQuery(name, "must be an RFC 3339 timestamp such as 2026-12-01T00:00:00Z")
	}
	return t, nil
}
