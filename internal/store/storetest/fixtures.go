package storetest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"taxiihub/internal/store"
)

// newCollection creates an API root and one collection in it and returns the collection's id.
func newCollection(t testing.TB, s store.Store) string {
	t.Helper()
	root := "root-" + randomHex(4)
	if err := s.CreateAPIRoot(t.Context(), store.APIRoot{Slug: root, Title: "Test root"}); err != nil {
		t.Fatalf("create API root: %v", err)
	}
	return newCollectionIn(t, s, root)
}

func newCollectionIn(t testing.TB, s store.Store, root string) string {
	t.Helper()
	id := newUUID()
	c := store.Collection{ID: id, APIRoot: root, Title: "Collection " + id[:8]}
	if err := s.CreateCollection(t.Context(), c); err != nil {
		t.Fatalf("create collection: %v", err)
	}
	return id
}

func newUUID() string { return uuid.NewString() }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%x", b)
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// indicator is a realistic STIX 2.1 indicator whose encoding deliberately uses the spacing, key order,
// escapes and number forms a re-encoding store would change.
func indicator(id, modified string, n int) store.Object {
	content := fmt.Sprintf(`{"type": "indicator",  "spec_version":"2.1", "id":"%s",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"%s",`+
		`"name":"Malicious domain \u00e9 #%d","pattern":"[domain-name:value = 'bad%d.example']",`+
		"\n\t\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\",\"confidence\":8.50e1,"+
		`"labels":["malicious-activity"],"x_big":12345678901234567890123}`, id, modified, n, n)
	return store.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Version: ts(modified), Content: []byte(content)}
}

// object builds a minimal object of any type; an empty version makes it versionless (like an SCO).
func object(typ, id, spec, version, note string) store.Object {
	o := store.Object{ID: id, Type: typ, SpecVersion: spec}
	if version != "" {
		o.Version = ts(version)
		o.Content = fmt.Appendf(nil, `{"type":"%s","id":"%s","spec_version":"%s","modified":"%s","x_note":"%s"}`,
			typ, id, spec, version, note)
	} else {
		o.Content = fmt.Appendf(nil, `{"type":"%s","id":"%s","spec_version":"%s","x_note":"%s"}`, typ, id, spec, note)
	}
	return o
}

func mustAdd(t *testing.T, s store.Store, collection string, objs ...store.Object) []store.Outcome {
	t.Helper()
	out, err := s.AddObjects(t.Context(), collection, objs)
	if err != nil {
		t.Fatalf("add objects: %v", err)
	}
	if len(out) != len(objs) {
		t.Fatalf("add objects: got %d outcomes for %d objects", len(out), len(objs))
	}
	return out
}

// readAll pages through q with the cursor and returns every record, checking each page's own promises.
func readAll(t *testing.T, s store.Store, collection string, q store.Query, manifest bool) []store.Record {
	t.Helper()
	var all []store.Record
	for pages := 0; ; pages++ {
		if pages > 100_000 {
			t.Fatalf("paging did not end")
		}
		var (
			p   store.Page
			err error
		)
		if manifest {
			p, err = s.Manifest(t.Context(), collection, q)
		} else {
			p, err = s.Objects(t.Context(), collection, q)
		}
		if err != nil {
			t.Fatalf("read page %d: %v", pages, err)
		}
		checkPage(t, p, q.Limit)
		if len(all) > 0 && len(p.Records) > 0 && !p.Records[0].DateAdded.After(all[len(all)-1].DateAdded) {
			t.Fatalf("page %d starts at %v, not after the previous page's last record %v: the cursor did not advance",
				pages, p.Records[0].DateAdded, all[len(all)-1].DateAdded)
		}
		all = append(all, p.Records...)
		if !p.More {
			return all
		}
		q.Cursor = p.Next
	}
}

func checkPage(t *testing.T, p store.Page, limit int) {
	t.Helper()
	if len(p.Records) > limit {
		t.Errorf("page holds %d records, limit %d", len(p.Records), limit)
	}
	if p.More != (p.Next != "") {
		t.Errorf("more=%v but next=%q: a page must give a cursor exactly when there is more", p.More, p.Next)
	}
	if p.More && len(p.Records) == 0 {
		t.Errorf("an empty page says there is more")
	}
	for i := 1; i < len(p.Records); i++ {
		if !p.Records[i].DateAdded.After(p.Records[i-1].DateAdded) {
			t.Errorf("records %d and %d are not in strictly increasing date-added order: %v, %v",
				i-1, i, p.Records[i-1].DateAdded, p.Records[i].DateAdded)
		}
	}
	first, okFirst := p.FirstAdded()
	last, okLast := p.LastAdded()
	if okFirst != (len(p.Records) > 0) || okLast != okFirst {
		t.Errorf("first/last date added reported on an empty page, or missing on a full one")
	}
	if len(p.Records) > 0 && (!first.Equal(p.Records[0].DateAdded) || !last.Equal(p.Records[len(p.Records)-1].DateAdded)) {
		t.Errorf("first/last date added %v/%v do not match the page's records", first, last)
	}
}

func wantErrIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}
