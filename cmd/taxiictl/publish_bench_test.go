package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/convert"
)

// BenchmarkPublishVersusPreparedSTIX measures what taxiictl publish costs over posting STIX made in
// advance: the same IOC lines (TAXIIHUB_BENCH_LINES, default 100,000: addresses, domains and
// hashes) are converted offline into envelopes of the same size as publish's parts and POSTed to
// the objects endpoint of one seeded hub, then published with taxiictl publish to another, by the
// same member. It reports lines per second of each
// and their ratio; the README states the target.
//
//	go test -run '^$' -bench PublishVersusPreparedSTIX -benchtime 1x -timeout 30m ./cmd/taxiictl/
func BenchmarkPublishVersusPreparedSTIX(b *testing.B) {
	lines := 100_000
	if v := os.Getenv("TAXIIHUB_BENCH_LINES"); v != "" {
		lines, _ = strconv.Atoi(v)
	}
	for b.Loop() {
		// A part of 9,000 objects must not meet the default 30 s deadline on a loaded machine, which
		// would leave part of it unstored. Each way gets a fresh hub of its own: a store that already holds the other way's objects
		// writes more slowly, which would favour whichever way ran first.
		seed, _ := filepath.Abs("../../deploy/examples/partnerships.yaml")
		h := startHub(b, "--seed", seed, "--member-rate", "0", "--request-timeout", "10m")
		tokenOf := func(m string) string { return filepath.Join(h.dataDir, "tokens", m+".jwt") }
		h2 := startHub(b, "--seed", seed, "--member-rate", "0", "--request-timeout", "10m")
		token2Of := func(m string) string { return filepath.Join(h2.dataDir, "tokens", m+".jwt") }
		var list bytes.Buffer
		for i := range lines {
			switch i % 3 {
			case 0:
				fmt.Fprintf(&list, "10.%d.%d.%d\n", i>>16&255, i>>8&255, i&255)
			case 1:
				fmt.Fprintf(&list, "host-%d[.]bench[.]example[.]org\n", i)
			default:
				fmt.Fprintf(&list, "%032x\n", i)
			}
		}
		file := filepath.Join(b.TempDir(), "iocs.txt")
		if err := os.WriteFile(file, list.Bytes(), 0o600); err != nil {
			b.Fatal(err)
		}

		// Prepared in advance: converted offline, not timed.
		conv, err := convert.New(bytes.NewReader(list.Bytes()), convert.Options{Member: "cert-eu", TLP: "green"})
		if err != nil {
			b.Fatal(err)
		}
		var envelopes [][]byte
		var objs []string
		flush := func() {
			if len(objs) > 0 {
				envelopes = append(envelopes, []byte(`{"objects":[`+strings.Join(objs, ",")+`]}`))
				objs = nil
			}
		}
		for {
			it, err := conv.Next()
			if err == io.EOF {
				break
			}
			for _, o := range it.Objects {
				raw, _ := o.JSON()
				objs = append(objs, string(raw))
			}
			if len(objs) >= publishPartLines {
				flush()
			}
		}
		flush()
		collectionID := collectionIDOf(b, h.url, tokenOf("cert-eu"), "eu-japan", "cyber-threats")
		token, _ := readToken(tokenOf("cert-eu"))
		runPublish := func() time.Duration {
			start := time.Now()
			status, stdout, stderr := runTool("", "publish", "--url", h2.url, "--token-file", token2Of("cert-eu"),
				"--collection", "eu-japan/cyber-threats", "--tlp", "green", file)
			if status != exitOK || !strings.Contains(stdout, fmt.Sprintf("%d stored", lines)) {
				b.Fatalf("publish: exit %d\n%.500s\n%s", status, stdout[max(0, len(stdout)-300):], stderr)
			}
			return time.Since(start)
		}
		start := time.Now()
		for _, env := range envelopes {
			req, _ := http.NewRequest(http.MethodPost, h.url+"/eu-japan/collections/"+collectionID+"/objects/", bytes.NewReader(env))
			req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
			req.Header.Set("Accept", "application/taxii+json;version=2.1")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted || !bytes.Contains(body, []byte(`"failure_count":0`)) {
				b.Fatalf("POST: %d %.300s … %.600s", resp.StatusCode, body, body[max(0, bytes.Index(body, []byte(`"failures"`))):])
			}
		}
		prepared := time.Since(start)

		published := runPublish()
		preparedRate := float64(lines) / prepared.Seconds()
		publishRate := float64(lines) / published.Seconds()
		b.ReportMetric(preparedRate, "prepared-lines/s")
		b.ReportMetric(publishRate, "publish-lines/s")
		b.ReportMetric(publishRate/preparedRate, "ratio")
		b.Logf("%d lines: prepared STIX POSTed in %s (%.0f/s), taxiictl publish in %s (%.0f/s), ratio %.2f",
			lines, prepared.Round(time.Millisecond), preparedRate, published.Round(time.Millisecond), publishRate, publishRate/preparedRate)
	}
}

func collectionIDOf(b *testing.B, base, tokenFile, root, alias string) string {
	token, err := readToken(tokenFile)
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/"+root+"/collections/", nil)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ Collections []struct{ ID, Alias string } }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		b.Fatal(err)
	}
	for _, c := range list.Collections {
		if c.Alias == alias {
			return c.ID
		}
	}
	b.Fatalf("no collection %s/%s", root, alias)
	return ""
}
