package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/sqlitestore"
)

// indexedBackends is backends with the value-search index kept, as the hub opens its store.
func indexedBackends(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "hub.db"), sqlitestore.WithValueIndexer(policy.IndexValues))
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		fn(t, s)
	})
	t.Run("mongo", func(t *testing.T) {
		s, err := mongostore.Open(t.Context(), mongostore.Config{URI: mongod.URI(), Database: mongod.Database(t),
			ValueIndexer: policy.IndexValues})
		if err != nil {
			t.Fatalf("open mongo: %v", err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		fn(t, s)
	})
}

type searchBody struct {
	Value   string `json:"value"`
	Results []struct {
		APIRoot    string `json:"api_root"`
		Collection string `json:"collection"`
		ID         string `json:"id"`
		Type       string `json:"type"`
		Version    string `json:"version"`
		DateAdded  string `json:"date_added"`
		Matched    struct {
			Kind  string `json:"kind"`
			Value string `json:"value"`
		} `json:"matched"`
	} `json:"results"`
	More bool `json:"more"`
}

func TestSearchByValueOverHTTP(t *testing.T) {
	indexedBackends(t, func(t *testing.T, st store.Store) {
		h := newHub(t, st)
		h.root("eu")
		h.root("other")
		shared := h.collection("eu", "Shared")
		secret := h.collection("other", "Secret")
		publisher, reader := h.partner("cert-eu"), h.partner("cert-fr")
		h.grant("cert-eu", "eu", shared, true, true)
		h.grant("cert-eu", "other", secret, true, true)
		h.grant("cert-fr", "eu", shared, true, false)
		if r := h.post("/eu/collections/"+shared+"/objects/", publisher, envelope(indicatorJSON(7, "2026-01-01T00:00:00.000Z"))); r.status != http.StatusAccepted {
			t.Fatalf("publish: %d %s", r.status, r.body)
		}
		if r := h.post("/other/collections/"+secret+"/objects/", publisher, envelope(indicatorJSON(263, "2026-01-01T00:00:00.000Z"))); r.status != http.StatusAccepted {
			t.Fatalf("publish: %d %s", r.status, r.body)
		}

		// Defanged, as analysts paste it; 263 % 256 is 7, so the secret collection names it too.
		r := h.get("/x-taxiihub-search/?value="+url.QueryEscape("198[.]51[.]100[.]7"), reader)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Fatalf("search: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		var got searchBody
		r.json(t, &got)
		if got.Value != "198.51.100.7" || len(got.Results) != 1 || got.More {
			t.Fatalf("search answer: %s", r.body)
		}
		res := got.Results[0]
		if res.APIRoot != "eu" || res.Collection != shared || res.ID != objectID(7) || res.Type != "indicator" ||
			res.Version != "2026-01-01T00:00:00.000Z" || res.DateAdded == "" || res.Matched.Kind != "ipv4-addr" || res.Matched.Value != "198.51.100.7" {
			t.Errorf("search result: %s", r.body)
		}
		// The publisher reads both collections.
		h.get("/x-taxiihub-search/?value=198.51.100.7", publisher).json(t, &got)
		if len(got.Results) != 2 || got.Results[0].ID != objectID(263) {
			t.Errorf("publisher's search: %+v", got.Results)
		}

		for _, tc := range []struct {
			path  string
			token string
			want  int
		}{
			{"/x-taxiihub-search/?value=198.51.100.7", "", http.StatusUnauthorized},
			{"/x-taxiihub-search/", reader, http.StatusBadRequest},
			{"/x-taxiihub-search/?value=", reader, http.StatusBadRequest},
			{"/x-taxiihub-search/?value=a&value=b", reader, http.StatusBadRequest},
			{"/x-taxiihub-search/?value=a&limt=3", reader, http.StatusBadRequest},
			{"/x-taxiihub-search/?value=a&limit=0", reader, http.StatusBadRequest},
			{"/x-taxiihub-search/?value=a&limit=201", reader, http.StatusBadRequest},
			{"/x-taxiihub-search/?value=" + strings.Repeat("a", 2049), reader, http.StatusBadRequest},
		} {
			checkError(t, tc.path[:min(len(tc.path), 60)], h.get(tc.path, tc.token), tc.want)
		}
	})
}

type browseBody struct {
	Objects []struct {
		ID        string `json:"id"`
		Version   string `json:"version"`
		DateAdded string `json:"date_added"`
	} `json:"objects"`
	More bool   `json:"more"`
	Next string `json:"next"`
}

func TestBrowseOverHTTP(t *testing.T) {
	indexedBackends(t, func(t *testing.T, st store.Store) {
		h := newHub(t, st)
		h.root("eu")
		coll := h.collection("eu", "Shared")
		publisher, outsider := h.partner("cert-eu"), h.partner("cert-xx")
		h.grant("cert-eu", "eu", coll, true, true)
		var objs []string
		for i := range 5 {
			objs = append(objs, indicatorJSON(i, "2026-01-01T00:00:00.000Z"))
		}
		if r := h.post("/eu/collections/"+coll+"/objects/", publisher, envelope(objs...)); r.status != http.StatusAccepted {
			t.Fatalf("publish: %d %s", r.status, r.body)
		}
		var seen []string
		path := "/eu/collections/" + coll + "/x-taxiihub-browse/?type=indicator&limit=2"
		for pages := 0; pages < 5; pages++ {
			var page browseBody
			r := h.get(path, publisher)
			if r.status != http.StatusOK {
				t.Fatalf("browse: %d %s", r.status, r.body)
			}
			r.json(t, &page)
			for _, o := range page.Objects {
				seen = append(seen, o.ID)
			}
			if !page.More {
				break
			}
			path = "/eu/collections/" + coll + "/x-taxiihub-browse/?type=indicator&limit=2&before=" + url.QueryEscape(page.Next)
		}
		want := []string{objectID(4), objectID(3), objectID(2), objectID(1), objectID(0)}
		if strings.Join(seen, ",") != strings.Join(want, ",") {
			t.Errorf("browse: %v; want %v", seen, want)
		}
		checkError(t, "browse without type", h.get("/eu/collections/"+coll+"/x-taxiihub-browse/", publisher), http.StatusBadRequest)
		checkError(t, "browse with a bad before", h.get("/eu/collections/"+coll+"/x-taxiihub-browse/?type=indicator&before=yesterday", publisher), http.StatusBadRequest)
		checkError(t, "browse by an outsider", h.get("/eu/collections/"+coll+"/x-taxiihub-browse/?type=indicator", outsider), http.StatusNotFound)
	})
}
