package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MemberExpiry is when one member's earliest active partner token expires.
type MemberExpiry struct {
	Member    string
	ExpiresAt time.Time
}

// tokenExpiryTimeout bounds the store read of one scrape, so that a slow database delays a scrape
// by at most this much; Prometheus's own scrape timeout is 10 s by default.
const tokenExpiryTimeout = 2 * time.Second

// tokenExpiry is the collector of taxiihub_member_token_expiry_timestamp_seconds: it reads the
// tokens when scraped, so the series follow issues and revocations made on any node.
type tokenExpiry struct {
	desc *prometheus.Desc
	read func(context.Context) ([]MemberExpiry, error)
	log  *slog.Logger
}

// RegisterTokenExpiry registers taxiihub_member_token_expiry_timestamp_seconds, a gauge per member
// of when its earliest active partner token expires (Unix seconds), read by read at each scrape.
// Alert on it some days ahead: a partner whose token lapses stops receiving without a sound.
func RegisterTokenExpiry(reg prometheus.Registerer, read func(context.Context) ([]MemberExpiry, error), log *slog.Logger) {
	reg.MustRegister(&tokenExpiry{
		desc: prometheus.NewDesc("taxiihub_member_token_expiry_timestamp_seconds",
			"When each member's earliest active partner token expires, as a Unix time; members without an active token have no series.",
			[]string{"member"}, nil),
		read: read,
		log:  log,
	})
}

func (c *tokenExpiry) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *tokenExpiry) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), tokenExpiryTimeout)
	defer cancel()
	expiries, err := c.read(ctx)
	if err != nil {
		// The other series are still worth serving; a missing series is what the alert sees.
		c.log.Warn("metrics: could not read token expiries", "error", err)
		return
	}
	for _, e := range expiries {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(e.ExpiresAt.Unix()), e.Member)
	}
}
