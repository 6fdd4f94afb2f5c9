package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"taxiihub/internal/admin"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// exampleHub is a hub with the admin API and the STIX validator, set up by applying the example
// partnerships file through the admin API, with a token for every member.
type exampleHub struct {
	*adminHub
	tokens map[string]string
}

func newExampleHub(t *testing.T, st store.Store) *exampleHub {
	t.Helper()
	h := &exampleHub{adminHub: newAdminHub(t, st), tokens: map[string]string{}}
	data, err := os.ReadFile("../../deploy/examples/partnerships.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := admin.ParseSpec(data)
	if err != nil {
		t.Fatal(err)
	}
	h.ok("apply the example", h.call("POST", "/admin/apply/", spec), 200, nil)
	for _, m := range spec.Members {
		h.tokens[m.ID] = h.hub.token(m.ID)
	}
	return h
}

func collectionPath(root, alias string) string { return "/" + root + "/collections/" + alias + "/" }

// sdo is a STIX object of a type with created and modified; n makes its id.
func sdo(typ string, n int, props string) string {
	return fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":"%s--%08d-1111-4111-8111-111111111111",`+
		`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",%s}`, typ, typ, n, props)
}

// sco is a STIX cyber-observable object.
func sco(typ string, n int, props string) string {
	return fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":"%s--%08d-1111-4111-8111-111111111111",%s}`, typ, typ, n, props)
}

func stixID(typ string, n int) string {
	return fmt.Sprintf("%s--%08d-1111-4111-8111-111111111111", typ, n)
}

const indicatorBody = `"name":"bad host","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"`

// indicatorOf is an indicator body of its own, so that objects made with it differ in content.
func indicatorOf(n int) string {
	return fmt.Sprintf(`"name":"bad host %d","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"`, n, n%256)
}

func marked(n int, marking string) string {
	return sdo("indicator", n, indicatorBody+`,"object_marking_refs":["`+marking+`"]`)
}

const (
	tlp1White = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
	tlp1Amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	tlp1Red   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
	tlp2Clear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	tlp2Green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	tlp2Amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	tlp2Plus  = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	tlp2Red   = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
)

func postStatus(t *testing.T, h *hub, path, token string, objects ...string) taxii.Status {
	t.Helper()
	r := h.post(path+"objects/", token, envelope(objects...))
	if r.status != http.StatusAccepted {
		t.Fatalf("post to %s: %d %s", path, r.status, r.body)
	}
	var st taxii.Status
	r.json(t, &st)
	return st
}

// reasons maps each object id in a status to what became of it: "stored", or the "[code] path" of
// each reason it was refused with.
func reasons(st taxii.Status) map[string][]string {
	out := map[string][]string{}
	for _, s := range st.Successes {
		out[s.ID] = append(out[s.ID], "stored")
	}
	for _, f := range st.Failures {
		for _, m := range codePaths.FindAllStringSubmatch(f.Message, -1) {
			out[f.ID] = append(out[f.ID], m[1])
		}
	}
	return out
}

var codePaths = regexp.MustCompile(`(\[[a-z0-9+-]+\](?: /[^:;]*)?)`)

// TestSharingRulesTable posts, for each rule, an envelope with objects that break it and a valid
// neighbour, and checks each object's reason codes; the neighbour is always stored.
func TestSharingRulesTable(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		china := collectionPath("eu-china-cyber", "indicators")
		japan := collectionPath("eu-japan", "cyber-threats")
		records := collectionPath("eu-immigration-ct", "administrative-records")

		// The setup of the onward-sharing and withdrawal rows: content CNCERT/CC publishes in the
		// EU–China taskforce, content CERT-EU publishes there itself, and an object CERT-EU
		// withdraws from EU–Japan.
		postStatus(t, h.hub, china, h.tokens["cncert-cc"], sdo("indicator", 900, indicatorBody), sdo("malware", 901, `"name":"PlugX variant","is_family":true`))
		postStatus(t, h.hub, china, h.tokens["cert-eu"], sdo("indicator", 902, `"name":"own","pattern":"[domain-name:value = 'own.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"`))
		postStatus(t, h.hub, japan, h.tokens["cert-eu"], sdo("indicator", 903, indicatorOf(903)))
		if r := h.hub.post(japan+"objects/"+stixID("indicator", 903)+"/withdraw/", h.tokens["cert-eu"], nil); r.status != http.StatusOK {
			t.Fatalf("withdraw: %d %s", r.status, r.body)
		}
		// CERT-EU receives what CNCERT/CC published there.
		if r := h.hub.get(china+"objects/", h.tokens["cert-eu"]); r.status != http.StatusOK {
			t.Fatalf("pull: %d %s", r.status, r.body)
		}

		rows := []struct {
			rule, path, member string
			object             string
			id                 string
			want               []string
		}{
			// No personal data (EU–China rejects).
			{"personal data: e-mail address object", china, "cert-eu", sco("email-addr", 10, `"value":"jane@example.org"`), stixID("email-addr", 10), []string{"[personal-data] /type"}},
			{"personal data: user account", china, "cert-eu", sco("user-account", 11, `"user_id":"jdoe"`), stixID("user-account", 11), []string{"[personal-data] /type"}},
			{"personal data: identity of an individual", china, "cert-eu", sdo("identity", 12, `"name":"J. Doe","identity_class":"individual"`), stixID("identity", 12), []string{"[personal-data] /identity_class"}},
			{"personal data: e-mail message with addresses", china, "cert-eu", sco("email-message", 13, `"is_multipart":false,"from_ref":"`+stixID("email-addr", 10)+`"`), stixID("email-message", 13), []string{"[personal-data] /from_ref"}},
			{"personal data: e-mail address in a description", china, "cert-eu", sdo("indicator", 14, indicatorBody+`,"description":"reported by jane.doe@example.org"`), stixID("indicator", 14), []string{"[personal-data] /description"}},
			{"personal data: phone number in a name", china, "cert-eu", sdo("malware", 15, `"name":"call +32 2 299 11 11","is_family":false`), stixID("malware", 15), []string{"[personal-data] /name"}},
			{"personal data: phone number in a label", china, "cert-eu", sdo("indicator", 16, indicatorBody+`,"labels":["(030) 1234 5678"]`), stixID("indicator", 16), []string{"[personal-data] /labels/0"}},
			{"personal data: note", china, "cert-eu", sdo("note", 17, `"content":"ask j.smith@gov.example","object_refs":["`+stixID("indicator", 1)+`"]`), stixID("note", 17), []string{"[personal-data] /content"}},
			{"personal data: opinion", china, "cert-eu", sdo("opinion", 18, `"opinion":"agree","explanation":"call 555-123-4567","object_refs":["`+stixID("indicator", 1)+`"]`), stixID("opinion", 18), []string{"[personal-data] /explanation"}},
			{"personal data: external reference", china, "cert-eu", sdo("indicator", 19, indicatorBody+`,"external_references":[{"source_name":"ticket","description":"from ops@example.org"}]`), stixID("indicator", 19), []string{"[personal-data] /external_references/0/description"}},
			// Personal data spelt or placed to slip past the rule (issue 13): each is refused, its neighbour stored.
			{"personal data: full-width at sign", china, "cert-eu", sdo("indicator", 50, indicatorBody+`,"description":"reported by jane.doe＠example.org"`), stixID("indicator", 50), []string{"[personal-data] /description"}},
			{"personal data: zero-width space and soft hyphen", china, "cert-eu", sdo("indicator", 51, indicatorBody+`,"description":"reported by ja\u200bne@exam\u00adple.org"`), stixID("indicator", 51), []string{"[personal-data] /description"}},
			{"personal data: Cyrillic letter in the domain", china, "cert-eu", sdo("indicator", 52, indicatorBody+`,"description":"reported by jane@ex\u0430mple.org"`), stixID("indicator", 52), []string{"[personal-data] /description"}},
			{"personal data: Arabic-Indic digits", china, "cert-eu", sdo("malware", 53, `"name":"call +٣٢ ٢ ٢٩٩ ١١ ١١","is_family":false`), stixID("malware", 53), []string{"[personal-data] /name"}},
			{"personal data: slashes between digits", china, "cert-eu", sdo("malware", 54, `"name":"call +32/2/299/11/11","is_family":false`), stixID("malware", 54), []string{"[personal-data] /name"}},
			{"personal data: identity class Individual", china, "cert-eu", sdo("identity", 55, `"name":"J. Doe","identity_class":"Individual"`), stixID("identity", 55), []string{"[personal-data] /identity_class"}},
			{"personal data: passport number", china, "cert-eu", sdo("note", 56, `"content":"Passport No. P4366918","object_refs":["`+stixID("indicator", 1)+`"]`), stixID("note", 56), []string{"[personal-data] /content"}},
			{"personal data: date of birth", china, "cert-eu", sdo("note", 57, `"content":"DOB: 12.03.1980","object_refs":["`+stixID("indicator", 1)+`"]`), stixID("note", 57), []string{"[personal-data] /content"}},
			{"personal data: IBAN", china, "cert-eu", sdo("note", 58, `"content":"paid into BE71 0961 2345 6769","object_refs":["`+stixID("indicator", 1)+`"]`), stixID("note", 58), []string{"[personal-data] /content"}},
			{"personal data: custom property", china, "cert-eu", sdo("indicator", 59, indicatorBody+`,"x_case":{"reporter":"jane@example.org"}`), stixID("indicator", 59), []string{"[personal-data] /x_case/reporter"}},
			{"personal data: pattern literal", china, "cert-eu", sdo("indicator", 60, `"name":"phish","pattern":"[email-addr:value = 'jane@example.org']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"`), stixID("indicator", 60), []string{"[personal-data] /pattern"}},
			{"personal data: x509 subject", china, "cert-eu", sco("x509-certificate", 61, `"subject":"CN=J Doe/emailAddress=jane@example.org"`), stixID("x509-certificate", 61), []string{"[personal-data] /subject"}},
			{"personal data: url value", china, "cert-eu", sco("url", 62, `"value":"https://portal.example.net/reset?user=jane%40example.org"`), stixID("url", 62), []string{"[personal-data] /value"}},
			{"personal data: location street address", china, "cert-eu", sdo("location", 63, `"street_address":"12 Rue de la Loi","country":"BE"`), stixID("location", 63), []string{"[personal-data] /street_address"}},

			// Allowed content (immigration → counter-terrorism).
			{"allowed types: case content type", records, "frontex", sdo("note", 20, `"content":"interview held","object_refs":["`+stixID("identity", 21)+`"]`), stixID("note", 20), []string{"[type-not-allowed] /type"}},
			{"denied properties: case content", records, "frontex", sdo("identity", 21, `"name":"Case 2026-0042","identity_class":"individual","x_grounds_of_protection":"..."`), stixID("identity", 21),
				[]string{"[property-denied] /x_grounds_of_protection", "[property-not-allowed] /x_grounds_of_protection"}},
			// Allowed properties: administrative details only, however case content is dressed up.
			{"allowed properties: a renamed note", records, "frontex", sdo("identity", 22, `"name":"Case 2026-0043","identity_class":"individual","interview_notes":"..."`), stixID("identity", 22),
				[]string{"[property-not-allowed] /interview_notes"}},
			{"allowed properties: a custom note", records, "frontex", sdo("identity", 23, `"name":"Case 2026-0044","identity_class":"individual","x_interview_note":"..."`), stixID("identity", 23),
				[]string{"[property-not-allowed] /x_interview_note"}},
			{"allowed properties: notes written into the description", records, "frontex", sdo("identity", 24, `"name":"Case 2026-0045","identity_class":"individual","description":"interviewed on arrival; says ..."`), stixID("identity", 24),
				[]string{"[property-not-allowed] /description"}},
			{"allowed properties: a statement marking definition", records, "frontex",
				`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--00000000-1111-4111-8111-000000000025","created":"2026-01-01T00:00:00.000Z",` +
					`"name":"interview","definition_type":"statement","definition":{"statement":"interviewed on arrival; says ..."}}`,
				"marking-definition--00000000-1111-4111-8111-000000000025",
				[]string{"[property-not-allowed] /definition", "[property-not-allowed] /definition_type", "[property-not-allowed] /name"}},
			{"allowed properties: a note nested in a listed x_ property", records, "frontex",
				sdo("identity", 26, `"name":"Case 2026-0046","identity_class":"individual","x_legal_status":{"status":"asylum-seeker","note":"interviewed on arrival"}`), stixID("identity", 26),
				[]string{"[property-not-allowed] /x_legal_status/note"}},
			{"allowed properties: a note nested in an unlisted x_ property", records, "frontex",
				sdo("identity", 27, `"name":"Case 2026-0047","identity_class":"individual","x_case":{"interview":{"note":"..."}}`), stixID("identity", 27),
				[]string{"[property-not-allowed] /x_case"}},
			{"allowed properties: a note in an extension", records, "frontex",
				sdo("identity", 28, `"name":"Case 2026-0048","identity_class":"individual","extensions":{"x-case-ext":{"note":"..."}}`), stixID("identity", 28),
				[]string{"[property-not-allowed] /extensions"}},
			{"allowed properties: administrative details pass", records, "frontex",
				sdo("identity", 29, `"name":"Case 2026-0049","identity_class":"individual","x_case_reference":"NL-2026-0049",`+
					`"x_legal_status":{"status":"residence-permit","valid_from":"2026-01-01","valid_until":"2031-01-01"},"object_marking_refs":["`+tlp2Amber+`"]`), stixID("identity", 29),
				[]string{"stored"}},

			// TLP ceiling (EU–Japan: AMBER), TLP 1.0 and 2.0.
			{"TLP ceiling: 2.0 RED", japan, "jpcert-cc", marked(30, tlp2Red), stixID("indicator", 30), []string{"[tlp-above-ceiling] /object_marking_refs/0"}},
			{"TLP ceiling: 1.0 RED", japan, "jpcert-cc", marked(31, tlp1Red), stixID("indicator", 31), []string{"[tlp-above-ceiling] /object_marking_refs/0"}},
			{"TLP ceiling: 2.0 AMBER+STRICT", japan, "jpcert-cc", marked(32, tlp2Plus), stixID("indicator", 32), []string{"[tlp-above-ceiling] /object_marking_refs/0"}},
			{"TLP ceiling: 1.0 AMBER is at the ceiling", japan, "jpcert-cc", marked(33, tlp1Amber), stixID("indicator", 33), []string{"stored"}},
			{"TLP ceiling: 2.0 CLEAR", japan, "jpcert-cc", marked(34, tlp2Clear), stixID("indicator", 34), []string{"stored"}},

			// No onward sharing: what CERT-EU received from CNCERT/CC in EU–China, posted into EU–Japan.
			{"onward sharing: the same object", japan, "cert-eu", sdo("indicator", 900, indicatorBody), stixID("indicator", 900), []string{"[onward-sharing]"}},
			{"onward sharing: the same content under a new id, author and marking", japan, "cert-eu",
				sdo("malware", 40, `"name":"PlugX variant","is_family":true,"created_by_ref":"identity--0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9","object_marking_refs":["`+tlp2Green+`"]`),
				stixID("malware", 40), []string{"[onward-sharing]"}},
			{"onward sharing: its own content is CERT-EU's to share", japan, "cert-eu", sdo("indicator", 902, `"name":"own","pattern":"[domain-name:value = 'own.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"`), stixID("indicator", 902), []string{"stored"}},

			// Withdrawal: the id is never accepted again, here or elsewhere.
			{"withdrawn id, same collection", japan, "cert-eu", sdo("indicator", 903, indicatorOf(903)+`,"description":"again"`), stixID("indicator", 903), []string{"[withdrawn] /id"}},
			// A withdrawal holds in its own partnership: it bars nothing elsewhere, and says nothing there.
			{"withdrawn id, another partnership", china, "cert-eu", sdo("indicator", 903, indicatorOf(903)), stixID("indicator", 903), []string{"stored"}},
		}
		for i, row := range rows {
			// A fresh neighbour per row, so that each is added now.
			n := sdo("indicator", 100+i, indicatorOf(100+i))
			if row.path == records {
				n = sdo("identity", 100+i, `"name":"Case file 17","identity_class":"organization"`)
			}
			st := postStatus(t, h.hub, row.path, h.tokens[row.member], row.object, n)
			got := reasons(st)
			if !slices.Equal(got[row.id], row.want) {
				t.Errorf("%s: %v, want %v\n%+v", row.rule, got[row.id], row.want, st)
			}
			nid := stixID("indicator", 100+i)
			if row.path == records {
				nid = stixID("identity", 100+i)
			}
			if got[nid] == nil || got[nid][0] != "stored" {
				t.Errorf("%s: the valid neighbour was not stored: %v", row.rule, got[nid])
			}
			for _, f := range st.Failures {
				if strings.Contains(f.Message, "china") || strings.Contains(f.Message, "cncert") || strings.Contains(f.Message, "@") {
					t.Errorf("%s: a refusal names what it must not: %q", row.rule, f.Message)
				}
			}
		}
	})
}

// TestOneWayFlow: in the immigration → counter-terrorism exchange, publishers cannot read and readers
// cannot write whatever their grants say, and the collection resource shows the direction and rules.
func TestOneWayFlow(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		records := collectionPath("eu-immigration-ct", "administrative-records")
		// Grants that would allow both ways: the roles still decide.
		for _, m := range []string{"frontex", "europol-ectc"} {
			h.ok("grant both", h.call("PUT", "/admin/partnerships/eu-immigration-ct/collections/administrative-records/grants/"+m+"/",
				map[string]bool{"read": true, "write": true}), 200, nil)
		}
		identity := sdo("identity", 1, `"name":"Case 2026-0042","identity_class":"individual"`)
		e := checkError(t, "a reader writes", h.hub.post(records+"objects/", h.tokens["europol-ectc"], envelope(identity)), http.StatusForbidden)
		if e.ErrorCode != "one-way" {
			t.Errorf("a reader writes: error code %q, want one-way", e.ErrorCode)
		}
		e = checkError(t, "a reader writes, dry run", h.hub.post(records+"objects/?dry_run=true", h.tokens["europol-ectc"], envelope(identity)), http.StatusForbidden)
		if e.ErrorCode != "one-way" {
			t.Errorf("a reader's dry run: error code %q, want one-way", e.ErrorCode)
		}
		if st := postStatus(t, h.hub, records, h.tokens["frontex"], identity); st.SuccessCount != 1 {
			t.Fatalf("the publisher writes: %+v", st)
		}
		for _, path := range []string{"objects/", "manifest/", "objects/" + stixID("identity", 1) + "/", "objects/" + stixID("identity", 1) + "/versions/"} {
			e := checkError(t, "a publisher reads "+path, h.hub.get(records+path, h.tokens["frontex"]), http.StatusForbidden)
			if e.ErrorCode != "one-way" {
				t.Errorf("a publisher reads %s: error code %q, want one-way", path, e.ErrorCode)
			}
		}
		if r := h.hub.get(records+"objects/", h.tokens["europol-ectc"]); r.status != http.StatusOK || !strings.Contains(string(r.body), "Case 2026-0042") {
			t.Errorf("the reader reads: %d %s", r.status, r.body)
		}

		var coll map[string]any
		r := h.hub.get(records, h.tokens["frontex"])
		r.json(t, &coll)
		for k, want := range map[string]any{
			"can_read": false, "can_write": true, "x_taxiihub_role": "publisher", "x_taxiihub_direction": "one-way",
			"x_taxiihub_personal_data": "allow", "x_taxiihub_no_onward_sharing": false,
		} {
			if coll[k] != want {
				t.Errorf("collection resource %s = %v, want %v", k, coll[k], want)
			}
		}
		for _, k := range []string{"x_taxiihub_jurisdictions", "x_taxiihub_allowed_types", "x_taxiihub_denied_properties"} {
			if list, _ := coll[k].([]any); len(list) == 0 {
				t.Errorf("collection resource lacks %s: %s", k, r.body)
			}
		}
		var colls taxii.Collections
		h.hub.get("/eu-japan/collections/", h.tokens["jpcert-cc"]).json(t, &colls)
		for _, c := range colls.Collections {
			if c.Alias == "members" {
				// The hub's, read-only and for identities only.
				if c.CanWrite || !c.CanRead || !slices.Equal(c.AllowedTypes, []string{"identity"}) || c.Clearance != "amber" {
					t.Errorf("eu-japan members collection %+v", c)
				}
				continue
			}
			if c.TLPMax != "amber" || c.Clearance != "amber" || c.Direction != "two-way" || !c.CanRead || !c.CanWrite {
				t.Errorf("eu-japan collection %+v", c)
			}
		}
		h.hub.get("/eu-china-cyber/collections/", h.tokens["cncert-cc"]).json(t, &colls)
		for _, c := range colls.Collections {
			if c.PersonalData != "reject" || !c.NoOnwardSharing {
				t.Errorf("eu-china-cyber collection %+v", c)
			}
		}
	})
}

// TestJurisdictionRefusedOnJoin: the EU-only exchange refuses members from elsewhere, by membership
// or by grant, and a rule that would exclude a present member.
func TestJurisdictionRefusedOnJoin(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		body := h.refused("CNCERT/CC joins", h.call("PUT", "/admin/partnerships/eu-immigration-ct/memberships/cncert-cc/",
			map[string]string{"role": "reader"}), http.StatusConflict, "conflict")
		if !strings.Contains(body.Description, "established in CN") {
			t.Errorf("refusal %q does not say why", body.Description)
		}
		h.refused("JPCERT/CC granted", h.call("PUT", "/admin/partnerships/eu-immigration-ct/collections/administrative-records/grants/jpcert-cc/",
			map[string]bool{"read": true}), http.StatusConflict, "conflict")
		body = h.refused("a rule excluding present members", h.call("PUT", "/admin/partnerships/eu-immigration-ct/policy/",
			admin.PartnershipPolicy{Jurisdictions: []string{"EU"}}), http.StatusConflict, "conflict")
		if !slices.Contains(body.Details.Problems, "nl-ind (NL)") {
			t.Errorf("refusal %+v does not name nl-ind", body)
		}
		var ms struct{ Memberships []admin.Membership }
		h.ok("memberships", h.call("GET", "/admin/partnerships/eu-immigration-ct/memberships/", nil), 200, &ms)
		if len(ms.Memberships) != 4 {
			t.Errorf("memberships %+v, want the four EU members alone", ms.Memberships)
		}
	})
}

// TestDryRun: dry_run=true answers the status the real request gets and stores nothing.
func TestDryRun(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		japan := collectionPath("eu-japan", "cyber-threats")
		objs := envelope(sdo("indicator", 1, indicatorOf(1)), marked(2, tlp2Red), sdo("indicator", 1, indicatorOf(1)))
		dry := h.hub.post(japan+"objects/?dry_run=true", h.tokens["cert-eu"], objs)
		if dry.status != http.StatusOK {
			t.Fatalf("dry run: %d %s", dry.status, dry.body)
		}
		var dst taxii.Status
		dry.json(t, &dst)
		if r := h.hub.get(japan+"objects/", h.tokens["cert-eu"]); !strings.Contains(string(r.body), `"objects":[]`) {
			t.Errorf("a dry run stored objects: %s", r.body)
		}
		if r := h.hub.get("/eu-japan/status/"+dst.ID+"/", h.tokens["cert-eu"]); r.status != http.StatusNotFound {
			t.Errorf("a dry run's status was kept: %d", r.status)
		}
		var entries struct{ Entries []admin.LedgerEntry }
		h.ok("ledger", h.call("GET", "/admin/ledger/", nil), 200, &entries)
		for _, e := range entries.Entries {
			if e.Kind == "publish" {
				t.Errorf("a dry run is in the ledger: %+v", e)
			}
		}
		real := postStatus(t, h.hub, japan, h.tokens["cert-eu"], sdo("indicator", 1, indicatorOf(1)), marked(2, tlp2Red), sdo("indicator", 1, indicatorOf(1)))
		strip := func(st taxii.Status) taxii.Status { st.ID, st.RequestTimestamp = "", ""; return st }
		if a, b := strip(dst), strip(real); !equalJSON(a, b) {
			t.Errorf("dry run and real request differ:\n dry %+v\nreal %+v", a, b)
		}
		if dst.SuccessCount != 2 || dst.FailureCount != 1 {
			t.Errorf("dry run status %+v", dst)
		}
		h.hub.post(japan+"objects/?dry_run=maybe", h.tokens["cert-eu"], objs)
		checkError(t, "dry_run=maybe", h.hub.post(japan+"objects/?dry_run=maybe", h.tokens["cert-eu"], objs), http.StatusBadRequest)
	})
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestClearancesPullExactly: members with different clearances pull the same collection page by page
// and each sees exactly the objects it may see, with more and next exact.
func TestClearancesPullExactly(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		japan := collectionPath("eu-japan", "cyber-threats")
		h.ok("jpcert-cc to green", h.call("PUT", "/admin/partnerships/eu-japan/memberships/jpcert-cc/",
			map[string]string{"role": "both", "clearance": "green"}), 200, nil)
		markings := []string{"", tlp1White, tlp2Clear, tlp2Green, tlp1Amber, tlp2Amber}
		levels := map[string]int{"": 0, tlp1White: 1, tlp2Clear: 1, tlp2Green: 2, tlp1Amber: 3, tlp2Amber: 3}
		var objs []string
		want := map[int][]string{}
		for i := range 24 {
			m := markings[i%len(markings)]
			if m == "" {
				objs = append(objs, sdo("indicator", i, indicatorOf(i)))
			} else {
				objs = append(objs, sdo("indicator", i, indicatorOf(i)+`,"object_marking_refs":["`+m+`"]`))
			}
			for _, clearance := range []int{2, 3} {
				if levels[m] <= clearance {
					want[clearance] = append(want[clearance], stixID("indicator", i))
				}
			}
		}
		if st := postStatus(t, h.hub, japan, h.tokens["cert-eu"], objs...); st.SuccessCount != 24 {
			t.Fatalf("publish: %+v", st)
		}
		for member, clearance := range map[string]int{"jpcert-cc": 2, "cert-eu": 3} {
			for _, endpoint := range []string{"objects/", "manifest/"} {
				var got []string
				path := japan + endpoint + "?limit=5"
				for pages := 0; ; pages++ {
					r := h.hub.get(path, h.tokens[member])
					var page struct {
						More    bool              `json:"more"`
						Next    string            `json:"next"`
						Objects []json.RawMessage `json:"objects"`
					}
					r.json(t, &page)
					for _, o := range page.Objects {
						var x struct{ ID string }
						json.Unmarshal(o, &x)
						got = append(got, x.ID)
					}
					if page.More != (len(got) < len(want[clearance])) || len(page.Objects) > 5 || (page.More && len(page.Objects) != 5) {
						t.Errorf("%s %s page %d: %d objects, more %v, after %d of %d", member, endpoint, pages, len(page.Objects), page.More, len(got), len(want[clearance]))
					}
					if !page.More {
						break
					}
					path = japan + endpoint + "?limit=5&next=" + page.Next
				}
				if !slices.Equal(got, want[clearance]) {
					t.Errorf("%s (clearance %d) %s: got %v, want %v", member, clearance, endpoint, got, want[clearance])
				}
			}
		}
		// An object wholly above a reader's clearance does not exist for it.
		amber := stixID("indicator", 4)
		checkError(t, "above clearance", h.hub.get(japan+"objects/"+amber+"/", h.tokens["jpcert-cc"]), http.StatusNotFound)
		checkError(t, "above clearance, versions", h.hub.get(japan+"objects/"+amber+"/versions/", h.tokens["jpcert-cc"]), http.StatusNotFound)
		if r := h.hub.get(japan+"objects/"+amber+"/", h.tokens["cert-eu"]); r.status != http.StatusOK {
			t.Errorf("within clearance: %d", r.status)
		}
	})
}

// TestWithdrawalReachesPollers: a withdrawn object reaches pollers as a revoked version marked
// x_taxiihub_withdrawn, in objects and manifest, and only its publisher may withdraw it.
func TestWithdrawalReachesPollers(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		japan := collectionPath("eu-japan", "cyber-threats")
		id := stixID("indicator", 7)
		v2 := strings.Replace(sdo("indicator", 7, indicatorOf(7)), `"modified":"2026-01-01T00:00:00.000Z"`, `"modified":"2026-02-01T00:00:00.000Z"`, 1)
		postStatus(t, h.hub, japan, h.tokens["cert-eu"], sdo("indicator", 7, indicatorOf(7)), v2)
		first := h.hub.get(japan+"objects/", h.tokens["jpcert-cc"])
		last := first.header.Get("X-TAXII-Date-Added-Last")

		checkError(t, "withdrawal by another member", h.hub.post(japan+"objects/"+id+"/withdraw/", h.tokens["jpcert-cc"], nil), http.StatusNotFound)
		r := h.hub.post(japan+"objects/"+id+"/withdraw/", h.tokens["cert-eu"], nil)
		if r.status != http.StatusOK {
			t.Fatalf("withdraw: %d %s", r.status, r.body)
		}
		again := h.hub.post(japan+"objects/"+id+"/withdraw/", h.tokens["cert-eu"], nil)
		if again.status != http.StatusOK || !bytes.Equal(again.body, r.body) {
			t.Errorf("withdraw again: %d %s, want %s", again.status, again.body, r.body)
		}

		// A poller resuming after what it last saw receives the tombstone.
		var env struct {
			Objects []map[string]any `json:"objects"`
		}
		h.hub.get(japan+"objects/?added_after="+last, h.tokens["jpcert-cc"]).json(t, &env)
		if len(env.Objects) != 1 || env.Objects[0]["id"] != id || env.Objects[0]["revoked"] != true ||
			env.Objects[0]["x_taxiihub_withdrawn"] != true || env.Objects[0]["modified"] == "2026-02-01T00:00:00.000Z" {
			t.Errorf("poller after the withdrawal got %+v", env.Objects)
		}
		var m taxii.Manifest
		h.hub.get(japan+"manifest/", h.tokens["jpcert-cc"]).json(t, &m)
		if len(m.Objects) != 1 || !m.Objects[0].Withdrawn {
			t.Errorf("manifest %+v, want one withdrawn record", m.Objects)
		}
		var vs taxii.Versions
		h.hub.get(japan+"objects/"+id+"/versions/", h.tokens["jpcert-cc"]).json(t, &vs)
		if len(vs.Versions) != 1 {
			t.Errorf("versions after withdrawal %v, want the tombstone's alone", vs.Versions)
		}
	})
}

// TestLedgerAttributesPublishesAndPulls: every publish and pull is in the ledger with member and
// token; a publisher sees who pulled its objects, and nothing of others'; the chain verifies.
func TestLedgerAttributesPublishesAndPulls(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		japan := collectionPath("eu-japan", "cyber-threats")
		postStatus(t, h.hub, japan, h.tokens["cert-eu"], sdo("indicator", 1, indicatorOf(1)), marked(9, tlp2Red))
		postStatus(t, h.hub, japan, h.tokens["jpcert-cc"], sdo("indicator", 2, indicatorOf(2)))
		h.hub.get(japan+"objects/", h.tokens["jpcert-cc"])
		h.hub.get(japan+"manifest/", h.tokens["cert-eu"])

		var mine struct {
			More  bool                `json:"more"`
			Pulls []admin.LedgerEntry `json:"pulls"`
		}
		h.hub.get("/eu-japan/pulls/", h.tokens["cert-eu"]).json(t, &mine)
		if len(mine.Pulls) != 2 {
			t.Fatalf("pulls of cert-eu's objects: %+v", mine)
		}
		if p := mine.Pulls[0]; p.Member != "jpcert-cc" || p.TokenID == "" || p.Endpoint != "objects" || len(p.Items) != 1 || p.Items[0].ID != stixID("indicator", 1) {
			t.Errorf("jpcert-cc's pull as cert-eu sees it: %+v", p)
		}
		checkError(t, "pulls with an unknown parameter", h.hub.get("/eu-japan/pulls/?match[id]=x", h.tokens["cert-eu"]), http.StatusBadRequest)
		checkError(t, "pulls in a partnership the caller is not in", h.hub.get("/eu-immigration-ct/pulls/", h.tokens["cert-eu"]), http.StatusNotFound)

		var entries struct{ Entries []admin.LedgerEntry }
		h.ok("ledger", h.call("GET", "/admin/ledger/?limit=1000", nil), 200, &entries)
		var kinds []string
		for _, e := range entries.Entries {
			kinds = append(kinds, e.Kind+" "+e.Member)
			if e.TokenID == "" {
				t.Errorf("entry %d names no token", e.Seq)
			}
		}
		if want := []string{"publish cert-eu", "publish jpcert-cc", "pull jpcert-cc", "pull cert-eu"}; !slices.Equal(kinds, want) {
			t.Errorf("ledger %v, want %v", kinds, want)
		}
		if v := entries.Entries[0].Items; len(v) != 2 || v[1].Verdict != "refused: tlp-above-ceiling" {
			t.Errorf("publish entry items %+v", v)
		}
		var v admin.LedgerVerification
		h.ok("verify", h.call("GET", "/admin/ledger/verify/", nil), 200, &v)
		if !v.OK || v.Entries != 4 {
			t.Errorf("verification %+v", v)
		}
		var all admin.PullPage
		h.ok("all pulls", h.call("GET", "/admin/ledger/pulls/?publisher=jpcert-cc", nil), 200, &all)
		if len(all.Entries) != 2 {
			t.Errorf("pulls of jpcert-cc's objects: %+v", all)
		}
	})
}

// TestStripStoresWithoutPersonalData: a partnership that strips personal data stores the object
// without it and says so in the status.
func TestStripStoresWithoutPersonalData(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		h.ok("strip", h.call("PUT", "/admin/partnerships/eu-china-cyber/policy/?confirm_weaken=true",
			admin.PartnershipPolicy{PersonalData: "strip", NoOnwardSharing: true}), 200, nil)
		china := collectionPath("eu-china-cyber", "indicators")
		st := postStatus(t, h.hub, china, h.tokens["cncert-cc"],
			sdo("indicator", 1, indicatorOf(1)+`,"description":"seen by jane@example.org, call +86 10 1234 5678"`),
			sco("email-addr", 2, `"value":"jane@example.org"`))
		if st.SuccessCount != 1 || !strings.Contains(st.Successes[0].Message, "[personal-data-removed] /description") {
			t.Errorf("status %+v", st)
		}
		if st.FailureCount != 1 || !strings.Contains(st.Failures[0].Message, "[personal-data] /type") {
			t.Errorf("an e-mail address object is refused whole even when stripping: %+v", st)
		}
		r := h.hub.get(china+"objects/"+stixID("indicator", 1)+"/", h.tokens["cert-eu"])
		if strings.Contains(string(r.body), "jane") || strings.Contains(string(r.body), "1234") || !strings.Contains(string(r.body), "[personal data removed]") {
			t.Errorf("stored object %s", r.body)
		}
	})
}

// TestDeepVerificationThroughTheAdminAPI: a hub used through its APIs verifies deeply, also against
// the heads it gave out; a checkpoint it no longer holds is named, and one that does not parse is
// refused.
func TestDeepVerificationThroughTheAdminAPI(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		japan := collectionPath("eu-japan", "cyber-threats")
		postStatus(t, h.hub, japan, h.tokens["cert-eu"], sdo("indicator", 1, indicatorOf(1)), sco("ipv4-addr", 2, `"value":"198.51.100.2"`))
		h.hub.get(japan+"objects/", h.tokens["jpcert-cc"])

		var heads admin.Heads
		h.ok("heads", h.call("GET", "/admin/ledger/heads/", nil), 200, &heads)
		if heads.Ledger.Seq != 2 || heads.Audit.Seq == 0 || heads.Ledger.Checkpoint == "" || heads.Audit.Checkpoint == "" {
			t.Fatalf("heads %+v", heads)
		}
		var v admin.DeepVerification
		h.ok("deep verification", h.call("GET", "/admin/ledger/verify/deep/?ledger_at="+url.QueryEscape(heads.Ledger.Checkpoint)+
			"&audit_at="+url.QueryEscape(heads.Audit.Checkpoint), nil), 200, &v)
		if !v.OK || v.Versions != 2 || v.ProblemCount != 0 || v.UnrecordedCount != 0 || v.Audit.Entries != heads.Audit.Seq {
			t.Errorf("deep verification of a hub used through its APIs: %+v", v)
		}
		rewritten := fmt.Sprintf("1:%064x", 1)
		h.ok("deep verification against another hash", h.call("GET", "/admin/ledger/verify/deep/?ledger_at="+rewritten, nil), 200, &v)
		if v.OK || v.Ledger.OK || v.Ledger.BrokenAt != 1 {
			t.Errorf("deep verification against a hash the ledger does not hold: %+v", v)
		}
		r := h.call("GET", "/admin/ledger/verify/deep/?audit_at=nonsense", nil)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "audit checkpoint") {
			t.Errorf("a checkpoint that does not parse: %d %s", r.status, r.body)
		}
	})
}

// TestRuleChangesArePatchesAndWeakeningsNeedConfirmation: PATCH changes only the rules it names and
// null clears one; a change that weakens a rule answers 409 weakens-rules naming each weakening,
// and passes with confirm_weaken=true; the same holds for PUT and for removing a membership.
func TestRuleChangesArePatchesAndWeakeningsNeedConfirmation(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		const policy = "/admin/partnerships/eu-immigration-ct/policy/"
		var before, after admin.Partnership
		h.ok("strengthen", h.call("PATCH", policy, map[string]any{"personal_data": "reject"}), 200, &before)
		h.ok("narrow nothing", h.call("PATCH", policy, map[string]any{"no_onward_sharing": true}), 200, &after)
		if after.Policy.PersonalData != "reject" || !slices.Equal(after.Policy.Jurisdictions, before.Policy.Jurisdictions) ||
			len(after.Policy.Jurisdictions) == 0 || !after.Policy.NoOnwardSharing {
			t.Errorf("a patch of one rule changed others: %+v → %+v", before.Policy, after.Policy)
		}
		body := h.refused("weaken by patch", h.call("PATCH", policy, map[string]any{"personal_data": "allow", "jurisdictions": nil}),
			http.StatusConflict, "weakens-rules")
		if len(body.Details.Problems) != 2 || !strings.Contains(body.Details.Problems[0], "personal data reject → allow") ||
			!strings.Contains(body.Details.Problems[1], "jurisdiction rule removed") {
			t.Errorf("refusal %+v does not name both weakenings", body)
		}
		h.refused("weaken by PUT", h.call("PUT", policy, admin.PartnershipPolicy{PersonalData: "reject", Jurisdictions: after.Policy.Jurisdictions}),
			http.StatusConflict, "weakens-rules")
		h.refused("a patch naming no rule", h.call("PATCH", policy, map[string]any{"personal": "reject"}), http.StatusBadRequest, "invalid-request")
		var confirmed admin.Partnership // decoded fresh: omitted rules must not keep earlier values
		h.ok("weaken confirmed", h.call("PATCH", policy+"?confirm_weaken=true", map[string]any{"no_onward_sharing": false}), 200, &confirmed)
		if confirmed.Policy.NoOnwardSharing || confirmed.Policy.PersonalData != "reject" {
			t.Errorf("after the confirmed patch: %+v", confirmed.Policy)
		}

		const coll = "/admin/partnerships/eu-immigration-ct/collections/administrative-records/policy/"
		var c admin.Collection
		h.ok("set a ceiling", h.call("PATCH", coll, map[string]any{"tlp_max": "green"}), 200, &c)
		if c.Policy.TLPMax != "green" || len(c.Policy.AllowedTypes) == 0 || len(c.Policy.DeniedProperties) == 0 {
			t.Errorf("a ceiling patch changed other rules: %+v", c.Policy)
		}
		h.refused("clear the ceiling", h.call("PATCH", coll, map[string]any{"tlp_max": nil}), http.StatusConflict, "weakens-rules")
		var cleared admin.Collection
		h.ok("clear the ceiling confirmed", h.call("PATCH", coll+"?confirm_weaken=true", map[string]any{"tlp_max": nil}), 200, &cleared)
		if cleared.Policy.TLPMax != "" || len(cleared.Policy.AllowedTypes) == 0 {
			t.Errorf("after clearing tlp_max: %+v", cleared.Policy)
		}

		const membership = "/admin/partnerships/eu-immigration-ct/memberships/europol-ectc/"
		h.refused("a reader made publisher", h.call("PATCH", membership, map[string]any{"role": "both"}), http.StatusConflict, "weakens-rules")
		h.refused("a reader's membership removed", h.call("DELETE", membership, nil), http.StatusConflict, "weakens-rules")
		h.ok("removed, confirmed", h.call("DELETE", membership+"?confirm_weaken=true", nil), 200, nil)

		var audit struct{ Entries []admin.AuditEntry }
		h.ok("audit", h.call("GET", "/admin/audit/?limit=1000", nil), 200, &audit)
		last := audit.Entries[len(audit.Entries)-1]
		if last.Action != "membership.delete" || !strings.Contains(last.Before, `"role":"reader"`) {
			t.Errorf("the audit entry of the removal does not keep what was removed: %+v", last)
		}
	})
}
