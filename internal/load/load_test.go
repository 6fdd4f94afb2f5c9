package load_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"taxiihub/internal/httpapi"
	"taxiihub/internal/load"
	"taxiihub/internal/server"
)

func TestMain(m *testing.M) {
	httpapi.UseReleaseMode()
	os.Exit(m.Run())
}

// startHub runs a hub in-process on the embedded database, seeded with the example spec, behind
// wrap (which may tamper with its answers), and returns its URL and the seeded members.
func startHub(t *testing.T, wrap func(http.Handler) http.Handler) (string, []load.Member) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := server.ParseConfig([]string{"--data-dir", dir, "--seed", filepath.Join("..", "..", "deploy", "examples", "partnerships.yaml")},
		hubEnv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		s.Close(t.Context())
	})
	members, err := load.ReadMembers(filepath.Join(dir, "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	return srv.URL, members
}

// hubEnv turns the hub's per-member rate limit off: the load exceeds it on purpose.
func hubEnv(name string) string {
	if name == "TAXIIHUB_MEMBER_RATE" {
		return "0"
	}
	return ""
}

func only(members []load.Member, ids ...string) []load.Member {
	var out []load.Member
	for _, m := range members {
		if slices.Contains(ids, m.ID) {
			out = append(out, m)
		}
	}
	return out
}

// exampleCollections are the example hub's collections, every one of which these tests load.
var exampleCollections = []string{"eu-china-cyber/*", "eu-japan/*", "eu-immigration-ct/*"}

// smallRun is a quick load into the collections named: a fixed number of objects in small batches.
func smallRun(hub string, members []load.Member, collections ...string) load.Config {
	return load.Config{
		Hubs: []string{hub}, Members: members, Collections: collections,
		Objects: 600, Batch: 50, PageSize: 40, Publishers: 2, Pollers: 2,
		PollInterval: 10 * time.Millisecond, Drain: 30 * time.Second, GiveUpAfter: 30 * time.Second,
	}
}

func TestEveryAcceptedObjectReachesEveryEntitledPollerOnce(t *testing.T) {
	hub, members := startHub(t, nil)
	var progress bytes.Buffer
	cfg := smallRun(hub, members, exampleCollections...)
	cfg.Progress, cfg.ProgressInterval = &progress, 10*time.Millisecond
	var requests atomic.Int64
	cfg.OnRequest = func(load.RequestEvent) { requests.Add(1) }
	rep, err := load.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ps := rep.Problems(); len(ps) > 0 {
		t.Errorf("problems: %q", ps)
	}
	if rep.Accepted != 600 || rep.Sent != 600 {
		t.Errorf("accepted %d of %d sent; want 600 of 600", rep.Accepted, rep.Sent)
	}
	// Six collections; cert-eu reads five of them, its partners two or three each, the two
	// counter-terrorism readers the sixth: twelve member-collection pairs. Each of the three
	// partnerships' members collections adds its two readers: six pairs more. Two pollers each, and
	// a final read per collection.
	if got := len(rep.Pollers); got != (12+6)*2+6+3 {
		t.Errorf("%d pollers; want 45", got)
	}
	for _, p := range rep.Pollers {
		if p.Member == "frontex" || p.Member == "nl-ind" {
			t.Errorf("write-only member %s polls %s", p.Member, p.Collection)
		}
	}
	if n := requests.Load(); uint64(n) != rep.Posts.Total()+rep.Gets.Total() {
		t.Errorf("OnRequest saw %d requests; the report counts %d", n, rep.Posts.Total()+rep.Gets.Total())
	}
	if rep.Posts.Failed()+rep.Gets.Failed() > 0 {
		t.Errorf("failed requests: POST %v, GET %v", rep.Posts.ByStatus, rep.Gets.ByStatus)
	}
	if !strings.Contains(progress.String(), "accepted") {
		t.Errorf("no progress line: %q", progress.String())
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "result: OK") {
		t.Errorf("report:\n%s", text.String())
	}
}

// tamper rewrites the envelopes of object pages with fn.
func tamper(fn func(objs []json.RawMessage) []json.RawMessage) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/objects/") {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			var env map[string]json.RawMessage
			var objs []json.RawMessage
			if rec.Code == http.StatusOK && json.Unmarshal(body, &env) == nil && json.Unmarshal(env["objects"], &objs) == nil {
				env["objects"], _ = json.Marshal(fn(objs))
				body, _ = json.Marshal(env)
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(body)
		})
	}
}

func TestTheCheckCatchesAHubThatBreaksItsPromises(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wrap  func(http.Handler) http.Handler
		field func(load.PollerReport) int
		every bool // every poller, rather than some, must notice
	}{
		{"lost object", tamper(func(objs []json.RawMessage) []json.RawMessage {
			var keep []json.RawMessage
			for _, o := range objs {
				if !bytes.Contains(o, []byte(`7","created"`)) { // every sixteenth object
					keep = append(keep, o)
				}
			}
			return keep
		}), func(p load.PollerReport) int { return p.Missing }, true},
		{"object served twice", tamper(func(objs []json.RawMessage) []json.RawMessage {
			if len(objs) == 0 {
				return objs
			}
			return append(objs, objs[0])
		}), func(p load.PollerReport) int { return p.Duplicated }, true},
		{"object altered", tamper(func(objs []json.RawMessage) []json.RawMessage {
			for i, o := range objs {
				objs[i] = bytes.Replace(o, []byte("Synthetic"), []byte("synthetic"), 1)
			}
			return objs
		}), func(p load.PollerReport) int { return p.Corrupted }, true},
		{"accepted but never stored", func(next http.Handler) http.Handler {
			var posts atomic.Int64
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || posts.Add(1) != 3 {
					next.ServeHTTP(w, r)
					return
				}
				// The third POST is answered as if stored, and dropped.
				var env struct{ Objects []struct{ ID string } }
				_ = json.NewDecoder(r.Body).Decode(&env)
				var st struct {
					Successes []map[string]string `json:"successes"`
				}
				for _, o := range env.Objects {
					st.Successes = append(st.Successes, map[string]string{"id": o.ID})
				}
				w.WriteHeader(http.StatusAccepted)
				json.NewEncoder(w).Encode(st)
			})
		}, func(p load.PollerReport) int { return p.Missing }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub, members := startHub(t, tc.wrap)
			rep, err := load.Run(t.Context(), smallRun(hub, only(members, "cert-eu", "cncert-cc"), "eu-china-cyber/*"))
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems()) == 0 {
				t.Fatal("the run found no problem")
			}
			accepted := make(map[string]int)
			for _, c := range rep.Collections {
				accepted[c.Name] = c.Accepted
			}
			noticed := 0
			for _, p := range rep.Pollers {
				if tc.field(p) > 0 {
					noticed++
				} else if tc.every && accepted[p.Collection] > 0 {
					t.Errorf("%s#%d on %s (final %v) noticed nothing: %+v", p.Member, p.Index, p.Collection, p.Final, p)
				}
			}
			if noticed == 0 {
				t.Errorf("no poller noticed; problems: %q", rep.Problems())
			}
		})
	}
}

func TestAmbiguousFailuresAreResubmittedAndConfirmed(t *testing.T) {
	// Every third POST is stored but answered 503, as when a hub fails after committing: the
	// publisher cannot know, resubmits, and the hub reports the objects as already present.
	var posts atomic.Int64
	hub, members := startHub(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || posts.Add(1)%3 != 0 {
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(httptest.NewRecorder(), r)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"title":"Unavailable"}`)
		})
	})
	rep, err := load.Run(t.Context(), smallRun(hub, only(members, "frontex", "europol-ectc"), "eu-immigration-ct/*"))
	if err != nil {
		t.Fatal(err)
	}
	if ps := rep.Problems(); len(ps) > 0 {
		t.Errorf("problems: %q", ps)
	}
	if rep.Posts.ByStatus[http.StatusServiceUnavailable] == 0 || rep.Accepted != 600 {
		t.Errorf("accepted %d with %d answers 503; want 600 accepted despite some 503",
			rep.Accepted, rep.Posts.ByStatus[http.StatusServiceUnavailable])
	}
}

func TestUnreachableHubIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := load.Run(t.Context(), load.Config{Hubs: []string{url}, Members: []load.Member{{ID: "m", Token: "t"}},
		Duration: time.Second, Publishers: 1, WriteRealData: true})
	if err == nil || !strings.Contains(err.Error(), "no hub could be reached") {
		t.Errorf("Run() error = %v; want ErrUnreachable", err)
	}
}

func TestConfigProblemsAreReportedTogether(t *testing.T) {
	_, err := load.Run(t.Context(), load.Config{Batch: 20000, PageSize: 5000})
	for _, want := range []string{"no hub", "no member", "nothing ends publishing", "neither publishers nor pollers", "batch 20000", "page size 5000",
		"name the collections to load"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Run() error = %v; want it to mention %q", err, want)
		}
	}
}

// objectsIn reads every object of a collection (by alias) as a member, at most one page of 1,000.
func objectsIn(t *testing.T, hub string, m load.Member, root, alias string) []map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, hub+"/"+root+"/collections/"+alias+"/objects/?limit=1000", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	req.Header.Set("Authorization", "Bearer "+m.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/%s as %s: %d %s", root, alias, m.ID, resp.StatusCode, body)
	}
	var env struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	return env.Objects
}

// The load writes into, and polls, the collections it is given and no other: the 30 s run
// put fake indicators into every collection its members could write, real partnerships' included.
func TestLoadWritesOnlyIntoTheCollectionsNamed(t *testing.T) {
	hub, members := startHub(t, nil)
	pair := only(members, "cert-eu", "jpcert-cc")
	rep, err := load.Run(t.Context(), smallRun(hub, pair, "eu-japan/cyber-threats"))
	if err != nil {
		t.Fatal(err)
	}
	if ps := rep.Problems(); len(ps) > 0 || rep.Accepted != 600 {
		t.Fatalf("accepted %d, problems %q", rep.Accepted, ps)
	}
	if len(rep.Collections) != 1 || rep.Collections[0].Name != "eu-japan/cyber-threats" {
		t.Errorf("collections used: %+v; want eu-japan/cyber-threats only", rep.Collections)
	}
	if got := len(objectsIn(t, hub, pair[0], "eu-japan", "cyber-threats")); got != 600 {
		t.Errorf("eu-japan/cyber-threats holds %d objects, want the 600 accepted", got)
	}
	for _, other := range [][2]string{{"eu-japan", "critical-infrastructure"}, {"eu-china-cyber", "indicators"}, {"eu-china-cyber", "incidents"}} {
		if objs := objectsIn(t, hub, pair[0], other[0], other[1]); len(objs) != 0 {
			t.Errorf("%s/%s, not named, holds %d objects of the load", other[0], other[1], len(objs))
		}
	}
	if _, err := load.Run(t.Context(), smallRun(hub, pair, "eu-japan/no-such-collection")); err == nil ||
		!strings.Contains(err.Error(), "no member reaches the collections eu-japan/no-such-collection") {
		t.Errorf("a collection no member reaches: %v", err)
	}
}

// With Cleanup every object the run published is withdrawn at the end, by the member that published
// it: what pollers then read of each is a tombstone telling them to drop it.
func TestCleanupWithdrawsEverythingTheRunPublished(t *testing.T) {
	hub, members := startHub(t, nil)
	pair := only(members, "cert-eu", "cncert-cc")
	cfg := smallRun(hub, pair, "eu-china-cyber/indicators")
	cfg.Cleanup = true
	rep, err := load.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ps := rep.Problems(); len(ps) > 0 {
		t.Fatalf("problems: %q", ps)
	}
	if rep.Cleanup == nil || rep.Cleanup.Withdrawn != rep.Accepted || rep.Cleanup.Failed != 0 || rep.Accepted != 600 {
		t.Fatalf("cleanup %+v after %d accepted; want all 600 withdrawn", rep.Cleanup, rep.Accepted)
	}
	objs := objectsIn(t, hub, pair[0], "eu-china-cyber", "indicators")
	if len(objs) != 600 {
		t.Fatalf("%d objects after the cleanup, want 600 tombstones", len(objs))
	}
	for _, o := range objs {
		if o["x_taxiihub_withdrawn"] != true || o["revoked"] != true {
			t.Errorf("%v is not withdrawn: %v", o["id"], o)
			break
		}
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "cleanup: 600 objects withdrawn, 0 not stored, 0 still there") {
		t.Errorf("report:\n%s", text.String())
	}
}
