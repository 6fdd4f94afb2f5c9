package main

import (
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
)

// TestAuditNewestFirstSinceAndLimit: audit lists the newest actions first; --since leaves out older
// ones and --limit bounds the list; both are checked before any request.
func TestAuditNewestFirstSinceAndLimit(t *testing.T) {
	h := startHub(t)
	for _, m := range []string{"m1", "m2", "m3"} {
		h.must(t, "member", "add", m, "--name", strings.ToUpper(m), "--jurisdiction", "EU")
	}
	var res struct{ Entries []admin.AuditEntry }
	h.mustJSON(t, &res, "audit")
	var targets []string
	for _, e := range res.Entries {
		targets = append(targets, e.Target)
	}
	// The first operator token is the oldest action.
	if len(res.Entries) != 4 || !strings.HasSuffix(targets[0], "m3") || !strings.HasSuffix(targets[2], "m1") || res.Entries[3].Action != "token.issue" {
		t.Errorf("audit, newest first: %q", targets)
	}
	h.mustJSON(t, &res, "audit", "--limit", "2")
	if len(res.Entries) != 2 || !strings.HasSuffix(res.Entries[0].Target, "m3") || !strings.HasSuffix(res.Entries[1].Target, "m2") {
		t.Errorf("audit --limit 2: %+v", res.Entries)
	}
	h.mustJSON(t, &res, "audit", "--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	if len(res.Entries) != 0 {
		t.Errorf("audit --since in an hour: %+v", res.Entries)
	}
	h.mustJSON(t, &res, "audit", "--since", "1h")
	if len(res.Entries) != 4 {
		t.Errorf("audit --since 1h: %d entries, want 4", len(res.Entries))
	}
	h.mustJSON(t, &res, "audit", "--since", time.Now().UTC().Format(time.DateOnly))
	if len(res.Entries) != 4 && time.Now().UTC().Hour() != 0 {
		t.Errorf("audit --since today: %d entries, want 4", len(res.Entries))
	}
	for _, args := range [][]string{
		{"audit", "--since", "last tuesday"},
		{"audit", "--limit", "0"},
		{"audit", "--limit", "1001"},
		{"audit", "--since", "1h", "--after", "3"},
	} {
		status, stdout, stderr := h.ctl(t, args...)
		if status != exitUsage || stdout != "" || !strings.Contains(stderr, "--") {
			t.Errorf("%s: exit %d, %q %q; want a usage error naming the flag", strings.Join(args, " "), status, stdout, stderr)
		}
	}
}

// TestPartnershipShowIsComplete: partnership show prints the partnership's rules, each collection's
// rules and the path to give TAXII clients, the memberships and the grants.
func TestPartnershipShowIsComplete(t *testing.T) {
	h := startHub(t, "--seed", "../../deploy/examples/partnerships.yaml")
	var d admin.PartnershipDetail
	h.mustJSON(t, &d, "partnership", "show", "eu-immigration-ct")
	out := h.must(t, "partnership", "show", "eu-immigration-ct")
	want := []string{
		"jurisdictions      AT BE BG CY CZ DE DK EE ES EU FI",
		"no onward sharing  no",
		"identity location marking-definition relationship",
		"x_interview_notes",
		"/eu-immigration-ct/collections/" + d.Collections[0].ID + "/",
		"Memberships (4):",
		"frontex",
		"publisher",
		"europol-ectc",
		"reader",
		"Grants (4):",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("partnership show does not say %q:\n%s", w, out)
		}
	}
	out = h.must(t, "partnership", "show", "eu-japan")
	if !strings.Contains(out, "amber") || !strings.Contains(out, "personal data      allow") {
		t.Errorf("partnership show eu-japan lacks its collections' TLP ceiling:\n%s", out)
	}
}

// TestTokenListExpiring: token list --expiring shows only the active tokens expiring within the
// time given, soonest first.
func TestTokenListExpiring(t *testing.T) {
	h := startHub(t)
	h.must(t, "member", "add", "m1", "--name", "M1", "--jurisdiction", "EU")
	var soon, later, revoked admin.IssuedToken
	h.mustJSON(t, &later, "token", "issue", "m1", "--ttl", "10d")
	h.mustJSON(t, &soon, "token", "issue", "m1", "--ttl", "2d")
	h.mustJSON(t, &revoked, "token", "issue", "m1", "--ttl", "1d")
	h.must(t, "token", "revoke", revoked.Token.ID)
	out := h.must(t, "token", "list", "--expiring", "14d")
	rows := strings.Split(strings.TrimSpace(out), "\n")
	// The operator's first token lasts 90 days: not listed, nor the revoked one.
	if len(rows) != 3 || !strings.HasPrefix(rows[1], soon.Token.ID) || !strings.HasPrefix(rows[2], later.Token.ID) {
		t.Errorf("token list --expiring 14d:\n%s", out)
	}
	if out := h.must(t, "token", "list", "--expiring", "1d"); !strings.Contains(out, "no active token expires within 1d") {
		t.Errorf("token list --expiring 1d:\n%s", out)
	}
	if status, _, stderr := h.ctl(t, "token", "list", "--expiring", "soon"); status != exitUsage || !strings.Contains(stderr, "--expiring") {
		t.Errorf("token list --expiring soon: exit %d %s", status, stderr)
	}
}
