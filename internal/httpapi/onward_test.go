package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"taxiihub/internal/store"
)

// cncertPattern is the pattern of the indicator CNCERT/CC shares in the EU–China taskforce, which
// forbids onward sharing; the rows below are CERT-EU's attempts to pass it on into EU–Japan.
const cncertPattern = `[ipv4-addr:value = '203.0.113.9'] AND [network-traffic:dst_port = 3]`

func cncertIndicator(n int, name, pattern, extra string) string {
	body := `"name":` + quoteJSON(name) + `,"labels":["c2","apt"],"pattern":` + quoteJSON(pattern) +
		`,"pattern_type":"stix","valid_from":"2026-01-01T00:00:00.000Z"`
	if extra != "" {
		body += "," + extra
	}
	return sdo("indicator", n, body)
}

func quoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestOnwardSharingBypasses posts, as CERT-EU into EU–Japan, every variant of CNCERT/CC's
// EU–China indicator a partner tried, each beside a valid neighbour: every variant is refused and
// every neighbour stored; then the same after CERT-EU's grants in EU–China are removed; then what
// CERT-EU could not have received, its own content, and an attested variant, which are stored, the
// attestation showing among CNCERT/CC's pulls.
func TestOnwardSharingBypasses(t *testing.T) {
	backends(t, func(t *testing.T, open func(*testing.T) store.Store) {
		h := newExampleHub(t, open(t))
		china := collectionPath("eu-china-cyber", "indicators")
		japan := collectionPath("eu-japan", "cyber-threats")
		original := cncertIndicator(500, "Café relay", cncertPattern, "")
		postStatus(t, h.hub, china, h.tokens["cncert-cc"], original)
		postStatus(t, h.hub, china, h.tokens["cert-eu"], sdo("indicator", 501, indicatorOf(501)))
		if r := h.hub.get(china+"objects/", h.tokens["cert-eu"]); r.status != http.StatusOK {
			t.Fatalf("pull: %d %s", r.status, r.body)
		}
		// Published after CERT-EU's last pull: it could not have received it.
		postStatus(t, h.hub, china, h.tokens["cncert-cc"], sdo("indicator", 502, indicatorOf(502)))

		embedded := sdo("note", 510, `"content":"for your information","object_refs":["`+stixID("indicator", 501)+`"],"x_original":`+original)
		embeddedString := sdo("note", 511, `"content":"fyi","object_refs":["`+stixID("indicator", 501)+`"],"x_original":`+quoteJSON(original))
		variants := []struct{ name, object string }{
			{"the same object", original},
			{"whitespace inside the pattern", cncertIndicator(520, "Café relay", "[ ipv4-addr:value='203.0.113.9' ]\n  AND   [network-traffic:dst_port  =  3]", "")},
			{"a trailing space in the name", cncertIndicator(521, "Café relay ", cncertPattern, "")},
			{"upper-case letters in the name", cncertIndicator(522, "CAFÉ RELAY", cncertPattern, "")},
			{"NFD instead of NFC", cncertIndicator(523, norm.NFD.String("Café relay"), cncertPattern, "")},
			{"re-ordered labels", strings.Replace(cncertIndicator(524, "Café relay", cncertPattern, ""), `["c2","apt"]`, `["apt","c2"]`, 1)},
			{"an extra label", strings.Replace(cncertIndicator(525, "Café relay", cncertPattern, ""), `["c2","apt"]`, `["c2","apt","eu"]`, 1)},
			{"valid_from moved by 1 ms", strings.Replace(cncertIndicator(526, "Café relay", cncertPattern, ""), `"valid_from":"2026-01-01T00:00:00.000Z"`, `"valid_from":"2026-01-01T00:00:00.001Z"`, 1)},
			{"3 written as 3.0", cncertIndicator(527, "Café relay", strings.Replace(cncertPattern, "= 3", "= 3.0", 1), "")},
			{"added kill_chain_phases", cncertIndicator(528, "Café relay", cncertPattern, `"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"command-and-control"}]`)},
			{"the operands of AND swapped", cncertIndicator(529, "Café relay", "[network-traffic:dst_port = 3] AND [ipv4-addr:value = '203.0.113.9']", "")},
			{"the whole original in an x_ property of a new note", embedded},
			{"the whole original as a string in an x_ property", embeddedString},
		}
		n := 600
		neighbour := func() (string, string) {
			n++
			return sdo("indicator", n, indicatorOf(n)), stixID("indicator", n)
		}
		refusedAll := func(when string) {
			t.Helper()
			for _, v := range variants {
				obj, nid := neighbour()
				st := postStatus(t, h.hub, japan, h.tokens["cert-eu"], v.object, obj)
				got := reasons(st)
				id := idOf(t, v.object)
				if !slices.Equal(got[id], []string{"[onward-sharing]"}) {
					t.Errorf("%s, %s: %v, want refused for onward sharing", when, v.name, got[id])
				}
				if !slices.Equal(got[nid], []string{"stored"}) {
					t.Errorf("%s, %s: the valid neighbour: %v", when, v.name, got[nid])
				}
				for _, f := range st.Failures {
					if strings.Contains(f.Message, "china") || strings.Contains(f.Message, "cncert") {
						t.Errorf("%s, %s: the refusal names what it must not: %q", when, v.name, f.Message)
					}
				}
			}
		}
		refusedAll("with grants")

		// Content once received stays received: CERT-EU's grants in EU–China go.
		for _, coll := range []string{"indicators", "incidents"} {
			h.ok("revoke "+coll, h.call("DELETE", "/admin/partnerships/eu-china-cyber/collections/"+coll+"/grants/cert-eu/", nil), 200, nil)
		}
		refusedAll("after its grants were removed")

		stored := []struct{ name, object string }{
			{"content published after CERT-EU's last pull", sdo("indicator", 530, indicatorOf(502))},
			{"CERT-EU's own content", sdo("indicator", 531, indicatorOf(501))},
		}
		for _, s := range stored {
			st := postStatus(t, h.hub, japan, h.tokens["cert-eu"], s.object)
			if got := reasons(st)[idOf(t, s.object)]; !slices.Equal(got, []string{"stored"}) {
				t.Errorf("%s: %v, want stored", s.name, got)
			}
		}

		// CERT-EU holds the intelligence independently, and says so. A dry run answers as the real
		// request would and records no attestation (the count below is of the real one).
		attested := cncertIndicator(540, "Café relay", cncertPattern, "")
		if r := h.hub.post(japan+"objects/?dry_run=true&x-taxiihub-attest=independent", h.tokens["cert-eu"], envelope(attested)); r.status != http.StatusOK ||
			!strings.Contains(string(r.body), `"success_count":1`) {
			t.Errorf("attested dry run: %d %s", r.status, r.body)
		}
		r := h.hub.post(japan+"objects/?x-taxiihub-attest=independent", h.tokens["cert-eu"], envelope(attested))
		if r.status != http.StatusAccepted || !strings.Contains(string(r.body), `"success_count":1`) {
			t.Fatalf("attested post: %d %s", r.status, r.body)
		}
		if strings.Contains(string(r.body), "china") || strings.Contains(string(r.body), "cncert") {
			t.Errorf("the attested post's status names what it must not: %s", r.body)
		}
		if r := h.hub.post(japan+"objects/?x-taxiihub-attest=yes", h.tokens["cert-eu"], envelope(attested)); r.status != http.StatusBadRequest {
			t.Errorf("an attestation with another value: %d %s, want 400", r.status, r.body)
		}
		var pulls struct {
			Pulls []struct {
				Kind     string `json:"kind"`
				Member   string `json:"member"`
				Endpoint string `json:"endpoint"`
				Items    []struct {
					ID          string `json:"id"`
					Fingerprint string `json:"fingerprint"`
				} `json:"items"`
			} `json:"pulls"`
		}
		r = h.hub.get("/eu-china-cyber/pulls/", h.tokens["cncert-cc"])
		if r.status != http.StatusOK {
			t.Fatalf("pulls: %d %s", r.status, r.body)
		}
		r.json(t, &pulls)
		var attests int
		for _, p := range pulls.Pulls {
			if p.Kind == "attest" && p.Member == "cert-eu" && p.Endpoint == "eu-japan" && len(p.Items) == 1 {
				attests++
			}
		}
		if attests != 1 {
			t.Errorf("CNCERT/CC sees %d attestations by CERT-EU among its pulls, want 1: %s", attests, r.body)
		}
	})
}

// idOf is the id of a STIX object given as JSON.
func idOf(t *testing.T, object string) string {
	t.Helper()
	i := strings.Index(object, `"id":"`)
	if i < 0 {
		t.Fatalf("no id in %s", object)
	}
	rest := object[i+len(`"id":"`):]
	return rest[:strings.IndexByte(rest, '"')]
}
