package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestUsageErrorsBeforeAnyRequest: a missing required flag or an unreadable --ttl exits 2 naming
// the flag, and nothing reaches the hub; with --json the error is JSON on standard output.
func TestUsageErrorsBeforeAnyRequest(t *testing.T) {
	var requests atomic.Int64
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer hub.Close()
	tokenFile := writeFiles(t, "an operator token")[0]
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"partnership", "create", "x"}, []string{"--title"}},
		{[]string{"collection", "create", "eu-japan"}, []string{"--title"}},
		{[]string{"member", "add", "m1", "--name", "N"}, []string{"--jurisdiction"}},
		{[]string{"member", "add", "m1"}, []string{"--name", "--jurisdiction"}},
		{[]string{"token", "issue", "cert-eu", "--ttl", "5x"}, []string{"--ttl", `"5x"`}},
		{[]string{"token", "issue", "--operator", "--ttl", "-5d"}, []string{"--ttl", `"-5d"`}},
	} {
		name := strings.Join(tc.args, " ")
		status, stdout, stderr := runTool("", append(tc.args, "--url", hub.URL, "--token-file", tokenFile)...)
		if status != exitUsage || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q; want exit 2 and nothing on stdout", name, status, stdout)
		}
		first, _, _ := strings.Cut(stderr, "\n")
		for _, w := range tc.want {
			if !strings.Contains(first, w) {
				t.Errorf("%s: the error %q does not name %s", name, first, w)
			}
		}
		if strings.Count(stderr, "token lifetime") > 1 || strings.Contains(stderr, "outside") {
			t.Errorf("%s: more than one error about the lifetime:\n%s", name, stderr)
		}

		status, stdout, stderr = runTool("", append(tc.args, "--url", hub.URL, "--token-file", tokenFile, "--json")...)
		var got jsonError
		dec := json.NewDecoder(strings.NewReader(stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil || status != exitUsage || got.Error.Kind != "usage" || got.Error.Exit != exitUsage || stderr != "" {
			t.Errorf("%s --json: exit %d, %v, stdout %q, stderr %q; want the usage error as JSON on stdout", name, status, err, stdout, stderr)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached the hub", n)
	}
}

// TestJSONErrorsOnStdout: with --json the hub's refusals are JSON on standard output, with the
// hub's status and problems, and the exit status is unchanged; the hub, asked the same, gives one
// problem for an unreadable lifetime, not a second about its range.
func TestJSONErrorsOnStdout(t *testing.T) {
	h := startHub(t)
	status, stdout, stderr := h.ctl(t, "partnership", "show", "nowhere", "--json")
	var got jsonError
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || status != exitFailed || got.Error.Kind != "refused" ||
		got.Error.Status != http.StatusNotFound || !strings.Contains(got.Error.Message, "nowhere") || stderr != "" {
		t.Errorf("partnership show nowhere --json: exit %d, %v, stdout %q, stderr %q", status, err, stdout, stderr)
	}
	status, stdout, _ = runTool("", "member", "list", "--json", "--url", "http://127.0.0.1:1", "--token-file", h.tokenFile)
	got = jsonError{}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || status != exitUnreachable || got.Error.Kind != "unreachable" {
		t.Errorf("member list --json on no hub: exit %d, %v, stdout %q", status, err, stdout)
	}

	var problems []string
	c, err := h.connectForTest()
	if err != nil {
		t.Fatal(err)
	}
	err = c.call(http.MethodPost, "/admin/tokens/", map[string]string{"kind": "operator", "subject": "x", "ttl": "5x"}, nil)
	if refused, ok := err.(*refusedError); ok {
		problems = refused.body.Details.Problems
	}
	if len(problems) != 1 || !strings.Contains(problems[0], `"5x"`) {
		t.Errorf("the hub's problems with ttl 5x: %q; want exactly the one saying it cannot be read", problems)
	}
}

func (h testHub) connectForTest() (*hubClient, error) {
	inv := newInvocation("test", "", nil, nil, nil, nil)
	*inv.url, *inv.tokenFile = h.url, h.tokenFile
	return inv.connect()
}
