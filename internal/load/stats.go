package load

import (
	"math"
	"sync"
	"time"
)

// histogram records durations in buckets about 1% wide, so that percentiles of millions of requests
// cost a few kilobytes. Percentiles are reported as their bucket's upper bound, capped by the maximum.
type histogram struct {
	mu     sync.Mutex
	counts []uint64
	n      uint64
	max    time.Duration
}

// bucketsPerDoubling sets the resolution: 2^(1/64) is a step of 1.09%.
const bucketsPerDoubling = 64

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return int(math.Ceil(math.Log2(us) * bucketsPerDoubling))
}

func bucketUpper(i int) time.Duration {
	return time.Duration(math.Exp2(float64(i)/bucketsPerDoubling) * float64(time.Microsecond))
}

func (h *histogram) record(d time.Duration) {
	i := bucketOf(d)
	h.mu.Lock()
	defer h.mu.Unlock()
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]uint64, i+1-len(h.counts))...)
	}
	h.counts[i]++
	h.n++
	h.max = max(h.max, d)
}

// Latency summarises the durations of one kind of request.
type Latency struct {
	Count uint64
	P50   time.Duration
	P90   time.Duration
	P99   time.Duration
	Max   time.Duration
}

func (h *histogram) latency() Latency {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := Latency{Count: h.n, Max: h.max}
	if h.n == 0 {
		return l
	}
	for _, q := range []struct {
		p   float64
		out *time.Duration
	}{{0.50, &l.P50}, {0.90, &l.P90}, {0.99, &l.P99}} {
		rank := uint64(math.Ceil(q.p * float64(h.n)))
		var cum uint64
		for i, c := range h.counts {
			cum += c
			if cum >= rank {
				*q.out = min(bucketUpper(i), h.max)
				break
			}
		}
	}
	return l
}

// requestStats counts the answers to one kind of request and times the successful ones.
type requestStats struct {
	latency histogram // of requests the hub answered with 2xx

	mu        sync.Mutex
	byStatus  map[int]uint64
	transport uint64 // failed without an answer
}

func (s *requestStats) record(status int, d time.Duration) {
	if status >= 200 && status < 300 {
		s.latency.record(d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		s.transport++
		return
	}
	if s.byStatus == nil {
		s.byStatus = make(map[int]uint64)
	}
	s.byStatus[status]++
}

// Requests summarises one kind of request: latencies of the successful ones and every answer counted.
type Requests struct {
	Latency
	// ByStatus counts requests by the HTTP status of their answer; Transport those that got none
	// (refused or broken connections, timeouts).
	ByStatus  map[int]uint64
	Transport uint64
}

// Total counts every request, answered or not.
func (r Requests) Total() uint64 {
	n := r.Transport
	for _, c := range r.ByStatus {
		n += c
	}
	return n
}

// Failed counts requests that did not succeed: answered outside 2xx, or not answered.
func (r Requests) Failed() uint64 {
	n := r.Transport
	for status, c := range r.ByStatus {
		if status < 200 || status >= 300 {
			n += c
		}
	}
	return n
}

// ServerErrors counts answers with a 5xx status.
func (r Requests) ServerErrors() uint64 {
	var n uint64
	for status, c := range r.ByStatus {
		if status >= 500 {
			n += c
		}
	}
	return n
}

func (s *requestStats) summary() Requests {
	r := Requests{Latency: s.latency.latency(), ByStatus: make(map[int]uint64)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.byStatus {
		r.ByStatus[k] = v
	}
	r.Transport = s.transport
	return r
}
