package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"taxiihub/internal/store"
)

// TestTokenMatrix tries every token on every collection URL with every method, and checks that the
// answer follows from the grants alone: nothing opens that was not granted, and a collection the
// token was not granted answers exactly like one that does not exist.
func TestTokenMatrix(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newHub(t, open(t))
		h.root("eu-china-cyber")
		h.root("eu-immigration-ct")
		cyber := h.collection("eu-china-cyber", "Indicators")
		cyberNotes := h.collection("eu-china-cyber", "Notes")
		immigration := h.collection("eu-immigration-ct", "Administrative")

		members := map[string][]testGrant{
			"cert-eu":      {{"eu-china-cyber", cyber, true, true}, {"eu-china-cyber", cyberNotes, true, false}},
			"cncert":       {{"eu-china-cyber", cyber, true, false}},
			"immigration":  {{"eu-immigration-ct", immigration, false, true}},
			"ct-agency":    {{"eu-immigration-ct", immigration, true, false}},
			"no-grants-at": nil,
		}
		tokens := map[string]string{}
		for m, gs := range members {
			tokens[m] = h.partner(m)
			for _, g := range gs {
				h.grant(m, g.root, g.coll, g.read, g.write)
			}
		}
		// Seed each collection with one object, written by the store directly.
		collections := []string{cyber, cyberNotes, immigration}
		for _, coll := range collections {
			if _, err := h.store.AddObjects(t.Context(), coll, []store.Object{seedObject(1)}); err != nil {
				t.Fatal(err)
			}
		}

		rightsOf := func(member, root, coll string) (read, write, seen bool) {
			for _, g := range members[member] {
				if g.root == root && g.coll == coll {
					return g.read, g.write, true
				}
			}
			return false, false, false
		}
		checked := 0
		for member, tok := range tokens {
			for _, coll := range collections {
				for _, root := range []string{"eu-china-cyber", "eu-immigration-ct"} {
					read, write, seen := rightsOf(member, root, coll)
					base := fmt.Sprintf("/%s/collections/%s/", root, coll)
					want := func(needRead, needWrite bool, ok int) int {
						switch {
						case !seen:
							return http.StatusNotFound
						case needRead && !read || needWrite && !write:
							return http.StatusForbidden
						}
						return ok
					}
					cases := []struct {
						method, path string
						body         []byte
						want         int
					}{
						{http.MethodGet, base, nil, want(false, false, http.StatusOK)},
						{http.MethodGet, base + "manifest/", nil, want(true, false, http.StatusOK)},
						{http.MethodGet, base + "objects/", nil, want(true, false, http.StatusOK)},
						{http.MethodGet, base + "objects/" + seedObject(1).ID + "/", nil, want(true, false, http.StatusOK)},
						{http.MethodGet, base + "objects/" + seedObject(1).ID + "/versions/", nil, want(true, false, http.StatusOK)},
						{http.MethodPost, base + "objects/", envelope(indicatorJSON(7, "2026-01-01T00:00:00.000Z")), want(false, true, http.StatusAccepted)},
						{http.MethodDelete, base + "objects/" + objectID(99) + "/", nil, want(true, true, http.StatusNotFound)},
					}
					for _, tc := range cases {
						r := h.do(request{method: tc.method, path: tc.path, token: tok, body: tc.body})
						if r.status != tc.want {
							t.Errorf("%s %s %s: got %d, want %d: %s", member, tc.method, tc.path, r.status, tc.want, r.body)
						}
						checked++
					}
				}
			}
			// The collections list and discovery name only granted things.
			for _, root := range []string{"eu-china-cyber", "eu-immigration-ct"} {
				var list struct {
					Collections []struct{ ID string } `json:"collections"`
				}
				r := h.get("/"+root+"/collections/", tok)
				if !grantedRoot(members[member], root) {
					if r.status != http.StatusNotFound {
						t.Errorf("%s lists collections of %s: %d", member, root, r.status)
					}
					continue
				}
				r.json(t, &list)
				for _, c := range list.Collections {
					if _, _, seen := rightsOf(member, root, c.ID); !seen {
						t.Errorf("%s sees collection %s it was not granted", member, c.ID)
					}
				}
			}
		}
		t.Logf("%d token × URL × method combinations checked", checked)
	})
}

type testGrant struct {
	root, coll  string
	read, write bool
}

func grantedRoot(gs []testGrant, root string) bool {
	for _, g := range gs {
		if g.root == root {
			return true
		}
	}
	return false
}

func seedObject(n int) store.Object {
	raw := indicatorJSON(n, "2026-01-01T00:00:00.000Z")
	return store.Object{ID: objectID(n), Type: "indicator", SpecVersion: "2.1",
		Version: mustTime("2026-01-01T00:00:00.000Z"), Content: []byte(raw)}
}
