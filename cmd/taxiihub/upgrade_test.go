package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/server"
	"taxiihub/internal/store"
	"taxiihub/internal/store/sqlitestore"
)

// Upgrades. testdata/release-data holds a data directory (the embedded database, the node's
// signing key, the operator's and the members' tokens) that a released hub wrote:
// TestWriteReleaseData made it, from the source of that release. TestReleaseDataOpensUnderThisBuild
// starts this build on a copy and checks that nothing the release stored was lost or stopped
// working. Make a new one when a release changes the schema (see the README's "Upgrades"):
//
//	git clone --shared . /tmp/release && git -C /tmp/release checkout RELEASE
//	TAXIIHUB_RELEASE_SOURCE=/tmp/release go test ./cmd/taxiihub/ -run TestWriteReleaseData -count=1

// releaseData is where the fixture lives; releaseObjects lists what its hub accepted, as published.
const (
	releaseData    = "testdata/release-data"
	releaseObjects = "testdata/release-objects.json"
)

// releaseFixture is what the test needs to know of the data besides the data itself.
type releaseFixture struct {
	// Source is the git revision of the release that wrote the data, for people.
	Source string `json:"source"`
	// Collection is the URL path of the collection written to, under the hub's base.
	Collection string `json:"collection"`
	// Objects are the objects posted, each as its exact bytes (a string, which no indenting
	// changes).
	Objects []string `json:"objects"`
	// Status is the id of the status of the POST.
	Status string `json:"status"`
	// LedgerHead is where the release's ledger ended, SEQ:HASH.
	LedgerHead string `json:"ledger_head"`
}

// TestWriteReleaseData writes testdata/release-data with the hub built from the source tree
// named by TAXIIHUB_RELEASE_SOURCE: seeded with the example partnerships, a member posts records
// to the immigration collection and a reader pulls them, all through the release's own HTTP API. Tokens are issued for ten years so that
// the fixture keeps working. It is a generator, run by hand; without the variable it does nothing.
func TestWriteReleaseData(t *testing.T) {
	src := os.Getenv("TAXIIHUB_RELEASE_SOURCE")
	if src == "" {
		t.Skip("a generator: set TAXIIHUB_RELEASE_SOURCE to a checkout of the release whose data to write")
	}
	bin := filepath.Join(t.TempDir(), "taxiihub-release")
	if out, err := exec.Command("go", "build", "-C", src, "-o", bin, "./cmd/taxiihub").CombinedOutput(); err != nil {
		t.Fatalf("build the release: %v\n%s", err, out)
	}
	rev, _ := exec.Command("git", "-C", src, "rev-parse", "HEAD").Output()
	dir := t.TempDir()
	addr := freeAddr(t)
	// The release's own example: a newer one may hold rules the release does not know.
	cmd := exec.Command(bin, "--seed", filepath.Join(src, "deploy", "examples", "partnerships.yaml"),
		"--token-ttl", "3650d", "--max-token-ttl", "3650d")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TAXIIHUB_LISTEN="+addr)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exit := make(chan error, 1)
	go func() { exit <- cmd.Wait() }()
	var exited <-chan error = exit
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := "http://" + addr
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/taxii2/"); err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("release hub exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the release hub did not answer")
		}
	}
	// Everything goes through the release's API: opening its database with this build would
	// migrate it to this build's schema while the release writes to it.
	dataDir := filepath.Join(dir, "taxiihub-data")
	var detail struct {
		Collections []struct {
			ID    string `json:"id"`
			Alias string `json:"alias"`
		} `json:"collections"`
	}
	adminCall(t, http.MethodGet, base+"/admin/partnerships/eu-immigration-ct/", operatorToken(t, dataDir), &detail)
	fx := releaseFixture{Source: strings.TrimSpace(string(rev))}
	for _, c := range detail.Collections {
		if c.Alias == "administrative-records" {
			fx.Collection = "/eu-immigration-ct/collections/" + c.ID + "/"
		}
	}
	if fx.Collection == "" {
		t.Fatalf("the release has no administrative-records collection: %+v", detail)
	}
	for i := range 5 {
		fx.Objects = append(fx.Objects, fmt.Sprintf(`{"type":"identity","spec_version":"2.1",`+
			`"id":"identity--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0%02d","created":"2026-11-20T09:00:00.000Z",`+
			`"modified":"2026-11-20T09:00:00.000Z","name":"Case 2026-%04d","identity_class":"individual"}`, i, 42+i))
	}
	body := []byte(`{"objects":[` + strings.Join(fx.Objects, ",") + `]}`)
	req, _ := http.NewRequest(http.MethodPost, base+fx.Collection+"objects/", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tokenOf(t, dir, "frontex"))
	req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var status struct {
		ID           string `json:"id"`
		SuccessCount int    `json:"success_count"`
	}
	if err := json.Unmarshal(answer, &status); err != nil || status.SuccessCount != len(fx.Objects) {
		t.Fatalf("POST to the release: %d %s", resp.StatusCode, answer)
	}
	fx.Status = status.ID
	if code, got := taxiiGet(t, base+fx.Collection+"objects/", tokenOf(t, dir, "europol-ectc")); code != http.StatusOK {
		t.Fatalf("pull from the release: %d %s", code, got)
	}
	var heads struct {
		Ledger struct {
			Seq  int64  `json:"seq"`
			Hash string `json:"hash"`
		} `json:"ledger"`
	}
	adminCall(t, http.MethodGet, base+"/admin/ledger/heads/", operatorToken(t, dataDir), &heads)
	fx.LedgerHead = fmt.Sprintf("%d:%s", heads.Ledger.Seq, heads.Ledger.Hash)

	// Stop the hub so that SQLite folds its WAL into the database file, then copy what a node keeps.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatalf("release hub on SIGINT: %v", err)
	}
	if err := os.RemoveAll(releaseData); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(releaseData, os.DirFS(dataDir)); err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(fx, "", "  ")
	if err := os.WriteFile(releaseObjects, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReleaseDataOpensUnderThisBuild starts this build on a copy of a released hub's data: its
// migrations run, every object comes back byte for byte to a member's old token, the status reads
// back to its submitter, the operator's old token opens the admin API, and the whole ledger, the
// release's part included, verifies deeply and still reaches the release's head.
func TestReleaseDataOpensUnderThisBuild(t *testing.T) {
	raw, err := os.ReadFile(releaseObjects)
	if err != nil {
		t.Fatal(err)
	}
	var fx releaseFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "taxiihub-data")
	if err := os.CopyFS(dataDir, os.DirFS(releaseData)); err != nil {
		t.Fatal(err)
	}
	// Git keeps no modes: the hub wants its data directory and key private, as it made them.
	if err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o600)
		if d.IsDir() {
			mode = 0o700
		}
		return os.Chmod(path, mode)
	}); err != nil {
		t.Fatal(err)
	}
	base := startHub(t, dir, nil)

	code, body := taxiiGet(t, base+fx.Collection+"objects/", tokenOf(t, dir, "europol-ectc"))
	if code != http.StatusOK {
		t.Fatalf("GET the release's objects with the release's token: %d %s", code, body)
	}
	var env struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if len(env.Objects) != len(fx.Objects) {
		t.Fatalf("%d objects after the upgrade, want the release's %d", len(env.Objects), len(fx.Objects))
	}
	for i := range fx.Objects {
		if !bytes.Equal(env.Objects[i], []byte(fx.Objects[i])) {
			t.Errorf("object %d after the upgrade:\n%s\nwant the bytes posted:\n%s", i, env.Objects[i], fx.Objects[i])
		}
	}
	if code, body := taxiiGet(t, base+"/eu-immigration-ct/status/"+fx.Status+"/", tokenOf(t, dir, "frontex")); code != http.StatusOK {
		t.Errorf("GET the release's status: %d %s", code, body)
	}
	var deep struct {
		OK     bool `json:"ok"`
		Ledger struct {
			Entries int64 `json:"entries"`
		} `json:"ledger"`
	}
	adminCall(t, http.MethodGet, base+"/admin/ledger/verify/deep/?ledger_at="+fx.LedgerHead, operatorToken(t, dataDir), &deep)
	if !deep.OK || deep.Ledger.Entries == 0 {
		t.Errorf("deep verification of the release's ledger from its head %s: %+v", fx.LedgerHead, deep)
	}

	// The migrations dated the release's status, so that status retention applies to it.
	st, err := sqlitestore.Open(t.Context(), filepath.Join(dataDir, server.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(t.Context())
	status, err := st.Status(t.Context(), "eu-immigration-ct", fx.Status)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := st.PurgeStatuses(t.Context(), status.RequestTimestamp.Add(-time.Second), store.MaxLimit); err != nil || n != 0 {
		t.Errorf("statuses purged before the release's request: %d, %v; want none", n, err)
	}
	if n, err := st.PurgeStatuses(t.Context(), status.RequestTimestamp.Add(time.Second), store.MaxLimit); err != nil || n != 1 {
		t.Errorf("statuses purged up to just after the release's request: %d, %v; want its status", n, err)
	}
}
