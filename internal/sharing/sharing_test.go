package sharing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"taxiihub/internal/auth"
	"taxiihub/internal/policy"
	"taxiihub/internal/stix"
	"taxiihub/internal/store"
	"taxiihub/internal/store/sqlitestore"
)

var validator = sync.OnceValues(stix.NewValidator)

func mustValidator(t testing.TB) *stix.Validator {
	t.Helper()
	v, err := validator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// indicator is a valid STIX 2.1 indicator numbered n, with extra properties.
func indicator(n int, extra string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d",`+
		`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"host %d","description":"d",`+
		`"pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"%s}`,
		n, n, n%256, extra))
}

// fixture is a sharing service over a real embedded store holding one partnership with one
// collection, and the members given with their roles and grants.
type fixture struct {
	svc   *Service
	store store.Store
	coll  string
}

type member struct {
	id          string
	read, write bool
	role        store.Role
}

func newFixture(t *testing.T, rules store.PartnershipPolicy, members ...member) fixture {
	t.Helper()
	ctx := t.Context()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	if err := st.CreateAPIRoot(ctx, store.APIRoot{Slug: "r", Title: "R", Policy: rules}); err != nil {
		t.Fatal(err)
	}
	coll := "00000000-0000-4000-8000-0000000000c1"
	if err := st.CreateCollection(ctx, store.Collection{ID: coll, APIRoot: "r", Title: "C", Alias: "c"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if err := st.CreateMember(ctx, store.Member{ID: m.id, Name: m.id, Jurisdiction: "EU"}); err != nil {
			t.Fatal(err)
		}
		if err := st.PutGrant(ctx, store.Grant{MemberID: m.id, APIRoot: "r", CollectionID: coll, Read: m.read, Write: m.write}); err != nil {
			t.Fatal(err)
		}
		if m.role != "" {
			if err := st.PutMembership(ctx, store.Membership{MemberID: m.id, APIRoot: "r", Role: m.role}); err != nil {
				t.Fatal(err)
			}
		}
	}
	svc, err := New(Config{Store: st, Checker: mustValidator(t)})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{svc: svc, store: st, coll: coll}
}

// caller is a member as authentication hands it to the service: with the grants it holds now.
func (f fixture) caller(t *testing.T, id string) auth.Principal {
	t.Helper()
	grants, err := f.store.Grants(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return auth.NewPrincipal(id, "tok-"+id, grants)
}

func (f fixture) access(t *testing.T, id string) Access {
	t.Helper()
	acc, err := f.svc.Access(t.Context(), f.caller(t, id), "r", "c")
	if err != nil {
		t.Fatalf("access of %s: %v", id, err)
	}
	return acc
}

func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// A hub wired without a checker refuses to start rather than store what it cannot validate.
func TestNewFailsClosedWithoutAChecker(t *testing.T) {
	st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	if _, err := New(Config{Store: st}); err == nil {
		t.Fatal("New without a checker succeeded")
	}
}

// Rights are decided once, in Access, from grant and role; every use case reads that value, so a
// console or a command line calling the service gets the same answers as TAXII.
func TestAccessDecidesRightsOnce(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{},
		member{id: "both", read: true, write: true},
		member{id: "publisher", read: true, write: true, role: store.RolePublisher},
		member{id: "reader", read: true, write: true, role: store.RoleReader},
		member{id: "read-only", read: true},
	)
	f.svc.Publish(t.Context(), f.access(t, "both"), []json.RawMessage{indicator(1, "")}, false)
	q := store.Query{Limit: 10}

	for _, tc := range []struct {
		member           string
		canRead, canPost bool
		readKind         Kind
		postKind         Kind
	}{
		{"both", true, true, 0, 0},
		{"publisher", false, true, OneWay, 0},
		{"reader", true, false, 0, OneWay},
		{"read-only", true, false, 0, Forbidden},
	} {
		acc := f.access(t, tc.member)
		if acc.CanRead() != tc.canRead || acc.CanWrite() != tc.canPost {
			t.Errorf("%s: CanRead %v CanWrite %v", tc.member, acc.CanRead(), acc.CanWrite())
		}
		_, err := f.svc.Objects(t.Context(), acc, q)
		if kindOf(err) != tc.readKind {
			t.Errorf("%s reads: %v", tc.member, err)
		}
		_, err = f.svc.Publish(t.Context(), acc, []json.RawMessage{indicator(2, "")}, true)
		if kindOf(err) != tc.postKind {
			t.Errorf("%s publishes: %v", tc.member, err)
		}
	}

	// A partnership the caller holds no grant in looks exactly like one that does not exist.
	stranger := auth.NewPrincipal("stranger", "tok", nil)
	_, errHidden := f.svc.Access(t.Context(), stranger, "r", "c")
	_, errMissing := f.svc.Access(t.Context(), stranger, "no-such-root", "c")
	var hidden, missing *Error
	if !errors.As(errHidden, &hidden) || !errors.As(errMissing, &missing) || *hidden != *missing || hidden.Kind != NotFound {
		t.Errorf("hidden %v, missing %v; want the same NotFound", errHidden, errMissing)
	}
}

// tally counts by label, as the metrics do.
type tally struct {
	mu      sync.Mutex
	counted map[string]int
}

func (t *tally) add(label string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counted[label]++
}

func (t *tally) Stored(r store.Result)  { t.add("stored " + r.String()) }
func (t *tally) Refused(reason string)  { t.add("refused " + reason) }
func (t *tally) Released(time.Duration) { t.add("released") }

// Publish reports every object in a status, in order, and tells the tally each object's fate with
// its first reason code, typed from the validator or the rules to the counter.
func TestPublishAccountsForEveryObject(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "cert-eu", read: true, write: true})
	counts := &tally{counted: map[string]int{}}
	svc := f.svc.WithTally(counts)
	acc := f.access(t, "cert-eu")
	raws := []json.RawMessage{indicator(1, ""), json.RawMessage(`{"type":"x"}`), indicator(2, ""), indicator(1, "")}
	bad := mustValidator(t).Object(raws[1])
	st, err := svc.Publish(t.Context(), acc, raws, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Successes) != 3 || len(st.Failures) != 1 {
		t.Fatalf("successes %+v, failures %+v", st.Successes, st.Failures)
	}
	if st.Successes[0].Message != "added" || !strings.HasPrefix(st.Successes[2].Message, "already present") {
		t.Errorf("successes: %+v", st.Successes)
	}
	if !strings.HasPrefix(st.Failures[0].Message, "rejected: [") {
		t.Errorf("failure: %+v", st.Failures[0])
	}
	saved, err := f.store.Status(t.Context(), "r", st.ID)
	if err != nil || len(saved.Successes) != 3 || saved.Submitter != "cert-eu" {
		t.Errorf("saved status %+v, %v", saved, err)
	}
	want := map[string]int{"stored added": 2, "stored unchanged": 1, "refused " + bad.Errors[0].Code: 1}
	if fmt.Sprint(counts.counted) != fmt.Sprint(want) {
		t.Errorf("tally %v, want %v", counts.counted, want)
	}

	// A dry run counts nothing and stores nothing.
	counts.counted = map[string]int{}
	dry, err := svc.Publish(t.Context(), acc, []json.RawMessage{indicator(3, "")}, true)
	if err != nil || len(dry.Successes) != 1 || len(counts.counted) != 0 {
		t.Errorf("dry run: %+v %v, tally %v", dry, err, counts.counted)
	}
	if _, err := f.store.Status(t.Context(), "r", dry.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a dry run saved its status: %v", err)
	}
}

// check passes every object the validator accepts through the content rules, which read the
// validator's decoding: the rules' problems follow the validator's, and what is stored carries the
// level and fingerprint the rules found.
func TestCheckAppliesTheRulesAfterTheValidator(t *testing.T) {
	svc, err := New(Config{Store: noStore{}, Checker: mustValidator(t)})
	if err != nil {
		t.Fatal(err)
	}
	rules := policy.Rules{Collection: store.CollectionPolicy{AllowedTypes: []string{"indicator"}, MaxTLP: store.TLPAmber}}
	red := `,"object_marking_refs":["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]`
	green := `,"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]`
	raws := []json.RawMessage{
		indicator(1, green),
		indicator(2, red),
		json.RawMessage(`{"type":"x"}`),
		json.RawMessage(`{"type":"note","spec_version":"2.1","id":"note--00000000-0000-4000-8000-000000000004",` +
			`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","content":"n","object_refs":["indicator--00000000-0000-4000-8000-000000000001"]}`),
	}
	p := svc.check(t.Context(), raws, rules, speaksFor{})
	acc := p.accepted()
	if len(acc) != 1 || acc[0].TLP != store.TLPGreen || acc[0].Fingerprint == "" || acc[0].ID != "indicator--00000000-0000-4000-8000-000000000001" {
		t.Fatalf("accepted %+v", acc)
	}
	codes := func(i int) []string {
		var out []string
		for _, e := range p.verdicts[i].errors {
			out = append(out, e.Code)
		}
		return out
	}
	if got := codes(1); !slices.Equal(got, []string{policy.CodeAboveCeiling}) {
		t.Errorf("red indicator: %v", got)
	}
	if got := codes(3); !slices.Equal(got, []string{policy.CodeTypeNotAllowed}) {
		t.Errorf("note: %v", got)
	}
	if got := codes(2); len(got) == 0 || slices.Contains(got, policy.CodeTypeNotAllowed) {
		t.Errorf("an object the validator refuses is not judged by the rules: %v", got)
	}
	refused := p.refused()
	if len(refused) != 3 || refused[0].Codes[0] != policy.CodeAboveCeiling {
		t.Errorf("refused %+v", refused)
	}
}

// noStore is a Store nobody calls: check reads nothing.
type noStore struct{ Store }

// slowChecker is the validator taking a moment per object and noting how many objects it was
// checking at once.
type slowChecker struct {
	v            *stix.Validator
	inside, peak *atomic.Int64
}

func (c slowChecker) Object(raw []byte) stix.Verdict {
	n := c.inside.Add(1)
	defer c.inside.Add(-1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	time.Sleep(time.Millisecond)
	return c.v.Object(raw)
}

// A large submission is checked on several CPUs, and comes out in submission order all the same:
// every 7th object invalid, every 5th refused by the rules.
func TestCheckInParallelKeepsOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const n = 300
	var inside, peak atomic.Int64
	svc, err := New(Config{Store: noStore{}, Checker: slowChecker{mustValidator(t), &inside, &peak}})
	if err != nil {
		t.Fatal(err)
	}
	raws := make([]json.RawMessage, n)
	for i := range raws {
		switch {
		case i%7 == 0:
			raws[i] = json.RawMessage(fmt.Sprintf(`{"type":"x","n":%d}`, i))
		case i%5 == 0:
			raws[i] = indicator(i, `,"x_secret":1`)
		default:
			raws[i] = indicator(i, "")
		}
	}
	p := svc.check(t.Context(), raws, policy.Rules{Collection: store.CollectionPolicy{DeniedProperties: []string{"x_secret"}}}, speaksFor{})
	if peak.Load() < 2 {
		t.Errorf("at most %d object was checked at a time; want several", peak.Load())
	}
	var want, got []string
	for i := range n {
		if i%7 != 0 && i%5 != 0 {
			want = append(want, fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i))
		}
	}
	for _, o := range p.accepted() {
		got = append(got, o.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("accepted %d objects; want %d in submission order", len(got), len(want))
	}
	for i, v := range p.verdicts {
		if refused := i%7 == 0 || i%5 == 0; v.valid() == refused {
			t.Errorf("object %d: valid %v, errors %v", i, v.valid(), v.errors)
		}
	}
}

// A reader whose clearance hides some of a collection gets one answer whether the id it sends is
// another's object above its clearance or a new one, and the other's object is left as it was.
func TestNoOracleBelowClearance(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{},
		member{id: "owner", read: true, write: true},
		member{id: "amber", read: true, write: true})
	if err := f.store.PutMembership(t.Context(), store.Membership{MemberID: "amber", APIRoot: "r", Role: store.RoleBoth,
		Clearance: store.TLPAmber}); err != nil {
		t.Fatal(err)
	}
	red := `,"object_marking_refs":["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]`
	secret := indicator(1, red)
	if _, err := f.svc.Publish(t.Context(), f.access(t, "owner"), []json.RawMessage{secret}, false); err != nil {
		t.Fatal(err)
	}
	acc := f.access(t, "amber")
	for _, dry := range []bool{true, false} {
		st, err := f.svc.Publish(t.Context(), acc, []json.RawMessage{indicator(1, red), indicator(2, red)}, dry)
		if err != nil || len(st.Successes) != 2 || st.Successes[0].Message != st.Successes[1].Message {
			t.Errorf("dry run %v: %+v, %v; want the same answer for both", dry, st, err)
		}
	}
	page, err := f.store.Objects(t.Context(), f.coll, store.Query{Limit: 10, IDs: []string{"indicator--00000000-0000-4000-8000-000000000001"},
		VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}}})
	if err != nil || len(page.Records) != 1 || string(page.Records[0].Content) != string(secret) {
		t.Errorf("the owner's object afterwards: %+v, %v", page.Records, err)
	}
}

// An object with a hundred faults makes a status entry of twenty problems and a count of the rest,
// each problem of bounded length, and the ledger keeps the same twenty codes.
func TestStatusSaysABoundedNumberOfProblems(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "cert-eu", read: true, write: true})
	var props strings.Builder
	for i := range 100 {
		fmt.Fprintf(&props, `,"BAD-%03d-%s":1`, i, strings.Repeat("x", 200))
	}
	st, err := f.svc.Publish(t.Context(), f.access(t, "cert-eu"), []json.RawMessage{indicator(1, props.String())}, false)
	if err != nil || len(st.Failures) != 1 {
		t.Fatalf("publish: %+v, %v", st, err)
	}
	msg := st.Failures[0].Message
	if n := strings.Count(msg, "["); n != maxProblemsShown || !strings.HasSuffix(msg, "; and 80 more") {
		t.Errorf("%d problems shown, ending %q", n, msg[max(0, len(msg)-40):])
	}
	if len(msg) > maxProblemsShown*(maxProblemBytes+2)+len("rejected: ; and 80 more") {
		t.Errorf("a message of %d bytes", len(msg))
	}
	entries, err := f.store.Ledger(t.Context(), 0, store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	if v := entries[len(entries)-1].Items[0].Verdict; strings.Count(v, ",") != maxProblemsShown-1 {
		t.Errorf("the ledger's verdict lists %d codes: %s", strings.Count(v, ",")+1, v)
	}
}

// An object over MaxObjectSize is refused alone, without being decoded, and its neighbour stored.
func TestAnObjectTooLargeIsRefusedAlone(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "cert-eu", read: true, write: true})
	huge := indicator(1, `,"x_blob":"`+strings.Repeat("a", MaxObjectSize)+`"`)
	st, err := f.svc.Publish(t.Context(), f.access(t, "cert-eu"), []json.RawMessage{huge, indicator(2, "")}, false)
	if err != nil || len(st.Failures) != 1 || len(st.Successes) != 1 ||
		!strings.Contains(st.Failures[0].Message, "["+CodeObjectTooLarge+"]") {
		t.Errorf("publish: %+v, %v", st, err)
	}
}

// An observable may leave spec_version out (STIX 2.1 section 3.1: it is then 2.1 content). It is
// stored like any other, and the request around it is not lost.
func TestAnObservableWithoutSpecVersionIsStored(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "cert-eu", read: true, write: true})
	ip := json.RawMessage(`{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`)
	st, err := f.svc.Publish(t.Context(), f.access(t, "cert-eu"), []json.RawMessage{ip, indicator(2, "")}, false)
	if err != nil || len(st.Successes) != 2 || len(st.Failures) != 0 {
		t.Fatalf("publish: %+v, %v", st, err)
	}
	page, err := f.svc.Objects(t.Context(), f.access(t, "cert-eu"), store.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 || page.Records[0].SpecVersion != "2.1" {
		t.Errorf("stored: %+v", page.Records)
	}
}

// stopAfterFirst is the real validator, which ends the request's context once it has judged one
// object: the request's deadline passing while its objects are judged.
type stopAfterFirst struct {
	*stix.Validator
	stop   context.CancelFunc
	judged atomic.Int64
}

func (c *stopAfterFirst) Object(raw []byte) stix.Verdict {
	c.judged.Add(1)
	defer c.stop()
	return c.Validator.Object(raw)
}

// Judging stops when the request's time runs out: what is left is refused as not judged, never
// judged after the answer is due nor stored unjudged, so a request crafted to be costly to judge
// costs at most its deadline's worth of CPU.
func TestJudgingStopsWhenTheRequestEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	checker := &stopAfterFirst{Validator: mustValidator(t), stop: cancel}
	svc := &Service{checker: checker}
	const n = 1000
	raws := make([]json.RawMessage, n)
	for i := range raws {
		raws[i] = indicator(i, "")
	}
	p := svc.check(ctx, raws, policy.Rules{}, speaksFor{})
	judged := int(checker.judged.Load())
	// Workers already judging when the context ended finish their object.
	if judged > runtime.GOMAXPROCS(0) {
		t.Errorf("%d of %d objects judged after the request ended", judged, n)
	}
	notJudged := 0
	for _, v := range p.verdicts {
		if len(v.errors) == 1 && v.errors[0].Code == CodeNotJudged {
			notJudged++
		}
	}
	if notJudged != n-judged || len(p.accepted()) != judged {
		t.Errorf("%d refused as not judged and %d accepted; want %d and %d", notJudged, len(p.accepted()), n-judged, judged)
	}
}
