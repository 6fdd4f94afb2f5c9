package main

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/httpapi"
	"taxiihub/internal/server"
)

func TestMain(m *testing.M) {
	httpapi.UseReleaseMode()
	os.Exit(m.Run())
}

func noEnv(string) string { return "" }

// hubEnv turns the hub's per-member rate limit off: the load exceeds it on purpose.
func hubEnv(name string) string {
	if name == "TAXIIHUB_MEMBER_RATE" {
		return "0"
	}
	return ""
}

// startHub runs a hub in-process on the embedded database, seeded with the example spec, and
// returns its URL and data directory.
func startHub(t *testing.T) (url, dataDir string) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := server.ParseConfig([]string{"--data-dir", dir, "--seed", filepath.Join("..", "..", "deploy", "examples", "partnerships.yaml")}, hubEnv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		s.Close(t.Context())
	})
	return srv.URL, dir
}

func TestRunReportsAndChecksDelivery(t *testing.T) {
	url, dir := startHub(t)
	var stdout, stderr bytes.Buffer
	code := run([]string{"-data-dir", dir, "-objects", "400", "-batch", "40", "-page", "30", "-poll-interval", "10ms",
		"-collection", "eu-china-cyber/*", "-collection", "eu-japan/*", "-collection", "eu-immigration-ct/*", "-progress", "20ms", url}, noEnv, &stdout, &stderr, false)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"400 objects accepted", "objects/s", "POST", "p50", "p99", "result: OK", "europol-ectc#1"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
	// Not a terminal: whole lines, no carriage returns.
	if !strings.Contains(stderr.String(), "accepted") || strings.Contains(stderr.String(), "\r") {
		t.Errorf("progress on stderr = %q; want plain lines", stderr.String())
	}

	stdout.Reset()
	stderr.Reset()
	code = run([]string{"-data-dir", dir, "-members", "frontex,nl-nctv", "-collection", "eu-immigration-ct/administrative-records",
		"-objects", "100", "-json", "-quiet", url},
		noEnv, &stdout, &stderr, true)
	if code != exitOK || stderr.Len() > 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"Accepted": 100`) || !strings.Contains(stdout.String(), `"Problems": null`) {
		t.Errorf("JSON report:\n%s", stdout.String())
	}
}

func TestTerminalProgressRewritesOneLine(t *testing.T) {
	url, dir := startHub(t)
	var stdout, stderr bytes.Buffer
	code := run([]string{"-data-dir", dir, "-members", "cert-eu", "-collection", "eu-japan/*", "-duration", "300ms", "-progress", "50ms", url},
		noEnv, &stdout, &stderr, true)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if got := stderr.String(); !strings.HasPrefix(got, "\r") || strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") {
		t.Errorf("progress = %q; want lines rewritten with \\r and one final newline", got)
	}
}

func TestExitStatuses(t *testing.T) {
	url, dir := startHub(t)
	closed := httptest.NewServer(nil)
	closed.Close()
	tokenFile := filepath.Join(dir, "tokens", "cert-eu.jwt")
	for _, tc := range []struct {
		name string
		args []string
		want int
		out  string
	}{
		{"unknown flag", []string{"-nope"}, exitUsage, "flag provided but not defined"},
		{"bad hub URL", []string{"-data-dir", dir, "127.0.0.1:8080"}, exitUsage, "want an http:// or https:// URL"},
		{"no tokens", []string{"-data-dir", t.TempDir(), url}, exitUsage, "no tokens"},
		{"unknown member", []string{"-data-dir", dir, "-members", "nobody", url}, exitUsage, `no token for member "nobody"`},
		{"bad token flag", []string{"-token", "cert-eu", url}, exitUsage, "MEMBER=FILE"},
		{"unreachable", []string{"-data-dir", dir, "-duration", "1s", closed.URL}, exitUnreachable, "no hub could be reached"},
		{"bad batch", []string{"-data-dir", dir, "-batch", "20000", url}, exitUsage, "batch 20000 is outside"},
		{"token file", []string{"-token", "cert-eu=" + tokenFile, "-objects", "10", "-quiet", url}, exitOK, ""},
		{"a collection no member reaches", []string{"-data-dir", dir, "-members", "cert-eu", "-collection", "eu-immigration-ct/*",
			"-objects", "10", "-quiet", url}, exitFailed, "no member reaches the collections eu-immigration-ct/*"},
		{"a malformed collection", []string{"-data-dir", dir, "-collection", "eu-japan", url}, exitUsage, "want PARTNERSHIP/COLLECTION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := tc.args
			if !slices.Contains(args, "-collection") && tc.name != "unknown flag" {
				args = append([]string{"-collection", "eu-japan/cyber-threats"}, args...)
			}
			code := run(args, noEnv, &stdout, &stderr, false)
			if code != tc.want || !strings.Contains(stderr.String(), tc.out) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr.String(), tc.want, tc.out)
			}
		})
	}
}

func TestHelpAndDefaults(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-h"}, noEnv, &stdout, &stderr, false); code != exitOK || !strings.Contains(stdout.String(), "Usage: taxiiload") {
		t.Errorf("-h: exit %d, %q", code, stdout.String())
	}
	o, err := parseArgs([]string{"-collection", "load-test/*"}, func(name string) string {
		return map[string]string{"TAXIIHUB_URL": "http://hub:9000", "TAXIIHUB_DATA_DIR": "/srv/hub"}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.Hubs[0] != "http://hub:9000" || o.dataDir != "/srv/hub" || o.cfg.Duration != 30*time.Second ||
		o.cfg.Publishers != 1 || o.cfg.Pollers != 1 || o.cfg.Batch != 100 {
		t.Errorf("defaults = %+v", o)
	}
}

// taxiiload writes fake indicators: without collections named for it, or an explicit
// -write-real-data, it refuses to run and writes nothing.
func TestRefusesToWriteIntoCollectionsNotNamed(t *testing.T) {
	url, dir := startHub(t)
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"-data-dir", dir, "-objects", "10", url}, "name the collections to load with -collection"},
		{[]string{"-data-dir", dir, "-objects", "10", "-collection", "eu-japan/*", "-write-real-data", url}, "exclude each other"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, noEnv, &stdout, &stderr, false); code != exitUsage || !strings.Contains(stderr.String(), tc.says) {
			t.Errorf("%v: exit %d, %q; want a usage error saying %q", tc.args, code, stderr.String(), tc.says)
		}
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"-data-dir", dir, "-members", "cert-eu", "-write-real-data", "-objects", "20", "-quiet", url}, noEnv, &stdout, &stderr, false)
	if code != exitOK || !strings.Contains(stdout.String(), "20 objects accepted") {
		t.Errorf("-write-real-data: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

// TestReadmeLoadCommand runs the README's taxiiload command against a hub started as the README
// says, for a number of objects rather than a minute, on one hub: it loads the collections it names
// and no other, and withdraws what it published.
func TestReadmeLoadCommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var command string
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "go run ./cmd/taxiiload ") {
			command = strings.TrimSpace(line)
		}
	}
	if command == "" {
		t.Fatal("the README shows no taxiiload command")
	}
	url, dir := startHub(t)
	var args []string
	words := strings.Fields(strings.TrimPrefix(command, "go run ./cmd/taxiiload "))
	for i := 0; i < len(words); i++ {
		switch w := words[i]; {
		case w == "-data-dir":
			args = append(args, w, dir)
			i++
		case w == "-duration":
			args = append(args, "-objects", "200", "-quiet")
			i++
		case strings.HasPrefix(w, "http://"):
			args = append(args, url)
		case strings.HasPrefix(w, "[") || strings.HasSuffix(w, "]"):
			// further hubs, optional
		default:
			args = append(args, w)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(args, noEnv, &stdout, &stderr, false); code != exitOK {
		t.Fatalf("%v: exit %d\n%s%s", args, code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"200 objects accepted", "cleanup: 200 objects withdrawn", "result: OK"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, c := range []string{"eu-japan/critical-infrastructure", "eu-china-cyber/incidents", "eu-immigration-ct/administrative-records"} {
		if strings.Contains(stdout.String(), c) {
			t.Errorf("the load used %s, which the command does not name:\n%s", c, stdout.String())
		}
	}
}

// TestVersion: -version names the build and starts no load, whatever else the command line says.
func TestVersion(t *testing.T) {
	var stdout, stderr strings.Builder
	code := run([]string{"-version", "-duration", "1h", "http://127.0.0.1:1"}, noEnv, &stdout, &stderr, false)
	if code != exitOK || !strings.HasPrefix(stdout.String(), "taxiiload ") || !strings.Contains(stdout.String(), " revision ") || stderr.Len() > 0 {
		t.Errorf("taxiiload -version: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
