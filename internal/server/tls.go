package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// certificate is the hub's TLS certificate, which Reload replaces while the hub serves: handshakes
// read the current pair through GetCertificate, so a renewal needs no restart and drops no
// connection, and a pair that fails to load never replaces a working one.
type certificate struct {
	certFile, keyFile string
	current           atomic.Pointer[tls.Certificate]
}

// loadCertificate reads the pair for the first time.
func loadCertificate(certFile, keyFile string) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile}
	if _, err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the files again and, if they hold a matching pair, serves it from the next
// handshake on. It returns the new leaf for the log.
func (c *certificate) reload() (*x509.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	if pair.Leaf == nil { // set by LoadX509KeyPair since Go 1.23; parsed here should that change
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("parse TLS certificate %s: %w", c.certFile, err)
		}
	}
	c.current.Store(&pair)
	return pair.Leaf, nil
}

func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.current.Load(), nil
}

// leaf is the certificate served now.
func (c *certificate) leaf() *x509.Certificate { return c.current.Load().Leaf }

// tlsCipherSuites are the TLS 1.2 suites offered: forward secrecy and AEAD only. Go's defaults still
// include CBC suites for old clients, which a hub for CERTs has no reason to serve. TLS 1.3 suites
// are not configurable, and all of them qualify.
var tlsCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// tlsConfig is the server side of TLS: 1.2 or later with tlsCipherSuites, the reloadable
// certificate, and, with a client CA, client certificates verified against it. Certificates are asked for but not required, so that partners
// with tokens connect as before; one that is presented and does not verify fails the handshake.
func tlsConfig(cert *certificate, clientCA string) (*tls.Config, error) {
	conf := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   tlsCipherSuites,
		GetCertificate: cert.get,
	}
	if clientCA == "" {
		return conf, nil
	}
	pem, err := os.ReadFile(clientCA)
	if err != nil {
		return nil, fmt.Errorf("read client CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("the client CA file " + clientCA + " holds no PEM certificate")
	}
	conf.ClientCAs = pool
	conf.ClientAuth = tls.VerifyClientCertIfGiven
	return conf, nil
}
