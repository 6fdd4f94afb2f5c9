package server

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"taxiihub/internal/buildinfo"
)

// Ready is what the person who started a hub needs to know once it serves: where TAXII clients
// find it and where the tokens that open it are. The hub logs it as one line whose message is that
// sentence, and the command also prints the sentence as plain text when a person is watching.
type Ready struct {
	Version string
	// DiscoveryURL is the TAXII discovery URL on this node's listener.
	DiscoveryURL string
	// OperatorToken is the operator token file's path; OperatorTokenPresent says it exists.
	OperatorToken        string
	OperatorTokenPresent bool
	// TokensDir is where partner tokens are written, and PartnerTokens how many it holds.
	TokensDir     string
	PartnerTokens int
}

// Sentence is Ready for a person.
func (r Ready) Sentence() string {
	var b strings.Builder
	fmt.Fprintf(&b, "taxiihub %s serves TAXII 2.1 at %s", r.Version, r.DiscoveryURL)
	if r.OperatorTokenPresent {
		fmt.Fprintf(&b, "; operator token: %s", r.OperatorToken)
	} else {
		fmt.Fprintf(&b, "; no operator token file at %s (remove it and restart when every operator token has lapsed)", r.OperatorToken)
	}
	if r.PartnerTokens > 0 {
		fmt.Fprintf(&b, "; partner tokens: %s (%d)", filepath.Join(r.TokensDir, "<member-id>.jwt"), r.PartnerTokens)
	} else {
		b.WriteString("; no partner tokens written (taxiictl token issue MEMBER)")
	}
	return b.String()
}

// ready describes the hub serving on addr.
func (s *Server) ready(addr net.Addr) Ready {
	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	host := addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		// Listening on every address: the loopback one works from the machine the person is on.
		host = net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	r := Ready{
		Version:       buildinfo.Read().Version,
		DiscoveryURL:  scheme + "://" + host + "/taxii2/",
		OperatorToken: filepath.Join(s.cfg.DataDir, OperatorTokenFile),
		TokensDir:     filepath.Join(s.cfg.DataDir, TokensDir),
	}
	if _, err := os.Stat(r.OperatorToken); err == nil {
		r.OperatorTokenPresent = true
	}
	if files, err := filepath.Glob(filepath.Join(r.TokensDir, "*.jwt")); err == nil {
		r.PartnerTokens = len(files)
	}
	return r
}

// OnReady has f called with the hub's Ready once Serve listens; the command uses it to print the
// sentence for a person at a terminal.
func (s *Server) OnReady(f func(Ready)) { s.onReady = f }
