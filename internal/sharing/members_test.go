package sharing

import (
	"encoding/json"
	"testing"
	"time"

	"taxiihub/internal/identity"
	"taxiihub/internal/store"
)

// The members collection is read by every member holding a grant in the partnership, whatever that
// grant is on, written by none, and unknown to everyone else.
func TestMembersCollectionIsReadByEveryMemberAndWrittenByNone(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{},
		member{id: "reader", read: true},
		member{id: "writer", write: true},
		member{id: "publisher", read: true, write: true, role: store.RolePublisher})
	ctx := t.Context()
	members := store.Collection{ID: "00000000-0000-4000-8000-0000000000c2", APIRoot: "r", Title: "Members", Alias: "members", Members: true}
	if err := f.store.CreateCollection(ctx, members); err != nil {
		t.Fatal(err)
	}
	if err := f.store.CreateMember(ctx, store.Member{ID: "outsider", Name: "outsider", Jurisdiction: "EU"}); err != nil {
		t.Fatal(err)
	}
	id := identity.OfMember("reader")
	raw := `{"type":"identity","spec_version":"2.1","id":"` + id + `","created":"2026-01-01T00:00:00.000Z",` +
		`"modified":"2026-01-01T00:00:00.000Z","name":"reader","identity_class":"organization"}`
	if _, err := f.store.AddObjects(ctx, members.ID, []store.Object{{ID: id, Type: "identity", SpecVersion: "2.1",
		Version: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Content: []byte(raw)}}); err != nil {
		t.Fatal(err)
	}

	for _, who := range []string{"reader", "writer"} {
		acc, err := f.svc.Access(ctx, f.caller(t, who), "r", "members")
		if err != nil {
			t.Fatalf("access of %s: %v", who, err)
		}
		if !acc.CanRead() || acc.CanWrite() {
			t.Errorf("%s: can read %v, can write %v; want read only", who, acc.CanRead(), acc.CanWrite())
		}
		page, err := f.svc.Objects(ctx, acc, store.Query{Limit: 10})
		if err != nil || len(page.Records) != 1 || page.Records[0].ID != id {
			t.Errorf("%s reads the members collection: %+v, %v", who, page.Records, err)
		}
		st, err := f.svc.Publish(ctx, acc, []json.RawMessage{json.RawMessage(raw)}, false)
		if kindOf(err) != Forbidden {
			t.Errorf("%s writes into the members collection: %+v, %v; want Forbidden", who, st, err)
		}
		listed, err := f.svc.Collections(ctx, f.caller(t, who), "r")
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, a := range listed {
			if a.Collection.ID == members.ID {
				found = a.CanRead() && !a.CanWrite()
			}
		}
		if !found {
			t.Errorf("%s: the members collection is not listed read-only among %+v", who, listed)
		}
	}
	// Its role still decides: a publisher reads nothing, this collection included.
	acc, err := f.svc.Access(ctx, f.caller(t, "publisher"), "r", "members")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Objects(ctx, acc, store.Query{Limit: 10}); kindOf(err) != OneWay {
		t.Errorf("a publisher reads the members collection: %v; want OneWay", err)
	}
	if _, err := f.svc.Access(ctx, f.caller(t, "outsider"), "r", "members"); kindOf(err) != NotFound {
		t.Errorf("a member without a grant in the partnership: %v; want NotFound", err)
	}
}
