package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeMoveToMongoDB runs the README's move from the embedded database to MongoDB as written:
// a seeded hub on SQLite holding a partner's object, taxiictl export, a new hub on MongoDB started
// by the README's command (on the test's mongod and a free address instead of the example's), and
// the README's import and verify commands in bash, the ledger head the import printed in place of
// SEQ:HASH. Then a partner's token from the old hub reads the object from the new one.
func TestReadmeMoveToMongoDB(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	old := startHub(t, dir, nil, "--seed", filepath.Join(repo, "deploy", "examples", "partnerships.yaml"))
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-C", repo, "-o", filepath.Join(dir, "taxiictl"),
		"./cmd/taxiictl").CombinedOutput(); err != nil {
		t.Fatalf("build taxiictl: %v\n%s", err, out)
	}
	certEU := tokenOf(t, dir, "cert-eu")
	coll := "/eu-china-cyber/collections/indicators/"
	const obj = `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
		`"created":"2026-11-20T09:00:00.000Z","modified":"2026-11-20T09:00:00.000Z","name":"Moved",` +
		`"pattern":"[domain-name:value = 'moved.example']","pattern_type":"stix","valid_from":"2026-11-20T09:00:00Z"}`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, old+coll+"objects/", strings.NewReader(`{"objects":[`+obj+`]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+certEU)
	req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: %d", resp.StatusCode)
	}

	cmds := readmeCommands(t, "**Moving from SQLite to MongoDB.**")
	if len(cmds) != 5 {
		t.Fatalf("the README's move: %q", cmds)
	}
	var (
		exports string // export lines run so far, which later commands need
		neu     string
		ledger  = regexp.MustCompile(`the ledger ends at (\d+:[0-9a-f]+)`)
		at      string
	)
	for _, c := range cmds {
		if envPart, args, ok := strings.Cut(c, " go run ./cmd/taxiihub "); ok {
			// The README's second terminal: the same flags, the test's database and address.
			if !strings.HasPrefix(envPart, "TAXIIHUB_MONGO_URI=") {
				t.Fatalf("the new hub's command sets no MongoDB URI: %s", c)
			}
			fields := strings.Fields(args)
			var keep []string
			for i := 0; i < len(fields); i++ {
				if fields[i] == "--listen" {
					i++ // startHub gives the hub a free address
					continue
				}
				keep = append(keep, fields[i])
			}
			neu = startHub(t, dir, []string{"TAXIIHUB_MONGO_URI=" + mongod.URI(), "TAXIIHUB_MONGO_DATABASE=" + mongod.Database(t)}, keep...)
			continue
		}
		c = strings.ReplaceAll(c, "http://127.0.0.1:8090", neu)
		c = strings.ReplaceAll(c, "SEQ:HASH", at)
		if strings.HasPrefix(c, "export ") {
			exports += c + "\n"
			continue
		}
		bash := exec.CommandContext(t.Context(), "bash", "-c", "set -euo pipefail\n"+exports+c)
		bash.Dir = dir
		bash.Env = append(os.Environ(), "TAXIIHUB_URL="+old)
		out, err := bash.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
		if m := ledger.FindStringSubmatch(string(out)); strings.Contains(c, " import ") && m != nil {
			at = m[1]
		}
		t.Logf("%s\n%s", c, out)
	}
	if at == "" || neu == "" {
		t.Fatalf("the import printed no ledger head, or no new hub was started")
	}
	status, body := taxiiGet(t, neu+coll+"objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/", certEU)
	if status != http.StatusOK || !strings.Contains(string(body), obj) {
		t.Errorf("the partner's old token reading its object on the new hub: %d %s", status, body)
	}
}
