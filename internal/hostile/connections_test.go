//go:build linux

package hostile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// patience is how long a test waits for an answer the hub owes; only a hub that never answers
// meets it.
const patience = 60 * time.Second

// dial opens a raw connection to the hub from the given local address ("" for any).
func dial(t testing.TB, h *hub, from string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", h.addr)
	if err != nil {
		t.Fatalf("dial the hub from %q: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByHub reports whether the hub closed c: a read ends with the end of the stream or a reset
// before the deadline, rather than waiting for data.
func closedByHub(c net.Conn, wait time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err := io.Copy(io.Discard, c)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

// TestSlowHeadersAreCut: a client that starts a request and never finishes its headers has its
// connection closed by the hub.
func TestSlowHeadersAreCut(t *testing.T) {
	h := startHub(t, hubOptions{args: []string{"--read-header-timeout", "1s"}})
	c := dial(t, h, "")
	if _, err := io.WriteString(c, "GET /taxii2/ HTTP/1.1\r\nHost: hub\r\nAccept: "+taxiiType+"\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	// A byte at a time, as a slowloris client does, until the hub gives up on it.
	go func() {
		for {
			time.Sleep(200 * time.Millisecond)
			if _, err := c.Write([]byte("a")); err != nil {
				return
			}
		}
	}()
	if !closedByHub(c, patience) {
		t.Errorf("the hub still held a connection whose headers never ended after %s", patience)
	}
}

// trickle sends a POST's headers and then its body a byte at a time, until the hub answers or
// closes; it returns the hub's answer.
func trickle(t *testing.T, h *hub, token string) *http.Response {
	t.Helper()
	c := dial(t, h, "")
	head := "POST " + collection + "objects/ HTTP/1.1\r\nHost: hub\r\nAccept: " + taxiiType + "\r\nContent-Type: " + taxiiType +
		"\r\nContent-Length: 100000\r\n"
	if token != "" {
		head += "Authorization: Bearer " + token + "\r\n"
	}
	if _, err := io.WriteString(c, head+"\r\n{\"objects\":["); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			time.Sleep(100 * time.Millisecond)
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(patience))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a trickled body within %s: %v", patience, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	if !closedByHub(c, patience) {
		t.Errorf("the hub kept the connection of a trickled body open after answering %d", resp.StatusCode)
	}
	return resp
}

func answerOf(resp *http.Response) answer {
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// TestTrickledBodyWithoutTokenIsAnsweredAtOnce: without a token the hub answers 401 without reading
// the body, and closes the connection.
func TestTrickledBodyWithoutTokenIsAnsweredAtOnce(t *testing.T) {
	h := startHub(t, hubOptions{})
	a := answerOf(trickle(t, h, ""))
	requireTAXIIError(t, a, http.StatusUnauthorized, "unauthenticated")
}

// TestTrickledBodyWithTokenIsCut: a partner's body arriving below the minimum transfer rate is cut
// once the grace has passed, answered 408, and its connection closed.
func TestTrickledBodyWithTokenIsCut(t *testing.T) {
	h := startHub(t, hubOptions{args: []string{"--min-transfer-rate", "1024", "--transfer-grace", "1s"}})
	a := answerOf(trickle(t, h, h.token(writer)))
	requireTAXIIError(t, a, http.StatusRequestTimeout, "too-slow")
}

// TestIdleConnectionsFromOneAddressDoNotStarveAPartner opens three hundred idle connections from one
// address to a hub limited to 256 open files; a partner on another address must still be served,
// and the hub must hold no more of the attacker's connections than its per-address limit.
func TestIdleConnectionsFromOneAddressDoNotStarveAPartner(t *testing.T) {
	const (
		attackers = 300
		perAddr   = 64 // the default of --max-connections-per-address
	)
	// Headers get all the time they want, so that only the connection limits protect the hub.
	h := startHub(t, hubOptions{fileLimit: 256, args: []string{"--read-header-timeout", "10m", "--idle-timeout", "10m"}})
	before := h.openFiles()
	conns := make([]net.Conn, attackers)
	for i := range conns {
		conns[i] = dial(t, h, "127.0.0.1")
	}

	// The partner comes from another loopback address, as from another network.
	partner := &http.Client{Timeout: patience, Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.URL()+"/taxii2/", nil)
	req.Header.Set("Accept", taxiiType)
	req.Header.Set("Authorization", "Bearer "+h.token(writer))
	resp, err := partner.Do(req)
	if err != nil {
		t.Fatalf("the partner was not served beside %d idle connections: %v", attackers, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the partner's discovery answered %d; want 200", resp.StatusCode)
	}

	// The partner's connection came after every attacker's, so the hub has taken each by now.
	open := 0
	for _, c := range conns {
		if !closedByHub(c, 200*time.Millisecond) {
			open++
		}
	}
	t.Logf("%d of %d idle connections from one address kept open; hub files %d before, %d with them", open, attackers, before, h.openFiles())
	if open > perAddr || open == 0 {
		t.Errorf("the hub kept %d of one address's idle connections open; want between 1 and %d", open, perAddr)
	}
	if files := h.openFiles(); files >= 256 {
		t.Errorf("the hub holds %d files, its whole limit", files)
	}
}

// TestGiantFiltersAreRefused: filters over their caps answer 400 with a TAXII error, whatever
// their size, before anything parses them at length.
func TestGiantFiltersAreRefused(t *testing.T) {
	h := startHub(t, hubOptions{})
	token := h.token(writer)
	stamps := make([]string, 33_000)
	for i := range stamps {
		stamps[i] = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
	}
	ids := make([]string, 101)
	for i := range ids {
		ids[i] = indicatorID("00000000", i)
	}
	for _, q := range []struct{ what, query string }{
		{"33,000 versions (a 0.8 MB URL)", "match[version]=" + strings.Join(stamps, ",")},
		{"101 ids", "match[id]=" + strings.Join(ids, ",")},
	} {
		a := call(t, http.MethodGet, h.URL()+collection+"objects/?"+q.query, token, nil)
		t.Run(fmt.Sprint(len(q.query)), func(t *testing.T) {
			requireTAXIIError(t, a, http.StatusBadRequest, "invalid-filter")
		})
	}
}

// TestUnreadAnswerIsCut: a client that asks for a large page and does not read it has its
// connection cut once the page is overdue at the minimum transfer rate, instead of holding it and
// the page's memory for good.
func TestUnreadAnswerIsCut(t *testing.T) {
	// A rate high enough that the 8 MiB page is overdue within seconds; a page that fits the
	// loopback's socket buffers would be taken by the kernel whole.
	h := startHub(t, hubOptions{args: []string{"--min-transfer-rate", "4194304", "--transfer-grace", "1s"}})
	token := h.token(writer)
	run := runID()
	objects := make([]string, 1000)
	for i := range objects {
		objects[i] = indicator(run, i, `,"description":"`+strings.Repeat("d", 8<<10)+`"`)
	}
	if a := post(t, h, envelope(objects...)); a.status != http.StatusAccepted {
		t.Fatalf("POST of the page's objects: %s", a)
	}
	c := dial(t, h, "")
	if _, err := fmt.Fprintf(c, "GET %sobjects/?limit=1000 HTTP/1.1\r\nHost: hub\r\nAccept: %s\r\nAuthorization: Bearer %s\r\n\r\n",
		collection, taxiiType, token); err != nil {
		t.Fatal(err)
	}
	// The headers come with the page's first bytes, however long the hub took to read it; then
	// the client reads no more, the hub's write meets its deadline, and it closes the connection.
	_ = c.SetReadDeadline(time.Now().Add(patience))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer at all: %v", err)
	}
	time.Sleep(8 * time.Second)
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	t.Logf("answer %d: %d bytes read, then %v", resp.StatusCode, n, err)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("answer %d; want the page", resp.StatusCode)
	}
	// The page is sent in chunks; it ends cleanly only if the hub wrote it whole.
	if err == nil {
		t.Errorf("a client that read nothing for eight seconds still got the whole page (%d bytes): the answer had no deadline", n)
	}
}

// TestSlowHonestBodyIsServed: a body that arrives above the minimum transfer rate but takes longer
// than the request timeout is read, judged and stored: the request timeout bounds the hub's own
// work, and the transfer has the minimum rate to keep.
func TestSlowHonestBodyIsServed(t *testing.T) {
	h := startHub(t, hubOptions{args: []string{"--request-timeout", "2s", "--min-transfer-rate", "1024", "--transfer-grace", "1s"}})
	run := runID()
	body := envelope(indicator(run, 1, `,"description":"`+strings.Repeat("d", 6000)+`"`))
	c := dial(t, h, "")
	if _, err := fmt.Fprintf(c, "POST %sobjects/ HTTP/1.1\r\nHost: hub\r\nAccept: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nAuthorization: Bearer %s\r\n\r\n",
		collection, taxiiType, taxiiType, len(body), h.token(writer)); err != nil {
		t.Fatal(err)
	}
	// 2 KiB a second, twice the minimum: the body takes about three seconds, longer than the
	// request timeout.
	started := time.Now()
	for rest := body; len(rest) > 0; {
		n := min(len(rest), 200)
		if _, err := c.Write(rest[:n]); err != nil {
			t.Fatalf("the hub stopped reading a body sent above the minimum rate: %v", err)
		}
		rest = rest[n:]
		time.Sleep(100 * time.Millisecond)
	}
	_ = c.SetReadDeadline(time.Now().Add(patience))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	a := answerOf(resp)
	t.Logf("a body of %d bytes sent in %s: %s", len(body), time.Since(started).Round(time.Millisecond), a)
	if a.status != http.StatusAccepted {
		t.Fatalf("answer %s; want 202", a)
	}
	requireStored(t, h, h.token(writer), indicatorID(run, 1))
}
