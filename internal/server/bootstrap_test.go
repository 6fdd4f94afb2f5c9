package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/taxii"
)

// examplePartnerships is the file the README's run command seeds a hub with.
const examplePartnerships = "../../deploy/examples/partnerships.yaml"

// syncBuffer is a log sink safe for the handler's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start builds a hub on dataDir with the extra flags, and serves it.
func start(t *testing.T, dataDir string, args ...string) (*Server, *httptest.Server, *syncBuffer) {
	t.Helper()
	cfg, err := ParseConfig(append([]string{"--data-dir", dataDir}, args...), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	s, err := New(t.Context(), cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatalf("new: %v\n%s", err, logs)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		s.Close(t.Context())
	})
	return s, srv, logs
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("token file: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, info.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}

// call sends a request with a token; TAXII paths get TAXII headers, admin paths JSON ones.
func call(t *testing.T, srv *httptest.Server, method, path, token, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(path, "/admin/") {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Accept", taxii.MediaType)
		req.Header.Set("Content-Type", taxii.MediaType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestFirstStartWritesTheOperatorTokenOnce(t *testing.T) {
	dir := t.TempDir()
	s, srv, logs := start(t, dir)
	path := filepath.Join(dir, OperatorTokenFile)
	token := readToken(t, path)
	if !strings.Contains(logs.String(), `"path":"`+path+`"`) {
		t.Errorf("the log does not say where the operator token is:\n%s", logs)
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("the log holds the operator token")
	}
	if code, body := call(t, srv, http.MethodGet, "/admin/partnerships/", token, ""); code != 200 {
		t.Errorf("the operator token on the admin API: %d %s", code, body)
	}
	srv.Close()
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	_, _, logs = start(t, dir)
	if again := readToken(t, path); again != token {
		t.Errorf("a second start rewrote the operator token")
	}
	if strings.Contains(logs.String(), "issued the first operator token") {
		t.Errorf("a second start issued another operator token:\n%s", logs)
	}
}

func TestOperatorTokenFileIsNeverOverwritten(t *testing.T) {
	dir := t.TempDir()
	// A hub whose store lost its records, on a data directory that still has a token file.
	path := filepath.Join(dir, OperatorTokenFile)
	if err := os.WriteFile(path, []byte("kept\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _, logs := start(t, dir)
	if raw, _ := os.ReadFile(path); string(raw) != "kept\n" {
		t.Errorf("the operator token file was overwritten")
	}
	if !strings.Contains(logs.String(), "remove it and restart") {
		t.Errorf("the log does not say what to do:\n%s", logs)
	}
	if active, err := s.Admin().HasActiveOperatorToken(t.Context()); err != nil || active {
		t.Errorf("a token was issued that nobody holds: %v, %v", active, err)
	}
}

func TestSeedWritesOneTokenPerMember(t *testing.T) {
	dir := t.TempDir()
	start(t, dir, "--seed", examplePartnerships)
	tokensDir := filepath.Join(dir, TokensDir)
	if info, err := os.Stat(tokensDir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("token directory: %v, mode %v; want 0700", err, info.Mode().Perm())
	}
	entries, _ := os.ReadDir(tokensDir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		readToken(t, filepath.Join(tokensDir, e.Name()))
	}
	want := []string{"cert-eu.jwt", "cncert-cc.jwt", "europol-ectc.jwt", "frontex.jwt", "jpcert-cc.jwt", "nl-ind.jwt", "nl-nctv.jwt"}
	if !slices.Equal(names, want) {
		t.Fatalf("token files %v, want %v", names, want)
	}
}

// A seed bootstraps a new hub and is never applied again: a restart with the same file, as the
// README's command and the old compose file did, must not re-create a removed member or grant,
// undo a changed rule, or replace a token an operator revoked; nor may an edited file.
func TestSeedIsAppliedOnceAndRestartsKeepOperatorsChanges(t *testing.T) {
	dir := t.TempDir()
	s, _, _ := start(t, dir, "--seed", examplePartnerships)
	ctx := t.Context()
	svc := s.Admin()
	tokensDir := filepath.Join(dir, TokensDir)
	frontex := readToken(t, filepath.Join(tokensDir, "frontex.jwt"))
	claims, err := s.Tokens().Verify(frontex, auth.PartnerAudience)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RevokeToken(ctx, "test", claims.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RemoveMember(ctx, "test", "nl-nctv"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RemoveGrant(ctx, "test", "jpcert-cc", "eu-japan", "critical-infrastructure"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetCollectionPolicy(ctx, "test", "eu-japan", "cyber-threats", admin.CollectionPolicy{TLPMax: "green"}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// The same file, then an edited one (a member added), on the same data.
	edited := filepath.Join(t.TempDir(), "edited.yaml")
	raw, err := os.ReadFile(examplePartnerships)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.Replace(raw, []byte("members:\n"), []byte("members:\n  - {id: newcomer, name: Newcomer, jurisdiction: FR}\n"), 1)
	if err := os.WriteFile(edited, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{examplePartnerships, edited} {
		s2, _, logs := start(t, dir, "--seed", file)
		svc := s2.Admin()
		members, err := svc.Members(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			if m.ID == "nl-nctv" || m.ID == "newcomer" {
				t.Errorf("%s: restart created member %s", file, m.ID)
			}
		}
		detail, err := svc.Partnership(ctx, "eu-japan")
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range detail.Grants {
			if g.Member == "jpcert-cc" && g.CollectionAlias == "critical-infrastructure" {
				t.Errorf("%s: restart re-created the grant %+v", file, g)
			}
		}
		for _, c := range detail.Collections {
			if c.Alias == "cyber-threats" && c.Policy.TLPMax != "green" {
				t.Errorf("%s: restart changed tlp_max back to %q", file, c.Policy.TLPMax)
			}
		}
		if again := readToken(t, filepath.Join(tokensDir, "frontex.jwt")); again != frontex {
			t.Errorf("%s: restart replaced the token the operator revoked", file)
		}
		if _, err := os.Stat(filepath.Join(tokensDir, "nl-nctv.jwt")); err != nil {
			t.Errorf("%s: the removed member's old token file went away: %v", file, err)
		}
		tokens, err := svc.Tokens(ctx, admin.TokenFilter{Kind: "partner"})
		if err != nil || len(tokens) != 7 {
			t.Errorf("%s: %d partner tokens after a restart, want the 7 seeded: %v", file, len(tokens), err)
		}
		if file == edited && !strings.Contains(logs.String(), "taxiictl apply --dry-run") {
			t.Errorf("an edited seed file is ignored without saying how to apply it:\n%s", logs)
		}
		if err := s2.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// A hub seeded before seeds were recorded (its store holds partnerships, but no seed record) is
// not seeded again either.
func TestSeedLeavesAStoreWithPartnershipsAlone(t *testing.T) {
	dir := t.TempDir()
	s, _, _ := start(t, dir)
	if _, err := s.Admin().CreatePartnership(t.Context(), "test", admin.Partnership{Slug: "own", Title: "Own"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	s2, _, logs := start(t, dir, "--seed", examplePartnerships)
	parts, err := s2.Admin().Partnerships(t.Context())
	if err != nil || len(parts) != 1 {
		t.Errorf("partnerships after starting with a seed on a hub in use: %v, %v; want only own", parts, err)
	}
	if !strings.Contains(logs.String(), "not applied") {
		t.Errorf("the log does not say the seed was not applied:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(dir, TokensDir)); err == nil {
		t.Error("seed tokens were written for a seed not applied")
	}
}

func TestSeedRefusesABadFile(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("members:\n  - {id: a, name: A, jurisdiction: UK}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig([]string{"--data-dir", t.TempDir(), "--seed", bad}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "the United Kingdom is GB") {
		t.Errorf("a bad seed file: %v", err)
	}
}

// indicator is a valid STIX 2.1 indicator, unique per name.
// administrativeRecord is an organisation's identity: the kind of administrative detail the
// immigration arrangement's collection accepts, where indicators are not allowed.
func administrativeRecord(n int, name string) string {
	return fmt.Sprintf(`{"type":"identity","spec_version":"2.1","id":"identity--%08d-0000-4000-8000-000000000000",`+
		`"created":"2026-11-01T00:00:00.000Z","modified":"2026-11-01T00:00:00.000Z","name":%q,"identity_class":"organization"}`, n, name)
}

func indicator(n int, name string) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000",`+
		`"created":"2026-11-01T00:00:00.000Z","modified":"2026-11-01T00:00:00.000Z","name":%q,"indicator_types":["malicious-activity"],`+
		`"pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-11-01T00:00:00Z"}`, n, name, n)
}

// TestNewcomerWalkthrough is the README's promise: start the hub with the example seed file, and
// with each written token push where that partner may write, pull where it may read, and see
// nothing else.
func TestNewcomerWalkthrough(t *testing.T) {
	dir := t.TempDir()
	_, srv, _ := start(t, dir, "--seed", examplePartnerships)

	type access struct{ read, write bool }
	// What the example file grants, by member, partnership and collection alias.
	grants := map[string]map[string]map[string]access{
		"cert-eu": {
			"eu-china-cyber": {"indicators": {true, true}, "incidents": {true, true}, "released": {true, true}},
			"eu-japan":       {"cyber-threats": {true, true}, "critical-infrastructure": {true, true}},
		},
		"cncert-cc":    {"eu-china-cyber": {"indicators": {true, true}, "incidents": {true, true}, "released": {true, true}}},
		"jpcert-cc":    {"eu-japan": {"cyber-threats": {true, true}, "critical-infrastructure": {true, true}}},
		"frontex":      {"eu-immigration-ct": {"administrative-records": {false, true}}},
		"nl-ind":       {"eu-immigration-ct": {"administrative-records": {false, true}}},
		"europol-ectc": {"eu-immigration-ct": {"administrative-records": {true, false}}},
		"nl-nctv":      {"eu-immigration-ct": {"administrative-records": {true, false}}},
	}
	// Every member holding a grant in a partnership also sees its members collection, read-only,
	// and reads it unless it only publishes there.
	for member, roots := range grants {
		for root := range roots {
			publisher := member == "frontex" || member == "nl-ind"
			roots[root]["members"] = access{read: !publisher}
		}
	}
	allCollections := map[string][]string{
		"eu-china-cyber":    {"indicators", "incidents", "released"},
		"eu-japan":          {"cyber-threats", "critical-infrastructure"},
		"eu-immigration-ct": {"administrative-records"},
	}
	tokens := map[string]string{}
	for member := range grants {
		tokens[member] = readToken(t, filepath.Join(dir, TokensDir, member+".jwt"))
	}
	members := make([]string, 0, len(grants))
	for m := range grants {
		members = append(members, m)
	}
	sort.Strings(members)

	// Discovery and collection lists show exactly what each token opens.
	for _, member := range members {
		code, body := call(t, srv, http.MethodGet, "/taxii2/", tokens[member], "")
		var d taxii.Discovery
		if code != 200 || json.Unmarshal(body, &d) != nil {
			t.Fatalf("%s discovery: %d %s", member, code, body)
		}
		var want []string
		for root := range grants[member] {
			want = append(want, "/"+root+"/")
		}
		sort.Strings(want)
		if !slices.Equal(d.APIRoots, want) {
			t.Errorf("%s sees API roots %v, want %v", member, d.APIRoots, want)
		}
		for root, colls := range allCollections {
			code, body := call(t, srv, http.MethodGet, "/"+root+"/collections/", tokens[member], "")
			if _, granted := grants[member][root]; !granted {
				if code != 404 {
					t.Errorf("%s lists the collections of %s, not its own: %d", member, root, code)
				}
				continue
			}
			var list taxii.Collections
			if code != 200 || json.Unmarshal(body, &list) != nil {
				t.Fatalf("%s collections of %s: %d %s", member, root, code, body)
			}
			var seen []string
			for _, c := range list.Collections {
				seen = append(seen, c.Alias)
				if want := grants[member][root][c.Alias]; c.CanRead != want.read || c.CanWrite != want.write {
					t.Errorf("%s on %s/%s: can_read %v can_write %v, want %+v", member, root, c.Alias, c.CanRead, c.CanWrite, want)
				}
			}
			if len(seen) != len(grants[member][root]) {
				t.Errorf("%s sees collections %v in %s (of %v), want %v", member, seen, root, colls, grants[member][root])
			}
		}
	}

	// Each partner pushes one object to every collection it may write, and is refused elsewhere.
	pushed := map[string][]string{} // by root/alias: the names pushed there
	n := 0
	for _, member := range members {
		for root, colls := range allCollections {
			for _, alias := range colls {
				n++
				name := member + " to " + root + "/" + alias
				obj := indicator(n, name)
				if root == "eu-immigration-ct" {
					obj = administrativeRecord(n, name)
				}
				code, body := call(t, srv, http.MethodPost, "/"+root+"/collections/"+alias+"/objects/", tokens[member],
					`{"objects":[`+obj+`]}`)
				a, seen := grants[member][root][alias]
				switch {
				case a.write && alias == "released":
					// Held for review: pending, and nobody reads it until a reviewer releases it.
					var st taxii.Status
					if code != 202 || json.Unmarshal(body, &st) != nil || st.PendingCount != 1 || st.Status != "pending" {
						t.Errorf("%s: %d %s", name, code, body)
					}
				case a.write:
					var st taxii.Status
					if code != 202 || json.Unmarshal(body, &st) != nil || st.SuccessCount != 1 {
						t.Errorf("%s: %d %s", name, code, body)
					}
					pushed[root+"/"+alias] = append(pushed[root+"/"+alias], name)
				case seen && code != 403, !seen && code != 404:
					t.Errorf("%s without write access: %d", name, code)
				}
			}
		}
	}
	// Each partner pulls from every collection it may read and sees exactly what was pushed there.
	for _, member := range members {
		for root, colls := range allCollections {
			for _, alias := range colls {
				code, body := call(t, srv, http.MethodGet, "/"+root+"/collections/"+alias+"/objects/", tokens[member], "")
				a, seen := grants[member][root][alias]
				switch {
				case a.read:
					var env struct {
						Objects []struct{ Name string } `json:"objects"`
					}
					if code != 200 || json.Unmarshal(body, &env) != nil {
						t.Fatalf("%s pulls %s/%s: %d %s", member, root, alias, code, body)
					}
					var got []string
					for _, o := range env.Objects {
						got = append(got, o.Name)
					}
					sort.Strings(got)
					want := slices.Sorted(slices.Values(pushed[root+"/"+alias]))
					if !slices.Equal(got, want) {
						t.Errorf("%s pulls %s/%s: %v, want %v", member, root, alias, got, want)
					}
				case seen && code != 403, !seen && code != 404:
					t.Errorf("%s reads %s/%s without read access: %d", member, root, alias, code)
				}
			}
		}
	}
	if len(pushed["eu-immigration-ct/administrative-records"]) != 2 {
		t.Errorf("the immigration authorities' pushes: %v", pushed)
	}
}

// TestRotationWithAnOperatorKeyFileIsRefused checks that the hub never replaces a key file the
// operator manages.
func TestRotationWithAnOperatorKeyFileIsRefused(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "hub-key.pem")
	if _, _, err := auth.LoadOrCreateSigningKey(keyFile); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(keyFile)
	dir := t.TempDir()
	_, srv, _ := start(t, dir, "--signing-key-file", keyFile)
	op := readToken(t, filepath.Join(dir, OperatorTokenFile))
	code, body := call(t, srv, http.MethodPost, "/admin/keys/rotate", op, "")
	if code != 409 || !strings.Contains(string(body), "--signing-key-file") {
		t.Errorf("rotate: %d %s", code, body)
	}
	if after, _ := os.ReadFile(keyFile); !bytes.Equal(before, after) {
		t.Errorf("the operator's key file was changed")
	}
	if _, err := os.Stat(filepath.Join(dir, auth.SigningKeyFile)); !os.IsNotExist(err) {
		t.Errorf("a key was created in the data directory although a key file is configured (%v)", err)
	}
}

// TestARetiredKeyIsReplacedAtStart covers a node whose key was retired while it was down: it must
// not sign with it, since every node would refuse what it signs.
func TestARetiredKeyIsReplacedAtStart(t *testing.T) {
	dir := t.TempDir()
	s, _, _ := start(t, dir)
	keys, err := s.Store().VerificationKeys(t.Context())
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys: %+v, %v", keys, err)
	}
	if err := s.Store().RetireVerificationKey(t.Context(), keys[0].KID, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	s2, srv, logs := start(t, dir)
	if !strings.Contains(logs.String(), "had been retired") {
		t.Errorf("the replacement was not logged:\n%s", logs)
	}
	listed, _ := s2.Admin().Keys(t.Context())
	if len(listed) != 2 || !listed[1].Signing || listed[1].KID == keys[0].KID {
		t.Errorf("keys after restart: %+v", listed)
	}
	// The first operator token was signed with the retired key; a new one signed now works.
	issued, err := s2.Admin().IssueToken(t.Context(), "test", admin.TokenRequest{Kind: "operator", Subject: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := call(t, srv, http.MethodGet, "/admin/keys", issued.JWT, ""); code != 200 {
		t.Errorf("a token signed after the restart: %d %s", code, body)
	}

	// With an operator-managed key file, a retired key stops the start instead.
	keyFile := filepath.Join(t.TempDir(), "hub-key.pem")
	key, _, err := auth.LoadOrCreateSigningKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	rec := auth.VerificationKeyOf(key, time.Now().UTC())
	rec.RetiredAt = rec.CreatedAt
	if err := s2.Store().SaveVerificationKey(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := s2.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	cfg, _ := ParseConfig([]string{"--data-dir", dir, "--signing-key-file", keyFile}, func(string) string { return "" })
	if _, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "install a new key file") {
		t.Errorf("start with a retired key file: %v", err)
	}
}
