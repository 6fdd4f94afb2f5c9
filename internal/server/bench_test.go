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
	"taxiihub/internal/sharing"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// BenchmarkPostIndicatorEnvelope posts envelopes of 10,000 new indicators through the whole hub
// (HTTP, validation, embedded store). Run it with -cpuprofile to see where ingest spends its time.
func BenchmarkPostIndicatorEnvelope(b *testing.B) {
	const n = 10_000
	handler, coll, token := benchHub(b)
	round := 0
	for b.Loop() {
		b.StopTimer()
		body := indicatorEnvelope(round, n)
		round++
		b.StartTimer()
		benchPost(b, handler, coll, token, body, `"success_count":10000`)
	}
	b.ReportMetric(float64(round*n)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkPostLargeStringObject posts one indicator whose description is a string of almost the
// largest object size through the whole hub into the embedded store: the bytes allocated per POST,
// against the body's, show how often the string is copied on its way. Run it with -memprofile.
func BenchmarkPostLargeStringObject(b *testing.B) {
	handler, coll, token := benchHub(b)
	description := bytes.Repeat([]byte("s"), sharing.MaxObjectSize-1024)
	b.ReportAllocs()
	round := 0
	for b.Loop() {
		b.StopTimer()
		body := fmt.Appendf(nil, `{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4d3f-9d4a-98ee46b3cd3f",`+
			`"created":"2026-03-01T10:00:00.000Z","modified":"2026-03-01T10:00:00.000Z","name":"large","description":"%s",`+
			`"indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix",`+
			`"valid_from":"2026-03-01T10:00:00Z"}]}`, round, description)
		round++
		b.SetBytes(int64(len(body)))
		b.StartTimer()
		benchPost(b, handler, coll, token, body, `"success_count":1`)
	}
}

// benchHub is an in-process hub on the embedded database with one collection that cert-eu may
// write, and cert-eu's token.
func benchHub(b *testing.B) (handler http.Handler, coll, token string) {
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
	coll = uuid.NewString()
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
	token, err = s.Tokens().Sign(claims)
	if err != nil {
		b.Fatal(err)
	}
	return s.Handler(), coll, token
}

// benchPost posts body to the collection and fails unless the answer is 202 and contains want.
func benchPost(b *testing.B, handler http.Handler, coll, token string, body []byte, want string) {
	req := httptest.NewRequest(http.MethodPost, "/r/collections/"+coll+"/objects/", bytes.NewReader(body))
	req.Header.Set("Content-Type", taxii.MediaType)
	req.Header.Set("Accept", taxii.MediaType)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted || !bytes.Contains(rec.Body.Bytes(), []byte(want)) {
		b.Fatalf("post: %d %.300s", rec.Code, rec.Body)
	}
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
