package httpapi

import (
	"strconv"
	"testing"
	"time"
)

func TestBucketsSpendRefillAndForget(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	b := newBuckets(1, 2, 100) // one a second, bursts of two; full again after 2 s idle

	for i := range 2 {
		if _, ok := b.take("cert-eu", t0); !ok {
			t.Fatalf("take %d within the burst refused", i+1)
		}
	}
	wait, ok := b.take("cert-eu", t0)
	if ok || wait != time.Second {
		t.Fatalf("over the burst: ok=%v wait=%v, want refused for 1s", ok, wait)
	}
	if _, ok := b.check("cert-eu", t0.Add(500*time.Millisecond)); ok {
		t.Errorf("check passed half-way to the next token")
	}
	if _, ok := b.check("cert-eu", t0.Add(time.Second)); !ok {
		t.Errorf("check refused once a token was back")
	}
	if _, ok := b.check("cert-eu", t0.Add(time.Second)); !ok {
		t.Errorf("check spent the token")
	}
	if _, ok := b.take("nl-nctv", t0); !ok {
		t.Errorf("another key shares the bucket")
	}

	// Unused for longer than it takes to fill up, both are forgotten at the next sweep.
	later := t0.Add(3 * time.Second)
	b.take("cncert", later)
	if n := b.size(); n != 1 {
		t.Errorf("%d buckets after the idle ones filled up, want 1", n)
	}
	if _, ok := b.check("never-seen", later); !ok {
		t.Errorf("an unknown key is refused")
	}
}

func TestBucketsStayBounded(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	b := newBuckets(0.001, 1, 50)
	for i := range 1000 {
		b.take("198.51.100."+strconv.Itoa(i), now)
	}
	if n := b.size(); n > 50 {
		t.Errorf("%d buckets held, want at most 50", n)
	}
}

func TestNoLimitWithoutARate(t *testing.T) {
	b := newBuckets(0, 10, 10)
	if b != nil {
		t.Fatal("a zero rate made buckets")
	}
	if _, ok := b.take("x", time.Now()); !ok {
		t.Error("nil buckets refused")
	}
}

func TestClientKey(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"198.51.100.7", "198.51.100.7"},
		{"::ffff:198.51.100.7", "198.51.100.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"}, // one /64
	} {
		if clientKey(tc.a) != clientKey(tc.b) {
			t.Errorf("%s and %s count apart: %q, %q", tc.a, tc.b, clientKey(tc.a), clientKey(tc.b))
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"198.51.100.7", "198.51.100.8"},
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
	} {
		if clientKey(tc.a) == clientKey(tc.b) {
			t.Errorf("%s and %s count as one client", tc.a, tc.b)
		}
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	for wait, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", 1200 * time.Millisecond: "2", 5 * time.Second: "5"} {
		if got := retryAfter(wait); got != want {
			t.Errorf("retryAfter(%v) = %s, want %s", wait, got, want)
		}
	}
}

func TestMetricLabelsStayBounded(t *testing.T) {
	for path, want := range map[string]string{
		"": "unmatched", "/taxii2": "/taxii2/", "/taxii2/": "/taxii2/", "/healthz": "/healthz",
		"/:root/collections/:collection/objects": "/:root/collections/:collection/objects/",
	} {
		if got := routeLabel(path); got != want {
			t.Errorf("routeLabel(%q) = %q, want %q", path, got, want)
		}
	}
	for method, want := range map[string]string{"GET": "GET", "DELETE": "DELETE", "BREW": "other", "get": "other"} {
		if got := methodLabel(method); got != want {
			t.Errorf("methodLabel(%q) = %q, want %q", method, got, want)
		}
	}
}
