package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// partStore records how many objects each Publish carries, and fails every Publish from the
// failFrom-th on (never when zero), as a store whose primary went away mid-request would.
type partStore struct {
	store.Store
	failFrom int

	mu    sync.Mutex
	parts []int
	saves int // SaveStatus calls
}

func (s *partStore) SaveStatus(ctx context.Context, st store.Status) error {
	s.mu.Lock()
	s.saves++
	s.mu.Unlock()
	return s.Store.SaveStatus(ctx, st)
}

func (s *partStore) statusSaves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

func (s *partStore) Publish(ctx context.Context, p store.Publication) ([]store.Outcome, error) {
	s.mu.Lock()
	s.parts = append(s.parts, len(p.Objects)+len(p.Refused))
	n := len(s.parts)
	s.mu.Unlock()
	if s.failFrom > 0 && n >= s.failFrom {
		return make([]store.Outcome, len(p.Objects)), errors.New("store unavailable")
	}
	return s.Store.Publish(ctx, p)
}

func (s *partStore) published() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.parts...)
}

func indicators(first, n int) []byte {
	objs := make([]string, n)
	for i := range objs {
		objs[i] = indicatorJSON(first+i, "2026-01-01T00:00:00.000Z")
	}
	return envelope(objs...)
}

// A large request is judged and stored a thousand objects at a time; a dry run in one go.
func TestAddObjectsStoresInParts(t *testing.T) {
	st := &partStore{Store: openSQLite(t)}
	h, path, tok := oneCollection(t, st)
	r := h.post(path+"objects/", tok, indicators(0, 2500))
	var status taxii.Status
	r.json(t, &status)
	if r.status != http.StatusAccepted || status.SuccessCount != 2500 {
		t.Fatalf("post: %d, %d successes", r.status, status.SuccessCount)
	}
	if got := st.published(); len(got) != 3 || got[0] != 1000 || got[1] != 1000 || got[2] != 500 {
		t.Errorf("Publish calls carried %v objects; want [1000 1000 500]", got)
	}
	for i, s := range status.Successes[:3] {
		if s.ID != objectID(i) {
			t.Errorf("success %d is %s; want the objects in the order sent", i, s.ID)
		}
	}
	// The status went into the store with the last part, not in a write of its own.
	if n := st.statusSaves(); n != 0 {
		t.Errorf("SaveStatus called %d times; want the status saved by the last Publish", n)
	}
	var again taxii.Status
	h.get("/r/status/"+status.ID+"/", tok).json(t, &again)
	if again.SuccessCount != 2500 || again.Successes[2499].ID != objectID(2499) {
		t.Errorf("status read back: %d successes", again.SuccessCount)
	}

	st.mu.Lock()
	st.parts = nil
	st.mu.Unlock()
	r = h.do(request{method: http.MethodPost, path: path + "objects/?dry_run=true", token: tok, body: indicators(5000, 2500)})
	if r.status != http.StatusOK {
		t.Fatalf("dry run: %d %s", r.status, r.body)
	}
	if got := st.published(); len(got) != 1 || got[0] != 2500 {
		t.Errorf("a dry run's Publish calls carried %v objects; want one of 2500", got)
	}
}

// When the store fails after some parts were stored, the status says exactly which objects were
// stored and which to send again, and the request still succeeds; when nothing was stored it fails.
func TestAddObjectsPartlyStored(t *testing.T) {
	st := &partStore{Store: openSQLite(t), failFrom: 2}
	h, path, tok := oneCollection(t, st)
	r := h.post(path+"objects/", tok, indicators(0, 2500))
	var status taxii.Status
	r.json(t, &status)
	if r.status != http.StatusAccepted {
		t.Fatalf("post: %d %s", r.status, r.body)
	}
	checkStatusConsistent(t, status)
	if status.SuccessCount != 1000 || status.FailureCount != 1500 {
		t.Fatalf("%d successes, %d failures; want the first part's 1000 stored and 1500 not", status.SuccessCount, status.FailureCount)
	}
	if f := status.Failures[0]; f.ID != objectID(1000) || !strings.Contains(f.Message, "submit the object again") {
		t.Errorf("first failure %+v", f)
	}
	if got := st.published(); len(got) != 2 {
		t.Errorf("Publish was called %d times; after a failure the rest must not reach the store", len(got))
	}
	var again taxii.Status
	h.get("/r/status/"+status.ID+"/", tok).json(t, &again)
	if n := st.statusSaves(); n != 1 || again.SuccessCount != 1000 || again.FailureCount != 1500 {
		t.Errorf("after a failed part: %d SaveStatus calls, status read back %d/%d; want it saved once, as answered",
			n, again.SuccessCount, again.FailureCount)
	}

	st = &partStore{Store: openSQLite(t), failFrom: 1}
	h, path, tok = oneCollection(t, st)
	checkError(t, "nothing stored", h.post(path+"objects/", tok, indicators(0, 1500)), http.StatusInternalServerError)
}
