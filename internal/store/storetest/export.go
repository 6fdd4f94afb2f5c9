package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/store"
)

// Porter is a store that exports itself and takes imports: what a move between backends needs.
type Porter interface {
	store.Store
	store.Exporter
	store.ExportSource
	store.ImportTarget
}

// OpenPorter returns a fresh, empty store that exports and imports, closed when the test ends.
type OpenPorter func(t *testing.T) Porter

// ExportedRecord is one record an export emitted.
type ExportedRecord struct {
	Kind  store.ExportKind
	Value any
}

// ExportAll exports s into memory: for tests of small stores only.
func ExportAll(t *testing.T, s store.Exporter) []ExportedRecord {
	t.Helper()
	var out []ExportedRecord
	if err := s.Export(t.Context(), func(k store.ExportKind, v any) error {
		out = append(out, ExportedRecord{k, v})
		return nil
	}); err != nil {
		t.Fatalf("export: %v", err)
	}
	return out
}

// RunPort moves a populated store from one backend to another (or to another store of the same
// backend) through Export and Import, and checks that the copy holds the same records, that its
// ledger and audit trail verify, that objects come back byte for byte, that a cursor from the
// old store goes on where it stopped on the new one, that the pull details still answer, and that
// a value search finds imported objects. Both open functions must give stores opened with the
// hub's value indexer (policy.IndexValues), as the hub opens them.
func RunPort(t *testing.T, from, to OpenPorter) {
	t.Run("RoundTrip", func(t *testing.T) { portRoundTrip(t, from(t), to(t)) })
	t.Run("WhilePublishing", func(t *testing.T) { portWhilePublishing(t, from(t), to(t)) })
	t.Run("RefusesAStoreNotEmpty", func(t *testing.T) { portRefusesNotEmpty(t, from(t)) })
	t.Run("RefusesRecordsOutOfOrder", func(t *testing.T) { portRefusesOutOfOrder(t, to(t)) })
}

// portFixture is what populate wrote and the checks compare against.
type portFixture struct {
	collection string
	root       string
	// now is when the fixture was made; the old status's request came two days before.
	now time.Time
	// found is an object of collection whose pattern names found.example-value, and gone one
	// withdrawn, whose value no search finds.
	found, gone store.Object
	// deleted is the collection whose last version was deleted: its latest date added is past
	// every version it still holds.
	deleted string
}

// populate gives s one record of every kind, and objects with versions, a withdrawal, a deletion,
// pulls and objects held for review.
func populate(t *testing.T, s store.Store, bulk bool) portFixture {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	root := "port-" + randomHex(3)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("create root", s.CreateAPIRoot(ctx, store.APIRoot{Slug: root, Title: "Port", Description: "moved",
		Policy: store.PartnershipPolicy{Jurisdictions: []string{"EU", "JP"}, Reviewers: []string{"cert-eu"}}}))
	must("create member", s.CreateMember(ctx, store.Member{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU", Contact: "soc@example.eu"}))
	must("create member", s.CreateMember(ctx, store.Member{ID: "jpcert", Name: "JPCERT/CC", Jurisdiction: "JP",
		IdentityProvider: &store.IdentityProvider{Issuer: "https://login.jpcert.example", ClientID: "taxiihub",
			ClientSecretEnv: "JPCERT_OIDC_SECRET", RolesClaim: "taxiihub_roles"}}))
	coll := newCollectionIn(t, s, root)
	deleted := newCollectionIn(t, s, root)
	members := store.Collection{ID: newUUID(), APIRoot: root, Title: "Members", Members: true}
	must("create members collection", s.CreateCollection(ctx, members))
	must("membership", s.PutMembership(ctx, store.Membership{MemberID: "jpcert", APIRoot: root, Role: store.RoleReader, Clearance: store.TLPGreen}))
	must("grant", s.PutGrant(ctx, store.Grant{MemberID: "cert-eu", APIRoot: root, CollectionID: coll, Read: true, Write: true}))
	must("grant", s.PutGrant(ctx, store.Grant{MemberID: "jpcert", APIRoot: root, CollectionID: coll, Read: true}))
	must("token", s.SaveToken(ctx, store.Token{ID: "tok-eu", Kind: store.PartnerToken, Subject: "cert-eu", IssuedAt: now,
		ExpiresAt: now.Add(time.Hour), Note: "n", Reviewer: true}))
	must("token", s.SaveToken(ctx, store.Token{ID: "tok-old", Kind: store.PartnerToken, Subject: "jpcert", IssuedAt: now,
		ExpiresAt: now.Add(time.Hour), RevokedAt: now.Add(time.Minute)}))
	must("key", s.SaveVerificationKey(ctx, store.VerificationKey{KID: "kid-1", PublicKey: []byte("0123456789abcdef0123456789abcdef"), CreatedAt: now}))
	must("key", s.SaveVerificationKey(ctx, store.VerificationKey{KID: "kid-0", PublicKey: []byte("fedcba9876543210fedcba9876543210"),
		CreatedAt: now.Add(-time.Hour), RetiredAt: now}))
	must("seed", s.RecordSeed(ctx, store.Seed{Digest: randomHex(32), Path: "partnerships.yaml", AppliedAt: now}))

	var objs []store.Object
	for i := range 40 {
		o := indicator(newIndicatorID(), "2026-01-01T00:00:00.000Z", i)
		o.Fingerprint = "fp-" + randomHex(8)
		objs = append(objs, o)
	}
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", TokenID: "tok-eu", Objects: objs[:30]})
	newer := indicator(objs[0].ID, "2026-02-01T00:00:00.000Z", 0)
	observable := object("ipv4-addr", "ipv4-addr--"+newUUID(), "2.1", "", "seen")
	mustPublish(t, s, store.Publication{CollectionID: coll, Member: "cert-eu", TokenID: "tok-eu",
		Objects: []store.Object{newer, observable}, Refused: []store.Refusal{{ID: "bad--1", Codes: []string{"invalid"}}}})
	if _, err := s.Withdraw(ctx, store.Withdrawal{CollectionID: coll, ObjectID: objs[1].ID, Member: "cert-eu", TokenID: "tok-eu",
		Tombstone: tombstone}); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	must("pull", s.RecordPull(ctx, store.LedgerEntry{Kind: store.LedgerPull, Member: "jpcert", TokenID: "tok-jp", APIRoot: root,
		Collection: coll, Endpoint: "objects", Items: []store.LedgerItem{{ID: objs[2].ID, Version: objs[2].Version}}}))
	// A page pulled by a person signed in to the console: a compact entry attributed to the person,
	// with the range of dates added it covered, and its ids in the pull details.
	page, err := s.Objects(ctx, coll, store.Query{Limit: 4})
	if err != nil || len(page.Records) != 4 {
		t.Fatalf("read a page to pull: %d records, %v", len(page.Records), err)
	}
	pulled := store.LedgerEntry{Kind: store.LedgerPull, Member: "jpcert", TokenID: "tok-jp", APIRoot: root, Collection: coll,
		Endpoint: "objects", Person: store.Person{Issuer: "https://login.jpcert.example", Subject: "u-17", Name: "analyst@jpcert.example"},
		Pulled: &store.PullSummary{FirstAdded: page.Records[0].DateAdded, LastAdded: page.Records[3].DateAdded}}
	for _, r := range page.Records {
		pulled.Items = append(pulled.Items, store.LedgerItem{ID: r.ID, Version: r.Version})
	}
	must("pull by a person", s.RecordPull(ctx, pulled))
	mustPublish(t, s, store.Publication{CollectionID: deleted, Member: "cert-eu", TokenID: "tok-eu", Objects: objs[30:35]})
	if _, err := s.Delete(ctx, store.Deletion{CollectionID: deleted, ObjectID: objs[34].ID, Member: "cert-eu", TokenID: "tok-eu",
		Filter: store.VersionFilter{}}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := s.AddObjects(ctx, members.ID, []store.Object{object("identity", "identity--"+newUUID(), "2.1",
		"2026-01-01T00:00:00.000Z", "member")}); err != nil {
		t.Fatalf("add identity: %v", err)
	}
	// More content and origins than an import writes in one batch (8 MiB, 5,000), so that batches
	// are split.
	bulkColl := newCollectionIn(t, s, root)
	for range 3 * btoi(bulk) {
		batch := make([]store.Object, 0, 900)
		for range 900 {
			o := object("indicator", newIndicatorID(), "2.1", "2026-01-01T00:00:00.000Z", strings.Repeat("x", 3200))
			o.Fingerprint = "fp-" + randomHex(8)
			batch = append(batch, o)
		}
		mustPublish(t, s, store.Publication{CollectionID: bulkColl, Member: "jpcert", TokenID: "tok-jp", Objects: batch})
	}
	// A collection whose retention removed its oldest version: a purge entry in the ledger.
	retained := store.Collection{ID: newUUID(), APIRoot: root, Title: "Retained", Policy: store.CollectionPolicy{Retention: 48 * time.Hour}}
	must("create retained collection", s.CreateCollection(ctx, retained))
	kept := mustPublish(t, s, store.Publication{CollectionID: retained.ID, Member: "cert-eu", TokenID: "tok-eu", Objects: objs[37:40]})
	if res, err := s.Purge(ctx, store.Purge{CollectionID: retained.ID, Before: kept[1].DateAdded, Limit: 10, By: store.RetentionSweeper}); err != nil || res.Purged != 1 {
		t.Fatalf("purge: %+v, %v", res, err)
	}
	submit(t, s, coll, "jpcert", "status-held", time.Hour, objs[35:37]...)
	must("status", s.SaveStatus(ctx, store.Status{ID: "status-1", APIRoot: root, Submitter: "cert-eu", RequestTimestamp: now,
		Successes: []store.StatusDetail{{ID: objs[0].ID, Version: "2026-01-01T00:00:00.000Z", Message: "added"}},
		Failures:  []store.StatusDetail{{ID: "bad--1", Message: "rejected"}}}))
	// A status whose request came two days ago: past a day's status retention, so that the sweep on
	// the new hub removes it by the request time the move kept.
	must("old status", s.SaveStatus(ctx, store.Status{ID: "status-old", APIRoot: root, Submitter: "cert-eu",
		RequestTimestamp: now.Add(-48 * time.Hour), Successes: []store.StatusDetail{{ID: objs[3].ID, Message: "added"}}}))
	for i := range 3 {
		must("audit", s.AppendAudit(ctx, store.AuditEntry{At: now, Actor: "alice", Action: "member.add",
			Target: fmt.Sprintf("member m%d", i), Detail: "d", Before: "", After: "{}"}))
	}
	return portFixture{collection: coll, root: root, now: now, deleted: deleted, found: objs[5], gone: objs[1]}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func newIndicatorID() string { return "indicator--" + newUUID() }

// importAll writes records into s through store.Import.
func importAll(t *testing.T, s store.ImportStore, recs []ExportedRecord) {
	t.Helper()
	im, err := store.BeginImport(t.Context(), s)
	if err != nil {
		t.Fatalf("begin import: %v", err)
	}
	for _, r := range recs {
		if err := im.Add(t.Context(), r.Kind, r.Value); err != nil {
			t.Fatalf("import: %v", err)
		}
	}
	if err := im.Finish(t.Context()); err != nil {
		t.Fatalf("finish import: %v", err)
	}
}

// byKind encodes each kind's records, sorted: backends may list some kinds (withdrawals) in orders
// of their own.
func byKind(t *testing.T, recs []ExportedRecord) map[store.ExportKind][]string {
	t.Helper()
	out := map[store.ExportKind][]string{}
	for _, r := range recs {
		v := r.Value
		if st, ok := v.(store.Status); ok {
			// SQLite keeps a status's request time to the nanosecond, MongoDB to the microsecond,
			// the precision the contract promises.
			st.RequestTimestamp = st.RequestTimestamp.Truncate(time.Microsecond)
			v = st
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("encode %s: %v", r.Kind, err)
		}
		out[r.Kind] = append(out[r.Kind], string(b))
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

func portRoundTrip(t *testing.T, from, to Porter) {
	ctx := t.Context()
	fx := populate(t, from, true)
	// A new hub holds its first operator token, whose issue is in its audit trail.
	if err := to.SaveToken(ctx, store.Token{ID: "tok-operator", Kind: store.OperatorToken, Subject: "operator",
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := to.AppendAudit(ctx, store.AuditEntry{At: time.Now().UTC(), Actor: "taxiihub", Action: "token.issue",
		Target: "token tok-operator"}); err != nil {
		t.Fatal(err)
	}

	exported := ExportAll(t, from)
	kinds := map[store.ExportKind]bool{}
	for _, r := range exported {
		kinds[r.Kind] = true
	}
	for _, k := range store.ExportKinds {
		if !kinds[k] {
			t.Errorf("the export holds no %s record, although the store holds some", k)
		}
	}
	importAll(t, to, exported)

	again := ExportAll(t, to)
	want, got := byKind(t, exported), byKind(t, again)
	for _, k := range store.ExportKinds {
		w, g := want[k], got[k]
		switch k {
		case store.KindToken:
			g = slices.DeleteFunc(slices.Clone(g), func(s string) bool { return bytes.Contains([]byte(s), []byte("tok-operator")) })
		case store.KindAudit:
			// The new hub's own entry follows the imported trail.
			if len(g) != len(w)+1 {
				t.Errorf("audit: %d entries after the import, want the %d imported and the hub's own", len(g), len(w))
				continue
			}
			continue
		case store.KindAuditHead:
			continue
		}
		if !slices.Equal(w, g) {
			t.Errorf("%s records differ after the import:\n got %v\nwant %v", k, g, w)
		}
	}

	if v, err := store.VerifyLedger(ctx, to); err != nil || !v.OK {
		t.Errorf("the imported ledger does not verify: %+v, %v", v, err)
	}
	if v, err := store.VerifyAudit(ctx, to); err != nil || !v.OK {
		t.Errorf("the imported audit trail does not verify: %+v, %v", v, err)
	}
	if d, err := store.VerifyDeep(ctx, to, store.DeepOptions{}); err != nil || !d.OK {
		t.Errorf("the imported store does not verify deep: %+v, %v", d, err)
	}
	checkFixtureExported(t, exported)
	checkPullDetailsMoved(t, from, to)
	checkSearchMoved(t, from, to, fx)
	checkStatusRetentionMoved(t, to, fx)

	// A poller that read the first page on the old store goes on, with its cursor, on the new one.
	first, err := from.Objects(ctx, fx.collection, store.Query{Limit: 7})
	if err != nil || !first.More {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	rest := readAll(t, from, fx.collection, store.Query{Limit: 5, Cursor: first.Next}, false)
	restNew := readAll(t, to, fx.collection, store.Query{Limit: 5, Cursor: first.Next}, false)
	if len(rest) != len(restNew) {
		t.Fatalf("the cursor reads %d records on the new store, %d on the old", len(restNew), len(rest))
	}
	for i := range rest {
		if !bytes.Equal(rest[i].Content, restNew[i].Content) || !rest[i].DateAdded.Equal(restNew[i].DateAdded) {
			t.Errorf("record %d differs on the new store: %s at %v, want %s at %v", i, restNew[i].Content,
				restNew[i].DateAdded, rest[i].Content, rest[i].DateAdded)
		}
	}
	last, _ := from.LastAdded(ctx, fx.deleted)
	lastNew, err := to.LastAdded(ctx, fx.deleted)
	if err != nil || !lastNew.Equal(last) {
		t.Errorf("latest date added of the collection whose newest version was deleted: %v, %v; want %v", lastNew, err, last)
	}
	out := mustPublish(t, to, store.Publication{CollectionID: fx.deleted, Member: "cert-eu",
		Objects: []store.Object{indicator(newIndicatorID(), "2026-03-01T00:00:00.000Z", 99)}})
	if !out[0].DateAdded.After(last) {
		t.Errorf("a version added after the import has date added %v, not after the old store's last %v", out[0].DateAdded, last)
	}
}

func portRefusesNotEmpty(t *testing.T, s Porter) {
	populate(t, s, false)
	_, err := store.BeginImport(t.Context(), s)
	if !errors.Is(err, store.ErrNotEmpty) {
		t.Errorf("import into a populated store: got %v, want ErrNotEmpty", err)
	}
}

func portRefusesOutOfOrder(t *testing.T, s Porter) {
	im, err := store.BeginImport(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Add(t.Context(), store.KindMember, store.Member{ID: "m", Name: "M", Jurisdiction: "EU"}); err != nil {
		t.Fatal(err)
	}
	err = im.Add(t.Context(), store.KindAPIRoot, store.APIRoot{Slug: "late", Title: "Late"})
	if !errors.Is(err, store.ErrImportOrder) {
		t.Errorf("an API root after a member: got %v, want ErrImportOrder", err)
	}
	changed := store.ExportedObject{CollectionID: newUUID(), StoredVersion: store.StoredVersion{
		Record: store.Record{ID: "indicator--1", Content: []byte(`{"changed":true}`)}, SHA256: make([]byte, 32)}}
	err = im.Add(t.Context(), store.KindObject, changed)
	if !errors.Is(err, store.ErrImportOrder) {
		t.Errorf("a version whose content does not match its digest: got %v, want ErrImportOrder", err)
	}
	err = im.Add(t.Context(), store.KindGrant, store.Member{ID: "x"})
	if err == nil {
		t.Errorf("a grant record holding a member was accepted")
	}
	// Pull details name an entry of the imported ledger: none past its head.
	if err := im.Add(t.Context(), store.KindLedgerHead, store.LedgerHead{Seq: 0, Hash: store.GenesisHash()}); err != nil {
		t.Fatal(err)
	}
	err = im.Add(t.Context(), store.KindPullDetail, store.PullDetail{Seq: 1, At: time.Now(),
		Items: []store.LedgerItem{{ID: "indicator--1", Version: time.Now()}}})
	if !errors.Is(err, store.ErrImportOrder) {
		t.Errorf("pull details of an entry past the ledger's head: got %v, want ErrImportOrder", err)
	}
}

// portWhilePublishing exports while a member keeps publishing, imports the export, and checks that
// the copy verifies deep: what the export holds is one point of the store's history, every version
// with its ledger entry and origins, none of them without the others.
func portWhilePublishing(t *testing.T, from, to Porter) {
	ctx := t.Context()
	populate(t, from, false)
	coll := newCollection(t, from)
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		defer func() { done <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			batch := make([]store.Object, 0, 20)
			for i := range 20 {
				o := indicator(newIndicatorID(), "2026-01-01T00:00:00.000Z", i)
				o.Fingerprint = "fp-" + randomHex(8)
				batch = append(batch, o)
			}
			if _, err := from.Publish(ctx, store.Publication{CollectionID: coll, Member: "cert-eu", TokenID: "tok-eu", Objects: batch}); err != nil {
				t.Errorf("publish: %v", err)
				return
			}
			n += len(batch)
		}
	}()
	time.Sleep(50 * time.Millisecond)
	exported := ExportAll(t, from)
	close(stop)
	published := <-done
	importAll(t, to, exported)
	d, err := store.VerifyDeep(ctx, to, store.DeepOptions{})
	if err != nil || !d.Ledger.OK || !d.Audit.OK || d.UnrecordedCount > 0 {
		t.Fatalf("an export taken while %d objects were published does not verify once imported: %+v, %v", published, d, err)
	}
	// The member publishes into a partnership of one collection: an origin its publications make
	// after the mark is past the partnership's mark, and is left out with them, also on a backend
	// that reads no snapshot (see store.Export).
	if !d.OK {
		t.Errorf("an export taken while %d objects were published does not verify deep once imported: %+v", published, d)
	}
}

// checkFixtureExported fails when the export lacks what populate made for the features a move must
// carry, so that the comparison of records after the import is not vacuous for them.
func checkFixtureExported(t *testing.T, recs []ExportedRecord) {
	t.Helper()
	var reviewers, provider, retention, compact, person, purge, details, statuses int
	for _, r := range recs {
		switch v := r.Value.(type) {
		case store.APIRoot:
			reviewers += btoi(len(v.Policy.Reviewers) > 0)
		case store.Member:
			provider += btoi(v.IdentityProvider != nil && v.IdentityProvider.Issuer != "")
		case store.ExportedCollection:
			retention += btoi(v.Policy.Retention > 0)
		case store.LedgerEntry:
			compact += btoi(v.Pulled != nil && v.Pulled.Count > 0 && len(v.Items) == 0)
			person += btoi(!v.Person.IsZero())
			purge += btoi(v.Kind == store.LedgerPurge)
		case store.PullDetail:
			details += btoi(len(v.Items) > 0)
		case store.Status:
			statuses += btoi(!v.RequestTimestamp.IsZero())
		}
	}
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"partnerships with reviewers", reviewers, 1}, {"members with an identity provider", provider, 1},
		{"collections with a retention", retention, 1}, {"compact pull entries", compact, 2},
		{"entries attributed to a person", person, 1}, {"purge entries", purge, 1},
		{"pull details", details, 2}, {"statuses with a request time", statuses, 3},
	} {
		if c.got != c.want {
			t.Errorf("the export holds %d %s, want %d", c.got, c.what, c.want)
		}
	}
}

// checkPullDetailsMoved reads both ledgers with their pull details: every compact pull entry of
// the new store gets back the ids it served, matching the digest its hash commits to, as on the old.
func checkPullDetailsMoved(t *testing.T, from, to Porter) {
	t.Helper()
	withDetails := func(s Porter) []store.LedgerEntry {
		t.Helper()
		es, err := s.Ledger(t.Context(), 0, store.MaxLimit)
		if err != nil {
			t.Fatalf("read the ledger: %v", err)
		}
		mismatched, err := store.WithPullDetails(t.Context(), s, es)
		if err != nil || len(mismatched) > 0 {
			t.Fatalf("pull details: %v mismatched, %v", mismatched, err)
		}
		return es
	}
	old, moved := withDetails(from), withDetails(to)
	var qe *store.QueryError
	if _, err := to.PullDetailsAfter(t.Context(), 0, store.MaxLimit+1); !errors.As(err, &qe) {
		t.Errorf("pull details read %d at a time: got %v, want a *QueryError", store.MaxLimit+1, err)
	}
	if len(old) != len(moved) {
		t.Fatalf("the new ledger has %d entries, the old %d", len(moved), len(old))
	}
	for i, e := range moved {
		if e.Pulled == nil {
			continue
		}
		if len(e.Items) != e.Pulled.Count || !slices.EqualFunc(e.Items, old[i].Items, func(a, b store.LedgerItem) bool {
			return a.ID == b.ID && a.Version.Equal(b.Version)
		}) {
			t.Errorf("pull %d: the new store gives back %d ids (%v), the old %d; the entry counts %d",
				e.Seq, len(e.Items), e.Items, len(old[i].Items), e.Pulled.Count)
		}
	}
}

// checkSearchMoved searches both stores for a value an imported object names and one only a
// withdrawn object named: the new store answers as the old.
func checkSearchMoved(t *testing.T, from, to Porter, fx portFixture) {
	t.Helper()
	value := func(o store.Object) string {
		var v struct{ Pattern string }
		if err := json.Unmarshal(o.Content, &v); err != nil {
			t.Fatal(err)
		}
		// The fixture's patterns are [domain-name:value = '<value>'].
		_, after, _ := strings.Cut(v.Pattern, "'")
		val, _, _ := strings.Cut(after, "'")
		return val
	}
	for _, c := range []struct {
		value string
		want  []string
	}{{value(fx.found), []string{fx.found.ID}}, {value(fx.gone), []string{}}} {
		old := hitIDs(search(t, from, c.value, 10, scope(fx.collection)))
		moved := hitIDs(search(t, to, c.value, 10, scope(fx.collection)))
		if !slices.Equal(old, c.want) || !slices.Equal(moved, c.want) {
			t.Errorf("search %q: the new store finds %v, the old %v; want %v", c.value, moved, old, c.want)
		}
	}
}

// checkStatusRetentionMoved purges statuses older than a day on the new store: the one whose request
// came two days ago goes, by the request time the move kept, and the others stay.
func checkStatusRetentionMoved(t *testing.T, to Porter, fx portFixture) {
	t.Helper()
	n, err := to.PurgeStatuses(t.Context(), fx.now.Add(-24*time.Hour), 10)
	if err != nil || n != 1 {
		t.Errorf("status retention on the new store removed %d statuses, %v; want the one two days old", n, err)
	}
	if _, err := to.Status(t.Context(), fx.root, "status-old"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the status two days old after the sweep: %v, want ErrNotFound", err)
	}
	if _, err := to.Status(t.Context(), fx.root, "status-1"); err != nil {
		t.Errorf("the recent status after the sweep: %v", err)
	}
}
