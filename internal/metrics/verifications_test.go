package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestVerificationsCountByCheckAndResult: every series exists at zero before any verification, so
// that an alert has something to watch, and each outcome counts where it belongs.
func TestVerificationsCountByCheckAndResult(t *testing.T) {
	reg := prometheus.NewRegistry()
	verified := NewVerifications(reg)
	if before := counts(t, reg); len(before) != 4 {
		t.Errorf("series before any verification: %v; want 4 at zero", before)
	}
	verified("deep", false)
	verified("deep", true)
	verified("ledger", true)
	verified("ledger", true)
	got := counts(t, reg)
	want := map[string]float64{"deep/failed": 1, "deep/ok": 1, "ledger/ok": 2, "ledger/failed": 0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v; want %v (all: %v)", k, got[k], v, got)
		}
	}
}

// counts reads the verification counters as check/result: value.
func counts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "taxiihub_ledger_verifications_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["check"]+"/"+labels["result"]] = m.GetCounter().GetValue()
		}
	}
	return got
}
