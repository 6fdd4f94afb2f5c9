package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
)

// startNode starts a hub node on the shared MongoDB database, with a data directory (and so a
// signing key) of its own.
func startNode(t *testing.T, db string) testHub {
	t.Helper()
	return startHub(t, "--mongo-uri", mongod.URI(), "--mongo-database", db)
}

// maxRevocationDelay is the promise the README makes: a revoked token is refused by every node
// within it.
const maxRevocationDelay = 5 * time.Second

// TestTwoNodesShareRevocationsAndKeys runs two hub nodes on one MongoDB database. Node A issues
// tokens with its own key; node B must accept them (A published its key through the store), keep
// accepting them after A rotates, accept what A signs with its new key at once, and refuse a token
// revoked through A within the promised delay.
func TestTwoNodesShareRevocationsAndKeys(t *testing.T) {
	db := mongod.Database(t)
	a := startNode(t, db)
	b := startNode(t, db)
	if _, err := os.Stat(b.tokenFile); !os.IsNotExist(err) {
		t.Errorf("node B wrote a second first operator token (%v)", err)
	}
	// The operator token A wrote opens B's admin API too: both nodes verify with both keys.
	b.tokenFile = a.tokenFile

	a.must(t, "apply", "-f", writeSpec(t, `
partnerships:
  - slug: eu-japan
    title: EU–Japan
    collections: [{alias: cyber-threats, title: Cyber threats}]
members:
  - {id: jpcert-cc, name: JPCERT/CC, jurisdiction: JP}
grants:
  - {member: jpcert-cc, partnership: eu-japan, collection: cyber-threats, read: true}
`))
	issue := func() (token, id string) {
		var issued admin.IssuedToken
		a.mustJSON(t, &issued, "token", "issue", "jpcert-cc")
		return issued.JWT, issued.Token.ID
	}
	const path = "/eu-japan/collections/cyber-threats/objects/"
	before, _ := issue()
	if code, body := taxii(t, b.url, path, before); code != 200 {
		t.Fatalf("node B refuses a token node A signed: %d %s", code, body)
	}

	// A rotates: its old tokens still open B, and so does what it signs from now on.
	var rotated admin.Key
	a.mustJSON(t, &rotated, "key", "rotate")
	after, afterID := issue()
	for name, tok := range map[string]string{"before": before, "after": after} {
		if code, body := taxii(t, b.url, path, tok); code != 200 {
			t.Errorf("node B refuses a token A signed %s rotating: %d %s", name, code, body)
		}
	}
	var keys struct{ Keys []admin.Key }
	b.mustJSON(t, &keys, "key", "list")
	var signing []string
	for _, k := range keys.Keys {
		if k.Signing {
			signing = append(signing, k.KID)
		}
	}
	if len(keys.Keys) != 3 || len(signing) != 1 || signing[0] == rotated.KID {
		t.Errorf("node B lists keys %+v; want A's two and its own, signing with its own", keys.Keys)
	}

	// Revoked through A, refused by B.
	if code, _ := taxii(t, b.url, path, after); code != 200 {
		t.Fatalf("node B refuses the token before it is revoked: %d", code)
	}
	a.must(t, "token", "revoke", afterID)
	revoked := time.Now()
	for {
		code, _ := taxii(t, b.url, path, after)
		delay := time.Since(revoked)
		if code == 401 {
			t.Logf("node B refused the revoked token after %v", delay)
			break
		}
		if delay > maxRevocationDelay {
			t.Fatalf("node B still answers %d to a token revoked %v ago", code, delay)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _ := taxii(t, b.url, path, before); code != 200 {
		t.Errorf("revoking one token affected another: %d", code)
	}
	if out := b.must(t, "audit"); !strings.Contains(out, "token.revoke") {
		t.Errorf("node B's audit trail lacks the revocation made through A:\n%s", out)
	}
}
