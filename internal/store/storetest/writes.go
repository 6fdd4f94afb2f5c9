package storetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var writeCases = []testCase{
	{"ContentRoundTripsByteForByte", contentRoundTrips},
	{"SameVersionTwiceIsANoOp", sameVersionTwice},
	{"SameVersionOtherContentKeepsTheFirst", sameVersionOtherContent},
	{"DuplicatesWithinOneCallAreNoOps", duplicatesWithinOneCall},
	{"VersionlessObjectsAreVersionedByDateAdded", versionlessObjects},
	{"DatesAddedStrictlyIncreaseWithMicroseconds", datesAddedIncrease},
	{"WriteToMissingCollectionIsNotFound", writeToMissingCollection},
	{"InterruptedWriteReportsExactlyWhatWasStored", interruptedWrite},
	{"CollectionsAreIndependent", collectionsAreIndependent},
}

func contentRoundTrips(t *testing.T, s store.Store) {
	c := newCollection(t, s)
	objs := []store.Object{
		indicator("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "2024-03-01T10:00:00.123Z", 1),
		{
			ID: "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", Type: "ipv4-addr", SpecVersion: "2.1",
			Content: []byte("{\n  \"value\" : \"198.51.100.3\",\n  \"type\" : \"ipv4-addr\",\n  \"id\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd\",\"x_n\":1.0000000000000001\n}"),
		},
	}
	mustAdd(t, s, c, objs...)
	got := readAll(t, s, c, store.Query{Limit: 10}, false)
	if len(got) != len(objs) {
		t.Fatalf("got %d records, want %d", len(got), len(objs))
	}
	for i, r := range got {
		if !bytes.Equal(r.Content, objs[i].Content) {
			t.Errorf("record %d content changed:\n got %s\nwant %s", i, r.Content, objs[i].Content)
		}
		if r.ID != objs[i].ID || r.Type != objs[i].Type || r.SpecVersion != objs[i].SpecVersion {
			t.Errorf("record %d: got %s %s %s, want %s %s %s", i, r.ID, r.Type, r.SpecVersion,
				objs[i].ID, objs[i].Type, objs[i].SpecVersion)
		}
	}
	if !got[0].Version.Equal(objs[0].Version) {
		t.Errorf("version: got %v, want %v", got[0].Version, objs[0].Version)
	}
	for _, r := range readAll(t, s, c, store.Query{Limit: 10}, true) {
		if r.Content != nil {
			t.Errorf("manifest record %s carries content", r.ID)
		}
	}
}

func sameVersionTwice(t *testing.T, s store.Store) {
	c := newCollection(t, s)
	obj := indicator("indicator--1f3a6f0e-5a59-4b8f-a1c4-3e33c2d7c0a1", "2024-03-01T10:00:00.000Z", 1)
	first := mustAdd(t, s, c, obj)[0]
	if first.Result != store.Added {
		t.Fatalf("first add: got %v, want added", first.Result)
	}
	if !first.Version.Equal(obj.Version) || first.DateAdded.IsZero() {
		t.Errorf("first add: version %v, date added %v", first.Version, first.DateAdded)
	}
	again := mustAdd(t, s, c, obj)[0]
	if again.Result != store.Unchanged {
		t.Errorf("second add: got %v, want unchanged", again.Result)
	}
	if !again.DateAdded.Equal(first.DateAdded) {
		t.Errorf("second add moved the date added from %v to %v", first.DateAdded, again.DateAdded)
	}
	if got := readAll(t, s, c, store.Query{Limit: 10, VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}}}, false); len(got) != 1 {
		t.Errorf("collection holds %d versions, want 1", len(got))
	}
}

func sameVersionOtherContent(t *testing.T, s store.Store) {
	c := newCollection(t, s)
	obj := indicator("indicator--2b1d4c3e-0f5a-4c1b-8a7d-6e5f4a3b2c1d", "2024-03-01T10:00:00.000Z", 1)
	mustAdd(t, s, c, obj)
	changed := indicator(obj.ID, "2024-03-01T10:00:00.000Z", 2)
	if got := mustAdd(t, s, c, changed)[0]; got.Result != store.KeptExisting || !got.Result.Stored() {
		t.Errorf("re-add with other content: got %v, want kept existing", got.Result)
	}
	got := readAll(t, s, c, store.Query{Limit: 10}, false)
	if len(got) != 1 || !bytes.Equal(got[0].Content, obj.Content) {
		t.Errorf("the stored copy was not kept: %d records", len(got))
	}
}

func duplicatesWithinOneCall(t *testing.T, s store.Store) {
	c := newCollection(t, s)
	a := indicator("indicator--3c2e5d4f-1a6b-4d2c-9b8e-7f6a5b4c3d2e", "2024-03-01T10:00:00.000Z", 1)
	b := indicator(a.ID, "2024-03-01T10:00:00.000Z", 2)
	sco := object("ipv4-addr", "ipv4-addr--4d3f6e5a-2b7c-5e3d-8c9f-8a7b6c5d4e3f", "2.1", "", "same")
	out := mustAdd(t, s, c, a, a, b, sco, sco)
	want := []store.Result{store.Added, store.Unchanged, store.KeptExisting, store.Added, store.Unchanged}
	for i, o := range out {
		if o.Result != want[i] {
			t.Errorf("object %d: got %v, want %v", i, o.Result, want[i])
		}
	}
	if !out[1].DateAdded.Equal(out[0].DateAdded) || !out[4].DateAdded.Equal(out[3].DateAdded) {
		t.Errorf("a duplicate reports another date added than the version it duplicates")
	}
	all := store.VersionFilter{Versions: store.VersionMatch{All: true}}
	if got := readAll(t, s, c, store.Query{Limit: 10, VersionFilter: all}, false); len(got) != 2 {
		t.Errorf("collection holds %d versions, want 2", len(got))
	}
}

func versionlessObjects(t *testing.T, s store.Store) {
	c := newCollection(t, s)
	id := "ipv4-addr--5e4a7f6b-3c8d-5f4e-9dab-9b8c7d6e5f4a"
	one := object("ipv4-addr", id, "2.1", "", "one")
	two := object("ipv4-addr", id, "2.1", "", "two")
	o1 := mustAdd(t, s, c, one)[0]
	o2 := mustAdd(t, s, c, two)[0]
	o3 := mustAdd(t, s, c, one)[0]
	if o1.Result != store.Added || o2.Result != store.Added {
		t.Fatalf("got %v and %v, want two new versions", o1.Result, o2.Result)
	}
	if !o1.Version.Equal(o1.DateAdded) || !o2.Version.Equal(o2.DateAdded) {
		t.Errorf("a versionless object's version is not its date added: %+v %+v", o1, o2)
	}
	if o3.Result != store.Unchanged || !o3.Version.Equal(o1.Version) {
		t.Errorf("re-adding identical content: got %v version %v, want unchanged version %v", o3.Result, o3.Version, o1.Version)
	}
	last := readAll(t, s, c, store.Query{Limit: 10}, false)
	if len(last) != 1 || !bytes.Equal(last[0].Content, two.Content) {
		t.Errorf("the last version is not the latest content: %d records", len(last))
	}
}

func datesAddedIncrease(t *testing.T, s store.Store) {
	c := newCollection(t, s)
	var objs []store.Object
	for i := range 500 {
		objs = append(objs, indicator(fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i), "2024-03-01T10:00:00.000Z", i))
	}
	before := time.Now().Add(-time.Minute)
	out := mustAdd(t, s, c, objs[:250]...)
	out = append(out, mustAdd(t, s, c, objs[250:]...)...)
	for i, o := range out {
		if o.Result != store.Added {
			t.Fatalf("object %d: %v", i, o.Result)
		}
		if o.DateAdded.Before(before) || o.DateAdded.After(time.Now().Add(time.Minute)) {
			t.Errorf("object %d: date added %v is not the time it was added", i, o.DateAdded)
		}
		if o.DateAdded.Location() != time.UTC {
			t.Errorf("object %d: date added in %v, want UTC", i, o.DateAdded.Location())
		}
		if i > 0 && o.DateAdded.Sub(out[i-1].DateAdded) < time.Microsecond {
			t.Errorf("objects %d and %d: dates added %v and %v are not at least a microsecond apart",
				i-1, i, out[i-1].DateAdded, o.DateAdded)
		}
	}
	got := readAll(t, s, c, store.Query{Limit: 100}, false)
	if len(got) != len(objs) {
		t.Fatalf("read %d records, want %d", len(got), len(objs))
	}
	for i, r := range got {
		if !r.DateAdded.Equal(out[i].DateAdded) || r.ID != objs[i].ID {
			t.Errorf("record %d: %s at %v, want %s at %v", i, r.ID, r.DateAdded, objs[i].ID, out[i].DateAdded)
		}
	}
}

func writeToMissingCollection(t *testing.T, s store.Store) {
	_, err := s.AddObjects(t.Context(), newUUID(), []store.Object{indicator("indicator--6f5b8a7c-4d9e-4a5f-8ebc-0c9d8e7f6a5b", "2024-03-01T10:00:00.000Z", 1)})
	wantErrIs(t, "add to missing collection", err, store.ErrNotFound)
	_, err = s.Objects(t.Context(), newUUID(), store.Query{Limit: 10})
	wantErrIs(t, "read missing collection", err, store.ErrNotFound)
	_, err = s.Manifest(t.Context(), newUUID(), store.Query{Limit: 10})
	wantErrIs(t, "manifest of missing collection", err, store.ErrNotFound)
}

// interruptedWrite cancels large writes at different moments. Whatever the moment, the outcomes must
// name exactly the versions the collection holds afterwards.
func interruptedWrite(t *testing.T, s store.Store) {
	c := newCollection(t, s)
	var objs []store.Object
	for i := range 3000 {
		objs = append(objs, indicator(fmt.Sprintf("indicator--10000000-0000-4000-8000-%012d", i), "2024-03-01T10:00:00.000Z", i))
	}
	reported := map[string]bool{}
	for round, delay := range []time.Duration{0, 200 * time.Microsecond, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond, time.Hour} {
		batch := objs[round*500 : (round+1)*500]
		ctx, cancel := context.WithTimeout(t.Context(), delay)
		out, err := s.AddObjects(ctx, c, batch)
		cancel()
		if len(out) != len(batch) {
			t.Fatalf("round %d: %d outcomes for %d objects (err %v)", round, len(out), len(batch), err)
		}
		stored := 0
		for i, o := range out {
			if o.Result.Stored() {
				reported[batch[i].ID] = true
				stored++
			}
		}
		if err == nil && stored != len(batch) {
			t.Errorf("round %d: no error but only %d of %d stored", round, stored, len(batch))
		}
		t.Logf("round %d (timeout %v): %d of %d reported stored, err=%v", round, delay, stored, len(batch), err)
	}
	held := map[string]bool{}
	for _, r := range readAll(t, s, c, store.Query{Limit: 1000}, true) {
		held[r.ID] = true
	}
	for id := range reported {
		if !held[id] {
			t.Errorf("%s was reported stored but is not held", id)
		}
	}
	for id := range held {
		if !reported[id] {
			t.Errorf("%s is held but was reported not stored", id)
		}
	}
}

func collectionsAreIndependent(t *testing.T, s store.Store) {
	a := newCollection(t, s)
	b := newCollection(t, s)
	obj := indicator("indicator--7a6c9b8d-5eaf-4b6a-9fcd-1d0e9f8a7b6c", "2024-03-01T10:00:00.000Z", 1)
	mustAdd(t, s, a, obj)
	if got := mustAdd(t, s, b, obj)[0]; got.Result != store.Added {
		t.Errorf("the same version in another collection: got %v, want added", got.Result)
	}
	if got := readAll(t, s, a, store.Query{Limit: 10}, false); len(got) != 1 {
		t.Errorf("collection a holds %d records, want 1", len(got))
	}
}
