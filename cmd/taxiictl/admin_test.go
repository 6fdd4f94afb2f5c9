package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/httpapi"
	"taxiihub/internal/mongotest"
	"taxiihub/internal/server"
)

var mongod *mongotest.Server

func TestMain(m *testing.M) {
	httpapi.UseReleaseMode()
	os.Exit(mongotest.Main(m, &mongod))
}

// testHub is a whole hub served in-process, with the operator token it wrote on first start.
type testHub struct {
	url       string
	dataDir   string
	tokenFile string
	server    *server.Server
}

func startHub(t testing.TB, args ...string) testHub {
	t.Helper()
	dir := t.TempDir()
	cfg, err := server.ParseConfig(append([]string{"--data-dir", dir}, args...), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("start hub: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		s.Close(t.Context())
	})
	return testHub{url: srv.URL, dataDir: dir, tokenFile: filepath.Join(dir, server.OperatorTokenFile), server: s}
}

// ctl runs taxiictl against the hub as its first operator.
func (h testHub) ctl(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	return runTool("", append(args, "--url", h.url, "--token-file", h.tokenFile)...)
}

// must runs taxiictl and fails the test unless it exits 0.
func (h testHub) must(t *testing.T, args ...string) string {
	t.Helper()
	status, stdout, stderr := h.ctl(t, args...)
	if status != exitOK {
		t.Fatalf("taxiictl %s: exit %d\n%s%s", strings.Join(args, " "), status, stdout, stderr)
	}
	return stdout
}

// mustJSON runs taxiictl with --json and decodes its output strictly into v.
func (h testHub) mustJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := h.must(t, append(args, "--json")...)
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("taxiictl %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fails runs taxiictl and checks its exit status and that stderr mentions each fragment.
func (h testHub) fails(t *testing.T, status int, fragments []string, args ...string) {
	t.Helper()
	got, stdout, stderr := h.ctl(t, args...)
	if got != status {
		t.Errorf("taxiictl %s: exit %d, want %d\n%s%s", strings.Join(args, " "), got, status, stdout, stderr)
	}
	for _, f := range fragments {
		if !strings.Contains(stderr, f) {
			t.Errorf("taxiictl %s: stderr does not mention %q:\n%s", strings.Join(args, " "), f, stderr)
		}
	}
}

// taxii sends a TAXII GET with a partner token and returns the status and body.
func taxii(t *testing.T, base, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func writeSpec(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEveryCommand drives a hub through every taxiictl command, as an operator would.
func TestEveryCommand(t *testing.T) {
	h := startHub(t)

	// Partnerships.
	if out := h.must(t, "partnership", "create", "eu-japan", "--title", "EU–Japan", "--description", "Cyber threats"); !strings.Contains(out, "created partnership eu-japan") {
		t.Errorf("create: %q", out)
	}
	h.fails(t, exitFailed, []string{"409", "already exists"}, "partnership", "create", "eu-japan", "--title", "again")
	h.fails(t, exitFailed, []string{"400", `slug "Admin"`}, "partnership", "create", "Admin", "--title", "Admin")
	h.fails(t, exitUsage, []string{"missing --title"}, "partnership", "create", "Admin")
	h.fails(t, exitUsage, []string{"missing arguments", "Usage: taxiictl partnership create"}, "partnership", "create")
	if out := h.must(t, "partnership", "list"); !strings.Contains(out, "SLUG") || !strings.Contains(out, "eu-japan  EU–Japan") {
		t.Errorf("list:\n%s", out)
	}
	var partnerships struct{ Partnerships []admin.Partnership }
	h.mustJSON(t, &partnerships, "partnership", "list")
	if len(partnerships.Partnerships) != 1 || partnerships.Partnerships[0].Description != "Cyber threats" {
		t.Errorf("list --json: %+v", partnerships)
	}

	// Collections.
	var coll admin.Collection
	h.mustJSON(t, &coll, "collection", "create", "eu-japan", "--title", "Cyber threats", "--alias", "cyber-threats",
		"--media-type", "application/stix+json;version=2.1")
	if len(coll.ID) != 36 || coll.Alias != "cyber-threats" || len(coll.MediaTypes) != 1 {
		t.Errorf("collection create --json: %+v", coll)
	}
	if out := h.must(t, "collection", "list", "eu-japan"); !strings.Contains(out, coll.ID) {
		t.Errorf("collection list:\n%s", out)
	}
	h.fails(t, exitFailed, []string{"404", "no partnership nowhere"}, "collection", "list", "nowhere")

	// Members and grants.
	h.must(t, "member", "add", "cert-eu", "--name", "CERT-EU", "--jurisdiction", "EU", "--contact", "soc@cert-eu.example")
	h.must(t, "member", "add", "jpcert-cc", "--name", "JPCERT/CC", "--jurisdiction", "JP")
	h.fails(t, exitFailed, []string{"the United Kingdom is GB"}, "member", "add", "ncsc", "--name", "NCSC", "--jurisdiction", "UK")
	var members struct{ Members []admin.Member }
	h.mustJSON(t, &members, "member", "list")
	if len(members.Members) != 2 {
		t.Errorf("member list --json: %+v", members)
	}
	if out := h.must(t, "grant", "add", "cert-eu", "eu-japan", "cyber-threats", "--read", "--write"); !strings.Contains(out, "cert-eu may now read and write eu-japan/cyber-threats") {
		t.Errorf("grant add: %q", out)
	}
	if out := h.must(t, "grant", "add", "--read", "cert-eu", "eu-japan", "cyber-threats", "--write"); !strings.Contains(out, "nothing changed") {
		t.Errorf("grant add again: %q", out)
	}
	h.must(t, "grant", "add", "jpcert-cc", "eu-japan", coll.ID, "--read")
	h.fails(t, exitUsage, []string{"--read, --write or both"}, "grant", "add", "jpcert-cc", "eu-japan", "cyber-threats")

	// Ownership passes between members; nothing published yet, so nothing moves.
	if out := h.must(t, "owner", "transfer", "eu-japan", "cert-eu", "jpcert-cc"); !strings.Contains(out, "0 object ids of cert-eu in eu-japan now belong to jpcert-cc") {
		t.Errorf("owner transfer: %q", out)
	}
	h.fails(t, exitFailed, []string{"no member nobody"}, "owner", "transfer", "eu-japan", "cert-eu", "nobody")
	h.fails(t, exitFailed, []string{"404", "holds no object indicator--00000000-0000-4000-8000-000000000001"},
		"object", "delete", "eu-japan", "cyber-threats", "indicator--00000000-0000-4000-8000-000000000001")
	h.fails(t, exitUsage, []string{"missing arguments"}, "object", "delete", "eu-japan")
	var detail admin.PartnershipDetail
	h.mustJSON(t, &detail, "partnership", "show", "eu-japan")
	if len(detail.Collections) != 1 || len(detail.Grants) != 2 || detail.MembersCollection == nil {
		t.Errorf("show --json: %+v", detail)
	}
	if out := h.must(t, "partnership", "show", "eu-japan"); !strings.Contains(out, "jpcert-cc") || !strings.Contains(out, "Grants (2)") ||
		!strings.Contains(out, "Members collection: /eu-japan/collections/"+detail.MembersCollection.ID+"/ (alias members)") {
		t.Errorf("show:\n%s", out)
	}

	// Tokens: standard output is the token alone, and it opens TAXII within the grants.
	status, stdout, stderr := h.ctl(t, "token", "issue", "cert-eu", "--ttl", "7d", "--note", "SOC")
	if status != exitOK || strings.Count(stdout, ".") != 2 || !strings.Contains(stderr, "issued partner token") {
		t.Fatalf("token issue: %d %q %q", status, stdout, stderr)
	}
	partner := strings.TrimSpace(stdout)
	if code, body := taxii(t, h.url, "/eu-japan/collections/", partner); code != 200 || !strings.Contains(body, coll.ID) {
		t.Errorf("the issued token on TAXII: %d %s", code, body)
	}
	out := filepath.Join(t.TempDir(), "jpcert.jwt")
	h.must(t, "token", "issue", "jpcert-cc", "--out", out)
	if info, err := os.Stat(out); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("--out file: %v, mode %v", err, info.Mode().Perm())
	}
	h.fails(t, exitUsage, []string{"file exists"}, "token", "issue", "jpcert-cc", "--out", out)
	h.fails(t, exitFailed, []string{"366d is outside"}, "token", "issue", "cert-eu", "--ttl", "366d")
	var op admin.IssuedToken
	h.mustJSON(t, &op, "token", "issue", "--operator", "bob")
	bobFile := filepath.Join(t.TempDir(), "bob.token")
	if err := os.WriteFile(bobFile, []byte(op.JWT+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runTool("", "member", "list", "--url", h.url, "--token-file", bobFile); code != exitOK {
		t.Errorf("a second operator's token: exit %d %s", code, stderr)
	}
	var tokens struct{ Tokens []admin.Token }
	h.mustJSON(t, &tokens, "token", "list", "--member", "cert-eu")
	if len(tokens.Tokens) != 1 || tokens.Tokens[0].Note != "SOC" || tokens.Tokens[0].Status != admin.TokenActive {
		t.Errorf("token list --member --json: %+v", tokens)
	}
	if out := h.must(t, "token", "list"); strings.Count(out, "\n") != 5 { // header, bootstrap, cert-eu, jpcert-cc, bob
		t.Errorf("token list:\n%s", out)
	}
	if out := h.must(t, "token", "revoke", tokens.Tokens[0].ID); !strings.Contains(out, "revoked partner token") {
		t.Errorf("revoke: %q", out)
	}
	if code, _ := taxii(t, h.url, "/eu-japan/collections/", partner); code != 401 {
		t.Errorf("a revoked token on TAXII: %d", code)
	}
	h.fails(t, exitFailed, []string{"404"}, "token", "revoke", "no-such-token")

	// Keys: rotation keeps old tokens working until the old key is retired.
	var keys struct{ Keys []admin.Key }
	h.mustJSON(t, &keys, "key", "list")
	if len(keys.Keys) != 1 || !keys.Keys[0].Signing {
		t.Fatalf("key list: %+v", keys)
	}
	oldKID := keys.Keys[0].KID
	jpcert, _ := os.ReadFile(out)
	var rotated admin.Key
	h.mustJSON(t, &rotated, "key", "rotate")
	if rotated.KID == oldKID || !rotated.Signing {
		t.Errorf("rotate: %+v", rotated)
	}
	if _, err := os.Stat(filepath.Join(h.dataDir, "signing-key."+oldKID+".pem")); err != nil {
		t.Errorf("the old key file was not kept: %v", err)
	}
	if code, _ := taxii(t, h.url, "/eu-japan/collections/", strings.TrimSpace(string(jpcert))); code != 200 {
		t.Errorf("a token signed before rotation: %d", code)
	}
	h.fails(t, exitFailed, []string{"409", "rotate it first"}, "key", "retire", "--", rotated.KID) // a kid may start with "-"
	// The operator tokens were signed with the old key too: issue a new one before retiring it.
	var op2 admin.IssuedToken
	h.mustJSON(t, &op2, "token", "issue", "--operator", "carol")
	if err := os.WriteFile(h.tokenFile, []byte(op2.JWT), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := h.must(t, "key", "retire", "--", oldKID); !strings.Contains(out, "retired key "+oldKID) {
		t.Errorf("retire: %q", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := taxii(t, h.url, "/eu-japan/collections/", strings.TrimSpace(string(jpcert)))
		if code == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a token signed with a retired key still answers %d", code)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Apply: idempotent, with a dry run.
	spec := writeSpec(t, `
partnerships:
  - slug: eu-japan
    title: EU–Japan
    description: Cyber threats
    collections:
      - {alias: cyber-threats, title: Cyber threats, media_types: ["application/stix+json;version=2.1"]}
      - {alias: critical-infrastructure, title: Critical infrastructure}
members:
  - {id: cert-eu, name: CERT-EU, jurisdiction: EU, contact: soc@cert-eu.example}
grants:
  - {member: cert-eu, partnership: eu-japan, collection: critical-infrastructure, read: true}
`)
	if out := h.must(t, "apply", "-f", spec, "--dry-run"); !strings.Contains(out, "would apply 2 changes") {
		t.Errorf("dry run:\n%s", out)
	}
	var applied admin.ApplyResult
	h.mustJSON(t, &applied, "apply", "-f", spec)
	if len(applied.Changes) != 2 || applied.DryRun {
		t.Errorf("apply --json: %+v", applied)
	}
	if out := h.must(t, "apply", "-f", spec); !strings.Contains(out, "no changes") {
		t.Errorf("second apply: %q", out)
	}
	var again admin.ApplyResult
	h.mustJSON(t, &again, "apply", "-f", spec)
	if again.Changes == nil || len(again.Changes) != 0 {
		t.Errorf("second apply --json: %+v, want an empty list", again)
	}
	h.fails(t, exitUsage, []string{"spec.yaml:3:5: members[0].nmae: unknown key"}, "apply", "-f", writeSpec(t, "members:\n  - id: a\n    nmae: A\n"))
	h.fails(t, exitUsage, []string{"no such file"}, "apply", "-f", filepath.Join(t.TempDir(), "missing.yaml"))
	h.fails(t, exitUsage, []string{"-f"}, "apply")
	h.fails(t, exitFailed, []string{"400", "no member nobody"}, "apply", "-f",
		writeSpec(t, "grants:\n  - {member: nobody, partnership: eu-japan, collection: cyber-threats, read: true}\n"))

	// Audit.
	// Newest first: the last three actions, then where older ones are.
	if out := h.must(t, "audit", "--limit", "3"); strings.Count(out, "\n") != 5 || !strings.Contains(strings.Split(out, "\n")[1], "grant.create") ||
		strings.Contains(out, "token.issue") || !strings.Contains(out, "taxiictl audit --after") {
		t.Errorf("audit:\n%s", out)
	}
	if out := h.must(t, "audit", "--after", "0", "--limit", "1"); !strings.Contains(out, "token.issue") {
		t.Errorf("audit --after 0, oldest first:\n%s", out)
	}
	var audit struct{ Entries []admin.AuditEntry }
	h.mustJSON(t, &audit, "audit", "--limit", "1000")
	last := audit.Entries[0] // newest first
	if last.Action != "grant.create" || last.Actor != "carol" {
		t.Errorf("newest audit entry %+v", last)
	}

	// Removals.
	h.fails(t, exitFailed, []string{"still has collections"}, "partnership", "delete", "eu-japan")
	h.must(t, "grant", "remove", "jpcert-cc", "eu-japan", "cyber-threats")
	h.fails(t, exitFailed, []string{"holds no grant"}, "grant", "remove", "jpcert-cc", "eu-japan", "cyber-threats")
	if out := h.must(t, "collection", "delete", "eu-japan", "cyber-threats"); !strings.Contains(out, "deleted collection eu-japan/cyber-threats") {
		t.Errorf("collection delete: %q", out)
	}
	h.must(t, "collection", "delete", "eu-japan", "critical-infrastructure")
	if out := h.must(t, "member", "remove", "jpcert-cc"); !strings.Contains(out, "tokens revoked") {
		t.Errorf("member remove: %q", out)
	}
	var deleted admin.Change
	h.mustJSON(t, &deleted, "partnership", "delete", "eu-japan")
	if deleted != (admin.Change{Action: "delete", Kind: "partnership", Target: "eu-japan"}) {
		t.Errorf("partnership delete --json: %+v", deleted)
	}
}

func TestExitStatuses(t *testing.T) {
	h := startHub(t)
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	partnerFile := filepath.Join(t.TempDir(), "partner.jwt")
	h.must(t, "member", "add", "cert-eu", "--name", "CERT-EU", "--jurisdiction", "EU")
	h.must(t, "token", "issue", "cert-eu", "--out", partnerFile)

	for _, tc := range []struct {
		name      string
		args      []string
		status    int
		fragments []string
	}{
		{"unreachable", []string{"partnership", "list", "--url", closed, "--token-file", h.tokenFile}, exitUnreachable, []string{"cannot reach the hub"}},
		{"not a URL", []string{"partnership", "list", "--url", "ftp://x", "--token-file", h.tokenFile}, exitUsage, []string{"not an http or https URL"}},
		{"missing token file", []string{"partnership", "list", "--url", h.url, "--token-file", filepath.Join(t.TempDir(), "none")}, exitUsage, []string{"read the operator token"}},
		{"partner token on admin", []string{"partnership", "list", "--url", h.url, "--token-file", partnerFile}, exitFailed, []string{"401", "not meant for this API"}},
		{"unknown subcommand", []string{"partnership", "frobnicate"}, exitUsage, []string{`unknown subcommand "frobnicate"`}},
		{"unknown flag", []string{"partnership", "list", "--colour"}, exitUsage, []string{"flag provided but not defined"}},
		{"extra argument", []string{"partnership", "list", "extra"}, exitUsage, []string{"unexpected arguments: extra"}},
		{"no subcommand", []string{"token"}, exitUsage, []string{"Usage: taxiictl token"}},
	} {
		status, _, stderr := runTool("", tc.args...)
		if status != tc.status {
			t.Errorf("%s: exit %d, want %d: %s", tc.name, status, tc.status, stderr)
		}
		for _, f := range tc.fragments {
			if !strings.Contains(stderr, f) {
				t.Errorf("%s: stderr does not mention %q: %s", tc.name, f, stderr)
			}
		}
	}
	for _, args := range [][]string{{"-h"}, {"partnership", "-h"}, {"partnership", "create", "-h"}, {"apply", "--help"}} {
		if status, stdout, _ := runTool("", args...); status != exitOK || !strings.Contains(stdout, "Usage") {
			t.Errorf("%v: exit %d, %q", args, status, stdout)
		}
	}
	if _, stdout, _ := runTool("", "-h"); !strings.Contains(stdout, "3 the hub could not be reached") {
		t.Errorf("taxiictl -h does not document the exit statuses:\n%s", stdout)
	}
}

// TestConnectionLookup checks where taxiictl finds the hub and token: flags, then the environment,
// then the data directory a hub started in the current directory uses.
func TestConnectionLookup(t *testing.T) {
	cwd := t.TempDir()
	dataDir := filepath.Join(cwd, "taxiihub-data")
	cfg, err := server.ParseConfig([]string{"--data-dir", dataDir}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close(t.Context()) })

	t.Chdir(cwd)
	t.Setenv("TAXIIHUB_URL", srv.URL)
	t.Setenv("TAXIIHUB_TOKEN_FILE", "")
	t.Setenv("TAXIIHUB_DATA_DIR", "")
	if status, _, stderr := runTool("", "partnership", "list"); status != exitOK {
		t.Errorf("the default token file ./taxiihub-data/operator.token: exit %d %s", status, stderr)
	}
	moved := filepath.Join(t.TempDir(), "op.token")
	if err := os.Rename(filepath.Join(dataDir, server.OperatorTokenFile), moved); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := runTool("", "partnership", "list"); status != exitUsage {
		t.Errorf("with no token file: exit %d, want %d", status, exitUsage)
	}
	t.Setenv("TAXIIHUB_TOKEN_FILE", moved)
	if status, _, stderr := runTool("", "partnership", "list"); status != exitOK {
		t.Errorf("TAXIIHUB_TOKEN_FILE: exit %d %s", status, stderr)
	}
	// Flags win over the environment.
	if status, _, _ := runTool("", "partnership", "list", "--token-file", filepath.Join(cwd, "none")); status != exitUsage {
		t.Errorf("--token-file did not win over TAXIIHUB_TOKEN_FILE")
	}
	t.Setenv("TAXIIHUB_URL", "http://127.0.0.1:1")
	if status, _, stderr := runTool("", "partnership", "list", "--url", srv.URL); status != exitOK {
		t.Errorf("--url did not win over TAXIIHUB_URL: %d %s", status, stderr)
	}
}
