package taxii

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkReadEnvelopeHugeString reads an envelope holding one object with a 30 MiB string, as a
// careless or hostile partner sends: bytes allocated per read, against the 30 MiB of the body, with
// the body's length declared (as a Content-Length gives it) and not.
func BenchmarkReadEnvelopeHugeString(b *testing.B) {
	body := []byte(`{"objects":[{"type":"note","description":"` + strings.Repeat("s", 30<<20) + `"},{"type":"note"}]}`)
	for name, size := range map[string]int64{"declared": int64(len(body)), "unknown": -1} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				objs, err := ReadEnvelopeSized(bytes.NewReader(body), size, DefaultMaxContentLength, MaxObjectsPerEnvelope)
				if err != nil || len(objs) != 2 {
					b.Fatal(len(objs), err)
				}
			}
		})
	}
}

// BenchmarkReadEnvelopeIndicators reads a body of 10,000 indicators of about 3 KiB each, near the
// largest body, with the scanner and with the encoding/json reader it replaced: time and bytes
// allocated per read.
func BenchmarkReadEnvelopeIndicators(b *testing.B) {
	var body bytes.Buffer
	body.WriteString(`{"objects":[`)
	for i := range MaxObjectsPerEnvelope {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000000","pattern":"[ipv4-addr:value = '10.0.%d.%d']","x_score":%d.5e1,"description":"%s \"quoted\" \u00e9"}`,
			i, i/256%256, i%256, i, strings.Repeat("d", 3000))
	}
	body.WriteString(`]}`)
	for name, read := range map[string]func() ([]json.RawMessage, error){
		"scanner": func() ([]json.RawMessage, error) {
			return ReadEnvelopeSized(bytes.NewReader(body.Bytes()), int64(body.Len()), DefaultMaxContentLength, MaxObjectsPerEnvelope)
		},
		"decoder": func() ([]json.RawMessage, error) {
			return decoderReadEnvelope(bytes.NewReader(body.Bytes()), MaxObjectsPerEnvelope)
		},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(body.Len()))
			for b.Loop() {
				if objs, err := read(); err != nil || len(objs) != MaxObjectsPerEnvelope {
					b.Fatal(len(objs), err)
				}
			}
		})
	}
}
