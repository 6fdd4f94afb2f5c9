package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var lifecycleCases = []testCase{
	{"APIRootsCreateListDelete", apiRootsCreateListDelete},
	{"APIRootWithCollectionsCannotBeDeleted", apiRootWithCollections},
	{"CollectionsCreateFindList", collectionsCreateFindList},
	{"CollectionIDsAndAliasesAreUnique", collectionUniqueness},
	{"DeleteCollectionRemovesItsObjects", deleteCollection},
	{"StatusSaveReplaceFind", statusRoundTrip},
	{"StatusLargerThanADocument", statusLargerThanADocument},
}

func apiRootsCreateListDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	roots := []store.APIRoot{
		{Slug: "eu-japan", Title: "EU–Japan", Description: "Security and defence partnership"},
		{Slug: "eu-china-cyber", Title: "EU–China cyber taskforce"},
	}
	for _, r := range roots {
		if err := s.CreateAPIRoot(ctx, r); err != nil {
			t.Fatalf("create %s: %v", r.Slug, err)
		}
	}
	wantErrIs(t, "create duplicate slug", s.CreateAPIRoot(ctx, store.APIRoot{Slug: "eu-japan", Title: "again"}), store.ErrConflict)

	got, err := s.APIRoot(ctx, "eu-japan")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if !reflect.DeepEqual(got, roots[0]) {
		t.Errorf("get eu-japan: got %+v, want %+v", got, roots[0])
	}
	_, err = s.APIRoot(ctx, "nowhere")
	wantErrIs(t, "get missing root", err, store.ErrNotFound)

	list, err := s.APIRoots(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if want := []store.APIRoot{roots[1], roots[0]}; !reflect.DeepEqual(list, want) {
		t.Errorf("list: got %+v, want %+v (ordered by slug)", list, want)
	}

	if err := s.DeleteAPIRoot(ctx, "eu-japan"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = s.APIRoot(ctx, "eu-japan")
	wantErrIs(t, "get deleted root", err, store.ErrNotFound)
	wantErrIs(t, "delete missing root", s.DeleteAPIRoot(ctx, "eu-japan"), store.ErrNotFound)
}

func apiRootWithCollections(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: "eu-immigration-ct", Title: "Immigration to CT"}); err != nil {
		t.Fatalf("create root: %v", err)
	}
	id := newCollectionIn(t, s, "eu-immigration-ct")
	wantErrIs(t, "delete root holding a collection", s.DeleteAPIRoot(ctx, "eu-immigration-ct"), store.ErrConflict)
	if _, err := s.Collection(ctx, "eu-immigration-ct", id); err != nil {
		t.Errorf("the refused delete removed the collection: %v", err)
	}
	if err := s.DeleteCollection(ctx, "eu-immigration-ct", id); err != nil {
		t.Fatalf("delete collection: %v", err)
	}
	if err := s.DeleteAPIRoot(ctx, "eu-immigration-ct"); err != nil {
		t.Errorf("delete emptied root: %v", err)
	}
}

func collectionsCreateFindList(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, slug := range []string{"a", "b"} {
		if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: slug, Title: slug}); err != nil {
			t.Fatalf("create root: %v", err)
		}
	}
	indicators := store.Collection{
		ID: newUUID(), APIRoot: "a", Title: "Indicators", Alias: "indicators",
		Description: "Shared indicators", MediaTypes: []string{"application/stix+json;version=2.1"},
	}
	advisories := store.Collection{ID: newUUID(), APIRoot: "a", Title: "Advisories"}
	other := store.Collection{ID: newUUID(), APIRoot: "b", Title: "Elsewhere", Alias: "indicators"}
	for _, c := range []store.Collection{indicators, advisories, other} {
		if err := s.CreateCollection(ctx, c); err != nil {
			t.Fatalf("create %s: %v", c.Title, err)
		}
	}
	wantErrIs(t, "create in missing root",
		s.CreateCollection(ctx, store.Collection{ID: newUUID(), APIRoot: "missing", Title: "x"}), store.ErrNotFound)

	for _, ref := range []string{indicators.ID, "indicators"} {
		got, err := s.Collection(ctx, "a", ref)
		if err != nil {
			t.Fatalf("find by %q: %v", ref, err)
		}
		if !sameCollection(got, indicators) {
			t.Errorf("find by %q: got %+v, want %+v", ref, got, indicators)
		}
	}
	_, err := s.Collection(ctx, "b", indicators.ID)
	wantErrIs(t, "find a collection through another root", err, store.ErrNotFound)
	got, err := s.Collection(ctx, "b", "indicators")
	if err != nil || got.ID != other.ID {
		t.Errorf("alias is per root: got %+v, %v; want %s", got, err, other.ID)
	}

	list, err := s.Collections(ctx, "a")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if want := []store.Collection{advisories, indicators}; !slices.EqualFunc(list, want, sameCollection) {
		t.Errorf("list: got %+v, want %+v (ordered by title)", list, want)
	}
	_, err = s.Collections(ctx, "missing")
	wantErrIs(t, "list missing root", err, store.ErrNotFound)
}

func collectionUniqueness(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, slug := range []string{"a", "b"} {
		if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: slug, Title: slug}); err != nil {
			t.Fatalf("create root: %v", err)
		}
	}
	first := store.Collection{ID: newUUID(), APIRoot: "a", Title: "First", Alias: "shared"}
	if err := s.CreateCollection(ctx, first); err != nil {
		t.Fatalf("create: %v", err)
	}
	wantErrIs(t, "same id in the same root",
		s.CreateCollection(ctx, store.Collection{ID: first.ID, APIRoot: "a", Title: "Again"}), store.ErrConflict)
	wantErrIs(t, "same id in another root",
		s.CreateCollection(ctx, store.Collection{ID: first.ID, APIRoot: "b", Title: "Again"}), store.ErrConflict)
	wantErrIs(t, "same alias in the same root",
		s.CreateCollection(ctx, store.Collection{ID: newUUID(), APIRoot: "a", Title: "Again", Alias: "shared"}), store.ErrConflict)
	if err := s.CreateCollection(ctx, store.Collection{ID: newUUID(), APIRoot: "a", Title: "No alias"}); err != nil {
		t.Errorf("a second collection without alias: %v", err)
	}
	if err := s.CreateCollection(ctx, store.Collection{ID: newUUID(), APIRoot: "a", Title: "No alias either"}); err != nil {
		t.Errorf("a third collection without alias: %v", err)
	}
}

func deleteCollection(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := newCollection(t, s)
	c, err := s.Collection(ctx, rootOf(t, s, id), id)
	if err != nil {
		t.Fatalf("find: %v", err)
	}
	keep := newCollectionIn(t, s, c.APIRoot)
	obj := indicator("indicator--6f1a5b8e-3f43-4d0a-9d1e-0c0d5f8f7b01", "2024-02-01T00:00:00.000Z", 1)
	mustAdd(t, s, id, obj)
	mustAdd(t, s, keep, obj)

	if err := s.DeleteCollection(ctx, c.APIRoot, id); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = s.Collection(ctx, c.APIRoot, id)
	wantErrIs(t, "find deleted collection", err, store.ErrNotFound)
	_, err = s.Objects(ctx, id, store.Query{Limit: 10})
	wantErrIs(t, "read deleted collection", err, store.ErrNotFound)
	_, err = s.AddObjects(ctx, id, []store.Object{obj})
	wantErrIs(t, "write to deleted collection", err, store.ErrNotFound)
	wantErrIs(t, "delete it again", s.DeleteCollection(ctx, c.APIRoot, id), store.ErrNotFound)

	if got := readAll(t, s, keep, store.Query{Limit: 10}, false); len(got) != 1 {
		t.Errorf("the other collection lost its object: %d records", len(got))
	}
}

func rootOf(t *testing.T, s store.Store, collection string) string {
	t.Helper()
	roots, err := s.APIRoots(t.Context())
	if err != nil {
		t.Fatalf("list roots: %v", err)
	}
	for _, r := range roots {
		if _, err := s.Collection(t.Context(), r.Slug, collection); err == nil {
			return r.Slug
		}
	}
	t.Fatalf("collection %s is in no root", collection)
	return ""
}

func statusRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: "eu-japan", Title: "EU–Japan"}); err != nil {
		t.Fatalf("create root: %v", err)
	}
	pending := store.Status{
		ID: newUUID(), APIRoot: "eu-japan", Submitter: "cert-eu", Pending: true,
		RequestTimestamp: time.Date(2026, 11, 23, 1, 2, 3, 456789000, time.UTC),
		Pendings: []store.StatusDetail{
			{ID: "indicator--1", Version: "2024-01-01T00:00:00.000Z"},
			{ID: "indicator--2", Version: "2024-01-02T00:00:00.000Z"},
		},
	}
	if err := s.SaveStatus(ctx, pending); err != nil {
		t.Fatalf("save: %v", err)
	}
	got, err := s.Status(ctx, "eu-japan", pending.ID)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if !sameStatus(got, pending) {
		t.Errorf("get pending: got %+v, want %+v", got, pending)
	}

	complete := pending
	complete.Pending = false
	complete.Pendings = nil
	complete.Successes = []store.StatusDetail{{ID: "indicator--1", Version: "2024-01-01T00:00:00.000Z", Message: "added"}}
	complete.Failures = []store.StatusDetail{{ID: "indicator--2", Version: "2024-01-02T00:00:00.000Z", Message: "pattern: unbalanced brackets"}}
	if err := s.SaveStatus(ctx, complete); err != nil {
		t.Fatalf("replace: %v", err)
	}
	got, err = s.Status(ctx, "eu-japan", pending.ID)
	if err != nil {
		t.Fatalf("get after replace: %v", err)
	}
	if !sameStatus(got, complete) {
		t.Errorf("get complete: got %+v, want %+v", got, complete)
	}

	_, err = s.Status(ctx, "another-root", pending.ID)
	wantErrIs(t, "status through another root", err, store.ErrNotFound)
	_, err = s.Status(ctx, "eu-japan", newUUID())
	wantErrIs(t, "unknown status", err, store.ErrNotFound)
}

// sameCollection compares collections treating a nil and an empty list alike, as backends may.
func sameCollection(a, b store.Collection) bool {
	return a.ID == b.ID && a.APIRoot == b.APIRoot && a.Title == b.Title && a.Alias == b.Alias &&
		a.Description == b.Description && slices.Equal(a.MediaTypes, b.MediaTypes) && a.Policy.Equal(b.Policy) &&
		a.Members == b.Members
}

func sameStatus(a, b store.Status) bool {
	return a.ID == b.ID && a.APIRoot == b.APIRoot && a.Submitter == b.Submitter && a.Pending == b.Pending &&
		a.RequestTimestamp.Equal(b.RequestTimestamp) && slices.Equal(a.Successes, b.Successes) &&
		slices.Equal(a.Failures, b.Failures) && slices.Equal(a.Pendings, b.Pendings)
}

// hugeStatus is a status of n refused objects, each with twenty problems of 300 bytes as the sharing
// layer caps them, and a success: 3,000 such objects make a status of 18 MB, over MongoDB's 16 MB
// document limit.
func hugeStatus(id string, n int) store.Status {
	st := store.Status{ID: id, APIRoot: "eu-japan", Submitter: "cert-eu",
		RequestTimestamp: time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC),
		Successes:        []store.StatusDetail{{ID: indicatorID(0), Version: "2026-01-01T00:00:00.000Z", Message: "added"}},
		Pendings:         []store.StatusDetail{}}
	problem := strings.Repeat("p", 290)
	for i := range n {
		var msg strings.Builder
		for j := range 20 {
			fmt.Fprintf(&msg, "[invalid-property] /x_%d_%d: %s; ", i, j, problem)
		}
		st.Failures = append(st.Failures, store.StatusDetail{ID: indicatorID(i + 1), Version: "2026-01-01T00:00:00.000Z", Message: msg.String()})
	}
	return st
}

// statusLargerThanADocument saves statuses larger than a MongoDB document, directly and with a
// publication, and reads them back whole and in order; replaced by a small one, the small one is
// read back.
func statusLargerThanADocument(t *testing.T, s store.Store) {
	ctx := t.Context()
	huge := hugeStatus(newUUID(), 3000)
	size := 0
	for _, d := range huge.Failures {
		size += len(d.Message)
	}
	if size < 16<<20 {
		t.Fatalf("the status's details are %d bytes, not over 16 MB", size)
	}
	if err := s.SaveStatus(ctx, huge); err != nil {
		t.Fatalf("save a status of %d MB: %v", size>>20, err)
	}
	got, err := s.Status(ctx, huge.APIRoot, huge.ID)
	if err != nil {
		t.Fatalf("read the status of %d MB back: %v", size>>20, err)
	}
	if !sameStatus(got, huge) {
		t.Errorf("status of %d MB read back with %d successes, %d failures, %d pendings; want it whole (1, %d, 0)",
			size>>20, len(got.Successes), len(got.Failures), len(got.Pendings), len(huge.Failures))
	}

	small := huge
	small.Failures = small.Failures[:1]
	if err := s.SaveStatus(ctx, small); err != nil {
		t.Fatalf("replace the large status by a small one: %v", err)
	}
	if got, err := s.Status(ctx, small.APIRoot, small.ID); err != nil || !sameStatus(got, small) {
		t.Errorf("the small status that replaced a large one read back with %d failures (%v); want 1", len(got.Failures), err)
	}

	// Through a publication, whose status the store saves with its write.
	coll := newCollection(t, s)
	published := hugeStatus(newUUID(), 3000)
	plan := &store.StatusPlan{Status: store.Status{ID: published.ID, APIRoot: published.APIRoot, Submitter: published.Submitter,
		RequestTimestamp: published.RequestTimestamp, Successes: []store.StatusDetail{}, Failures: []store.StatusDetail{}, Pendings: []store.StatusDetail{}}}
	obj := tlpObject(1, "2026-01-01T00:00:00.000Z", 0)
	plan.Details = append(plan.Details, store.PlannedDetail{Detail: store.StatusDetail{ID: obj.ID, Version: "2026-01-01T00:00:00.000Z"}})
	for _, f := range published.Failures {
		plan.Details = append(plan.Details, store.PlannedDetail{Detail: f, Refused: true})
	}
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", Objects: []store.Object{obj}, Status: plan})
	got, err = s.Status(ctx, published.APIRoot, published.ID)
	if err != nil {
		t.Fatalf("read back the status of a publication of 3,000 refused objects: %v", err)
	}
	if len(got.Successes) != 1 || !slices.Equal(got.Failures, published.Failures) {
		t.Errorf("the publication's status read back with %d successes and %d failures (same as sent: %v); want 1 and %d",
			len(got.Successes), len(got.Failures), slices.Equal(got.Failures, published.Failures), len(published.Failures))
	}
}
