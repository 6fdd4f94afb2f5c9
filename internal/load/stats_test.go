package load

import (
	"testing"
	"time"
)

func TestHistogramPercentiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	l := h.latency()
	for _, c := range []struct {
		name      string
		got, want time.Duration
	}{
		{"p50", l.P50, 500 * time.Millisecond},
		{"p90", l.P90, 900 * time.Millisecond},
		{"p99", l.P99, 990 * time.Millisecond},
		{"max", l.Max, 1000 * time.Millisecond},
	} {
		// Buckets are 1.09% wide and report their upper bound.
		if c.got < c.want || float64(c.got) > float64(c.want)*1.011 {
			t.Errorf("%s = %v; want %v within +1.1%%", c.name, c.got, c.want)
		}
	}
	if l.Count != 1000 {
		t.Errorf("Count = %d; want 1000", l.Count)
	}
	var empty histogram
	if got := empty.latency(); got != (Latency{}) {
		t.Errorf("empty histogram = %+v; want zero", got)
	}
}

func TestRequestsCountFailures(t *testing.T) {
	var s requestStats
	for _, status := range []int{202, 202, 503, 500, 0, 400} {
		s.record(status, time.Millisecond)
	}
	r := s.summary()
	if r.Failed() != 4 || r.ServerErrors() != 2 || r.Transport != 1 || r.Count != 2 {
		t.Errorf("summary = %+v: failed %d, 5xx %d; want 4 failed, 2 5xx, 1 transport, 2 timed", r, r.Failed(), r.ServerErrors())
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q; want %q", n, got, want)
		}
	}
}
