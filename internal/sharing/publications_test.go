package sharing

import (
	"encoding/json"
	"testing"

	"taxiihub/internal/store"
)

// Publications lists the caller's own publications in the partnership, newest first, with who
// published them, and nothing another member published; a partnership the caller holds no grant in
// is not found.
func TestPublicationsAreTheCallersOwn(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "cert-eu", read: true, write: true},
		member{id: "jpcert", read: true, write: true})
	ctx := t.Context()
	alice := store.Person{Issuer: "https://idp.example", Subject: "a-1", Name: "alice@cert.example"}
	acc := f.access(t, "cert-eu")
	if _, err := f.svc.Publish(ctx, acc, []json.RawMessage{indicator(1, "")}, false); err != nil {
		t.Fatal(err)
	}
	acc.Caller.Person = alice
	if _, err := f.svc.Publish(ctx, acc, []json.RawMessage{indicator(2, ""), indicator(3, "")}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Publish(ctx, f.access(t, "jpcert"), []json.RawMessage{indicator(4, "")}, false); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Publications(ctx, f.caller(t, "cert-eu"), "r", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Person != alice || len(got[0].Items) != 2 || !got[1].Person.IsZero() || got[1].TokenID != "tok-cert-eu" {
		t.Fatalf("publications of cert-eu: %+v", got)
	}
	if one, _ := f.svc.Publications(ctx, f.caller(t, "cert-eu"), "r", 1); len(one) != 1 || one[0].Seq != got[0].Seq {
		t.Errorf("the newest publication alone: %+v", one)
	}
	if _, err := f.svc.Publications(ctx, f.caller(t, "cert-eu"), "elsewhere", 10); kindOf(err) != NotFound {
		t.Errorf("publications in a partnership without a grant: %v", err)
	}
	if _, err := f.svc.Publications(ctx, f.caller(t, "cert-eu"), "r", MaxPublications+1); kindOf(err) != Invalid {
		t.Errorf("a limit above the most: %v", err)
	}
}
