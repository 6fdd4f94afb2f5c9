package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/taxii"
)

// authority is a throwaway CA for tests.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newAuthority(t *testing.T, name string) *authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &authority{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (a *authority) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.cert)
	return p
}

// issue signs a leaf certificate from tmpl (serial, names, usages) and returns it as a TLS pair and
// as PEM.
func (a *authority) issue(t *testing.T, tmpl *x509.Certificate) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certPEM, keyPEM
}

// serverCert issues a certificate for the loopback address, told apart by its serial.
func (a *authority) serverCert(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	_, c, k := a.issue(t, &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "hub"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return c, k
}

// clientCert issues a client certificate with the common name and URI names given.
func (a *authority) clientCert(t *testing.T, cn string, uris ...string) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	for _, u := range uris {
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, parsed)
	}
	pair, _, _ := a.issue(t, tmpl)
	return pair
}

func writeBytes(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// serving is a hub served by Server.Serve on loopback listeners, as Run would serve it.
type serving struct {
	s       *Server
	addr    string
	metrics string // address of the metrics listener, when there is one
	admin   string // address of the admin listener, when there is one
}

// serve builds a hub from the flags and serves it until the test ends; it checks that the hub
// shuts down cleanly.
func serve(t *testing.T, args ...string) serving {
	t.Helper()
	cfg, err := ParseConfig(append([]string{"--data-dir", t.TempDir()}, args...), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out := serving{s: s, addr: ln.Addr().String()}
	lns := Listeners{API: ln}
	if cfg.MetricsListen != "" {
		if lns.Metrics, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		out.metrics = lns.Metrics.Addr().String()
	}
	if cfg.AdminListen != "" {
		// On the configured host, so that loopback and other addresses are served as configured.
		host, _, _ := net.SplitHostPort(cfg.AdminListen)
		if lns.Admin, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(lns.Admin.Addr().String())
		out.admin = net.JoinHostPort("127.0.0.1", port)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, lns) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		s.Close(context.Background())
	})
	return out
}

// peerSerial dials the hub with conf and returns the serial of the certificate it served.
func peerSerial(t *testing.T, addr string, conf *tls.Config) (int64, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, conf)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

func TestTLSVersionsAndCertificateReload(t *testing.T) {
	dir := t.TempDir()
	ca := newAuthority(t, "taxiihub test CA")
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	c1, k1 := ca.serverCert(t, 1)
	writeBytes(t, certFile, c1)
	writeBytes(t, keyFile, k1)
	h := serve(t, "--tls-cert", certFile, "--tls-key", keyFile)

	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if _, err := peerSerial(t, h.addr, &tls.Config{RootCAs: ca.pool(), MinVersion: v, MaxVersion: v}); err == nil {
			t.Errorf("a %s handshake succeeded", tls.VersionName(v))
		}
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		conn, err := tls.Dial("tcp", h.addr, &tls.Config{RootCAs: ca.pool(), MinVersion: v, MaxVersion: v})
		if err != nil {
			t.Fatalf("%s refused: %v", tls.VersionName(v), err)
		}
		if got := conn.ConnectionState().Version; got != v {
			t.Errorf("negotiated %s, want %s", tls.VersionName(got), tls.VersionName(v))
		}
		conn.Close()
	}
	// TLS 1.2 without forward secrecy and AEAD is refused.
	cbc := &tls.Config{RootCAs: ca.pool(), MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}
	if _, err := peerSerial(t, h.addr, cbc); err == nil {
		t.Errorf("a TLS 1.2 handshake with CBC or RSA key exchange succeeded")
	}
	// Plain HTTP on the TLS port gets nothing useful.
	if resp, err := http.Get("http://" + h.addr + "/healthz"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP was served on the TLS port")
		}
		resp.Body.Close()
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool()}}}
	resp, err := client.Get("https://" + h.addr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz over TLS: %d", resp.StatusCode)
	}

	serial := func() int64 {
		t.Helper()
		s, err := peerSerial(t, h.addr, &tls.Config{RootCAs: ca.pool()})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		return s
	}
	// Renewed files are served once reloaded, not before.
	c2, k2 := ca.serverCert(t, 2)
	writeBytes(t, certFile, c2)
	writeBytes(t, keyFile, k2)
	if got := serial(); got != 1 {
		t.Errorf("serial %d before the reload, want 1", got)
	}
	if err := h.s.Reload(t.Context()); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got := serial(); got != 2 {
		t.Errorf("serial %d after the reload, want 2", got)
	}

	// A broken renewal keeps the working certificate, and says so.
	for name, files := range map[string][2][]byte{
		"not PEM":             {[]byte("-----BEGIN CERTIFICATE-----\ngarbage\n"), k2},
		"key of another cert": {c1, k2},
		"half-written key":    {c2, k2[:len(k2)/2]},
	} {
		writeBytes(t, certFile, files[0])
		writeBytes(t, keyFile, files[1])
		err := h.s.Reload(t.Context())
		if err == nil || !strings.Contains(err.Error(), "still serving") {
			t.Errorf("%s: reload said %v", name, err)
		}
		if got := serial(); got != 2 {
			t.Errorf("%s: serial %d after a failed reload, want 2", name, got)
		}
	}
}

func TestClientCertificatesAuthenticateMembers(t *testing.T) {
	dir := t.TempDir()
	serverCA, partnerCA, otherCA := newAuthority(t, "server CA"), newAuthority(t, "partner CA"), newAuthority(t, "someone else")
	certFile, keyFile, caFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), filepath.Join(dir, "clients.pem")
	c, k := serverCA.serverCert(t, 1)
	writeBytes(t, certFile, c)
	writeBytes(t, keyFile, k)
	writeBytes(t, caFile, partnerCA.pem)
	h := serve(t, "--tls-cert", certFile, "--tls-key", keyFile, "--client-ca", caFile, "--seed", examplePartnerships)
	issued, err := h.s.Admin().IssueToken(t.Context(), "test", admin.TokenRequest{Subject: "jpcert-cc"})
	if err != nil {
		t.Fatal(err)
	}

	get := func(path string, cert *tls.Certificate, token string) (int, []byte, error) {
		conf := &tls.Config{RootCAs: serverCA.pool()}
		if cert != nil {
			// Sent whatever CAs the server names: Go's client would otherwise keep back a
			// certificate from a CA the server does not list, and the server's check go untested.
			conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: conf}}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+h.addr+path, nil)
		req.Header.Set("Accept", taxii.MediaType)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body, nil
	}
	roots := func(body []byte) []string {
		var d taxii.Discovery
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		return d.APIRoots
	}

	byCN := partnerCA.clientCert(t, "cert-eu")
	byURI := partnerCA.clientCert(t, "CERT-EU gateway", "https://cert.europa.eu/", "taxiihub:member:cert-eu")
	for name, cert := range map[string]*tls.Certificate{"common name": &byCN, "member URI": &byURI} {
		code, body, err := get("/taxii2/", cert, "")
		if err != nil || code != http.StatusOK {
			t.Fatalf("%s: %d %s %v", name, code, body, err)
		}
		if got := roots(body); !slices.Equal(got, []string{"/eu-china-cyber/", "/eu-japan/"}) {
			t.Errorf("%s: cert-eu's certificate opens %v", name, got)
		}
	}

	stranger := partnerCA.clientCert(t, "mallory")
	if code, body, err := get("/taxii2/", &stranger, ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("a certificate naming no member: %d %s %v", code, body, err)
	}
	// The token, when there is one, decides: here it is jpcert-cc's, not the certificate's cert-eu.
	if code, body, err := get("/taxii2/", &byCN, issued.JWT); err != nil || code != http.StatusOK || !slices.Equal(roots(body), []string{"/eu-japan/"}) {
		t.Errorf("token with a certificate: %d %s %v", code, body, err)
	}
	// Tokens work without a certificate, as before.
	if code, body, err := get("/taxii2/", nil, issued.JWT); err != nil || code != http.StatusOK {
		t.Errorf("token without a certificate: %d %s %v", code, body, err)
	}
	if code, _, err := get("/taxii2/", nil, ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("neither certificate nor token: %d %v", code, err)
	}
	// Certificates never open the admin API.
	if code, _, err := get("/admin/partnerships/", &byCN, ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("admin API with a partner certificate: %d %v", code, err)
	}
	// A certificate from a CA the hub does not trust fails the handshake.
	foreign := otherCA.clientCert(t, "cert-eu")
	if _, _, err := get("/taxii2/", &foreign, ""); err == nil {
		t.Errorf("a certificate from an untrusted CA was accepted")
	}
}

func TestMetricsOnTheirOwnAddress(t *testing.T) {
	dir := t.TempDir()
	ca := newAuthority(t, "CA")
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	c, k := ca.serverCert(t, 1)
	writeBytes(t, certFile, c)
	writeBytes(t, keyFile, k)
	h := serve(t, "--tls-cert", certFile, "--tls-key", keyFile, "--metrics-listen", "127.0.0.1:0")

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool()}}}
	fetch := func(c *http.Client, u string) (int, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := fetch(client, "https://"+h.addr+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz: %d", code)
	}
	code, body := fetch(http.DefaultClient, "http://"+h.metrics+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics on the metrics address: %d %s", code, body)
	}
	for _, want := range []string{
		`taxiihub_store_duration_seconds_count{operation="APIRoots",outcome="ok"}`,
		`taxiihub_http_requests_total{member="",method="GET",route="/readyz",status="200"} 1`,
		"taxiihub_tls_certificate_expiry_timestamp_seconds ",
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, _ := fetch(client, "https://"+h.addr+"/metrics"); code == http.StatusOK {
		t.Errorf("/metrics is also served on the partners' address")
	}
	if code, _ := fetch(http.DefaultClient, "http://"+h.metrics+"/taxii2/"); code != http.StatusNotFound {
		t.Errorf("the metrics address serves TAXII: %d", code)
	}
}

func TestServeNeedsTheMetricsListenerItIsConfiguredFor(t *testing.T) {
	cfg, err := ParseConfig([]string{"--data-dir", t.TempDir(), "--metrics-listen", "127.0.0.1:0"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := s.Serve(t.Context(), Listeners{API: ln}); err == nil || errors.Is(err, http.ErrServerClosed) {
		t.Errorf("served without the metrics listener: %v", err)
	}
}
