package policy

import (
	"fmt"
	"testing"

	"taxiihub/internal/store"
)

// BenchmarkCheckIndicatorEnvelope measures the content rules alone on an envelope of 10,000
// indicators, every rule on and personal data rejected: the part of judging this package owns
// (sharing's BenchmarkJudgeIndicatorEnvelope measures the whole of it). The objects are decoded
// before the clock starts, as the STIX validator hands them on decoded.
func BenchmarkCheckIndicatorEnvelope(b *testing.B) {
	rules := Rules{
		Partnership: store.PartnershipPolicy{PersonalData: store.PersonalDataReject, NoOnwardSharing: true},
		Collection: store.CollectionPolicy{MaxTLP: store.TLPAmber, AllowedTypes: []string{"indicator", "marking-definition"},
			DeniedProperties: []string{"x_interview_notes"}},
	}
	raws := make([][]byte, 10_000)
	objs := make([]map[string]any, len(raws))
	size := 0
	for i := range raws {
		raws[i] = []byte(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1",`+
			`"id":"indicator--00000000-0000-4000-8000-%012d","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",`+
			`"name":"C2 server %d of campaign 2026-11","description":"Command and control host seen in phishing wave %d; beacons every 300 s over TLS 1.2, version 4.1.7.",`+
			`"indicator_types":["malicious-activity"],"labels":["c2","phishing"],`+
			`"pattern":"[ipv4-addr:value = '198.51.%d.%d'] OR [domain-name:value = 'c2-%d.example.net']","pattern_type":"stix",`+
			`"valid_from":"2026-01-01T00:00:00Z","kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"command-and-control"}],`+
			`"external_references":[{"source_name":"mitre-attack","external_id":"T1071.001"}],`+
			`"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}`,
			i, i, i, (i/256)%256, i%256, i))
		var err error
		if objs[i], err = decode(raws[i]); err != nil {
			b.Fatal(err)
		}
		size += len(raws[i])
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		for i := range raws {
			if d := rules.CheckDecoded(raws[i], objs[i]); !d.Valid() {
				b.Fatalf("indicator %d refused: %v", i, d.Errors)
			}
		}
	}
}
