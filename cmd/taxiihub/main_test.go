package main

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"taxiihub/internal/auth"
	"taxiihub/internal/mongotest"
	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/sqlitestore"
)

var mongod *mongotest.Server

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m, &mongod)) }

// buildHub compiles the real binary, so these tests exercise exactly what an operator runs.
func buildHub(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "taxiihub")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type discovery struct {
	Title    string   `json:"title"`
	APIRoots []string `json:"api_roots"`
}

// startHub runs the binary and waits until discovery answers; it stops the hub with SIGTERM at the
// end of the test and checks that it exits cleanly.
func startHub(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	base, _ := startHubWithLogs(t, dir, env, args...)
	return base
}

// runHub starts the hub command with its log in a file, and at the end of the test stops it with
// SIGTERM and checks that it exits cleanly. It returns the log's path and a channel that gets the
// hub's exit should it end before then.
func runHub(t *testing.T, cmd *exec.Cmd) (logFile string, exited <-chan error) {
	t.Helper()
	logs, err := os.Create(filepath.Join(t.TempDir(), "hub.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close() // the hub has its own descriptor
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start hub: %v", err)
	}
	exit := make(chan error, 1)
	go func() { exit <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exit:
			if err != nil {
				t.Errorf("hub exited with %v after SIGTERM", err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("hub did not stop within 30 s of SIGTERM")
		}
	})
	return logs.Name(), exit
}

// startHubWithLogs is startHub that also returns the path of the file the hub logs to.
func startHubWithLogs(t *testing.T, dir string, env []string, args ...string) (base, logFile string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(buildHub(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append(env, "TAXIIHUB_LISTEN="+addr)...)
	logs, exited := runHub(t, cmd)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/taxii2/")
		if err == nil {
			resp.Body.Close()
			return "http://" + addr, logs
		}
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logs)
			t.Fatalf("hub exited before serving: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub did not answer within 60 s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// grantPartner gives a partner a grant on a new collection in the root and returns a token for it,
// signed with the key the hub will find in its data directory.
func grantPartner(t *testing.T, st store.Store, dataDir, root string) string {
	t.Helper()
	ctx := t.Context()
	key, _, err := auth.LoadOrCreateSigningKey(filepath.Join(dataDir, auth.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	coll := uuid.NewString()
	now := time.Now()
	claims := auth.Claims{ID: auth.NewTokenID(), Subject: "cert-eu", Audience: auth.PartnerAudience, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	for _, err := range []error{
		st.CreateCollection(ctx, store.Collection{ID: coll, APIRoot: root, Title: "Indicators"}),
		st.CreateMember(ctx, store.Member{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU"}),
		st.PutGrant(ctx, store.Grant{MemberID: "cert-eu", APIRoot: root, CollectionID: coll, Read: true}),
		st.SaveToken(ctx, store.Token{ID: claims.ID, Kind: store.PartnerToken, Subject: "cert-eu", IssuedAt: now, ExpiresAt: claims.ExpiresAt}),
	} {
		if err != nil {
			t.Fatalf("prepare: %v", err)
		}
	}
	raw, err := auth.NewTokens(auth.NewKeyring(key), "", time.Now).Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func getDiscovery(t *testing.T, base, token string) discovery {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/taxii2/", nil)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /taxii2/: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := map[bool]int{true: http.StatusOK, false: http.StatusUnauthorized}[token != ""]; resp.StatusCode != want {
		t.Fatalf("GET /taxii2/: status %d, want %d: %s", resp.StatusCode, want, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/taxii+json;version=2.1" {
		t.Errorf("Content-Type %q, want application/taxii+json;version=2.1", ct)
	}
	var d discovery
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("decode discovery %s: %v", body, err)
	}
	if d.Title == "" {
		t.Errorf("discovery has no title: %s", body)
	}
	return d
}

func TestServesFromTheEmbeddedDatabaseByDefault(t *testing.T) {
	dir := t.TempDir()
	// A root put into the data directory's database beforehand must show up: proof that the hub
	// serves from that file and not from somewhere else.
	if err := os.Mkdir(filepath.Join(dir, "taxiihub-data"), 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := sqlitestore.Open(t.Context(), filepath.Join(dir, "taxiihub-data", "taxiihub.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := st.CreateAPIRoot(t.Context(), store.APIRoot{Slug: "eu-japan", Title: "EU–Japan"}); err != nil {
		t.Fatal(err)
	}
	token := grantPartner(t, st, filepath.Join(dir, "taxiihub-data"), "eu-japan")
	if err := st.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	base := startHub(t, dir, nil)
	if d := getDiscovery(t, base, token); !slices.Equal(d.APIRoots, []string{"/eu-japan/"}) {
		t.Errorf("api_roots %v, want [/eu-japan/]", d.APIRoots)
	}
}

func TestCreatesItsDataDirectory(t *testing.T) {
	dir := t.TempDir()
	base := startHub(t, dir, []string{"TAXIIHUB_DATA_DIR=state/hub"})
	getDiscovery(t, base, "") // a TAXII 401 proves the hub serves; a new hub has no partner to sign in as
	key, err := os.Stat(filepath.Join(dir, "state", "hub", auth.SigningKeyFile))
	if err != nil || key.Mode().Perm() != 0o600 {
		t.Errorf("signing key: %v, mode %v; want one created with mode 0600", err, key.Mode().Perm())
	}
	info, err := os.Stat(filepath.Join(dir, "state", "hub", "taxiihub.db"))
	if err != nil {
		t.Fatalf("the database file was not created: %v", err)
	}
	if info.Size() == 0 {
		t.Errorf("the database file is empty")
	}
	dirInfo, err := os.Stat(filepath.Join(dir, "state", "hub"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := dirInfo.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("data directory mode %v: others can read the hub's data", perm)
	}
}

func TestServesFromMongoDBWithMongoURI(t *testing.T) {
	db := mongod.Database(t)
	st, err := mongostore.Open(t.Context(), mongostore.Config{URI: mongod.URI(), Database: db})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := st.CreateAPIRoot(t.Context(), store.APIRoot{Slug: "eu-china-cyber", Title: "EU–China"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	token := grantPartner(t, st, filepath.Join(dir, "taxiihub-data"), "eu-china-cyber")
	if err := st.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	base := startHub(t, dir, nil, "--mongo-uri", mongod.URI(), "--mongo-database", db)
	if d := getDiscovery(t, base, token); !slices.Equal(d.APIRoots, []string{"/eu-china-cyber/"}) {
		t.Errorf("api_roots %v, want [/eu-china-cyber/]", d.APIRoots)
	}
	if _, err := os.Stat(filepath.Join(dir, "taxiihub-data", "taxiihub.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("with MongoDB the hub still created an embedded database (%v)", err)
	}
}

func TestBadFlagsExitWithUsageError(t *testing.T) {
	var stderr strings.Builder
	if code := run([]string{"--listen", "nowhere"}, func(string) string { return "" }, &stderr); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "listen address") {
		t.Errorf("stderr does not say what to fix: %q", stderr.String())
	}
}

// TestReadmeRunCommand runs the README's command: the example partnerships are seeded, the first
// operator token and one token per partner are written with mode 0600, the log says where they are
// and never what they are, and a partner's token opens exactly its partnerships.
func TestReadmeRunCommand(t *testing.T) {
	dir := t.TempDir()
	seed, err := filepath.Abs("../../deploy/examples/partnerships.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base, logs := startHubWithLogs(t, dir, nil, "--seed", seed)
	data := filepath.Join(dir, "taxiihub-data")
	tokens := map[string]string{}
	for _, name := range []string{"operator.token", "tokens/cert-eu.jwt", "tokens/frontex.jwt", "tokens/nl-nctv.jwt"} {
		path := filepath.Join(data, name)
		info, err := os.Stat(path)
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want it written with mode 0600", name, err, info.Mode().Perm())
		}
		raw, _ := os.ReadFile(path)
		tokens[name] = strings.TrimSpace(string(raw))
	}
	log, _ := os.ReadFile(logs)
	for name, tok := range tokens {
		if strings.Contains(string(log), tok) {
			t.Errorf("the log holds the token in %s", name)
		}
	}
	if !strings.Contains(string(log), filepath.Join("taxiihub-data", "operator.token")) {
		t.Errorf("the log does not say where the operator token is:\n%s", log)
	}
	if d := getDiscovery(t, base, tokens["tokens/cert-eu.jwt"]); !slices.Equal(d.APIRoots, []string{"/eu-china-cyber/", "/eu-japan/"}) {
		t.Errorf("cert-eu sees %v", d.APIRoots)
	}
	if d := getDiscovery(t, base, tokens["tokens/frontex.jwt"]); !slices.Equal(d.APIRoots, []string{"/eu-immigration-ct/"}) {
		t.Errorf("frontex sees %v", d.APIRoots)
	}
}

// A second hub started on an address in use fails before it writes anything: on the embedded
// database no file, operator token or seed token appears; on MongoDB the database stays empty.
// Before, it opened the store, issued the operator token and applied the seed, then failed to listen.
func TestAHubOnAnAddressInUseWritesNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	seed, err := filepath.Abs("../../deploy/examples/partnerships.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bin := buildHub(t)
	db := mongod.Database(t)
	for _, backend := range [][]string{nil, {"--mongo-uri", mongod.URI(), "--mongo-database", db}} {
		dir := t.TempDir()
		cmd := exec.CommandContext(t.Context(), bin, append([]string{"--listen", busy.Addr().String(), "--seed", seed}, backend...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("%v: exit %v, want 1\n%s", backend, err, out)
		}
		if !strings.Contains(string(out), "address already in use") {
			t.Errorf("%v: the log does not say the address is in use:\n%s", backend, out)
		}
		if entries, err := os.ReadDir(filepath.Join(dir, "taxiihub-data")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v: the hub wrote to its data directory before listening: %v %v", backend, entries, err)
		}
	}
	st, err := mongostore.Open(t.Context(), mongostore.Config{URI: mongod.URI(), Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(t.Context())
	roots, err := st.APIRoots(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := st.Tokens(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.VerificationKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(roots)+len(tokens)+len(keys) > 0 {
		t.Errorf("the hub that could not listen wrote to MongoDB: %d partnerships, %d tokens, %d keys", len(roots), len(tokens), len(keys))
	}
}
