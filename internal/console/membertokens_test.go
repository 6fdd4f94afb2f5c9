//go:build linux

package console_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsoleMemberTokens checks the member admin's view of its tokens against a hub process: a
// partner token's holder (member admin of its member) finds the page in the navigation and sees
// its member's token record, active, and neither the token itself nor another member's token; the
// page needs a session.
func TestConsoleMemberTokens(t *testing.T) {
	partners := freeAddr(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	startHub(t, dataDir, []string{"TAXIIHUB_MEMBER_RATE=0"}, "--listen", partners,
		"--seed", filepath.Join("..", "..", "deploy", "examples", "partnerships.yaml"))
	token := func(member string) (raw, id string) {
		raw = strings.TrimSpace(readFile(t, filepath.Join(dataDir, "tokens", member+".jwt")))
		parts := strings.Split(raw, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			ID string `json:"jti"`
		}
		if err := json.Unmarshal(payload, &claims); err != nil || claims.ID == "" {
			t.Fatalf("token of %s has no id: %v", member, err)
		}
		return raw, claims.ID
	}
	euRaw, euID := token("cert-eu")
	_, jpID := token("jpcert-cc")

	c := newClient(t, "http://"+partners)
	if resp, _ := c.do(http.MethodPost, "/console/signin", url.Values{"token": {euRaw}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %s", resp.Status)
	}
	if _, home := c.do(http.MethodGet, "/console/", nil, nil); !strings.Contains(home, `<a href="/console/member/tokens">Our tokens</a>`) {
		t.Errorf("the navigation offers no link to the member's tokens:\n%s", home)
	}
	resp, page := c.do(http.MethodGet, "/console/member/tokens", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "<code>"+euID+"</code>") || !strings.Contains(page, "active") {
		t.Fatalf("cert-eu's tokens: %s, want its token %s active\n%s", resp.Status, euID, page)
	}
	if strings.Contains(page, jpID) || strings.Contains(page, euRaw) || strings.Contains(page, strings.Split(euRaw, ".")[2]) {
		t.Errorf("the page shows another member's token or the token itself:\n%s", page)
	}
	if resp, _ := newClient(t, "http://"+partners).do(http.MethodGet, "/console/member/tokens", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("without a session: %s, want 303 to sign in", resp.Status)
	}
}
