package httpapi_test

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"taxiihub/internal/httpapi"
	"taxiihub/internal/sharing"
)

type convertAnswer struct {
	Status struct {
		ID           string `json:"id"`
		SuccessCount int    `json:"success_count"`
		FailureCount int    `json:"failure_count"`
	} `json:"status"`
	Counts map[string]int        `json:"counts"`
	Lines  []sharing.LineVerdict `json:"lines"`
}

// sixDefanged is the analysts' example: six defanged IOCs, a comment and a line that is none.
const sixDefanged = `# phishing wave 2, shared with eu-japan
hxxps://login-ministry[.]example[.]com/auth
198[.]51[.]100[.]23
hr-department[at]login-ministry[.]example[.]com
2001:db8::bad
44D88612FEA8A8F36DE82E1278ABB02F
invoice.pdf
CVE-2023-4966
`

func (h *hub) convert(t *testing.T, path, token, contentType, body string) (int, convertAnswer) {
	t.Helper()
	r := h.do(request{method: http.MethodPost, path: path, token: token, body: []byte(body),
		headers: map[string]string{"Content-Type": contentType, "Accept": "*/*"}})
	var a convertAnswer
	if r.status < 300 {
		r.json(t, &a)
	}
	return r.status, a
}

func TestConvertEndpointPublishesLineByLine(t *testing.T) {
	h := newHub(t, openSQLite(t))
	h.root("eu-japan")
	c := h.collection("eu-japan", "Indicators")
	tok := h.partner("cert-eu")
	h.grant("cert-eu", "eu-japan", c, true, true)
	path := "/eu-japan/collections/" + c + "/" + httpapi.ConvertPath + "/?tlp=green"

	status, a := h.convert(t, path+"&dry_run=true", tok, "text/plain", sixDefanged)
	if status != http.StatusOK || a.Counts[sharing.VerdictStored] != 6 {
		t.Fatalf("dry run: %d %+v", status, a)
	}
	if got := h.get("/eu-japan/collections/"+c+"/objects/", tok); strings.Contains(string(got.body), "indicator--") {
		t.Fatalf("the dry run stored objects: %s", got.body)
	}

	status, a = h.convert(t, path, tok, "text/plain", sixDefanged)
	if status != http.StatusAccepted {
		t.Fatalf("status %d", status)
	}
	want := []struct {
		line    int
		verdict string
		code    string
	}{{2, "stored", ""}, {3, "stored", ""}, {4, "stored", ""}, {5, "stored", ""}, {6, "stored", ""}, {7, "refused", "ambiguous"}, {8, "stored", ""}}
	if len(a.Lines) != len(want) {
		t.Fatalf("%d lines: %+v", len(a.Lines), a.Lines)
	}
	for i, w := range want {
		l := a.Lines[i]
		if l.Line != w.line || l.Verdict != w.verdict || l.Code != w.code || (w.verdict == "stored" && l.ID == "") {
			t.Errorf("line %d: %+v, want %+v", w.line, l, w)
		}
	}

	// The same list again stores nothing twice.
	_, again := h.convert(t, path, tok, "text/plain", sixDefanged)
	if again.Counts[sharing.VerdictAlreadyPresent] != 6 || again.Counts[sharing.VerdictStored] != 0 {
		t.Errorf("second submission: %+v", again.Counts)
	}
	for i := range again.Lines {
		if again.Lines[i].ID != a.Lines[i].ID {
			t.Errorf("line %d has another id the second time: %s, %s", a.Lines[i].Line, again.Lines[i].ID, a.Lines[i].ID)
		}
	}

	// A changed description is a new version of the same indicator.
	_, changed := h.convert(t, path+"&description=wave+3", tok, "text/plain", "198[.]51[.]100[.]23\n")
	if changed.Counts[sharing.VerdictStored] != 1 || changed.Lines[0].ID != a.Lines[1].ID {
		t.Fatalf("changed description: %+v", changed)
	}
	var versions struct{ Versions []string }
	h.get("/eu-japan/collections/"+c+"/objects/"+a.Lines[1].ID+"/versions/", tok).json(t, &versions)
	if len(versions.Versions) != 2 {
		t.Errorf("versions after a changed description: %v", versions.Versions)
	}
}

func TestConvertEndpointMISPAndRefusals(t *testing.T) {
	h := newHub(t, openSQLite(t))
	h.root("eu-japan")
	c := h.collection("eu-japan", "Indicators")
	tok := h.partner("cert-eu")
	other := h.partner("jpcert")
	h.grant("cert-eu", "eu-japan", c, true, true)
	h.grant("jpcert", "eu-japan", c, true, false)
	path := "/eu-japan/collections/" + c + "/" + httpapi.ConvertPath + "/"

	event, err := os.ReadFile("../convert/testdata/misp-event.json")
	if err != nil {
		t.Fatal(err)
	}
	status, a := h.convert(t, path, tok, "application/json", string(event))
	if status != http.StatusAccepted || a.Counts[sharing.VerdictStored] != 22 || a.Counts[sharing.VerdictRefused] != 2 || a.Counts[sharing.VerdictSkipped] != 2 {
		t.Errorf("MISP event: %d %+v", status, a.Counts)
	}
	for _, l := range a.Lines {
		if l.Verdict == sharing.VerdictRefused && l.Code == "" {
			t.Errorf("%s refused without a code: %+v", l.Where, l)
		}
	}
	// Every rule applies: a reader cannot publish; the member is taken from the token.
	if r := h.do(request{method: http.MethodPost, path: path, token: other, body: []byte("evil.com\n"),
		headers: map[string]string{"Content-Type": "text/plain"}}); r.status != http.StatusForbidden {
		t.Errorf("a member without write: %d %s", r.status, r.body)
	}
	for _, bad := range []struct{ query, contentType string }{
		{"?tlp=purple", "text/plain"}, {"?valid_for=soon", "text/plain"}, {"?member=jpcert", "text/plain"},
		{"", "image/png"}, {"?tlp=amber%2Bstrict&tlp_version=1", "text/plain"},
	} {
		r := h.do(request{method: http.MethodPost, path: path + bad.query, token: tok, body: []byte("evil.com\n"),
			headers: map[string]string{"Content-Type": bad.contentType}})
		if r.status != http.StatusBadRequest && r.status != http.StatusUnsupportedMediaType {
			t.Errorf("%s %s: %d %s", bad.query, bad.contentType, r.status, r.body)
		}
	}
	big := strings.Repeat("198.51.100.1\n", sharing.MaxConvertedObjects+1)
	if r := h.do(request{method: http.MethodPost, path: path, token: tok, body: []byte(big),
		headers: map[string]string{"Content-Type": "text/plain"}}); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a submission of too many objects: %d %s", r.status, r.body)
	}
	// A body over max_content_length sent without a length is cut at the limit and answered 413.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.srv.URL+path, io.MultiReader(strings.NewReader(strings.Repeat("# "+strings.Repeat("x", 1000)+"\n", 40<<10))))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := h.srv.Client().Do(req); err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a chunked body over the limit: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	garbage := strings.Repeat("x\n", sharing.MaxConvertedLines+1)
	if r := h.do(request{method: http.MethodPost, path: path, token: tok, body: []byte(garbage),
		headers: map[string]string{"Content-Type": "text/plain"}}); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a submission of too many refused lines: %d %s", r.status, r.body)
	}
}
