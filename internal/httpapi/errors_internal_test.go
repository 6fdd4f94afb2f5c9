package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"testing"
)

// A request the client abandoned is no fault of the hub's: it is classified apart from 500s, so it
// is neither logged as a failure nor counted in the server-error series.
func TestClientCancellationIsNotAServerError(t *testing.T) {
	cl, _ := classify(fmt.Errorf("sharing: objects of c: %w", context.Canceled))
	if cl.status != statusClientClosedRequest {
		t.Errorf("a cancelled request is classified %+v", cl)
	}
	if cl, _ := classify(fmt.Errorf("store: %w", context.DeadlineExceeded)); cl.status != http.StatusServiceUnavailable {
		t.Errorf("a request past its deadline is classified %+v", cl)
	}
}
