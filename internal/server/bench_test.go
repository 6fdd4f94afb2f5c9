package server

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// BenchmarkPostIndicatorEnvelope posts envelopes of 10,000 new indicators through the whole hub
// (HTTP, validation, embedded store). Run it with -cpuprofile to see where ingest spends its time.
func BenchmarkPostIndicatorEnvelope(b *testing.B) {
	const n = 10_000
	// One member posting as fast as it can: the per-member limit would measure 429s instead.
	cfg, err := ParseConfig([]string{"--data-dir", b.TempDir(), "--member-rate", "0"}, func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(b.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(b.Context()) })
	handler := s.Handler()
	coll := uuid.NewString()
	now := time.Now()
	claims := auth.Claims{ID: auth.NewTokenID(), Subject: "cert-eu", Audience: auth.PartnerAudience, IssuedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	st := s.Store()
	for _, err := range []error{
		st.CreateAPIRoot(b.Context(), store.APIRoot{Slug: "r", Title: "R"}),
		st.CreateCollection(b.Context(), store.Collection{ID: coll, APIRoot: "r", Title: "C"}),
		st.CreateMember(b.Context(), store.Member{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU"}),
		st.PutGrant(b.Context(), store.Grant{MemberID: "cert-eu", APIRoot: "r", CollectionID: coll, Write: true}),
		st.SaveToken(b.Context(), store.Token{ID: claims.ID, Kind: store.PartnerToken, Subject: "cert-eu", IssuedAt: now, ExpiresAt: claims.ExpiresAt}),
	} {
		if err != nil {
			b.Fatal(err)
		}
	}
	token, err := s.Tokens().Sign(claims)
	if err != nil {
		b.Fatal(err)
	}
	round := 0
	for b.Loop() {
		b.StopTimer()
		body := indicatorEnvelope(round, n)
		round++
		b.StartTimer()
		req := httptest.NewRequest(http.MethodPost, "/r/collections/"+coll+"/objects/", bytes.NewReader(body))
		req.Header.Set("Content-Type", taxii.MediaType)
		req.Header.Set("Accept", taxii.MediaType)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted || !bytes.Contains(rec.Body.Bytes(), []byte(`"success_count":10000`)) {
			b.Fatalf("post: %d %.300s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(round*n)/b.Elapsed().Seconds(), "objects/s")
}

// indicatorEnvelope is an envelope of n valid indicators, distinct for each round.
func indicatorEnvelope(round, n int) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"objects":[`)
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-%04x-4d3f-9d4a-98ee46b3cd3f",`+
			`"created":"2026-03-01T10:00:00.000Z","modified":"2026-03-01T10:00:00.000Z","name":"C2 address %d",`+
			`"description":"Command and control server seen in the campaign.","indicator_types":["malicious-activity"],`+
			`"pattern":"[ipv4-addr:value = '198.51.%d.%d'] AND [network-traffic:dst_port = 443]","pattern_type":"stix",`+
			`"valid_from":"2026-03-01T10:00:00Z","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}`,
			i, round, i, (i/256)%256, i%256)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}
