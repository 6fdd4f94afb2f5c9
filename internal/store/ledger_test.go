package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"
)

// legacyEntry is an entry of the kind every ledger held before items recorded digests and
// fingerprints.
func legacyEntry() LedgerEntry {
	return LedgerEntry{Kind: LedgerPublish, Member: "cert-eu", TokenID: "tok-1", APIRoot: "eu-japan", Collection: "c1",
		Items: []LedgerItem{{ID: "indicator--1", Version: time.UnixMicro(1767225600000000).UTC(), Verdict: VerdictAdded},
			{ID: "email-addr--2", Verdict: "refused: personal-data"}}}
}

// TestLedgerEntriesWithoutDigestsHashAsBefore: ledgers written before items recorded digests must
// still verify, so an item without them hashes exactly as it did. The hash below was computed by
// the code of that time.
func TestLedgerEntriesWithoutDigestsHashAsBefore(t *testing.T) {
	e := legacyEntry().Chain(6, GenesisHash(), time.UnixMicro(1767225601000000))
	const want = "c02f8c7d45bdc0ad7fcb00cd62ab6742b8a6aeb4465fccd6489c66f355b7feda"
	if got := hex.EncodeToString(e.Hash); got != want {
		t.Errorf("hash of an entry without digests: %s, want %s", got, want)
	}
}

// TestLedgerHashCoversDigestsAndFingerprints: changing the digest or fingerprint an item records
// changes the entry's hash, so neither can be altered unseen.
func TestLedgerHashCoversDigestsAndFingerprints(t *testing.T) {
	at := time.UnixMicro(1767225601000000)
	base := legacyEntry()
	base.Items[0].SHA256 = bytes.Repeat([]byte{1}, sha256.Size)
	base.Items[0].Fingerprint = "fp-1"
	hash := base.Chain(0, GenesisHash(), at).Hash
	if bytes.Equal(hash, legacyEntry().Chain(0, GenesisHash(), at).Hash) {
		t.Error("an item's digest and fingerprint do not change the entry's hash")
	}
	digest := legacyEntry()
	digest.Items[0].SHA256 = bytes.Repeat([]byte{2}, sha256.Size)
	digest.Items[0].Fingerprint = "fp-1"
	fp := legacyEntry()
	fp.Items[0].SHA256 = base.Items[0].SHA256
	fp.Items[0].Fingerprint = "fp-2"
	for name, e := range map[string]LedgerEntry{"digest": digest, "fingerprint": fp} {
		if bytes.Equal(e.Chain(0, GenesisHash(), at).Hash, hash) {
			t.Errorf("another %s leaves the entry's hash as it was", name)
		}
	}
}

// TestPublishEntryRecordsDigestsOfStoredContent: only items whose version the collection holds with
// the submitted content record its digest; only added ones, whose origins the store records, carry
// the fingerprint.
func TestPublishEntryRecordsDigestsOfStoredContent(t *testing.T) {
	v := time.UnixMicro(1767225600000000).UTC()
	obj := func(n byte) Object {
		return Object{ID: "indicator--" + string('0'+n), Version: v, Content: []byte{'{', n, '}'}, Fingerprint: "fp-" + string('0'+n)}
	}
	p := Publication{CollectionID: "c1", Member: "cert-eu", Objects: []Object{obj(1), obj(2), obj(3), obj(4)}}
	outcomes := []Outcome{{Result: Added, Version: v}, {Result: Unchanged, Version: v}, {Result: KeptExisting, Version: v},
		{Result: NotOwner}}
	e := PublishEntry(p, "eu-japan", outcomes)
	digest := func(o Object) []byte { sum := sha256.Sum256(o.Content); return sum[:] }
	want := []LedgerItem{
		{SHA256: digest(obj(1)), Fingerprint: "fp-1"},
		{SHA256: digest(obj(2))},
		{},
		{},
	}
	for i, it := range e.Items {
		if !bytes.Equal(it.SHA256, want[i].SHA256) || it.Fingerprint != want[i].Fingerprint {
			t.Errorf("item %d (%s): digest %x, fingerprint %q; want %x, %q", i, it.Verdict, it.SHA256, it.Fingerprint,
				want[i].SHA256, want[i].Fingerprint)
		}
	}
	w := WithdrawEntry(Withdrawal{CollectionID: "c1", ObjectID: "indicator--1", Member: "cert-eu"}, "eu-japan",
		Outcome{Result: Added, Version: v}, []byte("tombstone"))
	if sum := sha256.Sum256([]byte("tombstone")); !bytes.Equal(w.Items[0].SHA256, sum[:]) {
		t.Errorf("withdraw item's digest %x, want the tombstone's %x", w.Items[0].SHA256, sum)
	}
}

// A person is part of what the hash commits to, and an entry without one hashes as entries always
// did, so that entries written before people were recorded still verify.
func TestLedgerHashCoversThePerson(t *testing.T) {
	e := legacyEntry()
	without := e.ComputeHash()
	e.Person = Person{Issuer: "https://idp.example", Subject: "u-1", Name: "alice@example"}
	with := e.ComputeHash()
	if bytes.Equal(without, with) {
		t.Error("naming a person does not change the hash")
	}
	e.Person.Name = "mallory@example"
	if bytes.Equal(with, e.ComputeHash()) {
		t.Error("changing the person's name does not change the hash")
	}
}
