package httpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"taxiihub/internal/httpapi"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// The add-objects body is decoded as it is read (taxii.ReadEnvelope); these tests pin what a client
// sees of that through HTTP.

func TestEnvelopeStreamingStoresExactBytes(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h, path, tok := oneCollection(t, open(t))
		// Spacing, key order, escapes and a number as a client wrote them.
		obj := "{ \"spec_version\" : \"2.1\",\n\t\"type\":\"indicator\", \"id\":\"" + objectID(7) + "\"," +
			`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",` +
			`"name":"caf\u00e9 \ud83d\ude00 été","x_score":1.0e3,"pattern":"[ipv4-addr:value = '198.51.100.7']",` +
			`"pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z" }`
		body := "{\"type\":\"bundle\",\"id\":\"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\",\n \"objects\" : [ " + obj + " ] }\n"
		r := h.post(path+"objects/", tok, []byte(body))
		var st taxii.Status
		r.json(t, &st)
		if r.status != http.StatusAccepted || st.SuccessCount != 1 {
			t.Fatalf("post: %d %s", r.status, r.body)
		}
		// The store keeps the bytes as posted; the objects endpoint sends them without the spacing,
		// and only without it.
		collection := strings.TrimSuffix(strings.TrimPrefix(path, "/r/collections/"), "/")
		page, err := h.store.Objects(t.Context(), collection, store.Query{Limit: 10})
		if err != nil || len(page.Records) != 1 || string(page.Records[0].Content) != obj {
			t.Errorf("stored %v, %v; posted %q", page.Records, err, obj)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(obj)); err != nil {
			t.Fatal(err)
		}
		var env taxii.Envelope
		h.get(path+"objects/", tok).json(t, &env)
		if len(env.Objects) != 1 || string(env.Objects[0]) != compact.String() {
			t.Errorf("served %q, want %q", env.Objects, compact.String())
		}
	})
}

// chunked sends a body without a length, so that only reading it can find it too large.
func chunked(t *testing.T, h *hub, path, tok string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.srv.URL+path, struct{ io.Reader }{bytes.NewReader(body)})
	req.Header.Set("Content-Type", taxii.MediaType)
	req.Header.Set("Accept", taxii.MediaType)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readResponse(t *testing.T, resp *http.Response) response {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestEnvelopeStreamingRefusals(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		const limit = 4096
		h, path, tok := oneCollection(t, open(t), func(c *httpapi.Config) { c.MaxContentLength = limit })
		objects := path + "objects/"
		for _, c := range []struct {
			name   string
			body   string
			status int
			code   string
			says   string
		}{
			{"objects twice", `{"objects":[],"objects":[]}`, http.StatusUnprocessableEntity, "invalid-envelope", "more than one objects member"},
			{"a stray bracket after the document", `{"objects":[]}]`, http.StatusUnprocessableEntity, "invalid-envelope", "more than one JSON document"},
			{"bad JSON early in a body over the limit", `{"objects":[x` + strings.Repeat(" ", limit), http.StatusRequestEntityTooLarge, "too-large", ""},
			{"invalid UTF-8 after bad JSON", "{\"objects\":[x, \"\xff\"]}", http.StatusUnprocessableEntity, "invalid-envelope", "not UTF-8"},
			{"bad JSON at a byte", `{"objects":[{"a" 1}]}`, http.StatusUnprocessableEntity, "invalid-envelope", "invalid JSON at byte 18"},
		} {
			r := readResponse(t, chunked(t, h, objects, tok, []byte(c.body)))
			e := checkError(t, c.name, r, c.status)
			if e.ErrorCode != c.code || !strings.Contains(e.Description, c.says) {
				t.Errorf("%s: %s %q, want %s saying %q", c.name, e.ErrorCode, e.Description, c.code, c.says)
			}
		}
		var env taxii.Envelope
		h.get(objects, tok).json(t, &env)
		if len(env.Objects) != 0 {
			t.Errorf("a refused body stored %d objects", len(env.Objects))
		}
	})
}

func TestEnvelopeStreamingStopsAtTooManyObjects(t *testing.T) {
	h, path, tok := oneCollection(t, openSQLite(t))
	// Reading stops at the first object over the limit: what follows it, here not JSON, is not read.
	body := `{"objects":[` + strings.Repeat(`{},`, taxii.MaxObjectsPerEnvelope) + `{}, this is not JSON`
	r := readResponse(t, chunked(t, h, path+"objects/", tok, []byte(body)))
	e := checkError(t, "too many objects", r, http.StatusRequestEntityTooLarge)
	if e.ErrorCode != "too-many-objects" {
		t.Errorf("error code %q", e.ErrorCode)
	}
	// How many the envelope holds is not known, since reading stopped: the answer must not guess.
	if want := fmt.Sprintf("more than %d objects", taxii.MaxObjectsPerEnvelope); !strings.Contains(e.Description, want) {
		t.Errorf("description %q does not say %q", e.Description, want)
	}
}

// failingBody gives its bytes and then fails, as a connection cut mid-body does.
type failingBody struct{ io.Reader }

func (f failingBody) Read(p []byte) (int, error) {
	n, err := f.Reader.Read(p)
	if errors.Is(err, io.EOF) {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func TestEnvelopeStreamingUnreadableBody(t *testing.T) {
	h, path, tok := oneCollection(t, openSQLite(t))
	for name, head := range map[string]string{
		"cut in the list":        `{"objects":[{"type":"indicator"},`,
		"cut after bad JSON":     `{"objects":[x`,
		"cut after the document": `{"objects":[]}`,
	} {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, path+"objects/", failingBody{strings.NewReader(head)})
		req.Header.Set("Content-Type", taxii.MediaType)
		req.Header.Set("Accept", taxii.MediaType)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.srv.Config.Handler.ServeHTTP(rec, req)
		r := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		if e := checkError(t, name, r, http.StatusBadRequest); e.ErrorCode != "unreadable-body" {
			t.Errorf("%s: error code %q", name, e.ErrorCode)
		}
	}
}
