package stix

import (
	"runtime"
	"strings"
	"testing"
)

// TestDecodeHoldsALargeStringOnce checks that a valid object is decoded where it lies: its large
// string is copied once, into the decoded form, and not first into a decoder's buffer.
func TestDecodeHoldsALargeStringOnce(t *testing.T) {
	raw := []byte(`{"type":"note","content":"` + strings.Repeat("s", 4<<20) + `","n":1.5}`)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	doc, p := decode(raw)
	runtime.ReadMemStats(&after)
	if p != nil {
		t.Fatal(p)
	}
	if allocated, limit := after.TotalAlloc-before.TotalAlloc, uint64(len(raw))*11/10; allocated > limit {
		t.Errorf("decoding a %d-byte object allocated %d bytes; at most %d expected", len(raw), allocated, limit)
	}
	if m, _ := doc.(map[string]any); len(m["content"].(string)) != 4<<20 {
		t.Errorf("the string decoded is not the object's")
	}
}
