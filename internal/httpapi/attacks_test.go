package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"taxiihub/internal/identity"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// TestAPartnerWhoTries plays a partner who wants to harm another's content, with the example
// partnerships: each row is an attack, the answer it must get, and the victim's content checked
// unchanged afterwards, on both backends.
func TestAPartnerWhoTries(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		china := collectionPath("eu-china-cyber", "indicators")
		japan := collectionPath("eu-japan", "cyber-threats")
		records := collectionPath("eu-immigration-ct", "administrative-records")

		// The victims' content: CERT-EU's indicator in the EU–China taskforce, and an
		// administrative record Frontex shares one way.
		victim := sdo("indicator", 700, indicatorOf(700))
		victimID := stixID("indicator", 700)
		postStatus(t, h.hub, china, h.tokens["cert-eu"], victim)
		record := sdo("identity", 701, `"name":"Case file 701","identity_class":"organization"`)
		recordID := stixID("identity", 701)
		postStatus(t, h.hub, records, h.tokens["frontex"], record)

		newer := strings.Replace(sdo("indicator", 700, indicatorOf(999)), `"modified":"2026-01-01T00:00:00.000Z"`,
			`"modified":"2026-06-01T00:00:00.000Z"`, 1)
		forged := strings.Replace(newer, `"name"`, `"revoked":true,"x_taxiihub_withdrawn":true,"name"`, 1)
		sameVersionOtherContent := sdo("indicator", 700, indicatorOf(998))
		for _, row := range []struct {
			attack string
			member string
			path   string
			object string
			want   []string
		}{
			{"a newer version of another's object", "cncert-cc", china, newer, []string{"[not-owner] /id"}},
			{"a forged withdrawal", "cncert-cc", china, forged, []string{"[hub-property] /x_taxiihub_withdrawn"}},
			{"the same version with other content", "cncert-cc", china, sameVersionOtherContent, []string{"[not-owner] /id"}},
		} {
			got := reasons(postStatus(t, h.hub, row.path, h.tokens[row.member], row.object))[victimID]
			if !slices.Equal(got, row.want) {
				t.Errorf("%s: %v, want %v", row.attack, got, row.want)
			}
		}

		// Speaking for another member: its identity's id, or its identity as created_by_ref.
		certEU := identity.OfMember("cert-eu")
		impersonations := []struct{ member, object, id, want string }{
			{"cncert-cc", sdo("indicator", 706, indicatorOf(706)+`,"created_by_ref":"`+certEU+`"`), stixID("indicator", 706), "[not-creator] /created_by_ref"},
			{"cncert-cc", strings.Replace(sdo("identity", 0, `"name":"CERT-EU","identity_class":"organization"`), stixID("identity", 0), certEU, 1),
				certEU, "[member-identity] /id"},
			{"cert-eu", sdo("indicator", 707, indicatorOf(707)+`,"created_by_ref":"`+certEU+`"`), stixID("indicator", 707), "stored"},
			// JPCERT/CC takes no part in the EU–China taskforce: its identity is not checked there,
			// so posting cannot tell whether some member id exists elsewhere on the hub.
			{"cncert-cc", sdo("indicator", 708, indicatorOf(708)+`,"created_by_ref":"`+identity.OfMember("jpcert-cc")+`"`), stixID("indicator", 708), "stored"},
			{"cncert-cc", sdo("indicator", 709, indicatorOf(709)+`,"created_by_ref":"`+identity.OfMember("no-such-member")+`"`), stixID("indicator", 709), "stored"},
		}
		for _, im := range impersonations {
			if got := reasons(postStatus(t, h.hub, china, h.tokens[im.member], im.object))[im.id]; !slices.Equal(got, []string{im.want}) {
				t.Errorf("%s posting %s: %v, want %v", im.member, im.id, got, im.want)
			}
		}

		// An object judged on one value and stored with another: JSON keys given twice are refused.
		twice := []struct{ path, object, id, want string }{
			{china, sdo("indicator", 704, indicatorOf(704)+`,"description":"call +32 2 299 11 11","description":"clean"`),
				stixID("indicator", 704), "[duplicate-key] /description"},
			{japan, sdo("indicator", 705, indicatorOf(705)+`,"object_marking_refs":["`+tlp2Red+`"],"object_marking_refs":["`+tlp2Green+`"]`),
				stixID("indicator", 705), "[duplicate-key] /object_marking_refs"},
		}
		for _, d := range twice {
			if got := reasons(postStatus(t, h.hub, d.path, h.tokens["cert-eu"], d.object))[d.id]; !slices.Equal(got, []string{d.want}) {
				t.Errorf("a key given twice: %v, want %v", got, d.want)
			}
		}

		// Deleting another's object answers not-owner, and names nobody.
		del := h.hub.do(request{method: http.MethodDelete, path: china + "objects/" + victimID + "/?match[version]=all", token: h.tokens["cncert-cc"]})
		if e := checkError(t, "deleting another's object", del, http.StatusForbidden); e.ErrorCode != "not-owner" || strings.Contains(e.Description, "cert-eu") {
			t.Errorf("deleting another's object: %+v", e)
		}
		wantOnly(t, h, china, "cert-eu", victimID, victim)

		// Oracles: a member that may not read the collection gets one answer, whether the id is
		// another's (same content, or a new version of it) or new, in a dry run and for real; its
		// probes are in the ledger.
		nlIND := h.tokens["nl-ind"]
		probes := []string{record, strings.Replace(record, `"modified":"2026-01-01T00:00:00.000Z"`, `"modified":"2026-02-01T00:00:00.000Z"`, 1),
			sdo("identity", 702, `"name":"Case file 702","identity_class":"organization"`)}
		for _, dry := range []bool{true, false} {
			var answers []string
			for _, p := range probes {
				path := records + "objects/"
				want := http.StatusAccepted
				if dry {
					path += "?dry_run=true"
					want = http.StatusOK
				}
				r := h.hub.do(request{method: http.MethodPost, path: path, token: nlIND, body: envelope(p)})
				var st taxii.Status
				r.json(t, &st)
				if r.status != want || len(st.Successes) != 1 {
					t.Fatalf("nl-ind posting (dry run %v): %d %s", dry, r.status, r.body)
				}
				answers = append(answers, st.Successes[0].Message)
			}
			if answers[0] != answers[2] || answers[1] != answers[2] {
				t.Errorf("a member that may not read told apart another's object from a new one (dry run %v): %q", dry, answers)
			}
		}
		wantOnly(t, h, records, "europol-ectc", recordID, record)
		entries, err := h.store.Ledger(t.Context(), 0, store.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		var probed int
		for _, e := range entries {
			if e.Kind == store.LedgerProbe && e.Member == "nl-ind" {
				probed++
			}
		}
		if probed != len(probes) {
			t.Errorf("%d probe entries of nl-ind's dry runs, want %d", probed, len(probes))
		}

		// A withdrawal holds in its partnership: an observable CERT-EU withdraws from EU–Japan
		// stays open to JPCERT/CC there and to CERT-EU elsewhere, and no answer mentions it.
		domain := sco("domain-name", 703, `"value":"c2.example"`)
		domainID := stixID("domain-name", 703)
		postStatus(t, h.hub, japan, h.tokens["cert-eu"], domain)
		if r := h.hub.post(japan+"objects/"+domainID+"/withdraw/", h.tokens["cert-eu"], nil); r.status != http.StatusOK {
			t.Fatalf("withdraw: %d %s", r.status, r.body)
		}
		for _, at := range []struct{ member, path string }{{"jpcert-cc", japan}, {"cert-eu", china}} {
			if got := reasons(postStatus(t, h.hub, at.path, h.tokens[at.member], domain))[domainID]; !slices.Equal(got, []string{"stored"}) {
				t.Errorf("%s posting an observable CERT-EU withdrew elsewhere: %v", at.member, got)
			}
		}

		// The owner still deletes its own, and the deletion is recorded; a tombstone is not deletable.
		own := h.hub.do(request{method: http.MethodDelete, path: china + "objects/" + victimID + "/", token: h.tokens["cert-eu"]})
		if own.status != http.StatusOK {
			t.Errorf("the owner deleting its object: %d %s", own.status, own.body)
		}
		tomb := h.hub.do(request{method: http.MethodDelete, path: japan + "objects/" + domainID + "/?match[version]=all", token: h.tokens["cert-eu"]})
		checkError(t, "deleting a tombstone", tomb, http.StatusForbidden)
		entries, err = h.store.Ledger(t.Context(), 0, store.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		if last := entries[len(entries)-1]; last.Kind != store.LedgerDelete || last.Member != "cert-eu" || last.Items[0].ID != victimID {
			t.Errorf("the last ledger entry is %+v; want CERT-EU's deletion", last)
		}
	})
}

// wantOnly checks, as reader, that the collection holds object id in exactly one version, content.
func wantOnly(t *testing.T, h *exampleHub, path, reader, id, content string) {
	t.Helper()
	r := h.hub.get(path+"objects/"+id+"/?match[version]=all", h.tokens[reader])
	var env taxii.Envelope
	r.json(t, &env)
	if r.status != http.StatusOK || len(env.Objects) != 1 || string(env.Objects[0]) != content {
		t.Errorf("%s's object after the attacks: %d %s", id, r.status, r.body)
	}
}
