package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// NewVerifications registers taxiihub_ledger_verifications_total and returns the function the
// operator service calls after each verification. Both results of both checks are created at
// once, so that an alert on failures has a series (at zero) before the first one fails.
func NewVerifications(reg prometheus.Registerer) func(check string, ok bool) {
	c := promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
		Name: "taxiihub_ledger_verifications_total",
		Help: "Verifications operators ran (audit verify), by check (ledger: the hash chain; deep: the chain, the stored data and the audit trail) and result (ok, failed).",
	}, []string{"check", "result"})
	for _, check := range []string{"ledger", "deep"} {
		for _, result := range []string{"ok", "failed"} {
			c.WithLabelValues(check, result)
		}
	}
	return func(check string, ok bool) {
		result := "ok"
		if !ok {
			result = "failed"
		}
		c.WithLabelValues(check, result).Inc()
	}
}
