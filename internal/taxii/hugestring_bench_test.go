package taxii

import (
	"bytes"
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
