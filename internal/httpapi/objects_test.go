package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"taxiihub/internal/httpapi"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// oneCollection is a hub with one root and collection that cert-eu may read and write.
func oneCollection(t testing.TB, st store.Store, opts ...hubOption) (h *hub, path, tok string) {
	t.Helper()
	h = newHub(t, st, opts...)
	h.root("r")
	c := h.collection("r", "Indicators")
	tok = h.partner("cert-eu")
	h.grant("cert-eu", "r", c, true, true)
	return h, "/r/collections/" + c + "/", tok
}

func checkStatusConsistent(t *testing.T, st taxii.Status) {
	t.Helper()
	if st.TotalCount != st.SuccessCount+st.FailureCount+st.PendingCount ||
		len(st.Successes) != st.SuccessCount || len(st.Failures) != st.FailureCount || len(st.Pendings) != st.PendingCount {
		t.Errorf("status counts and lists disagree: %+v", st)
	}
	if st.ID == "" || (st.Status != "complete" && st.Status != "pending") {
		t.Errorf("status id %q state %q", st.ID, st.Status)
	}
}

func TestAddObjectsReportsEveryObject(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h, path, tok := oneCollection(t, open(t))
		first := h.post(path+"objects/", tok, envelope(indicatorJSON(1, "2026-01-01T00:00:00.000Z")))
		if first.status != http.StatusAccepted {
			t.Fatalf("first post: %d %s", first.status, first.body)
		}
		r := h.post(path+"objects/", tok, envelope(
			indicatorJSON(1, "2026-01-01T00:00:00.000Z"), // already stored
			indicatorJSON(2, "2026-01-01T00:00:00.000Z"), // new
			indicatorJSON(2, "2026-01-01T00:00:00.000Z"), // the same again in this request
			`{"type":"indicator","spec_version":"2.1","name":"no id"}`,
			strings.Replace(indicatorJSON(3, "2026-01-01T00:00:00.000Z"), `"spec_version":"2.1"`, `"spec_version":"2.0"`, 1),
			`42`,
		))
		checkTAXIIContentType(t, "post", r)
		if r.status != http.StatusAccepted {
			t.Fatalf("post: %d %s", r.status, r.body)
		}
		var st taxii.Status
		r.json(t, &st)
		checkStatusConsistent(t, st)
		if st.Status != "complete" || st.TotalCount != 6 || st.SuccessCount != 3 || st.FailureCount != 3 {
			t.Fatalf("status: %s", r.body)
		}
		wantSuccess := []struct{ id, message string }{
			{objectID(1), "already present"}, {objectID(2), "added"}, {objectID(2), "already present"},
		}
		for i, w := range wantSuccess {
			if st.Successes[i].ID != w.id || !strings.HasPrefix(st.Successes[i].Message, w.message) ||
				st.Successes[i].Version != "2026-01-01T00:00:00.000Z" {
				t.Errorf("success %d: %+v, want %s %q", i, st.Successes[i], w.id, w.message)
			}
		}
		for i, code := range []string{"[missing-property] /id", "[not-stix-2.1]", "[not-an-object]"} {
			if !strings.Contains(st.Failures[i].Message, code) {
				t.Errorf("failure %d: %+v, want a reason with %s", i, st.Failures[i], code)
			}
		}

		var again taxii.Status
		h.get("/r/status/"+st.ID+"/", tok).json(t, &again)
		if again.ID != st.ID || again.SuccessCount != 3 || again.FailureCount != 3 {
			t.Errorf("status read back: %+v", again)
		}
		other := h.partner("cncert")
		h.grant("cncert", "r", strings.Split(path, "/")[3], true, true)
		checkError(t, "another member's status", h.get("/r/status/"+st.ID+"/", other), http.StatusNotFound)
		checkError(t, "an unknown status", h.get("/r/status/7d2b3f62-4f0b-4a2e-9d2a-1b7c8e9f0a1b/", tok), http.StatusNotFound)

		var env taxii.Envelope
		h.get(path+"objects/", tok).json(t, &env)
		if len(env.Objects) != 2 || string(env.Objects[0]) != indicatorJSON(1, "2026-01-01T00:00:00.000Z") {
			t.Errorf("stored objects: %d, first %s", len(env.Objects), env.Objects)
		}
	})
}

func TestBundleBodies(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h, path, tok := oneCollection(t, open(t))
		bundle := `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + indicatorJSON(5, "2026-01-01T00:00:00.000Z") + `]}`
		r := h.do(request{method: http.MethodPost, path: path + "objects/", token: tok, body: []byte(bundle),
			headers: map[string]string{"Content-Type": "application/stix+json;version=2.1"}})
		var st taxii.Status
		r.json(t, &st)
		if r.status != http.StatusAccepted || st.SuccessCount != 1 || st.Successes[0].ID != objectID(5) {
			t.Errorf("bundle: %d %s", r.status, r.body)
		}
	})
}

func TestBodyLimits(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		const limit = 4096
		h, path, tok := oneCollection(t, open(t), func(c *httpapi.Config) { c.MaxContentLength = limit })
		var root taxii.APIRoot
		h.get("/r/", tok).json(t, &root)
		if root.MaxContentLength != limit {
			t.Errorf("max_content_length %d, want %d", root.MaxContentLength, limit)
		}
		exactly := padTo(envelope(indicatorJSON(1, "2026-01-01T00:00:00.000Z")), limit)
		if r := h.post(path+"objects/", tok, exactly); r.status != http.StatusAccepted {
			t.Errorf("a body of exactly max_content_length: %d %s", r.status, r.body)
		}
		over := padTo(envelope(indicatorJSON(2, "2026-01-01T00:00:00.000Z")), limit+1)
		checkError(t, "a body one byte over", h.post(path+"objects/", tok, over), http.StatusRequestEntityTooLarge)

		// A chunked body announces no length; the limit must still hold while reading it.
		resp := chunked(t, h, path+"objects/", tok, over)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked body over the limit: %d", resp.StatusCode)
		}
		var env taxii.Envelope
		h.get(path+"objects/", tok).json(t, &env)
		if len(env.Objects) != 1 {
			t.Errorf("a refused body stored something: %d objects", len(env.Objects))
		}
	})
}

// padTo pads an envelope with spaces inside the JSON so that it is exactly n bytes.
func padTo(body []byte, n int) []byte {
	return append(body[:len(body)-1], append(bytes.Repeat([]byte(" "), n-len(body)), '}')...)
}

func TestUnprocessableEnvelopes(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h, path, tok := oneCollection(t, open(t))
		for name, body := range map[string]string{
			"not JSON":              `{"objects": [`,
			"no objects list":       `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}`,
			"objects not a list":    `{"objects": {"a": 1}}`,
			"a list, not an object": `[{"objects": []}]`,
			"two documents":         `{"objects": []} {"objects": []}`,
			"not UTF-8":             "{\"objects\": [\"\xff\"]}",
		} {
			checkError(t, name, h.post(path+"objects/", tok, []byte(body)), http.StatusUnprocessableEntity)
		}
		many := make([]string, taxii.MaxObjectsPerEnvelope+1)
		for i := range many {
			many[i] = "{}"
		}
		checkError(t, "too many objects", h.post(path+"objects/", tok, envelope(many...)), http.StatusRequestEntityTooLarge)
		var st taxii.Status
		r := h.post(path+"objects/", tok, envelope())
		r.json(t, &st)
		if r.status != http.StatusAccepted || st.TotalCount != 0 {
			t.Errorf("an empty envelope: %d %s", r.status, r.body)
		}
	})
}

func TestFilterErrors(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h, path, tok := oneCollection(t, open(t))
		h.post(path+"objects/", tok, envelope(indicatorJSON(1, "2026-01-01T00:00:00.000Z")))
		obj := path + "objects/" + objectID(1) + "/"
		for _, bad := range []string{
			path + "objects/?added_after=yesterday",
			path + "objects/?added_after=2026-01-01T00:00:00Z&added_after=2026-01-02T00:00:00Z",
			path + "objects/?limit=0",
			path + "objects/?limit=-5",
			path + "objects/?limit=ten",
			path + "objects/?match[version]=newest",
			path + "objects/?match[spec_version]=two",
			path + "objects/?match[colour]=red",
			path + "objects/?match[type]=indicator&match[type]=malware",
			path + "objects/?match[id]=",
			path + "objects/?next=garbage",
			path + "manifest/?next=garbage",
			obj + "?match[id]=" + objectID(1),
			obj + "?match[type]=indicator",
			obj + "versions/?match[version]=all",
		} {
			checkError(t, bad, h.get(bad, tok), http.StatusBadRequest)
		}
		r := h.get(path+"objects/?limit=1000000", tok)
		if r.status != http.StatusOK {
			t.Errorf("a limit above the maximum is capped, not refused: %d", r.status)
		}
		r = h.get(path+"objects/?ignored=1&dry=yes", tok)
		if r.status != http.StatusOK {
			t.Errorf("parameters that are not filters: %d", r.status)
		}
	})
}

var dateAddedPattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

func TestObjectEndpoints(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h, path, tok := oneCollection(t, open(t))
		for _, v := range []string{"2026-01-02T00:00:00.000Z", "2026-01-01T00:00:00.000Z", "2026-01-03T00:00:00.000Z"} {
			h.post(path+"objects/", tok, envelope(indicatorJSON(1, v)))
		}
		obj := path + "objects/" + objectID(1) + "/"

		var env taxii.Envelope
		r := h.get(obj, tok)
		r.json(t, &env)
		if r.status != http.StatusOK || len(env.Objects) != 1 || !strings.Contains(string(env.Objects[0]), "2026-01-03") {
			t.Errorf("object: %d %s; want the last version", r.status, r.body)
		}
		for _, hdr := range []string{"X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"} {
			if !dateAddedPattern.MatchString(r.header.Get(hdr)) {
				t.Errorf("%s %q is not RFC 3339 with microseconds", hdr, r.header.Get(hdr))
			}
		}
		h.get(obj+"?match[version]=all", tok).json(t, &env)
		if len(env.Objects) != 3 {
			t.Errorf("all versions: %d", len(env.Objects))
		}

		var vs taxii.Versions
		r = h.get(obj+"versions/", tok)
		r.json(t, &vs)
		want := []string{"2026-01-02T00:00:00.000Z", "2026-01-01T00:00:00.000Z", "2026-01-03T00:00:00.000Z"}
		if r.status != http.StatusOK || strings.Join(vs.Versions, ",") != strings.Join(want, ",") {
			t.Errorf("versions: %d %s; want %v in date-added order", r.status, r.body, want)
		}
		h.get(obj+"versions/?limit=2", tok).json(t, &vs)
		if !vs.More || vs.Next == "" || len(vs.Versions) != 2 {
			t.Errorf("versions page: %+v; want more with a next", vs)
		}
		h.get(obj+"versions/?limit=2&next="+url.QueryEscape(vs.Next), tok).json(t, &vs)
		if vs.More || len(vs.Versions) != 1 || vs.Versions[0] != want[2] {
			t.Errorf("versions second page: %+v", vs)
		}

		var m taxii.Manifest
		h.get(path+"manifest/?match[version]=all", tok).json(t, &m)
		if len(m.Objects) != 3 || m.Objects[0].MediaType != taxii.STIXMediaType || !dateAddedPattern.MatchString(m.Objects[0].DateAdded) {
			t.Errorf("manifest: %+v", m)
		}

		r = h.get(obj+"?match[version]=2030-01-01T00:00:00Z", tok)
		r.json(t, &env)
		if r.status != http.StatusOK || len(env.Objects) != 0 {
			t.Errorf("filters matching no version of a held object: %d %s; want 200 and an empty page", r.status, r.body)
		}
		if r.header.Get("X-TAXII-Date-Added-First") != "" || r.header.Get("X-TAXII-Date-Added-Last") != "" {
			t.Errorf("an empty page carries date headers: %v", r.header)
		}
		checkError(t, "unknown object", h.get(path+"objects/"+objectID(404)+"/", tok), http.StatusNotFound)
		checkError(t, "versions of an unknown object", h.get(path+"objects/"+objectID(404)+"/versions/", tok), http.StatusNotFound)

		del := h.do(request{method: http.MethodDelete, path: obj, token: tok})
		if del.status != http.StatusOK {
			t.Errorf("delete: %d %s", del.status, del.body)
		}
		checkTAXIIContentType(t, "delete", del)
		h.get(obj+"versions/", tok).json(t, &vs)
		if len(vs.Versions) != 2 {
			t.Errorf("after deleting the last version: %v", vs.Versions)
		}
		if r := h.do(request{method: http.MethodDelete, path: obj + "?match[version]=all", token: tok}); r.status != http.StatusOK {
			t.Errorf("delete all: %d", r.status)
		}
		checkError(t, "the deleted object", h.get(obj, tok), http.StatusNotFound)
		checkError(t, "delete it again", h.do(request{method: http.MethodDelete, path: obj, token: tok}), http.StatusNotFound)
	})
}

// TestPagingWhileWriting is the poller's guarantee over HTTP: walking a 10,000-object collection in
// pages of 100, with next or with added_after from the last header, while a writer keeps adding,
// ends with every object exactly once.
func TestPagingWhileWriting(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h, path, tok := oneCollection(t, open(t))
		coll := strings.Split(path, "/")[3]
		const initial, extra = 10_000, 500
		for start := 0; start < initial; start += 2000 {
			var objs []store.Object
			for n := start; n < start+2000; n++ {
				objs = append(objs, seedObject(n))
			}
			if _, err := h.store.AddObjects(t.Context(), coll, objs); err != nil {
				t.Fatal(err)
			}
		}
		for _, mode := range []string{"next", "next without filters", "added_after"} {
			t.Run(mode, func(t *testing.T) {
				offset := initial + 1_000_000*(1+len(mode)) // new ids per mode
				var wg sync.WaitGroup
				wg.Go(func() {
					for b := range extra / 50 {
						var objs []string
						for i := range 50 {
							objs = append(objs, indicatorJSON(offset+b*50+i, "2026-01-01T00:00:00.000Z"))
						}
						if r := h.post(path+"objects/", tok, envelope(objs...)); r.status != http.StatusAccepted {
							t.Errorf("writer: %d %s", r.status, r.body)
						}
					}
				})
				seen := map[string]int{}
				// q is the poller's state between polls: a cursor while more is true, else added_after.
				q := url.Values{"limit": {"100"}, "match[type]": {"indicator"}}
				walk := func() {
					for pages := 0; pages < 1000; pages++ {
						r := h.get(path+"objects/?"+q.Encode(), tok)
						if r.status != http.StatusOK {
							t.Fatalf("page: %d %s", r.status, r.body)
						}
						var env struct {
							More    bool   `json:"more"`
							Next    string `json:"next"`
							Objects []struct {
								ID string `json:"id"`
							} `json:"objects"`
						}
						r.json(t, &env)
						for _, o := range env.Objects {
							seen[o.ID]++
						}
						last := r.header.Get("X-TAXII-Date-Added-Last")
						switch {
						case mode != "added_after" && env.More:
							if mode == "next without filters" {
								q = url.Values{"limit": {"100"}}
							}
							q.Set("next", env.Next)
						case last != "":
							q = url.Values{"limit": {"100"}, "match[type]": {"indicator"}, "added_after": {last}}
						default:
							return // caught up
						}
					}
					t.Fatalf("the walk did not end")
				}
				walk()
				wg.Wait()
				walk() // catch up with what the writer added after the first walk ended
				total := initial + extra*(1+indexOf(mode))
				dups := 0
				for _, n := range seen {
					if n > 1 {
						dups++
					}
				}
				if len(seen) != total || dups > 0 {
					t.Errorf("saw %d distinct objects (%d more than once), want %d exactly once", len(seen), dups, total)
				}
			})
		}
	})
}

// indexOf tells how many walks ran before this one, each having added `extra` objects.
func indexOf(mode string) int {
	for i, m := range []string{"next", "next without filters", "added_after"} {
		if m == mode {
			return i
		}
	}
	panic(fmt.Sprintf("unknown mode %q", mode))
}
