package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for the loopback address, told apart by its serial.
func selfSigned(t *testing.T, certFile, keyFile string, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "hub"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSIGHUPReloadsTheCertificate runs the binary with TLS, renews its certificate files, and
// checks that SIGHUP, and only SIGHUP, makes the hub serve the new certificate without a restart.
func TestSIGHUPReloadsTheCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	selfSigned(t, certFile, keyFile, 1)
	addr := freeAddr(t)
	cmd := exec.Command(buildHub(t), "--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TAXIIHUB_LISTEN="+addr)
	logs, exited := runHub(t, cmd)

	// The test pins nothing: it only reads which certificate the hub presents.
	serial := func() (int64, error) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
	}
	waitFor := func(what string, want int64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			got, err := serial()
			if err == nil && got == want {
				return
			}
			select {
			case err := <-exited:
				out, _ := os.ReadFile(logs)
				t.Fatalf("hub exited: %v\n%s", err, out)
			default:
			}
			if time.Now().After(deadline) {
				out, _ := os.ReadFile(logs)
				t.Fatalf("%s: serial %d (%v), want %d\n%s", what, got, err, want, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("start", 1)

	selfSigned(t, certFile, keyFile, 2)
	if got, err := serial(); err != nil || got != 1 {
		t.Errorf("before SIGHUP: serial %d (%v), want 1", got, err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("after SIGHUP", 2)

	// A broken file and another SIGHUP: the hub keeps serving, with the certificate it had.
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := os.ReadFile(logs)
		if strings.Contains(string(out), "SIGHUP: reload failed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed reload in the log:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, err := serial(); err != nil || got != 2 {
		t.Errorf("after a failed reload: serial %d (%v), want 2", got, err)
	}
}

func TestMongoURIFromAFile(t *testing.T) {
	dir := t.TempDir()
	uriFile := filepath.Join(dir, "mongo-uri")
	if err := os.WriteFile(uriFile, []byte(mongod.URI()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startHub(t, dir, []string{"TAXIIHUB_MONGO_URI_FILE=" + uriFile}, "--mongo-database", mongod.Database(t))
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "taxiihub-data", "taxiihub.db")); err == nil {
		t.Errorf("with a MongoDB URI file the hub still created an embedded database")
	}
}

func TestPasswordInAFlagIsRefused(t *testing.T) {
	var stderr strings.Builder
	code := run([]string{"--mongo-uri", "mongodb://hub:Sup3r-s3cret@db1,db2,db3/?replicaSet=rs0"}, func(string) string { return "" }, &stderr)
	if code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "TAXIIHUB_MONGO_URI") || strings.Contains(stderr.String(), "Sup3r-s3cret") {
		t.Errorf("stderr: %q", stderr.String())
	}
}
