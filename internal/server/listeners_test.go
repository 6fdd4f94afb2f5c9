package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"taxiihub/internal/admin"
	"taxiihub/internal/taxii"
)

// get sends a GET with a bearer token and TAXII's Accept header, and returns the status and body.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", taxii.MediaType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// With --admin-listen the admin API and /metrics are served there only: the partners' listener
// answers 404 under /admin/ and at /metrics, to operator tokens too, and the admin listener serves
// no TAXII.
func TestAdminListenerKeepsTheAdminAPIOffThePartnersListener(t *testing.T) {
	h := serve(t, "--admin-listen", "127.0.0.1:1", "--seed", examplePartnerships)
	ctx := t.Context()
	op, err := h.s.Admin().IssueToken(ctx, "test", admin.TokenRequest{Kind: "operator", Subject: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	partner, err := h.s.Admin().IssueToken(ctx, "test", admin.TokenRequest{Subject: "cert-eu"})
	if err != nil {
		t.Fatal(err)
	}
	partners, operators := "http://"+h.addr, "http://"+h.admin
	for _, tc := range []struct {
		base, path, token string
		want              int
	}{
		{partners, "/admin/partnerships/", op.JWT, http.StatusNotFound},
		{partners, "/admin/audit/", op.JWT, http.StatusNotFound},
		{partners, "/metrics", partner.JWT, http.StatusNotFound}, // to an operator token, 401 as for any API root
		{partners, "/taxii2/", partner.JWT, http.StatusOK},
		{partners, "/healthz", "", http.StatusOK},
		{operators, "/admin/partnerships/", op.JWT, http.StatusOK},
		{operators, "/admin/partnerships/", partner.JWT, http.StatusUnauthorized},
		{operators, "/metrics", op.JWT, http.StatusOK},
		{operators, "/taxii2/", partner.JWT, http.StatusNotFound},
		{operators, "/readyz", "", http.StatusOK},
	} {
		code, body := get(t, tc.base+tc.path, tc.token)
		if code != tc.want {
			t.Errorf("GET %s%s: %d, want %d\n%s", tc.base, tc.path, code, tc.want, body)
		}
		if tc.base == partners && code == http.StatusNotFound && !strings.Contains(body, `"http_status":"404"`) {
			t.Errorf("GET %s%s: the 404 is not a TAXII error resource: %s", tc.base, tc.path, body)
		}
	}
}
