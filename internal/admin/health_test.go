package admin_test

import (
	"context"
	"testing"
)

// TestHealthReportsAStoreThatDoesNotAnswer checks that Health answers in both states: with the store
// open it is reachable; once the store is closed it is reported unreachable, with the problem named
// and no heads, rather than failing the page that shows it.
func TestHealthReportsAStoreThatDoesNotAnswer(t *testing.T) {
	e := newEnv(t)
	if h := e.svc.Health(t.Context()); !h.StoreReachable || len(h.Problems) != 0 {
		t.Fatalf("an open store: reachable %v, problems %v", h.StoreReachable, h.Problems)
	}
	if err := e.store.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := e.svc.Health(t.Context())
	if h.StoreReachable || len(h.Problems) != 1 || h.Problems[0] != "the store does not answer" || h.Heads.Ledger.Seq != 0 {
		t.Errorf("a closed store: reachable %v, problems %v, ledger head %+v", h.StoreReachable, h.Problems, h.Heads.Ledger)
	}
}
