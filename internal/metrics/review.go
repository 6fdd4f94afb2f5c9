package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"taxiihub/internal/store"
)

// reviewPendingTimeout bounds the store read of one scrape, as tokenExpiryTimeout does.
const reviewPendingTimeout = 2 * time.Second

// reviewPending is the collector of taxiihub_review_pending_objects. It counts the held objects in
// the store when scraped, rather than keeping a gauge moved by this node's submissions and
// decisions: several nodes share one MongoDB, each submits, decides and sweeps expiries, and a
// gauge kept per node would count only its own share (and drift on every restart). Read from the
// store, every node reports the same, true figure, so dashboards and alerts take max, not sum,
// across nodes.
type reviewPending struct {
	desc *prometheus.Desc
	read func(context.Context) ([]store.PendingCount, error)
	log  *slog.Logger
}

// RegisterReviewPending registers taxiihub_review_pending_objects, a gauge per collection (labels
// root and collection, the collection's id) of the objects held for review there, read by read at
// each scrape. Collections holding none have no series.
func RegisterReviewPending(reg prometheus.Registerer, read func(context.Context) ([]store.PendingCount, error), log *slog.Logger) {
	reg.MustRegister(&reviewPending{
		desc: prometheus.NewDesc("taxiihub_review_pending_objects",
			"Objects held for review per collection, read from the store at each scrape; every node sharing a database reports the same count.",
			[]string{"root", "collection"}, nil),
		read: read,
		log:  log,
	})
}

func (c *reviewPending) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *reviewPending) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), reviewPendingTimeout)
	defer cancel()
	counts, err := c.read(ctx)
	if err != nil {
		// The other series are still worth serving; an absent series is what a dashboard shows.
		c.log.Warn("metrics: could not count the objects held for review", "error", err)
		return
	}
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n.Objects), n.APIRoot, n.CollectionID)
	}
}
