//go:build unix

package mongostore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
)

// TestAuditAcrossProcesses appends through two stores on one database, as two hub processes, while a
// reader in one of them follows the log with Audit(after). Sequence numbers must be unique, increase
// in each appender's order, and become visible in order: a reader that resumes after N must never
// have missed a smaller number that commits later.
func TestAuditAcrossProcesses(t *testing.T) {
	const stores, appendersPerStore, each = 2, 4, 15
	db := mongod.Database(t)
	procs := []*mongostore.Store{openStore(t, db), openStore(t, db)}
	ctx := t.Context()

	var wg sync.WaitGroup
	for p := range stores {
		for a := range appendersPerStore {
			wg.Go(func() {
				for i := range each {
					e := store.AuditEntry{Seq: 1_000_000, At: time.Now(), Actor: fmt.Sprintf("op-%d-%d", p, a),
						Action: "member.update", Target: fmt.Sprint(i)}
					if err := procs[p].AppendAudit(ctx, e); err != nil {
						t.Errorf("store %d appender %d entry %d: %v", p, a, i, err)
						return
					}
				}
			})
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	var seen []store.AuditEntry
	var after int64
	poll := func() {
		for {
			page, err := procs[1].Audit(ctx, after, 7)
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			if len(page) == 0 {
				return
			}
			seen = append(seen, page...)
			after = page[len(page)-1].Seq
		}
	}
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		poll()
	}
	poll()

	// What the follower saw must be the whole log as it stands at the end.
	var all []store.AuditEntry
	for after := int64(0); ; {
		page, err := procs[0].Audit(ctx, after, store.MaxLimit)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	total := stores * appendersPerStore * each
	if len(all) != total || len(seen) != total {
		t.Fatalf("log holds %d entries and the follower saw %d, want %d", len(all), len(seen), total)
	}
	last := map[string]int{}
	for i, e := range all {
		if e.Seq != seen[i].Seq || e.Target != seen[i].Target {
			t.Errorf("entry %d: follower saw %+v, log holds %+v", i, seen[i], e)
		}
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Errorf("entry %d has seq %d after %d", i, e.Seq, all[i-1].Seq)
		}
		if e.Seq == 1_000_000 {
			t.Errorf("entry %d kept the caller's seq", i)
		}
		var n int
		if _, err := fmt.Sscan(e.Target, &n); err != nil {
			t.Fatalf("entry %d: target %q: %v", i, e.Target, err)
		}
		if prev, ok := last[e.Actor]; ok && n <= prev {
			t.Errorf("%s's entry %d has seq %d, below its entry %d's", e.Actor, n, e.Seq, prev)
		}
		last[e.Actor] = n
	}
	// Not a promise of the contract, but what the transaction gives: no number is lost.
	if first, final := all[0].Seq, all[len(all)-1].Seq; first != 1 || final != int64(total) {
		t.Errorf("sequence runs %d..%d over %d entries, want 1..%d", first, final, total, total)
	}
}

// TestAuditCounterCatchesUpAtOpen loses the counter document, as a partial restore would, and checks
// that the next Open moves it past the log instead of handing out numbers already taken.
func TestAuditCounterCatchesUpAtOpen(t *testing.T) {
	db := mongod.Database(t)
	s := openStore(t, db)
	ctx := t.Context()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := s.AppendAudit(ctx, store.AuditEntry{At: at, Actor: "op", Action: "test", Target: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}

	client, err := mongo.Connect(options.Client().ApplyURI(mongod.URI()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	counters := client.Database(db).Collection("counters")
	if _, err := counters.DeleteOne(ctx, bson.D{{Key: "_id", Value: "audit"}}); err != nil {
		t.Fatal(err)
	}
	// Without the counter, an append starts again at 1, which the log refuses: no duplicate number.
	if err := s.AppendAudit(ctx, store.AuditEntry{At: at, Actor: "op", Action: "test", Target: "refused"}); err == nil {
		t.Error("an append under a lost counter succeeded")
	} else if errors.Is(err, store.ErrConflict) {
		t.Errorf("an append under a lost counter reports the caller's conflict: %v", err)
	}
	if _, err := counters.DeleteOne(ctx, bson.D{{Key: "_id", Value: "audit"}}); err != nil {
		t.Fatal(err)
	}

	reopened := openStore(t, db)
	if err := reopened.AppendAudit(ctx, store.AuditEntry{At: at, Actor: "op", Action: "test", Target: "3"}); err != nil {
		t.Fatalf("append after reopening: %v", err)
	}
	all, err := reopened.Audit(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[3].Seq != 4 || all[3].Target != "3" {
		t.Errorf("log after reopening: %+v; want the new entry as number 4", all)
	}
	for _, e := range all {
		if !e.At.Equal(at) {
			t.Errorf("entry %d: at %v, want %v", e.Seq, e.At, at)
		}
	}
}

func TestAuditLimits(t *testing.T) {
	s := openStore(t, mongod.Database(t))
	for _, limit := range []int{0, -1, store.MaxLimit + 1} {
		_, err := s.Audit(t.Context(), 0, limit)
		if qe := (*store.QueryError)(nil); !errors.As(err, &qe) {
			t.Errorf("limit %d: %v, want a *store.QueryError", limit, err)
		}
	}
	if got, err := s.Audit(t.Context(), 0, store.MaxLimit); err != nil || len(got) != 0 {
		t.Errorf("an empty log: %+v, %v", got, err)
	}
}

// TestVerificationKeysRacingSaves saves one kid from two processes at once, as two hub processes
// restarting together would: all saves succeed and the first one's record stands.
func TestVerificationKeysRacingSaves(t *testing.T) {
	const rounds = 20
	db := mongod.Database(t)
	a, b := openStore(t, db), openStore(t, db)
	ctx := t.Context()
	created := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range rounds {
		kid := fmt.Sprintf("kid-%d", i)
		var wg sync.WaitGroup
		for j, s := range []*mongostore.Store{a, b} {
			wg.Go(func() {
				k := store.VerificationKey{KID: kid, PublicKey: []byte{byte(i)}, CreatedAt: created.Add(time.Duration(j) * time.Hour)}
				if err := s.SaveVerificationKey(ctx, k); err != nil {
					t.Errorf("round %d store %d: %v", i, j, err)
				}
			})
		}
		wg.Wait()
	}
	keys, err := a.VerificationKeys(ctx)
	if err != nil || len(keys) != rounds {
		t.Fatalf("keys: %d, %v; want %d", len(keys), err, rounds)
	}
	if err := a.RetireVerificationKey(ctx, "kid-0", time.Time{}); err == nil {
		t.Error("retiring at the zero time succeeded")
	}
	keys, _ = a.VerificationKeys(ctx)
	for _, k := range keys {
		if !k.RetiredAt.IsZero() {
			t.Errorf("a refused retirement retired %+v", k)
		}
	}
}
