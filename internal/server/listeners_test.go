package server

import (
	"crypto/tls"
	"io"
	"net/http"
	"path/filepath"
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

// On a hub with TLS, the admin listener speaks TLS too, except on a loopback address, where
// operators reach it from the machine itself (docker compose exec, kubectl exec).
func TestAdminListenerSpeaksTLSOffLoopback(t *testing.T) {
	dir := t.TempDir()
	ca := newAuthority(t, "taxiihub test CA")
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	c, k := ca.serverCert(t, 1)
	writeBytes(t, certFile, c)
	writeBytes(t, keyFile, k)

	open := serve(t, "--tls-cert", certFile, "--tls-key", keyFile, "--admin-listen", "0.0.0.0:1")
	if _, err := peerSerial(t, open.admin, &tls.Config{RootCAs: ca.pool()}); err != nil {
		t.Errorf("the admin listener on every interface does not speak TLS: %v", err)
	}

	local := serve(t, "--tls-cert", certFile, "--tls-key", keyFile, "--admin-listen", "127.0.0.1:1")
	if code, body := get(t, "http://"+local.admin+"/healthz", ""); code != http.StatusOK {
		t.Errorf("the admin listener on loopback: %d %s; want plain HTTP", code, body)
	}
	if _, err := peerSerial(t, local.addr, &tls.Config{RootCAs: ca.pool()}); err != nil {
		t.Errorf("the partners' listener does not speak TLS: %v", err)
	}
}
