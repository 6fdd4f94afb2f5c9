package store

import (
	"errors"
	"testing"
	"time"
)

func TestCompareSpecVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2.0", "2.1", -1},
		{"2.1", "2.1", 0},
		{"2.10", "2.9", 1},
		{"2.1", "2.1.1", -1},
		{"3.0", "2.1", 1},
		{"2.1", "2.x", -1}, // non-numeric parts fall back to string order
	} {
		if got := compareSpecVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := compareSpecVersions(tc.b, tc.a); got != -tc.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestCursorRoundTripsFiltersAndPosition(t *testing.T) {
	q := Query{
		Types: []string{"malware", "indicator", "malware"},
		IDs:   []string{"indicator--b", "indicator--a"},
		VersionFilter: VersionFilter{
			Versions:     VersionMatch{First: true, At: []time.Time{time.Date(2024, 1, 2, 3, 4, 5, 6789, time.UTC)}},
			SpecVersions: []string{"2.1"},
		},
		Limit: 5,
	}
	p, err := q.resolve("c1")
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	last := time.Date(2026, 11, 23, 1, 2, 3, 123456000, time.UTC)
	resumed, err := Query{Limit: 7, Cursor: p.next(last)}.resolve("c1")
	if err != nil {
		t.Fatalf("resolve with cursor: %v", err)
	}
	if !resumed.filters.equal(p.filters) {
		t.Errorf("filters: got %+v, want %+v", resumed.filters, p.filters)
	}
	if resumed.after != last.UnixMicro() || resumed.limit != 7 {
		t.Errorf("resumed after %d limit %d, want %d and 7", resumed.after, resumed.limit, last.UnixMicro())
	}
}

func TestVersionAtIsComparedToTheMicrosecond(t *testing.T) {
	v := time.Date(2024, 1, 1, 0, 0, 0, 123456789, time.UTC)
	r := Record{ID: "x--1", SpecVersion: "2.1", Version: v}
	f := VersionFilter{Versions: VersionMatch{At: []time.Time{v.Truncate(time.Microsecond)}}}
	if got := f.Select([]Record{r}); len(got) != 1 {
		t.Errorf("a version given to the microsecond did not select the stored version")
	}
}

// FuzzDecodeCursor checks that no client-supplied cursor makes the store panic or resume from a
// position it did not issue: anything that is not a cursor is refused with a *CursorError.
func FuzzDecodeCursor(f *testing.F) {
	p, _ := Query{Limit: 1, Types: []string{"indicator"}}.resolve("c1")
	f.Add(p.next(time.Unix(1700000000, 0)))
	f.Add("")
	f.Add("e30")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		var ce *CursorError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("decode %q: error %v is not a *CursorError", s, err)
		}
		if err == nil && c.encode() != s {
			t.Fatalf("decode %q accepted a cursor that is not the encoding of what it decoded to", s)
		}
	})
}
