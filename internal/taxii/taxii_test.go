package taxii

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"taxiihub/internal/store"
)

func TestParseFilters(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	q, err := ParseFilters(url.Values{
		"added_after":         {"2026-01-01T00:00:00.123456Z"},
		"limit":               {"50"},
		"match[id]":           {"indicator--a, indicator--b"},
		"match[type]":         {"indicator,malware"},
		"match[version]":      {"first,2026-01-02T00:00:00Z,last"},
		"match[spec_version]": {"2.1"},
		"next":                {"abc"},
		"dry_run":             {"true"}, // not a filter: left to the handler
	}, ObjectsEndpoint)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if !q.AddedAfter.Equal(time.Date(2026, 1, 1, 0, 0, 0, 123456000, time.UTC)) || q.Limit != 50 || q.Cursor != "abc" ||
		!slices.Equal(q.IDs, []string{"indicator--a", "indicator--b"}) || !slices.Equal(q.Types, []string{"indicator", "malware"}) ||
		!q.Versions.First || !q.Versions.Last || q.Versions.All || len(q.Versions.At) != 1 || !q.Versions.At[0].Equal(day(2)) ||
		!slices.Equal(q.SpecVersions, []string{"2.1"}) {
		t.Errorf("got %+v", q)
	}
	if q, _ := ParseFilters(url.Values{}, ObjectsEndpoint); q.Limit != DefaultPageSize {
		t.Errorf("default limit %d, want %d", q.Limit, DefaultPageSize)
	}
	if q, _ := ParseFilters(url.Values{"limit": {"999999"}}, ObjectsEndpoint); q.Limit != MaxPageSize {
		t.Errorf("a limit above the maximum became %d, want %d", q.Limit, MaxPageSize)
	}
	for _, tc := range []struct {
		values   url.Values
		endpoint Endpoint
	}{
		{url.Values{"match[id]": {"x"}}, ObjectEndpoint},
		{url.Values{"match[version]": {"all"}}, VersionsEndpoint},
		{url.Values{"limit": {"5"}}, DeleteEndpoint},
		{url.Values{"match[foo]": {"x"}}, ObjectsEndpoint},
		{url.Values{"limit": {"1", "2"}}, ObjectsEndpoint},
		{url.Values{"match[version]": {"first,,last"}}, ObjectsEndpoint},
		{url.Values{"added_after": {"2026-01-01"}}, ObjectsEndpoint},
		{url.Values{"next": {""}}, ObjectsEndpoint},
	} {
		_, err := ParseFilters(tc.values, tc.endpoint)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%v on endpoint %d: got %v, want a FilterError", tc.values, tc.endpoint, err)
		}
	}
}

func TestFormats(t *testing.T) {
	ts := time.Date(2026, 11, 23, 1, 2, 3, 456789000, time.FixedZone("CET", 3600))
	if got := FormatDateAdded(ts); got != "2026-11-23T00:02:03.456789Z" {
		t.Errorf("date added %q", got)
	}
	if got := FormatDateAdded(ts.Truncate(time.Second)); got != "2026-11-23T00:02:03.000000Z" {
		t.Errorf("date added on a whole second %q: the six digits must stay", got)
	}
	if got := FormatVersion(time.Date(2026, 1, 1, 0, 0, 0, 120000000, time.UTC)); got != "2026-01-01T00:00:00.120Z" {
		t.Errorf("version %q", got)
	}
	if got := FormatVersion(ts); got != "2026-11-23T00:02:03.456789Z" {
		t.Errorf("version with microseconds %q", got)
	}
	back, err := ParseTimestamp(FormatDateAdded(ts))
	if err != nil || !back.Equal(ts) {
		t.Errorf("a formatted date added does not read back: %v %v", back, err)
	}
}

func TestDecodeEnvelopeKeepsBytes(t *testing.T) {
	obj := `{ "type" : "indicator",  "x": 1.50e2 }`
	for _, body := range []string{
		`{"objects":[` + obj + `]}`,
		`{"type":"bundle","id":"bundle--x","objects":[` + obj + `],"more":false}`,
	} {
		raws, err := DecodeEnvelope([]byte(body), 10)
		if err != nil || len(raws) != 1 || string(raws[0]) != obj {
			t.Errorf("%s: %q, %v", body, raws, err)
		}
	}
}

func TestStatusAccountsForEveryObject(t *testing.T) {
	ok := func(id string) json.RawMessage {
		return json.RawMessage(`{"type":"indicator","spec_version":"2.1","id":"` + id + `","modified":"2026-01-01T00:00:00.000Z"}`)
	}
	raws := []json.RawMessage{ok("indicator--00000000-0000-4000-8000-000000000001"), json.RawMessage(`{"type":"x"}`),
		ok("indicator--00000000-0000-4000-8000-000000000002"), ok("indicator--00000000-0000-4000-8000-000000000003")}
	sub := Judge(Structural{}, raws, nil)
	if len(sub.Accepted()) != 3 {
		t.Fatalf("accepted %d", len(sub.Accepted()))
	}
	when := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	outcomes := []store.Outcome{
		{Result: store.Added, Version: when, DateAdded: when},
		{Result: store.Unchanged, Version: when, DateAdded: when},
		{Result: store.NotStored},
	}
	st := NewStatus(sub.Status("s1", "r", "cert-eu", when, outcomes))
	if st.TotalCount != 4 || st.SuccessCount != 2 || st.FailureCount != 2 || st.PendingCount != 0 {
		t.Fatalf("counts: %+v", st)
	}
	if !strings.Contains(st.Failures[0].Message, "[invalid-id]") || !strings.Contains(st.Failures[1].Message, "submit the object again") {
		t.Errorf("failures: %+v", st.Failures)
	}
	if st.Successes[0].Message != "added" || !strings.HasPrefix(st.Successes[1].Message, "already present") {
		t.Errorf("successes: %+v", st.Successes)
	}
}

func FuzzParseFilters(f *testing.F) {
	for _, s := range []string{"limit=10&match[version]=first,last", "added_after=2026-01-01T00:00:00Z", "match[spec_version]=2.1,2.0&next=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		for _, e := range []Endpoint{ObjectsEndpoint, ObjectEndpoint, VersionsEndpoint, DeleteEndpoint} {
			q, err := ParseFilters(values, e)
			var fe *FilterError
			if err != nil && !errors.As(err, &fe) {
				t.Fatalf("%q: error %v is not a FilterError", raw, err)
			}
			if err == nil && (q.Limit < 1 || q.Limit > MaxPageSize) {
				t.Fatalf("%q: limit %d escaped 1..%d", raw, q.Limit, MaxPageSize)
			}
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range []string{`{"objects":[{"type":"x"}]}`, `{"objects":[]}`, `{"type":"bundle","objects":[1,2]}`, `[]`, `{"objects":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		raws, err := DecodeEnvelope(body, 100)
		var ee *EnvelopeError
		var tm *TooManyObjectsError
		if err != nil && !errors.As(err, &ee) && !errors.As(err, &tm) {
			t.Fatalf("error %v is neither an EnvelopeError nor a TooManyObjectsError", err)
		}
		if err == nil {
			if len(raws) > 100 {
				t.Fatalf("%d objects passed a limit of 100", len(raws))
			}
			for _, r := range raws {
				if !json.Valid(r) {
					t.Fatalf("an object is not valid JSON: %q", r)
				}
			}
		}
	})
}

// decodingChecker is Structural that also hands on what it decoded, as the STIX validator does.
type decodingChecker struct{}

func (decodingChecker) Check(raw []byte) Verdict {
	v := Structural{}.Check(raw)
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err == nil {
		v.Object = obj
	}
	return v
}

// Judge screens each accepted object with the checker's decoding of it, applies the screen's
// refusals, warnings and replacement, and keeps no decoded object afterwards.
func TestJudgeScreensWithTheCheckersDecoding(t *testing.T) {
	obj := func(id, name string) json.RawMessage {
		return json.RawMessage(`{"type":"indicator","spec_version":"2.1","id":"` + id + `","modified":"2026-01-01T00:00:00.000Z","name":"` + name + `"}`)
	}
	raws := []json.RawMessage{
		obj("indicator--00000000-0000-4000-8000-000000000001", "keep"),
		obj("indicator--00000000-0000-4000-8000-000000000002", "refuse"),
		json.RawMessage(`{"type":"x"}`),
		obj("indicator--00000000-0000-4000-8000-000000000003", "keep"),
	}
	screened := 0
	sub := Judge(decodingChecker{}, raws, func(o store.Object, decoded map[string]any) Screening {
		screened++
		if decoded["id"] != o.ID {
			t.Errorf("screen got %v decoded for %s", decoded["id"], o.ID)
		}
		if decoded["name"] == "refuse" {
			return Screening{Refusals: []Problem{{Code: "type-not-allowed", Message: "no"}}}
		}
		o.Fingerprint = "fp-" + o.ID
		return Screening{Object: o, Warnings: []Problem{{Code: "note", Message: "screened"}}}
	})
	if screened != 3 {
		t.Errorf("screened %d objects; want the 3 the checker accepted", screened)
	}
	acc := sub.Accepted()
	if len(acc) != 2 || acc[0].Fingerprint != "fp-"+acc[0].ID || acc[1].ID != "indicator--00000000-0000-4000-8000-000000000003" {
		t.Fatalf("accepted = %+v", acc)
	}
	for i, v := range sub.verdicts {
		if v.Object != nil {
			t.Errorf("verdict %d still holds its decoded object", i)
		}
	}
	if errs := sub.verdicts[1].Errors; len(errs) != 1 || errs[0].Code != "type-not-allowed" {
		t.Errorf("refused object's errors = %+v", errs)
	}
	if ws := sub.verdicts[0].Warnings; len(ws) != 1 || ws[0].Code != "note" {
		t.Errorf("kept object's warnings = %+v", ws)
	}
}

// slowChecker is decodingChecker taking a moment per object and noting how many objects it was
// checking at once.
type slowChecker struct {
	inside, peak *atomic.Int64
}

func (c slowChecker) Check(raw []byte) Verdict {
	n := c.inside.Add(1)
	defer c.inside.Add(-1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	time.Sleep(time.Millisecond)
	return decodingChecker{}.Check(raw)
}

// A large submission is judged on several CPUs, and comes out in submission order all the same:
// every 7th object invalid, every 5th refused by the screen.
func TestJudgeInParallelKeepsOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const n = 300
	raws := make([]json.RawMessage, n)
	for i := range raws {
		raws[i] = json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","modified":"2026-01-01T00:00:00.000Z","n":%d}`, i, i))
		if i%7 == 0 {
			raws[i] = json.RawMessage(`{"type":"x","n":` + strconv.Itoa(i) + `}`)
		}
	}
	var inside, peak atomic.Int64
	sub := Judge(slowChecker{&inside, &peak}, raws, func(o store.Object, decoded map[string]any) Screening {
		if n, _ := decoded["n"].(float64); int(n)%5 == 0 {
			return Screening{Refusals: []Problem{{Code: "property-denied", Message: "no"}}}
		}
		return Screening{Object: o}
	})
	if peak.Load() < 2 {
		t.Errorf("at most %d object was checked at a time; want several", peak.Load())
	}
	var want []string
	for i := range n {
		if i%7 != 0 && i%5 != 0 {
			want = append(want, fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i))
		}
	}
	var got []string
	for _, o := range sub.Accepted() {
		got = append(got, o.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("accepted %d objects %v...; want %d in submission order", len(got), got[:min(5, len(got))], len(want))
	}
	for i, v := range sub.verdicts {
		if refused := i%7 == 0 || i%5 == 0; v.Valid() == refused {
			t.Errorf("object %d: valid %v, errors %v", i, v.Valid(), v.Errors)
		}
	}
}
