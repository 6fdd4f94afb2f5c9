//go:build linux

package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"taxiihub/internal/admin"
	"taxiihub/internal/load"
	"taxiihub/internal/store"
)

// buildTaxiictl builds taxiictl from this tree into a directory of the test's.
func buildTaxiictl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "taxiictl")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "taxiihub/cmd/taxiictl").CombinedOutput(); err != nil {
		t.Fatalf("go build taxiictl: %v\n%s", err, out)
	}
	return bin
}

// taxiictl runs the binary against h with its operator token, as an operator on the machine would.
func taxiictl(t *testing.T, bin string, h *hub, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append(os.Environ(), "TAXIIHUB_URL="+h.URL(), "TAXIIHUB_TOKEN_FILE="+filepath.Join(h.dataDir, "operator.token"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("taxiictl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestMoveSQLiteToMongoDB moves a seeded, loaded hub from the embedded database to MongoDB the way
// the README says: taxiictl export while the hub serves, a new hub on MongoDB, taxiictl import. It
// then checks what partners and operators rely on: the new hub holds every record of the export,
// serves every object byte for byte, its ledger and stored data verify from the old hub's head,
// partners' old tokens read the same pages, and a poller's next cursor from the old hub goes on
// where it stopped on the new one.
func TestMoveSQLiteToMongoDB(t *testing.T) {
	ctl := buildTaxiictl(t)
	old := startHub(t, "sqlite", hubOptions{seed: true})
	members := old.members()
	token := map[string]string{}
	for _, m := range members {
		token[m.ID] = m.Token
	}

	// A few thousand objects through TAXII, polled as partners do (their pulls go to the ledger).
	cfg := loadConfig(members, old.URL())
	cfg.Objects, cfg.Drain = 3000, 30*time.Second
	cfg.StopPublishing = nil
	rep, err := load.Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	requireDelivered(t, rep)
	// Versions of one object, and a withdrawal of another, by CERT-EU.
	coll := "/eu-china-cyber/collections/indicators/"
	versioned, gone := "indicator--"+uuid.NewString(), "indicator--"+uuid.NewString()
	for _, o := range []string{indicatorJSON(versioned, "2026-01-01T00:00:00.000Z"), indicatorJSON(versioned, "2026-02-01T00:00:00.000Z"),
		indicatorJSON(gone, "2026-01-01T00:00:00.000Z")} {
		taxiiDo(t, old, token["cert-eu"], http.MethodPost, coll+"objects/", `{"objects":[`+o+`]}`, http.StatusAccepted)
	}
	taxiiDo(t, old, token["cert-eu"], http.MethodPost, coll+"objects/"+gone+"/withdraw/", "", http.StatusOK)

	// Export while partners keep publishing and polling.
	during := loadConfig(members, old.URL())
	l := startLoad(t, during)
	l.waitAcceptedAfter(time.Now(), recoveryTimeout)
	file := filepath.Join(t.TempDir(), "taxiihub.export")
	started := time.Now()
	var exported struct {
		Bytes    int64                `json:"bytes"`
		Manifest admin.ExportManifest `json:"manifest"`
	}
	if err := json.Unmarshal([]byte(taxiictl(t, ctl, old, "export", "--json", file)), &exported); err != nil {
		t.Fatal(err)
	}
	exportTook := time.Since(started)
	l.finish()
	objects := exported.Manifest.Counts[store.KindObject]
	t.Logf("export: %d object versions, %d ledger entries, %d bytes in %s (%.0f objects/s; %.1f MB per million objects)",
		objects, exported.Manifest.Counts[store.KindLedger], exported.Bytes, exportTook.Round(time.Millisecond),
		float64(objects)/exportTook.Seconds(), float64(exported.Bytes)/float64(objects))
	if objects < 3000 {
		t.Fatalf("the export holds %d object versions, fewer than were published before it", objects)
	}
	// Partners' polls are compact pull entries whose ids are kept apart: the export carries them.
	if n := exported.Manifest.Counts[store.KindPullDetail]; n == 0 {
		t.Errorf("the export holds no pull details, although partners polled throughout the load")
	} else {
		t.Logf("export: %d pull details", n)
	}

	neu := startHub(t, "mongodb", hubOptions{mongoDB: "move-" + randomSuffix()})
	started = time.Now()
	var imported admin.ImportResult
	if err := json.Unmarshal([]byte(taxiictl(t, ctl, neu, "import", "--json", file)), &imported); err != nil {
		t.Fatal(err)
	}
	importTook := time.Since(started)
	t.Logf("import: %d object versions in %s (%.0f objects/s)", imported.Counts[store.KindObject],
		importTook.Round(time.Millisecond), float64(imported.Counts[store.KindObject])/importTook.Seconds())
	for _, k := range store.ExportKinds {
		if imported.Counts[k] != exported.Manifest.Counts[k] {
			t.Errorf("%s: %d imported, %d exported", k, imported.Counts[k], exported.Manifest.Counts[k])
		}
	}
	// A second import into the hub, now holding the first, is refused.
	cmd := exec.CommandContext(t.Context(), ctl, "import", file)
	cmd.Env = append(os.Environ(), "TAXIIHUB_URL="+neu.URL(), "TAXIIHUB_TOKEN_FILE="+filepath.Join(neu.dataDir, "operator.token"))
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "not empty") {
		t.Errorf("a second import: %v\n%s", err, out)
	}

	// The new hub's own export holds the same records, plus its own operator token and key and the
	// audit entries of its first token and of the import.
	again := filepath.Join(t.TempDir(), "again.export")
	var re struct {
		Manifest admin.ExportManifest `json:"manifest"`
	}
	if err := json.Unmarshal([]byte(taxiictl(t, ctl, neu, "export", "--json", again)), &re); err != nil {
		t.Fatal(err)
	}
	for _, k := range store.ExportKinds {
		want := exported.Manifest.Counts[k]
		switch k {
		case store.KindToken, store.KindVerificationKey:
			want++
		case store.KindAudit:
			want += 2 // the new hub's first operator token, and the import
		case store.KindLedgerHead, store.KindAuditHead:
			continue
		}
		if got := re.Manifest.Counts[k]; got != want {
			t.Errorf("%s: the new hub holds %d, want %d", k, got, want)
		}
	}

	var v admin.DeepVerification
	adminGet(t, neu, fmt.Sprintf("/admin/ledger/verify/deep/?ledger_at=%d:%s", imported.LedgerSeq, imported.LedgerHash), &v)
	// Versions counts those of partners' collections, members collections' identities aside.
	if !v.OK || v.LedgerHead != imported.LedgerSeq || v.Versions < 3000 || v.Withdrawals < 1 {
		t.Errorf("the new hub does not verify from the old hub's ledger head %d: %+v", imported.LedgerSeq, v)
	}

	// Every object comes back byte for byte, in the same order, to a partner's old token; pages and
	// cursors mean the same. The old hub kept taking objects after the export, so the new hub's
	// collection is a prefix of the old one's.
	for _, reader := range []struct{ member, path string }{
		{"cncert-cc", coll},
		{"jpcert-cc", "/eu-japan/collections/cyber-threats/"},
		{"europol-ectc", "/eu-immigration-ct/collections/administrative-records/"},
	} {
		oldAll := readCollection(t, old, token[reader.member], reader.path)
		newAll := readCollection(t, neu, token[reader.member], reader.path)
		if len(newAll) == 0 || len(newAll) > len(oldAll) {
			t.Fatalf("%s: the new hub serves %d objects, the old %d", reader.path, len(newAll), len(oldAll))
		}
		for i := range newAll {
			if !bytes.Equal(newAll[i], oldAll[i]) {
				t.Fatalf("%s: object %d differs:\n new %s\n old %s", reader.path, i, newAll[i], oldAll[i])
			}
		}
		// A poller paged the old hub; its next cursor goes on on the new hub.
		first := readPage(t, old, token[reader.member], reader.path+"objects/?limit=50")
		if first.Next == "" {
			t.Fatalf("%s: no second page", reader.path)
		}
		oldNext := readPage(t, old, token[reader.member], reader.path+"objects/?limit=50&next="+first.Next)
		newNext := readPage(t, neu, token[reader.member], reader.path+"objects/?limit=50&next="+first.Next)
		if !equalObjects(oldNext.Objects, newNext.Objects) || newNext.Next != oldNext.Next {
			t.Errorf("%s: the old hub's cursor reads another page on the new hub", reader.path)
		}
		added := oldNext.dateAddedLast
		byDate := readPage(t, neu, token[reader.member], reader.path+"objects/?limit=50&added_after="+url.QueryEscape(added))
		third := readPage(t, old, token[reader.member], reader.path+"objects/?limit=50&added_after="+url.QueryEscape(added))
		if !equalObjects(byDate.Objects, third.Objects) {
			t.Errorf("%s: added_after=%s reads another page on the new hub", reader.path, added)
		}
	}
	// The versions and the withdrawal moved with the objects.
	versions := readPage(t, neu, token["cncert-cc"], coll+"objects/"+versioned+"/versions/")
	if len(versions.Versions) != 2 {
		t.Errorf("versions of %s on the new hub: %v", versioned, versions.Versions)
	}
	// The value-search index came with them: the import indexed every version it stored, so a
	// partner's search on the new hub finds what it found on the old, and not the withdrawn object.
	oldHits, newHits := searchIDs(t, old, token["cncert-cc"], "moved.example"), searchIDs(t, neu, token["cncert-cc"], "moved.example")
	if len(newHits) != 1 || newHits[0] != versioned || len(oldHits) != 1 || oldHits[0] != versioned {
		t.Errorf("search for moved.example: the new hub finds %v, the old %v; want [%s]", newHits, oldHits, versioned)
	}
	answer := taxiiDo(t, neu, token["cert-eu"], http.MethodPost, coll+"objects/",
		`{"objects":[`+indicatorJSON(gone, "2026-03-01T00:00:00.000Z")+`]}`, http.StatusAccepted)
	var st struct {
		FailureCount int `json:"failure_count"`
	}
	if err := json.Unmarshal(answer, &st); err != nil || st.FailureCount != 1 || !strings.Contains(string(answer), "withdrawn") {
		t.Errorf("a new version of the object withdrawn on the old hub, posted to the new one: %s", answer)
	}
}

func randomSuffix() string { return strings.ReplaceAll(uuid.NewString()[:8], "-", "") }

func indicatorJSON(id, modified string) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-01T00:00:00.000Z",`+
		`"modified":"%s","name":"Moved indicator","pattern":"[domain-name:value = 'moved.example']",`+
		`"pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, id, modified)
}

// searchIDs searches by value with a partner token, as the console does, and returns the ids found.
func searchIDs(t *testing.T, h *hub, token, value string) []string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, h.URL()+"/x-taxiihub-search/?limit=10&value="+url.QueryEscape(value), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Results []struct {
			ID string `json:"id"`
		} `json:"results"`
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("search %q on %s: %s: %s", value, h.URL(), resp.Status, body)
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatalf("search %q: %v: %s", value, err, body)
	}
	ids := []string{}
	for _, r := range answer.Results {
		ids = append(ids, r.ID)
	}
	return ids
}

// taxiiDo sends a TAXII request with a partner token and checks the status.
func taxiiDo(t *testing.T, h *hub, token, method, path, body string, want int) []byte {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, h.URL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	if body != "" {
		req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, out)
	}
	return out
}

// page is a TAXII envelope or versions resource, objects kept as sent.
type page struct {
	More          bool              `json:"more"`
	Next          string            `json:"next"`
	Objects       []json.RawMessage `json:"objects"`
	Versions      []string          `json:"versions"`
	dateAddedLast string
}

func readPage(t *testing.T, h *hub, token, path string) page {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, h.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
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
	var p page
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	p.dateAddedLast = resp.Header.Get("X-TAXII-Date-Added-Last")
	return p
}

// readCollection pages through a collection and returns every object as sent.
func readCollection(t *testing.T, h *hub, token, path string) []json.RawMessage {
	t.Helper()
	var all []json.RawMessage
	next := ""
	for range 10_000 {
		q := path + "objects/?limit=1000"
		if next != "" {
			q += "&next=" + url.QueryEscape(next)
		}
		p := readPage(t, h, token, q)
		all = append(all, p.Objects...)
		if !p.More {
			return all
		}
		next = p.Next
	}
	t.Fatalf("%s: paging did not end", path)
	return nil
}

func equalObjects(a, b []json.RawMessage) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
