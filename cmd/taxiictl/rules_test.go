package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taxiihub/internal/admin"
)

// TestRulesCommands walks through the policy, membership and ledger commands on a hub seeded with the
// example partnerships.
func TestRulesCommands(t *testing.T) {
	h := startHub(t, "--seed", "../../deploy/examples/partnerships.yaml")

	out := h.must(t, "policy", "show", "eu-immigration-ct")
	for _, want := range []string{"personal data      allow", "ES EU FI", "administrative-records", "x_interview_notes",
		"europol-ectc  reader", "frontex       publisher"} {
		if !strings.Contains(out, want) {
			t.Errorf("policy show does not mention %q:\n%s", want, out)
		}
	}
	h.must(t, "policy", "set", "eu-japan", "--personal-data", "strip", "--jurisdiction", "EU", "--jurisdiction", "JP")
	h.must(t, "policy", "collection", "eu-japan", "cyber-threats", "--tlp-max", "green", "--type", "indicator", "--type", "malware")
	var d admin.PartnershipDetail
	h.mustJSON(t, &d, "policy", "show", "eu-japan")
	if d.Policy.PersonalData != "strip" || strings.Join(d.Policy.Jurisdictions, " ") != "EU JP" {
		t.Errorf("partnership policy after set: %+v", d.Policy)
	}
	for _, c := range d.Collections {
		if c.Alias == "cyber-threats" && (c.Policy.TLPMax != "green" || len(c.Policy.AllowedTypes) != 2) {
			t.Errorf("collection policy after set: %+v", c.Policy)
		}
	}
	h.must(t, "policy", "collection", "eu-japan", "critical-infrastructure", "--tlp-max", "amber", "--unmarked", "refuse",
		"--allow-property", "indicator:name", "--allow-property", "indicator:pattern", "--allow-property", "indicator:external_references.url")
	h.mustJSON(t, &d, "policy", "show", "eu-japan")
	for _, c := range d.Collections {
		if c.Alias == "critical-infrastructure" && (c.Policy.Unmarked != "refuse" ||
			strings.Join(c.Policy.AllowedProperties["indicator"], " ") != "external_references.url name pattern") {
			t.Errorf("collection policy after --unmarked and --allow-property: %+v", c.Policy)
		}
	}
	h.must(t, "policy", "collection", "eu-japan", "critical-infrastructure", "--review", "own-member", "--review-timeout", "3d")
	if out := h.must(t, "policy", "show", "eu-japan"); !strings.Contains(out, "own-member within 3d") {
		t.Errorf("policy show does not say who reviews:\n%s", out)
	}
	if status, _, stderr := h.ctl(t, "policy", "collection", "eu-japan", "critical-infrastructure", "--clear", "review", "--clear", "review_timeout"); status != exitFailed ||
		!strings.Contains(stderr, "review removed") {
		t.Errorf("dropping review unconfirmed: exit %d, %s", status, stderr)
	}
	if out := h.must(t, "policy", "show", "eu-immigration-ct"); !strings.Contains(out, "identity:x_legal_status.status") {
		t.Errorf("policy show does not list the allowed properties:\n%s", out)
	}
	if status, _, _ := h.ctl(t, "policy", "collection", "eu-japan", "cyber-threats", "--allow-property", "name"); status != exitUsage {
		t.Errorf("--allow-property without a type: exit %d, want %d", status, exitUsage)
	}
	if status, _, stderr := h.ctl(t, "policy", "set", "eu-japan", "--jurisdiction", "FR"); status != exitFailed ||
		!strings.Contains(stderr, "cert-eu (EU)") {
		t.Errorf("a rule excluding present members: exit %d, %s", status, stderr)
	}

	h.must(t, "membership", "add", "jpcert-cc", "eu-japan", "--role", "reader", "--clearance", "green")
	if out := h.must(t, "membership", "list", "eu-japan"); !strings.Contains(out, "jpcert-cc  reader  green") {
		t.Errorf("membership list:\n%s", out)
	}
	if status, _, stderr := h.ctl(t, "membership", "add", "cncert-cc", "eu-immigration-ct", "--role", "reader"); status != exitFailed ||
		!strings.Contains(stderr, "established in CN") {
		t.Errorf("a member from outside the partnership's jurisdictions: exit %d, %s", status, stderr)
	}
	if status, _, _ := h.ctl(t, "membership", "add", "jpcert-cc", "eu-japan"); status != exitUsage {
		t.Errorf("membership add without --role: exit %d, want %d", status, exitUsage)
	}
	// Without its membership jpcert-cc would read everything and publish: a weakening.
	if status, _, stderr := h.ctl(t, "membership", "remove", "jpcert-cc", "eu-japan"); status != exitFailed ||
		!strings.Contains(stderr, "may now publish") || !strings.Contains(stderr, "--confirm-weaken") {
		t.Errorf("membership remove unconfirmed: exit %d, %s", status, stderr)
	}
	h.must(t, "membership", "remove", "jpcert-cc", "eu-japan", "--confirm-weaken")

	// A publication and a pull, through the TAXII API, then the ledger.
	tokens := filepath.Join(h.dataDir, "tokens")
	certEU, err := os.ReadFile(filepath.Join(tokens, "cert-eu.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	jpcert, err := os.ReadFile(filepath.Join(tokens, "jpcert-cc.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	const indicator = `{"type":"indicator","spec_version":"2.1","id":"indicator--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",` +
		`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"bad","pattern":"[ipv4-addr:value = '198.51.100.1']",` +
		`"pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`
	taxiiCall(t, h.url, http.MethodPost, "/eu-japan/collections/cyber-threats/objects/", string(certEU), `{"objects":[`+indicator+`]}`, http.StatusAccepted)
	taxiiCall(t, h.url, http.MethodGet, "/eu-japan/collections/cyber-threats/objects/", string(jpcert), "", http.StatusOK)

	if out := h.must(t, "audit", "verify"); !strings.Contains(out, "ledger intact: 2 entries") {
		t.Errorf("audit verify:\n%s", out)
	}
	// The heads, as a log system would keep them, then checked deeply.
	head := strings.Fields(h.must(t, "audit", "head"))
	if len(head) != 4 || head[0] != "ledger" || !strings.HasPrefix(head[1], "2:") || head[2] != "audit" || len(head[3]) < 66 {
		t.Fatalf("audit head: %q; want ledger 2:HASH audit SEQ:HASH", head)
	}
	out = h.must(t, "audit", "verify", "--ledger-at", head[1], "--audit-at", head[3])
	for _, want := range []string{"ledger intact: 2 entries", "audit trail intact", "stored versions 1, origins 2, withdrawals 0", "problems: 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit verify --deep does not say %q:\n%s", want, out)
		}
	}
	out = h.must(t, "audit", "pulls", "--publisher", "cert-eu", "--objects")
	if !strings.Contains(out, "jpcert-cc") || !strings.Contains(out, "indicator--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9") {
		t.Errorf("audit pulls --objects of cert-eu's objects:\n%s", out)
	}
	// A row per pull: the collection by its alias, and how many objects the pull served.
	out = h.must(t, "audit", "pulls", "--publisher", "cert-eu")
	if rows := strings.Split(strings.TrimSpace(out), "\n"); len(rows) != 2 || !strings.Contains(rows[1], "eu-japan/cyber-threats") ||
		!strings.HasSuffix(rows[1], " 1") || strings.Contains(out, "indicator--") {
		t.Errorf("audit pulls of cert-eu's objects, want one row naming eu-japan/cyber-threats and 1 object:\n%s", out)
	}
	if out := h.must(t, "audit", "pulls", "--publisher", "jpcert-cc"); strings.Contains(out, "indicator--") {
		t.Errorf("audit pulls of jpcert-cc's objects shows another's:\n%s", out)
	}
	if out := h.must(t, "audit"); !strings.Contains(out, "membership.create") {
		t.Errorf("audit without a subcommand lists operator actions:\n%s", out)
	}
}

func taxiiCall(t *testing.T, base, method, path, token, body string, want int) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
	}
}

// TestAuditVerifyNamesTheBrokenEntry: when the hub finds the chain broken, audit verify says where and
// exits 1.
func TestAuditVerifyNamesTheBrokenEntry(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/ledger/verify/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"entries":7,"ok":false,"broken_at":4,"problem":"entry 4 was altered: its content does not match its hash"}`))
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "operator.token")
	if err := os.WriteFile(tokenFile, []byte("token"), 0o600); err != nil {
		t.Fatal(err)
	}
	status, _, stderr := runTool("", "audit", "verify", "--url", srv.URL, "--token-file", tokenFile)
	if status != exitFailed || !strings.Contains(stderr, "broken at entry 4: entry 4 was altered") {
		t.Errorf("audit verify of a broken ledger: exit %d, %s", status, stderr)
	}
}

// TestAuditVerifyDeepNamesWhatIsWrong: when the hub finds stored data that disagrees with the ledger,
// audit verify --deep lists it and exits 1.
func TestAuditVerifyDeepNamesWhatIsWrong(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/ledger/verify/deep/" || r.URL.Query().Get("ledger_at") != "7:ab" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":false,"ledger":{"entries":9,"ok":true},"audit":{"entries":3,"ok":true},"ledger_head":9,
			"versions":4,"origins":3,"withdrawals":1,"passes":1,"problem_count":2,"problems":[
			{"kind":"missing","partnership":"eu-japan","collection":"c1","object_id":"indicator--1","version":"2026-01-01T00:00:00Z","ledger_seq":2,"detail":"it is not stored"},
			{"kind":"origin-missing","partnership":"eu-japan","key":"fp:abc","member":"cert-eu","ledger_seq":2,"detail":"no origin"}],
			"unrecorded_count":1,"unrecorded":[{"kind":"unrecorded","partnership":"eu-japan","collection":"c1","object_id":"indicator--5","version":"2026-01-01T00:00:00Z","detail":"no entry"}],
			"deleted_collections":[]}`))
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "operator.token")
	if err := os.WriteFile(tokenFile, []byte("token"), 0o600); err != nil {
		t.Fatal(err)
	}
	status, stdout, stderr := runTool("", "audit", "verify", "--ledger-at", "7:ab", "--url", srv.URL, "--token-file", tokenFile)
	if status != exitFailed || !strings.Contains(stderr, "deep verification failed: problems with what the hub stores: 2") {
		t.Errorf("audit verify --deep of a hub with problems: exit %d, %s", status, stderr)
	}
	for _, want := range []string{
		"problems: 2",
		"missing: indicator--1 version 2026-01-01T00:00:00.000000Z in eu-japan/c1: it is not stored",
		"origin-missing: origin fp:abc in eu-japan (cert-eu): no origin",
		"unrecorded versions: 1",
		"unrecorded: indicator--5 version",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("audit verify --deep does not say %q:\n%s", want, stdout)
		}
	}
}

// The two traps, through the commands: policy set naming the jurisdictions turned personal
// data from strip to allow, and policy collection naming the types dropped tlp_max, so that TLP:RED
// was accepted again. Each command now changes only what it names; --clear removes one rule; and a
// weakening is refused, naming it, until --confirm-weaken.
func TestPolicyCommandsChangeOnlyWhatTheyName(t *testing.T) {
	h := startHub(t, "--seed", "../../deploy/examples/partnerships.yaml")
	h.must(t, "policy", "set", "eu-japan", "--personal-data", "strip")
	h.must(t, "policy", "set", "eu-japan", "--jurisdiction", "EU", "--jurisdiction", "JP")
	h.must(t, "policy", "collection", "eu-japan", "cyber-threats", "--type", "indicator")
	h.must(t, "membership", "add", "jpcert-cc", "eu-japan", "--role", "reader", "--clearance", "green")
	h.must(t, "membership", "add", "jpcert-cc", "eu-japan", "--clearance", "clear")

	var d admin.PartnershipDetail
	h.mustJSON(t, &d, "policy", "show", "eu-japan")
	if d.Policy.PersonalData != "strip" || strings.Join(d.Policy.Jurisdictions, " ") != "EU JP" {
		t.Errorf("naming the jurisdictions changed personal data: %+v", d.Policy)
	}
	for _, c := range d.Collections {
		if c.Alias == "cyber-threats" && (c.Policy.TLPMax != "amber" || strings.Join(c.Policy.AllowedTypes, " ") != "indicator") {
			t.Errorf("naming the types changed tlp_max: %+v", c.Policy)
		}
	}
	for _, m := range d.Memberships {
		if m.Member == "jpcert-cc" && (m.Role != "reader" || m.Clearance != "clear") {
			t.Errorf("naming the clearance changed the role: %+v", m)
		}
	}

	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"policy", "set", "eu-japan", "--personal-data", "allow"}, "personal data strip → allow"},
		{[]string{"policy", "set", "eu-japan", "--clear", "jurisdictions"}, "jurisdiction rule removed"},
		{[]string{"policy", "set", "eu-japan", "--jurisdiction", "EU", "--jurisdiction", "JP", "--jurisdiction", "CN"}, "jurisdictions widened: CN added"},
		{[]string{"policy", "collection", "eu-japan", "cyber-threats", "--clear", "tlp_max"}, "TLP ceiling removed (was TLP:AMBER)"},
		{[]string{"policy", "collection", "eu-japan", "cyber-threats", "--tlp-max", "red"}, "TLP ceiling raised TLP:AMBER → TLP:RED"},
		{[]string{"policy", "collection", "eu-japan", "cyber-threats", "--type", "indicator", "--type", "malware"}, "types allowed: malware"},
		{[]string{"membership", "add", "jpcert-cc", "eu-japan", "--role", "both"}, "may now publish"},
		{[]string{"membership", "add", "jpcert-cc", "eu-japan", "--clear", "clearance"}, "clearance of jpcert-cc in eu-japan removed"},
		{[]string{"policy", "set", "eu-japan", "--reviewer", "jpcert-cc"}, "reviewers added: jpcert-cc"},
		{[]string{"policy", "collection", "eu-immigration-ct", "administrative-records", "--retention", "365d"}, "retention lengthened 180d → 365d"},
		{[]string{"policy", "collection", "eu-immigration-ct", "administrative-records", "--clear", "retention"}, "retention removed"},
	} {
		status, _, stderr := h.ctl(t, tc.args...)
		if status != exitFailed || !strings.Contains(stderr, tc.says) || !strings.Contains(stderr, "--confirm-weaken") {
			t.Errorf("%v: exit %d, %s; want it refused, saying %q", tc.args, status, stderr, tc.says)
		}
	}
	d = admin.PartnershipDetail{} // decoding into a filled value would keep rules the answer leaves out
	h.mustJSON(t, &d, "policy", "show", "eu-japan")
	if d.Policy.PersonalData != "strip" || len(d.Policy.Jurisdictions) != 2 || d.Collections[0].Policy.TLPMax == "" {
		t.Errorf("a refused change changed something: %+v", d)
	}

	// Shortening a retention is stricter, and needs no confirmation; a sweep then purges at once.
	if out := h.must(t, "policy", "collection", "eu-immigration-ct", "administrative-records", "--retention", "90d"); !strings.Contains(out, "retention 90d") {
		t.Errorf("policy collection --retention 90d printed %q", out)
	}
	var sweep admin.SweepReport
	h.mustJSON(t, &sweep, "sweep")
	if len(sweep.Collections) != 1 || sweep.Collections[0].Retention != "90d" || sweep.Collections[0].Partnership != "eu-immigration-ct" {
		t.Errorf("sweep: %+v; want the immigration collection at 90d", sweep)
	}

	h.must(t, "policy", "collection", "eu-japan", "cyber-threats", "--clear", "tlp-max", "--confirm-weaken")
	// Naming the partnership's moderators, confirmed; removing them weakens nothing.
	if out := h.must(t, "policy", "set", "eu-japan", "--reviewer", "jpcert-cc", "--reviewer", "cert-eu", "--confirm-weaken"); !strings.Contains(out, "reviewers cert-eu jpcert-cc") {
		t.Errorf("policy set --reviewer: %s", out)
	}
	if out := h.must(t, "policy", "show", "eu-japan"); !strings.Contains(out, "reviewers          cert-eu jpcert-cc") {
		t.Errorf("policy show does not name the moderators:\n%s", out)
	}
	h.must(t, "policy", "set", "eu-japan", "--clear", "reviewers")
	d = admin.PartnershipDetail{}
	h.mustJSON(t, &d, "policy", "show", "eu-japan")
	for _, c := range d.Collections {
		if c.Alias == "cyber-threats" && (c.Policy.TLPMax != "" || strings.Join(c.Policy.AllowedTypes, " ") != "indicator") {
			t.Errorf("after --clear tlp_max: %+v", c.Policy)
		}
	}

	for _, args := range [][]string{
		{"policy", "set", "eu-japan"},
		{"policy", "collection", "eu-japan", "cyber-threats", "--clear", "colour"},
		{"policy", "collection", "eu-japan", "cyber-threats", "--tlp-max", "red", "--clear", "tlp_max"},
	} {
		if status, _, _ := h.ctl(t, args...); status != exitUsage {
			t.Errorf("%v: exit %d, want a usage error", args, status)
		}
	}
}

// taxiictl apply of a spec that weakens a rule is refused, naming it, and changes nothing; its dry
// run prints the plan with the weakening; --confirm-weaken applies it.
func TestApplyThatWeakensNeedsConfirmation(t *testing.T) {
	h := startHub(t, "--seed", "../../deploy/examples/partnerships.yaml")
	spec := writeSpec(t, `
partnerships:
  - slug: eu-japan
    title: EU–Japan security and defence partnership
    collections:
      - {alias: cyber-threats, title: Cyber threats, policy: {tlp_max: red}}
`)
	out := h.must(t, "apply", "-f", spec, "--dry-run")
	if !strings.Contains(out, "weakening the rules") || !strings.Contains(out, "collection eu-japan/cyber-threats: TLP ceiling raised TLP:AMBER → TLP:RED") {
		t.Errorf("the dry run does not show the weakening:\n%s", out)
	}
	if status, _, stderr := h.ctl(t, "apply", "-f", spec); status != exitFailed || !strings.Contains(stderr, "TLP ceiling raised") {
		t.Errorf("apply unconfirmed: exit %d, %s", status, stderr)
	}
	var d admin.PartnershipDetail
	h.mustJSON(t, &d, "policy", "show", "eu-japan")
	for _, c := range d.Collections {
		if c.Alias == "cyber-threats" && c.Policy.TLPMax != "amber" {
			t.Errorf("a refused apply changed the ceiling to %q", c.Policy.TLPMax)
		}
	}
	h.must(t, "apply", "-f", spec, "--confirm-weaken")
	d = admin.PartnershipDetail{}
	h.mustJSON(t, &d, "policy", "show", "eu-japan")
	for _, c := range d.Collections {
		if c.Alias == "cyber-threats" && c.Policy.TLPMax != "red" {
			t.Errorf("the confirmed apply left the ceiling at %q", c.Policy.TLPMax)
		}
	}
}
