package load

import (
	"fmt"
	"time"
)

// startProgress writes a progress line every ProgressInterval until the returned function is
// called, which writes a last one (ending the line on a terminal) and returns once it is written.
func (r *runner) startProgress(started time.Time) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(r.cfg.ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.writeProgress(started, false)
			case <-done:
				r.writeProgress(started, true)
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func (r *runner) writeProgress(started time.Time, last bool) {
	elapsed := time.Since(started)
	phase := "publishing"
	select {
	case <-r.stopped:
		phase = "draining"
	default:
	}
	accepted := r.accepted.Load()
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(accepted) / s
	}
	delivered := "-"
	if exp := r.expected.Load(); exp > 0 {
		delivered = fmt.Sprintf("%.1f%%", 100*float64(r.seen.Load())/float64(exp))
	}
	posts, gets := r.posts.summary(), r.gets.summary()
	line := fmt.Sprintf("%6.1fs %-10s accepted %s (%s/s)  POST p50 %s p99 %s  GET p50 %s p99 %s  delivered %s  failed POST %d GET %d",
		elapsed.Seconds(), phase, count(accepted), count(int64(rate)), ms(posts.P50), ms(posts.P99),
		ms(gets.P50), ms(gets.P99), delivered, posts.Failed(), gets.Failed())
	switch {
	case r.cfg.Terminal && last:
		fmt.Fprintf(r.cfg.Progress, "\r%s\x1b[K\n", line)
	case r.cfg.Terminal:
		fmt.Fprintf(r.cfg.Progress, "\r%s\x1b[K", line)
	default:
		fmt.Fprintln(r.cfg.Progress, line)
	}
}
