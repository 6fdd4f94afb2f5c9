package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"taxiihub/internal/admin"
)

// TestTokenExpiryIsVisible: a hub that starts serving warns about every active token expiring
// within 14 days, and only those, and its metrics give each member's earliest token expiry.
func TestTokenExpiryIsVisible(t *testing.T) {
	s, _, logs := start(t, t.TempDir(), "--seed", examplePartnerships)
	ctx := t.Context()
	soon, err := s.Admin().IssueToken(ctx, "alice", admin.TokenRequest{Subject: "cert-eu", TTL: "10d", Note: "short"})
	if err != nil {
		t.Fatal(err)
	}
	operator, err := s.Admin().IssueToken(ctx, "alice", admin.TokenRequest{Kind: "operator", Subject: "bob", TTL: "3d"})
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := s.Admin().IssueToken(ctx, "alice", admin.TokenRequest{Subject: "jpcert-cc", TTL: "1d"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Admin().RevokeToken(ctx, "alice", revoked.Token.ID); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- s.Serve(serveCtx, Listeners{API: ln}) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(logs.String(), "a token expires soon") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var warned []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "a token expires soon") {
			warned = append(warned, line)
		}
	}
	if len(warned) != 2 || !strings.Contains(warned[0], operator.Token.ID) || !strings.Contains(warned[0], `"level":"WARN"`) ||
		!strings.Contains(warned[0], `"days_left":2`) || !strings.Contains(warned[1], soon.Token.ID) || !strings.Contains(warned[1], `"subject":"cert-eu"`) {
		t.Errorf("warnings, soonest first, want the operator's 3-day token and cert-eu's 10-day one:\n%s", strings.Join(warned, "\n"))
	}

	rec := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	want := fmt.Sprintf(`taxiihub_member_token_expiry_timestamp_seconds{member="cert-eu"} %s`, promFloat(soon.Token.ExpiresAt))
	if !strings.Contains(body, want) {
		t.Errorf("metrics lack %q", want)
	}
	jp, err := s.Admin().Tokens(ctx, admin.TokenFilter{Subject: "jpcert-cc", Kind: "partner"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range jp {
		if tok.Status == admin.TokenActive {
			// The revoked one-day token does not count: the seeded one is the earliest active.
			want := fmt.Sprintf(`taxiihub_member_token_expiry_timestamp_seconds{member="jpcert-cc"} %s`, promFloat(tok.ExpiresAt))
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	}
	if n := strings.Count(body, "taxiihub_member_token_expiry_timestamp_seconds{"); n != 7 {
		t.Errorf("%d members with an expiry series, want the 7 seeded members", n)
	}
}

// promFloat writes a Unix time as the Prometheus text format writes a gauge's value.
func promFloat(t time.Time) string {
	return strconv.FormatFloat(float64(t.Unix()), 'g', -1, 64)
}

// TestExpiryCheckedAtStartAndDaily: the expiry check runs when the hub starts serving and then once
// a day, and stops with the hub.
func TestExpiryCheckedAtStartAndDaily(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithCancel(t.Context())
		var checks []time.Time
		done := make(chan struct{})
		start := time.Now()
		go func() {
			defer close(done)
			atOnceThenEvery(ctx, expiryCheckInterval, func(context.Context) { checks = append(checks, time.Now()) })
		}()
		time.Sleep(72*time.Hour + time.Minute)
		stop()
		<-done
		if len(checks) != 4 || !checks[0].Equal(start) || checks[3].Sub(checks[0]) != 72*time.Hour {
			t.Errorf("checks at %v; want at start and after 24, 48 and 72 hours", checks)
		}
	})
}
