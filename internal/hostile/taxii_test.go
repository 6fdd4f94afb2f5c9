//go:build linux

package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	taxiiType = "application/taxii+json;version=2.1"
	// writer publishes to collection, in a partnership whose rules the test objects pass.
	writer     = "cert-eu"
	collection = "/eu-china-cyber/collections/indicators/"
)

// indicator is a valid STIX 2.1 indicator marked TLP:GREEN, distinct per run and n, with extra
// appended inside the object (properties, or a description).
func indicator(run string, n int, extra string) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%s-0000-4000-8000-%012x",`+
		`"created":"2026-03-01T10:00:00.000Z","modified":"2026-03-01T10:00:00.000Z","name":"hostile %s %d",`+
		`"indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix",`+
		`"valid_from":"2026-03-01T10:00:00.000Z","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]%s}`,
		run, n, run, n, n>>16&0xff, n>>8&0xff, n&0xff, extra)
}

// indicatorID is the id indicator gives.
func indicatorID(run string, n int) string {
	return fmt.Sprintf("indicator--%s-0000-4000-8000-%012x", run, n)
}

// runID is an id part unique to one envelope.
func runID() string { return fmt.Sprintf("%08x", uint32(time.Now().UnixNano())) }

// envelope joins objects into an add-objects body.
func envelope(objects ...string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"objects":[`)
	for i, o := range objects {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(o)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// answer is what the hub said.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string { return fmt.Sprintf("%d %.400s", a.status, a.body) }

// call makes one TAXII request as the member whose token is given ("" for none).
func call(t testing.TB, method, url, token string, body []byte) answer {
	t.Helper()
	a, err := try(t.Context(), method, url, token, body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// try is call for goroutines other than the test's: it returns what went wrong.
func try(ctx context.Context, method, url, token string, body []byte) (answer, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Accept", taxiiType)
	if body != nil {
		req.Header.Set("Content-Type", taxiiType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 5 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: read the answer: %w", method, url, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// status is the part of a TAXII status resource the tests read.
type status struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	TotalCount   int    `json:"total_count"`
	SuccessCount int    `json:"success_count"`
	FailureCount int    `json:"failure_count"`
	PendingCount int    `json:"pending_count"`
	Successes    []struct {
		ID string `json:"id"`
	} `json:"successes"`
	Failures []struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	} `json:"failures"`
}

func decodeStatus(t testing.TB, a answer) status {
	t.Helper()
	var st status
	if err := json.Unmarshal(a.body, &st); err != nil {
		t.Fatalf("the answer is not a status resource: %v: %s", err, a)
	}
	return st
}

// errorResource is the part of a TAXII error resource the tests read.
type errorResource struct {
	Title      string `json:"title"`
	ErrorCode  string `json:"error_code"`
	HTTPStatus string `json:"http_status"`
}

// requireTAXIIError checks that a is a TAXII error resource with the status and code.
func requireTAXIIError(t testing.TB, a answer, status int, code string) {
	t.Helper()
	var e errorResource
	if a.status != status || json.Unmarshal(a.body, &e) != nil || e.ErrorCode != code || e.HTTPStatus != strconv.Itoa(status) ||
		!strings.HasPrefix(a.header.Get("Content-Type"), "application/taxii+json") {
		t.Errorf("answer %s (%s); want %d with a TAXII error resource of code %s", a, a.header.Get("Content-Type"), status, code)
	}
}

// requireStored checks that each id can be read back from the collection by the writer.
func requireStored(t testing.TB, h *hub, token string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		a := call(t, http.MethodGet, h.URL()+collection+"objects/"+id+"/", token, nil)
		if a.status != http.StatusOK || !bytes.Contains(a.body, []byte(id)) {
			t.Errorf("acknowledged %s is not there: %s", id, a)
		}
	}
}
