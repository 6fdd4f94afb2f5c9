package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/store"
)

var deepCases = []testCase{
	{"StoredVersionsListEveryVersionWithItsDigest", storedVersions},
	{"OriginsAndWithdrawalsListInPages", originsAndWithdrawalsInOrder},
	{"DeepVerificationOfAnUntouchedHub", deepUntouched},
	{"DeepVerificationChecksCheckpoints", deepCheckpoints},
}

func digestOf(content []byte) []byte {
	sum := sha256.Sum256(content)
	return sum[:]
}

func storedVersions(t *testing.T, s store.Store) {
	ctx := t.Context()
	coll := newCollection(t, s)
	objs := []store.Object{
		tlpObject(1, "2026-01-01T00:00:00.000Z", store.TLPRed),
		tlpObject(1, "2026-02-01T00:00:00.000Z", 0),
		object("ipv4-addr", "ipv4-addr--00000000-0000-4000-8000-000000000001", "2.1", "", "a"),
		object("malware", "malware--00000000-0000-4000-8000-000000000002", "2.0", "2026-01-01T00:00:00Z", "b"),
	}
	out := mustAdd(t, s, coll, objs...)
	for _, withContent := range []bool{false, true} {
		var got []store.StoredVersion
		for after := (time.Time{}); ; {
			page, err := s.StoredVersions(ctx, coll, after, 3, withContent)
			if err != nil {
				t.Fatalf("stored versions: %v", err)
			}
			got = append(got, page...)
			if len(page) < 3 {
				break
			}
			after = page[len(page)-1].DateAdded
		}
		if len(got) != len(objs) {
			t.Fatalf("%d stored versions, want every version of every object, whatever its level or spec version: %+v", len(got), got)
		}
		for i, v := range got {
			if v.ID != objs[i].ID || !v.Version.Equal(out[i].Version) || !v.DateAdded.Equal(out[i].DateAdded) ||
				v.TLP != objs[i].TLP || !bytes.Equal(v.SHA256, digestOf(objs[i].Content)) {
				t.Errorf("version %d: %+v; want %s at %v, added %v, with its digest", i, v, objs[i].ID, out[i].Version, out[i].DateAdded)
			}
			if withContent != (v.Content != nil) || withContent && !bytes.Equal(v.Content, objs[i].Content) {
				t.Errorf("version %d with content %v: content %q", i, withContent, v.Content)
			}
		}
	}
	_, err := s.StoredVersions(ctx, newUUID(), time.Time{}, 10, false)
	wantErrIs(t, "stored versions of a missing collection", err, store.ErrNotFound)
	var qe *store.QueryError
	if _, err := s.StoredVersions(ctx, coll, time.Time{}, 0, false); !errors.As(err, &qe) {
		t.Errorf("stored versions with limit 0: %v, want a *store.QueryError", err)
	}
}

func originsAndWithdrawalsInOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []store.Origin
	var wantWithdrawn []store.WithdrawnObject
	for _, member := range []string{"cert-eu", "jpcert"} {
		coll := newCollection(t, s)
		root := rootOf(t, s, coll)
		objs := []store.Object{fingerprinted(tlpObject(1, "2026-01-01T00:00:00.000Z", 0), "fp-1"), tlpObject(2, "2026-01-01T00:00:00.000Z", 0)}
		if member == "jpcert" {
			objs[1] = tlpObject(3, "2026-01-01T00:00:00.000Z", 0)
		}
		mustPublish(t, s, store.Publication{CollectionID: coll, Member: member, Objects: objs})
		want = append(want, store.Origin{Key: store.OriginKeyID(objs[0].ID), APIRoot: root, Member: member},
			store.Origin{Key: store.OriginKeyID(objs[1].ID), APIRoot: root, Member: member},
			store.Origin{Key: store.OriginKeyFingerprint("fp-1"), APIRoot: root, Member: member})
		out, err := s.Withdraw(ctx, store.Withdrawal{CollectionID: coll, ObjectID: objs[1].ID, Member: member, Tombstone: tombstone})
		if err != nil {
			t.Fatalf("withdraw: %v", err)
		}
		wantWithdrawn = append(wantWithdrawn, store.WithdrawnObject{APIRoot: root, ObjectID: objs[1].ID, CollectionID: coll, Member: member, At: out.DateAdded})
	}
	slices.SortFunc(want, func(a, b store.Origin) int {
		return strings.Compare(a.Key+"\x00"+a.APIRoot, b.Key+"\x00"+b.APIRoot)
	})
	var got []store.Origin
	for after := (store.Origin{}); ; {
		page, err := s.OriginsAfter(ctx, after, 2)
		if err != nil {
			t.Fatalf("origins: %v", err)
		}
		got = append(got, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	if got = withoutTimes(got); !slices.Equal(got, want) {
		t.Errorf("origins, two at a time:\n got %+v\nwant %+v", got, want)
	}
	var withdrawn []store.WithdrawnObject
	for after := (store.WithdrawnObject{}); ; {
		page, err := s.WithdrawalsAfter(ctx, after, 1)
		if err != nil {
			t.Fatalf("withdrawals: %v", err)
		}
		withdrawn = append(withdrawn, page...)
		if len(page) < 1 {
			break
		}
		after = page[len(page)-1]
	}
	// The order is the backend's own; what counts is that paging visits each withdrawal once.
	byKey := func(a, b store.WithdrawnObject) int {
		return strings.Compare(a.APIRoot+"\x00"+a.ObjectID, b.APIRoot+"\x00"+b.ObjectID)
	}
	slices.SortFunc(withdrawn, byKey)
	slices.SortFunc(wantWithdrawn, byKey)
	if !slices.EqualFunc(withdrawn, wantWithdrawn, func(a, b store.WithdrawnObject) bool {
		return a.APIRoot == b.APIRoot && a.ObjectID == b.ObjectID && a.CollectionID == b.CollectionID && a.Member == b.Member && a.At.Equal(b.At)
	}) {
		t.Errorf("withdrawals, one at a time:\n got %+v\nwant %+v", withdrawn, wantWithdrawn)
	}
	var qe *store.QueryError
	if _, err := s.OriginsAfter(ctx, store.Origin{}, store.MaxLimit+1); !errors.As(err, &qe) {
		t.Errorf("origins with too large a limit: %v, want a *store.QueryError", err)
	}
	if _, err := s.WithdrawalsAfter(ctx, store.WithdrawnObject{}, 0); !errors.As(err, &qe) {
		t.Errorf("withdrawals with limit 0: %v, want a *store.QueryError", err)
	}
}

// deepHub is what fillDeepHub did to a store: every kind of write deep verification accounts for.
type deepHub struct {
	root, collection string
	// a and b were published by cert-eu with fingerprints; b's id is jpcert's no more than a's.
	a, b store.Object
	// withdrawn was withdrawn by cert-eu, and tombstone is the version that replaced it.
	withdrawn string
	tombstone time.Time
	// deleted is a version cert-eu deleted.
	deleted store.Object
	// loaded was added with AddObjects, on nobody's behalf.
	loaded store.Object
	// gone is a collection deleted with what was published into it.
	gone string
	// audit is how many audit entries were appended.
	audit int64
	// versions is how many versions the collection holds.
	versions int64
	// origins is how many origins were recorded.
	origins int64
}

// fillDeepHub publishes, pulls, withdraws and deletes as members do, loads an object with
// AddObjects, deletes a collection and records operator actions.
func fillDeepHub(t *testing.T, s store.Store) deepHub {
	ctx := t.Context()
	h := deepHub{collection: newCollection(t, s)}
	h.root = rootOf(t, s, h.collection)
	h.a = fingerprinted(tlpObject(1, "2026-01-01T00:00:00.000Z", store.TLPGreen), "fp-a")
	h.b = fingerprinted(tlpObject(2, "2026-01-01T00:00:00.000Z", 0), "fp-b")
	c := tlpObject(3, "2026-01-01T00:00:00.000Z", store.TLPAmber)
	h.deleted = tlpObject(4, "2026-01-01T00:00:00.000Z", 0)
	kept := tlpObject(4, "2026-02-01T00:00:00.000Z", 0)
	observable := fingerprinted(object("ipv4-addr", "ipv4-addr--00000000-0000-4000-8000-000000000001", "2.1", "", "seen"), "fp-ip")
	mustPublish(t, s, store.Publication{CollectionID: h.collection, Member: "cert-eu", TokenID: "tok-1",
		Objects: []store.Object{h.a, h.b, c, h.deleted, kept, observable},
		Refused: []store.Refusal{{ID: "email-addr--00000000-0000-4000-8000-000000000000", Codes: []string{"personal-data"}}}})
	// Another member's copies of what the collection holds change nothing; a changed copy of a
	// version already held is kept out.
	changed := h.a
	changed.Content = append(slices.Clone(h.a.Content[:len(h.a.Content)-1]), ` , "x_changed": true}`...)
	mustPublish(t, s, store.Publication{CollectionID: h.collection, Member: "jpcert", Objects: []store.Object{observable, h.a}})
	mustPublish(t, s, store.Publication{CollectionID: h.collection, Member: "cert-eu", Objects: []store.Object{changed}})
	if err := s.RecordPull(ctx, store.LedgerEntry{Member: "jpcert", APIRoot: h.root, Collection: h.collection, Endpoint: "objects",
		Items: []store.LedgerItem{{ID: h.a.ID, Version: h.a.Version}}}); err != nil {
		t.Fatalf("record pull: %v", err)
	}
	out, err := s.Withdraw(ctx, store.Withdrawal{CollectionID: h.collection, ObjectID: c.ID, Member: "cert-eu", Tombstone: tombstone})
	if err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	h.withdrawn, h.tombstone = c.ID, out.Version
	if _, err := s.Delete(ctx, store.Deletion{CollectionID: h.collection, ObjectID: h.deleted.ID, Member: "cert-eu",
		Filter: store.VersionFilter{Versions: store.VersionMatch{At: []time.Time{h.deleted.Version}}}}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	// Loaded on nobody's behalf; one of them published later, which accounts for it.
	h.loaded = tlpObject(5, "2026-01-01T00:00:00.000Z", 0)
	republished := tlpObject(6, "2026-01-01T00:00:00.000Z", 0)
	mustAdd(t, s, h.collection, h.loaded, republished)
	mustPublish(t, s, store.Publication{CollectionID: h.collection, Member: "cert-eu", Objects: []store.Object{republished}})

	h.gone = newCollectionIn(t, s, h.root)
	mustPublish(t, s, store.Publication{CollectionID: h.gone, Member: "jpcert", Objects: []store.Object{tlpObject(7, "2026-01-01T00:00:00.000Z", 0)}})
	if err := s.DeleteCollection(ctx, h.root, h.gone); err != nil {
		t.Fatalf("delete collection: %v", err)
	}
	for i := range 3 {
		if err := s.AppendAudit(ctx, store.AuditEntry{At: time.Now(), Actor: "alice", Action: "grant.add",
			Target: fmt.Sprintf("grant %d", i)}); err != nil {
			t.Fatalf("append audit entry: %v", err)
		}
	}
	h.audit = 3
	// a, b, the tombstone, kept, the observable, loaded and republished.
	h.versions = 7
	// The ids of a, b, c, the object whose versions were deleted and kept, the observable and the
	// object of the gone collection; the fingerprints of a, b and the observable. Republishing what
	// AddObjects loaded found it stored, and made no origin.
	h.origins = 9
	return h
}

// verifyDeep runs VerifyDeep and fails t on an error.
func verifyDeep(t *testing.T, s store.Store, opts store.DeepOptions) store.DeepVerification {
	t.Helper()
	v, err := store.VerifyDeep(t.Context(), s, opts)
	if err != nil {
		t.Fatalf("deep verification: %v", err)
	}
	return v
}

func deepUntouched(t *testing.T, s store.Store) {
	h := fillDeepHub(t, s)
	for _, maxTracked := range []int{0, 5} {
		v := verifyDeep(t, s, store.DeepOptions{MaxTracked: maxTracked})
		if !v.OK || v.ProblemCount != 0 || !v.Ledger.OK || !v.Audit.OK || v.Audit.Entries != h.audit {
			t.Errorf("tracking %d: an untouched hub does not verify: %+v", maxTracked, v)
		}
		if v.Versions != h.versions || v.Origins != h.origins || v.Withdrawals != 1 || v.LegacyVersions != 0 || v.LegacyOrigins != 0 {
			t.Errorf("tracking %d: checked %d versions, %d origins, %d withdrawals (%d, %d legacy); want %d, %d, 1 (none legacy)",
				maxTracked, v.Versions, v.Origins, v.Withdrawals, v.LegacyVersions, v.LegacyOrigins, h.versions, h.origins)
		}
		if v.UnrecordedCount != 1 || len(v.Unrecorded) != 1 || v.Unrecorded[0].ObjectID != h.loaded.ID ||
			v.Unrecorded[0].Collection != h.collection || !v.Unrecorded[0].Version.Equal(h.loaded.Version) {
			t.Errorf("tracking %d: unrecorded %d %+v; want the object loaded with AddObjects alone", maxTracked, v.UnrecordedCount, v.Unrecorded)
		}
		if !slices.Equal(v.DeletedCollections, []string{h.gone}) {
			t.Errorf("tracking %d: deleted collections %v, want %s", maxTracked, v.DeletedCollections, h.gone)
		}
		if maxTracked != 0 && v.Passes < 2 {
			t.Errorf("tracking %d: %d passes; want the check split", maxTracked, v.Passes)
		}
	}
}

func deepCheckpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	fillDeepHub(t, s)
	lh, err := s.LedgerHead(ctx)
	if err != nil {
		t.Fatalf("ledger head: %v", err)
	}
	ah, err := s.AuditHead(ctx)
	if err != nil {
		t.Fatalf("audit head: %v", err)
	}
	ledger := store.Checkpoint{Seq: lh.Seq, Hash: lh.Hash}
	audit := store.Checkpoint{Seq: ah.Seq, Hash: ah.Hash}
	if v := verifyDeep(t, s, store.DeepOptions{Ledger: &ledger, Audit: &audit}); !v.OK {
		t.Errorf("with the heads as checkpoints: %+v", v)
	}
	other := bytes.Repeat([]byte{7}, sha256.Size)
	for _, tc := range []struct {
		name         string
		opts         store.DeepOptions
		ledgerBroken int64
		auditBroken  int64
		says         string
	}{
		{"LedgerRewritten", store.DeepOptions{Ledger: &store.Checkpoint{Seq: 2, Hash: other}}, 2, 0, "rewritten"},
		{"LedgerCutBack", store.DeepOptions{Ledger: &store.Checkpoint{Seq: lh.Seq + 5, Hash: other}}, lh.Seq + 5, 0, "cut back"},
		{"AuditRewritten", store.DeepOptions{Audit: &store.Checkpoint{Seq: 2, Hash: other}}, 0, 2, "rewritten"},
		{"AuditCutBack", store.DeepOptions{Audit: &store.Checkpoint{Seq: ah.Seq + 1, Hash: other}}, 0, ah.Seq + 1, "cut back"},
	} {
		v := verifyDeep(t, s, tc.opts)
		got := v.Ledger
		if tc.auditBroken != 0 {
			got = v.Audit
		}
		if v.OK || got.OK || got.BrokenAt != tc.ledgerBroken+tc.auditBroken || !strings.Contains(got.Problem, tc.says) {
			t.Errorf("%s: %+v; want entry %d named (%q)", tc.name, v, tc.ledgerBroken+tc.auditBroken, tc.says)
		}
	}
}

// DeepTamper changes a backend's data behind the store's back, as someone with write access to the
// database could.
type DeepTamper struct {
	// SetContent replaces a stored version's content; with digest nil, the digest stored with it
	// stays as it was.
	SetContent func(t *testing.T, collection, id string, version time.Time, content, digest []byte)
	// DeleteVersion removes a stored version.
	DeleteVersion func(t *testing.T, collection, id string, version time.Time)
	// SetOrigin records an origin, or changes the member of the one of its key and root.
	SetOrigin func(t *testing.T, o store.Origin)
	// DeleteOrigin removes an origin.
	DeleteOrigin func(t *testing.T, root, key string)
	// SetWithdrawal records a withdrawal, or changes the collection and member of the one of its id.
	SetWithdrawal func(t *testing.T, w store.WithdrawnObject)
	// DeleteWithdrawal removes the withdrawal of an object id in a partnership.
	DeleteWithdrawal func(t *testing.T, root, objectID string)
	// AlterAudit changes the actor of an audit entry.
	AlterAudit func(t *testing.T, seq int64)
	// DeleteAudit removes an audit entry.
	DeleteAudit func(t *testing.T, seq int64)
}

// RunDeepTampering checks that VerifyDeep names what was changed after each kind of tampering, and
// nothing else. open returns a fresh, empty store and a DeepTamper acting on the same database.
func RunDeepTampering(t *testing.T, open func(t *testing.T) (store.Store, DeepTamper)) {
	other := []byte(`{"type":"indicator","id":"replaced"}`)
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, s store.Store, tp DeepTamper, h deepHub)
		// want is the one problem expected, of the fields set in it.
		want store.Finding
	}{
		{"ContentChanged", func(t *testing.T, _ store.Store, tp DeepTamper, h deepHub) {
			tp.SetContent(t, h.collection, h.a.ID, h.a.Version, other, nil)
		}, store.Finding{Kind: store.FindingContentChanged, ObjectID: indicatorID(1)}},
		{"ContentReplacedWithItsDigest", func(t *testing.T, _ store.Store, tp DeepTamper, h deepHub) {
			tp.SetContent(t, h.collection, h.a.ID, h.a.Version, other, digestOf(other))
		}, store.Finding{Kind: store.FindingContentChanged, ObjectID: indicatorID(1), Seq: 2}},
		{"TombstoneReplaced", func(t *testing.T, _ store.Store, tp DeepTamper, h deepHub) {
			tp.SetContent(t, h.collection, h.withdrawn, h.tombstone, other, digestOf(other))
		}, store.Finding{Kind: store.FindingContentChanged, ObjectID: indicatorID(3)}},
		{"VersionDeleted", func(t *testing.T, _ store.Store, tp DeepTamper, h deepHub) {
			tp.DeleteVersion(t, h.collection, h.b.ID, h.b.Version)
		}, store.Finding{Kind: store.FindingMissing, ObjectID: indicatorID(2), Seq: 1}},
		{"TombstoneDeleted", func(t *testing.T, _ store.Store, tp DeepTamper, h deepHub) {
			tp.DeleteVersion(t, h.collection, h.withdrawn, h.tombstone)
		}, store.Finding{Kind: store.FindingMissing, ObjectID: indicatorID(3)}},
		{"DeletedVersionPutBack", func(t *testing.T, s store.Store, _ DeepTamper, h deepHub) {
			mustAdd(t, s, h.collection, h.deleted)
		}, store.Finding{Kind: store.FindingRemovedInLedger, ObjectID: indicatorID(4)}},
		{"IDOriginCleared", func(t *testing.T, _ store.Store, tp DeepTamper, h deepHub) {
			tp.DeleteOrigin(t, h.root, store.OriginKeyID(h.a.ID))
		}, store.Finding{Kind: store.FindingOriginMissing, Key: store.OriginKeyID(indicatorID(1)), Member: "cert-eu", Seq: 1}},
		{"FingerprintOriginCleared", func(t *testing.T, _ store.Store, tp DeepTamper, h deepHub) {
			tp.DeleteOrigin(t, h.root, store.OriginKeyFingerprint("fp-b"))
		}, store.Finding{Kind: store.FindingOriginMissing, Key: store.OriginKeyFingerprint("fp-b"), Member: "cert-eu"}},
		{"OriginHandedToAnother", func(t *testing.T, _ store.Store, tp DeepTamper, h deepHub) {
			tp.SetOrigin(t, store.Origin{Key: store.OriginKeyID(h.b.ID), APIRoot: h.root, Member: "mallory"})
		}, store.Finding{Kind: store.FindingOriginUnbacked, Key: store.OriginKeyID(indicatorID(2)), Member: "mallory"}},
		{"OriginMadeUp", func(t *testing.T, _ store.Store, tp DeepTamper, h deepHub) {
			tp.SetOrigin(t, store.Origin{Key: store.OriginKeyFingerprint("fp-z"), APIRoot: h.root, Member: "mallory"})
		}, store.Finding{Kind: store.FindingOriginUnbacked, Key: store.OriginKeyFingerprint("fp-z"), Member: "mallory"}},
		{"WithdrawalCleared", func(t *testing.T, _ store.Store, tp DeepTamper, h deepHub) {
			tp.DeleteWithdrawal(t, h.root, h.withdrawn)
		}, store.Finding{Kind: store.FindingWithdrawalMissing, ObjectID: indicatorID(3), Member: "cert-eu"}},
		{"WithdrawalHandedToAnother", func(t *testing.T, _ store.Store, tp DeepTamper, h deepHub) {
			tp.SetWithdrawal(t, store.WithdrawnObject{APIRoot: h.root, ObjectID: h.withdrawn, CollectionID: h.collection, Member: "mallory", At: time.Now()})
		}, store.Finding{Kind: store.FindingWithdrawalUnbacked, ObjectID: indicatorID(3), Member: "mallory"}},
		{"WithdrawalMadeUp", func(t *testing.T, _ store.Store, tp DeepTamper, h deepHub) {
			tp.SetWithdrawal(t, store.WithdrawnObject{APIRoot: h.root, ObjectID: h.b.ID, CollectionID: h.collection, Member: "cert-eu", At: time.Now()})
		}, store.Finding{Kind: store.FindingWithdrawalUnbacked, ObjectID: indicatorID(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, tp := open(t)
			h := fillDeepHub(t, s)
			tc.tamper(t, s, tp, h)
			v := verifyDeep(t, s, store.DeepOptions{})
			if v.OK || v.ProblemCount != 1 || len(v.Problems) != 1 || !matches(v.Problems[0], tc.want) {
				t.Errorf("after tampering: OK %v, %d problems %+v; want one like %+v", v.OK, v.ProblemCount, v.Problems, tc.want)
			}
			if !v.Ledger.OK || !v.Audit.OK {
				t.Errorf("after tampering with data, the chains: ledger %+v, audit %+v; want both intact", v.Ledger, v.Audit)
			}
			if v.UnrecordedCount != 1 {
				t.Errorf("after tampering: %d unrecorded versions %+v, want the loaded one alone", v.UnrecordedCount, v.Unrecorded)
			}
			// Splitting the check changes nothing it finds.
			split := verifyDeep(t, s, store.DeepOptions{MaxTracked: 5})
			if split.Passes < 2 || split.ProblemCount != 1 || !matches(split.Problems[0], tc.want) {
				t.Errorf("split in %d passes: %d problems %+v", split.Passes, split.ProblemCount, split.Problems)
			}
		})
	}
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, tp DeepTamper, h deepHub)
		broken int64
		says   string
	}{
		{"AuditEntryChanged", func(t *testing.T, tp DeepTamper, _ deepHub) { tp.AlterAudit(t, 2) }, 2, "altered"},
		{"AuditEntryRemoved", func(t *testing.T, tp DeepTamper, _ deepHub) { tp.DeleteAudit(t, 2) }, 3, "does not follow entry 1"},
		{"LastAuditEntryRemoved", func(t *testing.T, tp DeepTamper, h deepHub) { tp.DeleteAudit(t, h.audit) }, 3, "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, tp := open(t)
			h := fillDeepHub(t, s)
			tc.tamper(t, tp, h)
			v := verifyDeep(t, s, store.DeepOptions{})
			if v.OK || v.Audit.OK || v.Audit.BrokenAt != tc.broken || !strings.Contains(v.Audit.Problem, tc.says) || v.ProblemCount != 0 {
				t.Errorf("after tampering: %+v; want audit entry %d named broken (%q) and nothing else", v, tc.broken, tc.says)
			}
		})
	}
}

// matches reports whether f has the fields set in want.
func matches(f, want store.Finding) bool {
	return f.Kind == want.Kind && f.Detail != "" &&
		(want.ObjectID == "" || f.ObjectID == want.ObjectID) &&
		(want.Key == "" || f.Key == want.Key) &&
		(want.Member == "" || f.Member == want.Member) &&
		(want.Seq == 0 || f.Seq == want.Seq)
}
