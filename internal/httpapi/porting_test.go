package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"taxiihub/internal/admin"
)

// TestExportImportRoutes: both routes are the operator's alone; an export answers the export
// media type and imports into a new hub, which then refuses a second import; an import body of
// another type, or a cut-off one, is refused with the reason.
func TestExportImportRoutes(t *testing.T) {
	src := newAdminHub(t, openSQLite(t))
	src.member("cert-eu")
	src.refused("partner token on export", src.call("POST", "/admin/export/", nil, src.token("cert-eu")), 401, "unauthenticated")
	src.refused("partner token on import", src.call("POST", "/admin/import/", nil, src.token("cert-eu")), 401, "unauthenticated")

	exp := src.call("POST", "/admin/export/", nil)
	if exp.status != http.StatusOK || exp.header.Get("Content-Type") != admin.ExportMediaType {
		t.Fatalf("export: %d %s: %.200s", exp.status, exp.header.Get("Content-Type"), exp.body)
	}
	er, err := admin.NewExportReader(bytes.NewReader(exp.body))
	if err != nil {
		t.Fatalf("the export does not read: %v", err)
	}
	er.Close()

	dst := newAdminHub(t, openSQLite(t))
	post := func(body []byte, contentType string) response {
		req, err := http.NewRequestWithContext(t.Context(), "POST", dst.srv.URL+"/admin/import/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+dst.operator)
		req.Header.Set("Content-Type", contentType)
		resp, err := dst.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return response{status: resp.StatusCode, header: resp.Header, body: b.Bytes()}
	}
	dst.refused("JSON body", post(exp.body, "application/json"), 415, "unsupported-media-type")
	dst.refused("cut off", post(exp.body[:len(exp.body)/2], admin.ExportMediaType), 400, "invalid-request")
	if r := post(exp.body, admin.ExportMediaType); r.status != http.StatusOK || !strings.Contains(string(r.body), `"member":1`) {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	dst.refused("second import", post(exp.body, admin.ExportMediaType), 409, "conflict")
}
