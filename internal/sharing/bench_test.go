package sharing

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
	"taxiihub/internal/store/sqlitestore"
)

// BenchmarkJudgeIndicatorEnvelope measures what judging costs: a dry run of a 10,000-indicator
// envelope with every sharing rule on (personal data rejected, no onward sharing, a TLP ceiling
// refusing unmarked objects, allowed types, allowed properties and denied properties), so
// validation, the content rules and the onward-sharing lookups, without the write. Rules added later must keep it within the budget the README states.
func BenchmarkJudgeIndicatorEnvelope(b *testing.B) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(b.TempDir(), "hub.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	rules := store.PartnershipPolicy{PersonalData: store.PersonalDataReject, NoOnwardSharing: true}
	if err := st.CreateAPIRoot(ctx, store.APIRoot{Slug: "r", Title: "R", Policy: rules}); err != nil {
		b.Fatal(err)
	}
	coll := store.Collection{ID: "00000000-0000-4000-8000-0000000000c1", APIRoot: "r", Title: "C", Alias: "c",
		Policy: store.CollectionPolicy{MaxTLP: store.TLPAmber, AllowedTypes: []string{"indicator", "marking-definition"},
			DeniedProperties: []string{"x_interview_notes"}, Unmarked: store.UnmarkedRefuse,
			AllowedProperties: map[string][]string{"indicator": {"name", "description", "indicator_types", "labels", "pattern",
				"pattern_type", "valid_from", "kill_chain_phases", "external_references.source_name", "external_references.external_id"}}}}
	if err := st.CreateCollection(ctx, coll); err != nil {
		b.Fatal(err)
	}
	if err := st.CreateMember(ctx, store.Member{ID: "m", Name: "m", Jurisdiction: "EU"}); err != nil {
		b.Fatal(err)
	}
	if err := st.PutGrant(ctx, store.Grant{MemberID: "m", APIRoot: "r", CollectionID: coll.ID, Read: true, Write: true}); err != nil {
		b.Fatal(err)
	}
	v, err := validator()
	if err != nil {
		b.Fatal(err)
	}
	svc, err := New(Config{Store: st, Checker: v})
	if err != nil {
		b.Fatal(err)
	}
	grants, err := st.Grants(ctx, "m")
	if err != nil {
		b.Fatal(err)
	}
	acc, err := svc.Access(ctx, auth.NewPrincipal("m", "tok-m", grants), "r", "c")
	if err != nil {
		b.Fatal(err)
	}
	raws := make([]json.RawMessage, 10_000)
	size := 0
	for i := range raws {
		raws[i] = markedIndicator(i)
		size += len(raws[i])
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		// Publish lets go of each object once judged, as it does for a request's body.
		status, err := svc.Publish(ctx, acc, slices.Clone(raws), true)
		if err != nil {
			b.Fatal(err)
		}
		if len(status.Failures) != 0 {
			b.Fatalf("%d of the envelope's indicators were refused, first: %s", len(status.Failures), status.Failures[0].Message)
		}
	}
}

// markedIndicator is a realistic indicator of about 700 bytes, marked TLP:GREEN, with the free
// text the personal-data rule reads.
func markedIndicator(n int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1",`+
		`"id":"indicator--00000000-0000-4000-8000-%012d","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",`+
		`"name":"C2 server %d of campaign 2026-11","description":"Command and control host seen in phishing wave %d; beacons every 300 s over TLS 1.2, version 4.1.7.",`+
		`"indicator_types":["malicious-activity"],"labels":["c2","phishing"],`+
		`"pattern":"[ipv4-addr:value = '198.51.%d.%d'] OR [domain-name:value = 'c2-%d.example.net']","pattern_type":"stix",`+
		`"valid_from":"2026-01-01T00:00:00Z","kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"command-and-control"}],`+
		`"external_references":[{"source_name":"mitre-attack","external_id":"T1071.001"}],`+
		`"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}`,
		n, n, n, (n/256)%256, n%256, n))
}
