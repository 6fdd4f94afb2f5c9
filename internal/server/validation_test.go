package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// TestPostValidatesEveryObject runs a whole hub and submits one envelope mixing valid and invalid
// STIX: the valid objects are stored, each invalid one is listed with the validator's reason, and a
// SHOULD-level finding is a warning on a success, never a failure.
func TestPostValidatesEveryObject(t *testing.T) {
	cfg, err := ParseConfig([]string{"--data-dir", t.TempDir()}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	t.Cleanup(func() { s.Close(t.Context()) })
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)

	ctx, st := t.Context(), s.Store()
	coll := uuid.NewString()
	now := time.Now()
	claims := auth.Claims{ID: auth.NewTokenID(), Subject: "cert-eu", Audience: auth.PartnerAudience, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	for _, err := range []error{
		st.CreateAPIRoot(ctx, store.APIRoot{Slug: "eu-japan", Title: "EU–Japan"}),
		st.CreateCollection(ctx, store.Collection{ID: coll, APIRoot: "eu-japan", Title: "Indicators"}),
		st.CreateMember(ctx, store.Member{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU"}),
		st.PutGrant(ctx, store.Grant{MemberID: "cert-eu", APIRoot: "eu-japan", CollectionID: coll, Read: true, Write: true}),
		st.SaveToken(ctx, store.Token{ID: claims.ID, Kind: store.PartnerToken, Subject: "cert-eu", IssuedAt: now, ExpiresAt: claims.ExpiresAt}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	token, err := s.Tokens().Sign(claims)
	if err != nil {
		t.Fatal(err)
	}

	valid := `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"C2","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`
	badPattern := strings.Replace(strings.Replace(valid, "8e2e2d2b", "9e2e2d2b", 1), `= '198.51.100.1']`, `= '198.51.100.1'`, 1)
	stix20 := `{"type":"malware","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Poison Ivy","labels":["remote-access-trojan"]}`
	badOrder := strings.Replace(strings.Replace(valid, "8e2e2d2b", "ae2e2d2b", 1), `"modified":"2026-01-01T00:00:00.000Z"`, `"modified":"2025-01-01T00:00:00.000Z"`, 1)
	body := `{"objects":[` + strings.Join([]string{valid, badPattern, stix20, badOrder}, ",") + `]}`

	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/eu-japan/collections/"+coll+"/objects/", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", taxii.MediaType)
	req.Header.Set("Accept", taxii.MediaType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var status taxii.Status
	if err := json.NewDecoder(resp.Body).Decode(&status); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || status.SuccessCount != 1 || status.FailureCount != 3 {
		t.Fatalf("status %d: %+v", resp.StatusCode, status)
	}
	if status.Successes[0].ID != "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" {
		t.Errorf("the valid indicator was not the one stored: %+v", status.Successes)
	}
	for i, code := range []string{"[pattern-syntax]", "[not-stix-2.1]", "[timestamp-order]"} {
		if !strings.Contains(status.Failures[i].Message, code) {
			t.Errorf("failure %d: %q, want the reason %s", i, status.Failures[i].Message, code)
		}
	}
	page, err := st.Objects(ctx, coll, store.Query{Limit: 10})
	if err != nil || len(page.Records) != 1 || string(page.Records[0].Content) != valid {
		t.Errorf("stored: %d records, %v; want exactly the valid indicator, byte for byte", len(page.Records), err)
	}
}
