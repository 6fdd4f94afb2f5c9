package stix

import (
	"encoding/json"
	"fmt"
	"testing"
)

// corpusObjects returns every object of the corpus as its own JSON text, the way the TAXII
// handler passes envelope members to Validator.Object.
func corpusObjects(tb testing.TB) [][]byte {
	tb.Helper()
	var objs [][]byte
	for _, c := range loadCorpus(tb) {
		var doc struct {
			Objects []json.RawMessage `json:"objects"`
		}
		if err := json.Unmarshal(c.input, &doc); err == nil && len(doc.Objects) > 0 {
			for _, o := range doc.Objects {
				objs = append(objs, o)
			}
			continue
		}
		var list []json.RawMessage
		if err := json.Unmarshal(c.input, &list); err == nil {
			for _, o := range list {
				objs = append(objs, o)
			}
			continue
		}
		if json.Valid(c.input) {
			objs = append(objs, c.input)
		}
	}
	return objs
}

// BenchmarkObjects compares validating the corpus mix object by object with only decoding the
// same objects with encoding/json, in one run so that their ratio is meaningful: validation
// should cost at most 8 times the decode. Compare with
// go run golang.org/x/perf/cmd/benchstat@latest -col /op results.txt.
func BenchmarkObjects(b *testing.B) {
	benchmarkAgainstDecode(b, corpusObjects(b))
}

// BenchmarkIndicatorEnvelope validates a 10,000-indicator envelope object by object, as the
// ingest of a large POST does; profile it with -cpuprofile to see where ingest time goes.
func BenchmarkIndicatorEnvelope(b *testing.B) {
	benchmarkAgainstDecode(b, indicatorEnvelope(10_000))
}

func benchmarkAgainstDecode(b *testing.B, objs [][]byte) {
	v := newTestValidator(b)
	size := 0
	for _, o := range objs {
		size += len(o)
	}
	b.Run("op=decode", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, o := range objs {
				var doc any
				if err := json.Unmarshal(o, &doc); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(objs))*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	})
	b.Run("op=validate", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, o := range objs {
				v.Object(o)
			}
		}
		b.ReportMetric(float64(len(objs))*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	})
}

// indicatorEnvelope returns the members of a TAXII envelope of n distinct, valid indicators.
func indicatorEnvelope(n int) [][]byte {
	objs := make([][]byte, n)
	for i := range n {
		objs[i] = fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-4cbf-4d3f-9d4a-98ee46b3cd3f",`+
			`"created":"2024-03-01T10:00:00.000Z","modified":"2024-03-01T10:00:00.000Z","name":"C2 address %d",`+
			`"description":"Command and control server seen in the campaign.","indicator_types":["malicious-activity"],`+
			`"pattern":"[ipv4-addr:value = '198.51.%d.%d'] AND [network-traffic:dst_port = 443]","pattern_type":"stix",`+
			`"valid_from":"2024-03-01T10:00:00Z","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}`,
			i, i, (i/256)%256, i%256)
	}
	return objs
}

func TestIndicatorEnvelopeIsValid(t *testing.T) {
	v := newTestValidator(t)
	for _, o := range indicatorEnvelope(300) {
		if vd := v.Object(o); !vd.Valid() || len(vd.Warnings) > 0 {
			t.Fatalf("benchmark indicator %s: errors %v, warnings %v", o, vd.Errors, vd.Warnings)
		}
	}
}

// BenchmarkScanRaw measures the scan for large numbers and repeated member names alone, over the
// benchmark indicators, to set against BenchmarkIndicatorEnvelope.
func BenchmarkScanRaw(b *testing.B) {
	objs := indicatorEnvelope(10_000)
	size := 0
	for _, o := range objs {
		size += len(o)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, o := range objs {
			if dups, huge := scanRaw(o, 0); dups != nil || huge != nil {
				b.Fatal("a benchmark indicator repeats a name")
			}
		}
	}
}
