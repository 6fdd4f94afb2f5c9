//go:build linux

package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/store/sqlitestore"
)

// TestBackupUnderLoadRestores backs up a hub on the embedded database through the admin API while
// its partners publish and poll, restores the copy with taxiihub --restore into a new data
// directory, starts a hub on it, and checks what an operator would: the ledger and the stored data
// verify (audit verify --deep) up to the ledger head the backup named, partners' tokens still open
// the restored hub, and every object acknowledged in a 202 before the backup was asked for is
// there. The load keeps running after the backup, so that the copy is taken among writes.
func TestBackupUnderLoadRestores(t *testing.T) {
	a := startHub(t, "a", hubOptions{seed: true})
	members := a.members()
	l := startLoad(t, loadConfig(members, a.URL()))
	l.waitAcceptedAfter(time.Now().Add(time.Second), recoveryTimeout)

	l.waitPostInFlight(a, 5*time.Millisecond, 30*time.Second)
	requested := time.Now()
	file := filepath.Join(t.TempDir(), "taxiihub-backup.db")
	seq, hash := backupHub(t, a, file)
	took := time.Since(requested)
	l.waitAcceptedAfter(time.Now(), recoveryTimeout) // publishing went on meanwhile and after
	rep := l.finish()
	requireDelivered(t, rep)
	acked := l.tracker.ackedBefore(requested)
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backup of %d bytes in %s, ledger at %d; %d objects acknowledged before it, %d in the whole run",
		info.Size(), took.Round(time.Millisecond), seq, len(acked), rep.Accepted)
	if len(acked) == 0 || seq == 0 {
		t.Fatal("nothing was acknowledged before the backup, so the test checked nothing")
	}

	dir := t.TempDir()
	if out, err := restore(file, dir); err != nil {
		t.Fatalf("taxiihub --restore: %v\n%s", err, out)
	}
	// A restore never overwrites a database, and refuses a file that is not a taxiihub database.
	if out, err := restore(file, dir); err == nil || !strings.Contains(out, "move the data directory's database files aside") {
		t.Errorf("a second restore into the same directory: %v\n%s", err, out)
	}
	if out, err := restore(filepath.Join(a.dataDir, "operator.token"), t.TempDir()); err == nil || !strings.Contains(out, "not an SQLite database") {
		t.Errorf("restoring a file that is not a database: %v\n%s", err, out)
	}
	// The operator token lives in the data directory, not the database: it is copied with it.
	token, err := os.ReadFile(filepath.Join(a.dataDir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "operator.token"), token, 0o600); err != nil {
		t.Fatal(err)
	}
	b := startHub(t, "restored", hubOptions{dataDir: dir})

	var v admin.DeepVerification
	adminGet(t, b, fmt.Sprintf("/admin/ledger/verify/deep/?ledger_at=%d:%s", seq, hash), &v)
	if !v.OK || v.LedgerHead < seq {
		t.Errorf("the restored hub does not verify up to %d: %+v", seq, v)
	}
	t.Logf("restored hub verifies: ledger head %d, %d versions, %d origins", v.LedgerHead, v.Versions, v.Origins)
	req, err := http.NewRequest(http.MethodGet, b.URL()+"/taxii2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+members[0].Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("member %s's token on the restored hub: status %d", members[0].ID, resp.StatusCode)
	}
	if err := b.terminate(); err != nil {
		t.Fatal(err)
	}

	held := storedIDs(t, filepath.Join(dir, "taxiihub.db"))
	missing := 0
	for _, id := range acked {
		if !held[id] {
			missing++
			if missing <= 5 {
				t.Errorf("%s was acknowledged before the backup but is not in the restored hub", id)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d objects acknowledged before the backup are missing", missing, len(acked))
	}
}

// backupHub asks the hub for a backup, as taxiictl backup does, writes it to file and returns the
// ledger head its headers name.
func backupHub(t *testing.T, h *hub, file string) (int64, string) {
	t.Helper()
	token, err := os.ReadFile(filepath.Join(h.dataDir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, h.URL()+"/admin/backup/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != admin.BackupMediaType {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("backup: status %d, %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(f, resp.Body)
	if err := errors.Join(err, f.Close()); err != nil {
		t.Fatal(err)
	}
	if n != resp.ContentLength {
		t.Fatalf("backup: %d of %d bytes", n, resp.ContentLength)
	}
	seq, err := strconv.ParseInt(resp.Header.Get(admin.BackupLedgerSeqHeader), 10, 64)
	if err != nil {
		t.Fatalf("backup: ledger head header: %v", err)
	}
	return seq, resp.Header.Get(admin.BackupLedgerHashHeader)
}

// restore runs taxiihub --restore and returns what it logged.
func restore(file, dir string) (string, error) {
	out, err := exec.Command(hubBin, "--restore", file, "--data-dir", dir).CombinedOutput()
	return string(out), err
}

// adminGet reads an admin API resource with the hub's operator token.
func adminGet(t *testing.T, h *hub, path string, out any) {
	t.Helper()
	token, err := os.ReadFile(filepath.Join(h.dataDir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, h.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
}

// storedIDs opens the embedded database at path, no hub running on it, and returns the ids of every
// object version it holds, in every collection.
func storedIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	roots, err := st.APIRoots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := make(map[string]bool)
	for _, r := range roots {
		colls, err := st.Collections(ctx, r.Slug)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range colls {
			var after time.Time
			for {
				vs, err := st.StoredVersions(ctx, c.ID, after, 1000, false)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range vs {
					ids[v.ID] = true
					after = v.DateAdded
				}
				if len(vs) < 1000 {
					break
				}
			}
		}
	}
	return ids
}
