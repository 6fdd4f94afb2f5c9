package load

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a Run did and found.
type Report struct {
	Hubs    []string
	Members []string
	// Publishing is the time from the first POST until publishing stopped; Elapsed the whole run,
	// polling to the end and the final read included.
	Publishing time.Duration
	Elapsed    time.Duration

	// Sent counts objects posted (each once, however often resubmitted). Accepted counts those listed
	// among the successes of a 202; Unconfirmed those never confirmed; Refused those the hub refused
	// for good, with a few of its reasons in Refusals.
	Sent, Accepted, Unconfirmed, Refused int64
	Refusals                             []string

	Posts, Gets Requests

	Collections []CollectionReport
	// Pollers lists every poller, then the final reads (Final set).
	Pollers []PollerReport
	// Interrupted is set when the context ended the run early.
	Interrupted bool
	// Cleanup is what withdrawing the run's objects achieved, when Config.Cleanup asked for it.
	Cleanup *Cleanup `json:",omitempty"`
}

// CollectionReport is what was published to one collection and who may read it.
type CollectionReport struct {
	Name string // "<root>/<alias or id>"
	ID   string
	// Type is the STIX type of the objects published to it, chosen from its advertised rules; empty
	// when it takes none the load can make, and nothing was published to it.
	Type        string
	Writers     []string
	Readers     []string
	Accepted    int
	Unconfirmed int
}

// PollerReport is what one poller saw of its collection, checked against what was accepted there.
type PollerReport struct {
	Member     string
	Index      int
	Final      bool
	Collection string
	// Seen counts distinct objects of the run served; Missing accepted objects never served;
	// Duplicated objects served more than once; Unexpected objects of the run never sent to the
	// collection; Corrupted objects served with other bytes than were sent; Foreign objects of other
	// runs (ignored).
	Seen, Missing, Duplicated, Unexpected, Corrupted, Foreign int
	// CaughtUp is set when the poller read to the end of the collection after publishing stopped.
	CaughtUp bool
	Error    string
}

// ObjectsPerSecond is the rate of accepted objects while publishing.
func (r *Report) ObjectsPerSecond() float64 {
	if r.Publishing <= 0 {
		return 0
	}
	return float64(r.Accepted) / r.Publishing.Seconds()
}

// Problems lists every way the run fell short: an accepted object not delivered exactly once and
// intact to a poller entitled to it, a poller that could not finish, objects never confirmed or
// refused, or nothing accepted at all. No problems means the hub kept its promises.
func (r *Report) Problems() []string {
	var ps []string
	if r.Interrupted {
		ps = append(ps, "the run was interrupted; its checks are incomplete")
	}
	for _, p := range r.Pollers {
		who := p.name()
		if p.Missing > 0 {
			ps = append(ps, fmt.Sprintf("%s: %d accepted objects missing", who, p.Missing))
		}
		if p.Duplicated > 0 {
			ps = append(ps, fmt.Sprintf("%s: %d objects served more than once", who, p.Duplicated))
		}
		if p.Unexpected > 0 {
			ps = append(ps, fmt.Sprintf("%s: %d objects served that were never sent to this collection", who, p.Unexpected))
		}
		if p.Corrupted > 0 {
			ps = append(ps, fmt.Sprintf("%s: %d objects served with other bytes than were sent", who, p.Corrupted))
		}
		if p.Error != "" {
			ps = append(ps, fmt.Sprintf("%s: %s", who, p.Error))
		} else if !p.CaughtUp && !r.Interrupted {
			ps = append(ps, fmt.Sprintf("%s: did not read to the end of the collection in time", who))
		}
	}
	if r.Unconfirmed > 0 {
		ps = append(ps, fmt.Sprintf("%d objects sent were never confirmed by a 202", r.Unconfirmed))
	}
	if r.Refused > 0 {
		ps = append(ps, fmt.Sprintf("%d objects were refused: %s", r.Refused, strings.Join(r.Refusals, "; ")))
	}
	if r.Sent > 0 && r.Accepted == 0 {
		ps = append(ps, "no object was accepted")
	}
	if r.Cleanup != nil && r.Cleanup.Failed > 0 {
		ps = append(ps, fmt.Sprintf("%d objects of the run could not be withdrawn and are still there: %s",
			r.Cleanup.Failed, strings.Join(r.Cleanup.Failures, "; ")))
	}
	return ps
}

func (p PollerReport) name() string {
	if p.Final {
		return fmt.Sprintf("final read of %s as %s", p.Collection, p.Member)
	}
	return fmt.Sprintf("poller %s#%d on %s", p.Member, p.Index, p.Collection)
}

func (r *runner) report(ctx context.Context, started time.Time, ledger *publishLedger, polls, finals []*poller) *Report {
	rep := &Report{
		Hubs:        r.cfg.Hubs,
		Publishing:  r.stoppedAt.Sub(r.publishAt),
		Elapsed:     time.Since(started),
		Sent:        r.sent.Load(),
		Accepted:    r.accepted.Load(),
		Refused:     ledger.refused.Load(),
		Posts:       r.posts.summary(),
		Gets:        r.gets.summary(),
		Interrupted: ctx.Err() != nil,
	}
	ledger.mu.Lock()
	rep.Refusals = slices.Clone(ledger.refusalNote)
	ledger.mu.Unlock()
	for _, m := range r.cfg.Members {
		rep.Members = append(rep.Members, m.ID)
	}
	for _, c := range r.collections {
		c.mu.Lock()
		cr := CollectionReport{Name: c.name(), ID: c.id, Type: c.shape.typ, Accepted: len(c.accepted), Unconfirmed: len(c.pending)}
		c.mu.Unlock()
		for _, m := range c.writers {
			cr.Writers = append(cr.Writers, m.ID)
		}
		for _, m := range c.readers {
			cr.Readers = append(cr.Readers, m.ID)
		}
		rep.Unconfirmed += int64(cr.Unconfirmed)
		rep.Collections = append(rep.Collections, cr)
	}
	for _, p := range slices.Concat(polls, finals) {
		rep.Pollers = append(rep.Pollers, p.check())
	}
	return rep
}

// check compares what p saw with the ledger of its collection. It runs after every publisher and
// poller has finished, so the ledger no longer changes.
func (p *poller) check() PollerReport {
	c := p.c
	pr := PollerReport{Member: p.member.ID, Index: p.index, Final: p.final, Collection: c.name(),
		Seen: len(p.seen), Foreign: p.foreign, Corrupted: p.corrupted, CaughtUp: p.caughtUp, Error: p.err}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.accepted {
		if p.seen[k] == 0 {
			pr.Missing++
		}
	}
	for k, n := range p.seen {
		if n > 1 {
			pr.Duplicated++
		}
		_, accepted := c.accepted[k]
		_, pending := c.pending[k]
		if !accepted && !pending {
			pr.Unexpected++
		}
	}
	return pr
}

// WriteText writes the report for people: throughput, latencies, and the delivery check per poller.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "hubs\t%s\n", strings.Join(r.Hubs, " "))
	fmt.Fprintf(tw, "members\t%s\n", strings.Join(r.Members, " "))
	fmt.Fprintf(tw, "published\t%s objects accepted in %s: %s objects/s (sent %s, unconfirmed %s, refused %s)\n",
		count(r.Accepted), r.Publishing.Round(time.Millisecond), count(int64(r.ObjectsPerSecond())),
		count(r.Sent), count(r.Unconfirmed), count(r.Refused))
	fmt.Fprintf(tw, "POST\t%s\n", r.Posts.text())
	fmt.Fprintf(tw, "GET\t%s\n", r.Gets.text())
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "poller\tcollection\taccepted\tseen\tmissing\tduplicated\tunexpected\tcorrupted\tcaught up")
	accepted := make(map[string]int)
	for _, c := range r.Collections {
		accepted[c.Name] = c.Accepted
	}
	for _, p := range r.Pollers {
		who := fmt.Sprintf("%s#%d", p.Member, p.Index)
		if p.Final {
			who = p.Member + " (final read)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", who, p.Collection, accepted[p.Collection],
			p.Seen, p.Missing, p.Duplicated, p.Unexpected, p.Corrupted, yesNo(p.CaughtUp))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range r.Collections {
		if len(c.Readers) == 0 && c.Accepted > 0 {
			fmt.Fprintf(w, "%s: %d objects accepted, but none of the members given may read it: unchecked\n", c.Name, c.Accepted)
		}
		if len(c.Writers) > 0 && c.Type == "" {
			fmt.Fprintf(w, "%s: takes none of the object types taxiiload makes (indicator, location, identity): not published to\n", c.Name)
		}
	}

	if c := r.Cleanup; c != nil {
		fmt.Fprintf(w, "\ncleanup: %s objects withdrawn, %s not stored, %s still there  (%s)\n",
			count(c.Withdrawn), count(c.NotStored), count(c.Failed), c.Requests.text())
	}

	fmt.Fprintln(w)
	problems := r.Problems()
	if len(problems) == 0 {
		_, err := fmt.Fprintln(w, "result: OK, every accepted object reached every entitled poller exactly once")
		return err
	}
	fmt.Fprintf(w, "result: FAILED, %d problems\n", len(problems))
	for _, p := range problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
	return nil
}

func (q Requests) text() string {
	statuses := slices.Sorted(maps.Keys(q.ByStatus))
	var answers []string
	for _, s := range statuses {
		answers = append(answers, fmt.Sprintf("%d×%s", s, count(int64(q.ByStatus[s]))))
	}
	if q.Transport > 0 {
		answers = append(answers, fmt.Sprintf("no answer×%s", count(int64(q.Transport))))
	}
	return fmt.Sprintf("%s requests  p50 %s  p90 %s  p99 %s  max %s  (%s)", count(int64(q.Total())),
		ms(q.P50), ms(q.P90), ms(q.P99), ms(q.Max), strings.Join(answers, ", "))
}

// ms renders a latency in milliseconds with three significant digits.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	default:
		return fmt.Sprintf("%.2fms", v)
	}
}

// count renders n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
