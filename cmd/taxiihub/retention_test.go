package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"taxiihub/internal/server"
	"taxiihub/internal/store"
	"taxiihub/internal/store/sqlitestore"
)

// TestRetentionSweepPurgesTheImmigrationRecords runs a hub seeded with the example partnerships,
// whose immigration collection keeps records 180 days, with a sweep every second. Records added
// 200 days ago (written into the hub's database by a second process, with its clock set back) are
// purged by the hub's own sweep and vanish from every TAXII read, records added now stay, an old
// status answers 404, the purge is in the ledger, and deep verification passes.
func TestRetentionSweepPurgesTheImmigrationRecords(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := startHub(t, dir, nil, "--seed", filepath.Join(repo, "deploy", "examples", "partnerships.yaml"),
		"--sweep-interval", "1s")
	dataDir := filepath.Join(dir, "taxiihub-data")
	ctx := t.Context()

	past := time.Now().Add(-200 * 24 * time.Hour)
	clock := func() time.Time { return past }
	st, err := sqlitestore.Open(ctx, filepath.Join(dataDir, server.DatabaseFile), sqlitestore.WithClock(func() time.Time { return clock() }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(ctx) })
	const root = "eu-immigration-ct"
	coll, err := st.Collection(ctx, root, "administrative-records")
	if err != nil {
		t.Fatal(err)
	}
	if coll.Policy.Retention != 180*24*time.Hour {
		t.Fatalf("the example's immigration collection keeps records %v, want 180 days", coll.Policy.Retention)
	}
	record := func(n int, at time.Time) store.Object {
		id := "identity--" + uuid.NewString()
		v := at.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		return store.Object{ID: id, Type: "identity", SpecVersion: "2.1", Version: at.UTC().Truncate(time.Millisecond),
			Content: fmt.Appendf(nil, `{"type":"identity","spec_version":"2.1","id":%q,"created":%q,"modified":%q,"name":"Record %d","identity_class":"individual"}`,
				id, v, v, n)}
	}
	var old, fresh []string
	for i := range 3 {
		o := record(i, past)
		old = append(old, o.ID)
		if _, err := st.Publish(ctx, store.Publication{CollectionID: coll.ID, Member: "nl-ind", TokenID: "tok-ind", Objects: []store.Object{o}}); err != nil {
			t.Fatal(err)
		}
	}
	oldStatus := store.Status{ID: uuid.NewString(), APIRoot: root, Submitter: "nl-ind", RequestTimestamp: past}
	if err := st.SaveStatus(ctx, oldStatus); err != nil {
		t.Fatal(err)
	}
	clock = time.Now
	for i := range 2 {
		o := record(10+i, time.Now())
		fresh = append(fresh, o.ID)
		if _, err := st.Publish(ctx, store.Publication{CollectionID: coll.ID, Member: "nl-ind", TokenID: "tok-ind", Objects: []store.Object{o}}); err != nil {
			t.Fatal(err)
		}
	}
	freshStatus := store.Status{ID: uuid.NewString(), APIRoot: root, Submitter: "nl-ind", RequestTimestamp: time.Now()}
	if err := st.SaveStatus(ctx, freshStatus); err != nil {
		t.Fatal(err)
	}

	reader, submitter := tokenOf(t, dir, "europol-ectc"), tokenOf(t, dir, "nl-ind")
	objectsURL := base + "/" + root + "/collections/" + coll.ID + "/objects/?limit=100"
	var got []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, body := taxiiGet(t, objectsURL, reader)
		if code != http.StatusOK {
			t.Fatalf("GET objects: %d %s", code, body)
		}
		var env struct {
			Objects []struct {
				ID string `json:"id"`
			} `json:"objects"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, o := range env.Objects {
			got = append(got, o.ID)
		}
		if !slices.ContainsFunc(got, func(id string) bool { return slices.Contains(old, id) }) || time.Now().After(deadline) {
			break
		}
	}
	if !slices.Equal(got, fresh) {
		t.Fatalf("objects after the sweep: %v; want only the records added now %v (purged %v)", got, fresh, old)
	}
	for _, id := range old {
		if code, body := taxiiGet(t, base+"/"+root+"/collections/"+coll.ID+"/objects/"+id+"/", reader); code != http.StatusNotFound {
			t.Errorf("GET a purged record: %d %s, want 404", code, body)
		}
	}
	if code, body := taxiiGet(t, base+"/"+root+"/status/"+oldStatus.ID+"/", submitter); code != http.StatusNotFound {
		t.Errorf("GET a status past its retention: %d %s, want 404", code, body)
	}
	if code, body := taxiiGet(t, base+"/"+root+"/status/"+freshStatus.ID+"/", submitter); code != http.StatusOK {
		t.Errorf("GET a recent status: %d %s, want 200", code, body)
	}

	// The ledger names every record purged, by the hub's sweep, with digests and no content.
	entries, err := st.Ledger(ctx, 0, store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	var purged []string
	for _, e := range entries {
		if e.Kind == store.LedgerPurge {
			if e.TokenID != store.RetentionSweeper || e.Collection != coll.ID {
				t.Errorf("purge entry %d by %q in %s; want the hub's sweep in %s", e.Seq, e.TokenID, e.Collection, coll.ID)
			}
			for _, it := range e.Items {
				purged = append(purged, it.ID)
				if len(it.SHA256) == 0 {
					t.Errorf("purge item %s has no digest", it.ID)
				}
			}
		}
	}
	slices.Sort(purged)
	if want := slices.Sorted(slices.Values(old)); !slices.Equal(purged, want) {
		t.Errorf("purge entries list %v, want %v", purged, want)
	}

	// An operator's sweep at once, then deep verification, through the admin API.
	operator := operatorToken(t, dataDir)
	var report struct {
		Collections []struct {
			Alias     string `json:"alias"`
			Retention string `json:"retention"`
		} `json:"collections"`
		StatusRetention string `json:"status_retention"`
	}
	adminCall(t, http.MethodPost, base+"/admin/sweep/", operator, &report)
	if len(report.Collections) != 1 || report.Collections[0].Alias != "administrative-records" ||
		report.Collections[0].Retention != "180d" || report.StatusRetention != "30d" {
		t.Errorf("sweep report: %+v; want the immigration collection at 180d, statuses kept 30d", report)
	}
	var deep struct {
		OK bool `json:"ok"`
	}
	adminCall(t, http.MethodGet, base+"/admin/ledger/verify/deep/", operator, &deep)
	if !deep.OK {
		t.Errorf("deep verification after the purge failed")
	}
}

func operatorToken(t *testing.T, dataDir string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dataDir, server.OperatorTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}

func adminCall(t *testing.T, method, url, token string, into any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d", method, url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
}
