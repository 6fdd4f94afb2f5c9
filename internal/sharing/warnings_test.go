package sharing

import (
	"encoding/json"
	"strings"
	"testing"

	"taxiihub/internal/store"
)

// TestStatusCarriesWarnings publishes what the validator accepts with warnings: an indicator
// whose pattern cannot match, and MISP-style custom properties in mixed case. Both are stored,
// and the status says why each was warned about, with the warnings' codes.
func TestStatusCarriesWarnings(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "cert-eu", read: true, write: true})
	wrongFamily := json.RawMessage(strings.Replace(string(indicator(1, "")), "ipv4-addr:value = '198.51.100.1'", "ipv4-addr:value = '2001:db8::1'", 1))
	misp := indicator(2, `,"x_misp_category":"Network activity","x_misp_IDS_flag":true`)
	st, err := f.svc.Publish(t.Context(), f.access(t, "cert-eu"), []json.RawMessage{wrongFamily, misp}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Successes) != 2 || len(st.Failures) != 0 {
		t.Fatalf("successes %+v, failures %+v", st.Successes, st.Failures)
	}
	for i, want := range []string{"[pattern-value] /pattern", "[property-name-case] /x_misp_IDS_flag"} {
		if msg := st.Successes[i].Message; !strings.Contains(msg, want) {
			t.Errorf("status of %s says %q, want %q in it", st.Successes[i].ID, msg, want)
		}
	}
}
