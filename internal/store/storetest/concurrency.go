package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var concurrencyCases = []testCase{
	{"PollerDuringConcurrentWritesSeesEveryVersionOnce", pollerDuringWrites},
	{"ConcurrentIdenticalWritesAddEachVersionOnce", concurrentIdenticalWrites},
}

// pollerDuringWrites is the CERT-tooling guarantee: while several writers add to one collection, a
// poller that follows the cursor, and re-polls with added_after when it reaches the end, ends up with
// every version exactly once.
func pollerDuringWrites(t *testing.T, s store.Store) {
	const writers, batches, perBatch = 4, 20, 25
	c := newCollection(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				var objs []store.Object
				for i := range perBatch {
					id := fmt.Sprintf("indicator--70000000-0000-4000-8%03d-%012d", w, b*perBatch+i)
					objs = append(objs, indicator(id, "2024-03-01T10:00:00.000Z", i))
				}
				out, err := s.AddObjects(t.Context(), c, objs)
				if err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					return
				}
				for i, o := range out {
					if o.Result != store.Added {
						errs <- fmt.Errorf("writer %d: %s: %v", w, objs[i].ID, o.Result)
						return
					}
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[string]int{}
	var last time.Time
	q := store.Query{Limit: 37}
	poll := func() (more bool) {
		p, err := s.Objects(t.Context(), c, q)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		for _, r := range p.Records {
			seen[r.ID]++
			if !r.DateAdded.After(last) {
				t.Errorf("%s added %v arrived after a version added %v", r.ID, r.DateAdded, last)
			}
			last = r.DateAdded
		}
		if p.More {
			q.Cursor = p.Next
			return true
		}
		q.Cursor = ""
		if l, ok := p.LastAdded(); ok {
			q.AddedAfter = l
		}
		return false
	}
	polls := 0
	for writing := true; writing; {
		select {
		case <-done:
			writing = false
		default:
		}
		for poll() {
			polls++
		}
		polls++
		time.Sleep(time.Millisecond) // a real poller waits between polls; this one just stays busy
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := writers * batches * perBatch
	duplicates := 0
	for _, n := range seen {
		if n > 1 {
			duplicates++
		}
	}
	if len(seen) != want || duplicates > 0 {
		t.Errorf("the poller saw %d distinct versions (%d more than once), want %d exactly once", len(seen), duplicates, want)
	}
	t.Logf("%d versions from %d writers, %d polls", len(seen), writers, polls)
}

// concurrentIdenticalWrites has several clients retry the same envelope at once: each version must be
// added exactly once and every other attempt must report it as already there.
func concurrentIdenticalWrites(t *testing.T, s store.Store) {
	const clients, n = 4, 200
	c := newCollection(t, s)
	var objs []store.Object
	for i := range n {
		objs = append(objs, indicator(fmt.Sprintf("indicator--80000000-0000-4000-8000-%012d", i), "2024-03-01T10:00:00.000Z", i))
	}
	results := make([][]store.Outcome, clients)
	var wg sync.WaitGroup
	for cl := range clients {
		wg.Go(func() {
			out, err := s.AddObjects(t.Context(), c, objs)
			if err != nil {
				t.Errorf("client %d: %v", cl, err)
			}
			results[cl] = out
		})
	}
	wg.Wait()
	for i := range n {
		added, unchanged := 0, 0
		for cl := range clients {
			if len(results[cl]) != n {
				continue // the failed call was reported above
			}
			switch results[cl][i].Result {
			case store.Added:
				added++
			case store.Unchanged:
				unchanged++
			}
		}
		if added != 1 || unchanged != clients-1 {
			t.Errorf("%s: added by %d clients, unchanged for %d; want 1 and %d", objs[i].ID, added, unchanged, clients-1)
		}
	}
	all := store.VersionFilter{Versions: store.VersionMatch{All: true}}
	if got := readAll(t, s, c, store.Query{Limit: 1000, VersionFilter: all}, true); len(got) != n {
		t.Errorf("collection holds %d versions, want %d", len(got), n)
	}
}
