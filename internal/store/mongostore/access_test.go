//go:build unix

package mongostore_test

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"taxiihub/internal/store"
)

// TestAuthenticationReadsAreSingleIndexedFinds checks the two reads authentication makes on every
// TAXII request, Token and Grants, and the admin lists beside them (tokens, verification keys, a page
// of the audit log): each is one find, reading one index range in the order wanted, without a sort or
// a collection scan.
func TestAuthenticationReadsAreSingleIndexedFinds(t *testing.T) {
	s, commands := openCounting(t)
	ctx := t.Context()

	// Enough records that a scan of everything would show: 20 members with a grant on each of 5
	// collections in 2 roots, and 3 tokens each.
	var colls []store.Collection
	for r := range 2 {
		root := fmt.Sprintf("root-%d", r)
		if err := s.CreateAPIRoot(ctx, store.APIRoot{Slug: root, Title: root}); err != nil {
			t.Fatal(err)
		}
		for c := range 5 {
			// Collection ids out of root order, so that the order of Grants is the index's doing.
			c := store.Collection{ID: fmt.Sprintf("%d-coll-%d", 9-c, r), APIRoot: root, Title: "c"}
			if err := s.CreateCollection(ctx, c); err != nil {
				t.Fatal(err)
			}
			colls = append(colls, c)
		}
	}
	issued := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for m := range 20 {
		id := fmt.Sprintf("member-%02d", m)
		if err := s.CreateMember(ctx, store.Member{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
		for _, c := range colls {
			if err := s.PutGrant(ctx, store.Grant{MemberID: id, APIRoot: c.APIRoot, CollectionID: c.ID, Read: true}); err != nil {
				t.Fatal(err)
			}
		}
		for k := range 3 {
			tok := store.Token{ID: fmt.Sprintf("jti-%02d-%d", m, k), Kind: store.PartnerToken, Subject: id,
				IssuedAt: issued.Add(time.Duration(60-3*m-k) * time.Minute), ExpiresAt: issued.AddDate(0, 3, 0)}
			if err := s.SaveToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Keys created out of kid order, and an audit log to page through.
	created := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for k := range 30 {
		key := store.VerificationKey{KID: fmt.Sprintf("kid-%02d", k), PublicKey: []byte{byte(k)},
			CreatedAt: created.Add(time.Duration(30-k) * time.Hour)}
		if err := s.SaveVerificationKey(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		if err := s.AppendAudit(ctx, store.AuditEntry{At: created, Actor: "op", Action: "test", Target: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}

	countCommands := func(what string, f func() error) {
		t.Helper()
		commands.reset()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ran := commands.take(); !(len(ran) == 1 && ran["find"] == 1) {
			t.Errorf("%s ran %s, want one find", what, summary(ran))
		}
	}
	countCommands("Token", func() error {
		tok, err := s.Token(ctx, "jti-07-1")
		if err == nil && tok.Subject != "member-07" {
			err = fmt.Errorf("got %+v", tok)
		}
		return err
	})
	countCommands("Grants", func() error {
		gs, err := s.Grants(ctx, "member-07")
		if err != nil {
			return err
		}
		if len(gs) != len(colls) || !slices.IsSortedFunc(gs, func(a, b store.Grant) int {
			return cmp.Or(cmp.Compare(a.APIRoot, b.APIRoot), cmp.Compare(a.CollectionID, b.CollectionID))
		}) {
			return fmt.Errorf("got %+v, want %d grants by root then collection", gs, len(colls))
		}
		return nil
	})

	cases := []struct {
		name    string
		explain func() (bson.Raw, error)
		index   string // "" for an _id lookup, whose plan varies by server version
		want    int64
	}{
		{"Token", func() (bson.Raw, error) { return s.ExplainToken(ctx, "jti-07-1") }, "", 1},
		{"Grants", func() (bson.Raw, error) { return s.ExplainGrants(ctx, "member-07") }, "member_root_collection", int64(len(colls))},
		{"CollectionGrants", func() (bson.Raw, error) { return s.ExplainCollectionGrants(ctx, colls[3].ID) }, "collection_member", 20},
		{"Tokens", func() (bson.Raw, error) { return s.ExplainTokens(ctx) }, "issued_at_id", 60},
		{"VerificationKeys", func() (bson.Raw, error) { return s.ExplainVerificationKeys(ctx) }, "created_at_kid", 30},
		{"Audit", func() (bson.Raw, error) { return s.ExplainAudit(ctx, 10, 20) }, "_id_", 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ex, stages, indexes := readExplain(t)(tc.explain())
			if slices.Contains(stages, "SORT") || slices.Contains(stages, "COLLSCAN") {
				t.Errorf("plan stages %v: want no sort and no collection scan", stages)
			}
			if tc.index != "" && !slices.Equal(indexes, []string{tc.index}) {
				t.Errorf("plan stages %v read indexes %v, want %s", stages, indexes, tc.index)
			}
			st := ex.ExecutionStats
			if st.NReturned != tc.want || st.TotalDocsExamined != tc.want || st.TotalKeysExamined > tc.want {
				t.Errorf("returned %d, examined %d documents and %d keys; want %d of each",
					st.NReturned, st.TotalDocsExamined, st.TotalKeysExamined, tc.want)
			}
		})
	}
}

// TestGrantRacingADeleteIsNotLeftDangling races PutGrant against DeleteMember and DeleteCollection,
// through two stores standing for two hub processes. Under snapshot isolation a PutGrant that only
// read the member and the collection could commit beside their deletion and leave a grant on
// something gone; whichever order they take, no grant may survive.
func TestGrantRacingADeleteIsNotLeftDangling(t *testing.T) {
	const rounds = 40
	db := mongod.Database(t)
	a, b := openStore(t, db), openStore(t, db)
	ctx := t.Context()
	if err := a.CreateAPIRoot(ctx, store.APIRoot{Slug: "root", Title: "Root"}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	granted := 0
	for i := range rounds {
		member := fmt.Sprintf("member-%d", i)
		coll := fmt.Sprintf("coll-%d", i)
		if err := a.CreateMember(ctx, store.Member{ID: member}); err != nil {
			t.Fatal(err)
		}
		if err := a.CreateCollection(ctx, store.Collection{ID: coll, APIRoot: "root", Title: coll}); err != nil {
			t.Fatal(err)
		}
		deleteMember := i%2 == 0
		var putErr, delErr error
		var wg sync.WaitGroup
		wg.Go(func() {
			putErr = a.PutGrant(ctx, store.Grant{MemberID: member, APIRoot: "root", CollectionID: coll, Read: true})
		})
		wg.Go(func() {
			if deleteMember {
				delErr = b.DeleteMember(ctx, member, at)
			} else {
				delErr = b.DeleteCollection(ctx, "root", coll)
			}
		})
		wg.Wait()
		if delErr != nil {
			t.Fatalf("round %d: delete: %v", i, delErr)
		}
		switch {
		case putErr == nil:
			granted++ // it committed first, so the delete must have removed it
		case !errors.Is(putErr, store.ErrNotFound):
			t.Fatalf("round %d: put grant: %v", i, putErr)
		}
		if gs, err := a.Grants(ctx, member); err != nil || len(gs) != 0 {
			t.Errorf("round %d (deleting the member: %t): grants of the member left: %+v, %v", i, deleteMember, gs, err)
		}
		if gs, err := a.CollectionGrants(ctx, coll); err != nil || len(gs) != 0 {
			t.Errorf("round %d (deleting the member: %t): grants on the collection left: %+v, %v", i, deleteMember, gs, err)
		}
	}
	t.Logf("the grant was put before the delete in %d of %d rounds", granted, rounds)
}

// TestRevocationNeedsATime checks that a zero time, which would read as "not revoked", is refused
// before anything changes.
func TestRevocationNeedsATime(t *testing.T) {
	s := openStore(t, mongod.Database(t))
	ctx := t.Context()
	issued := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := s.CreateMember(ctx, store.Member{ID: "cert-eu"}); err != nil {
		t.Fatal(err)
	}
	tok := store.Token{ID: "jti", Kind: store.PartnerToken, Subject: "cert-eu", IssuedAt: issued, ExpiresAt: issued.AddDate(0, 3, 0)}
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "jti", time.Time{}); err == nil {
		t.Error("revoking at the zero time succeeded")
	}
	if err := s.DeleteMember(ctx, "cert-eu", time.Time{}); err == nil {
		t.Error("deleting a member revoking at the zero time succeeded")
	}
	if _, err := s.Member(ctx, "cert-eu"); err != nil {
		t.Errorf("the refused delete removed the member: %v", err)
	}
	if got, err := s.Token(ctx, "jti"); err != nil || got.Revoked() {
		t.Errorf("token after refused revocations: %+v, %v", got, err)
	}
}
