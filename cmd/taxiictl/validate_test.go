package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	validBundle = `{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": [
		{"type": "identity", "spec_version": "2.1", "id": "identity--8ae20dde-83d4-4218-88fd-41ef0dabf9d1",
		 "created": "2016-08-22T14:09:00.123Z", "modified": "2016-08-22T14:09:00.123Z", "name": "mitre.org", "identity_class": "organization"}]}`
	invalidEnvelope = `{"objects": [
		{"type": "identity", "spec_version": "2.1", "id": "identity--8ae20dde-83d4-4218-88fd-41ef0dabf9d1",
		 "created": "2016-08-22T14:09:00Z", "modified": "2016-08-22T14:09:00.123Z", "name": "mitre.org"}]}`
)

// writeFiles puts each content in a file of a temporary directory and returns their paths.
func writeFiles(t *testing.T, contents ...string) []string {
	t.Helper()
	dir := t.TempDir()
	paths := make([]string, len(contents))
	for i, c := range contents {
		paths[i] = filepath.Join(dir, "doc"+string(rune('a'+i))+".json")
		if err := os.WriteFile(paths[i], []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

func runTool(stdin string, args ...string) (status int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	status = run(args, strings.NewReader(stdin), &out, &errOut)
	return status, out.String(), errOut.String()
}

func TestValidateExitStatus(t *testing.T) {
	files := writeFiles(t, validBundle, invalidEnvelope, "not json at all", "{\"type\": \"\xff\"}")
	valid, invalid, notJSON, notUTF8 := files[0], files[1], files[2], files[3]
	missing := filepath.Join(t.TempDir(), "missing.json")
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"all valid", []string{"validate", valid}, 0},
		{"one invalid", []string{"validate", valid, invalid}, 1},
		{"not JSON", []string{"validate", notJSON}, 1},
		{"not UTF-8", []string{"validate", notUTF8}, 1},
		{"unreadable", []string{"validate", valid, missing}, 2},
		{"unreadable wins over invalid", []string{"validate", invalid, missing}, 2},
		{"no files", []string{"validate"}, 2},
		{"unknown flag", []string{"validate", "--nope", valid}, 2},
		{"unknown command", []string{"frobnicate"}, 2},
		{"no command", nil, 2},
		{"help", []string{"help"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, stdout, stderr := runTool("", tc.args...); got != tc.want {
				t.Errorf("exit status %d, want %d\nstdout: %s\nstderr: %s", got, tc.want, stdout, stderr)
			}
		})
	}
}

func TestValidateReadsStandardInput(t *testing.T) {
	status, stdout, stderr := runTool(validBundle, "validate", "-")
	if status != 0 || !strings.HasPrefix(stdout, "-: valid, 1 object") {
		t.Errorf("status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
	status, _, _ = runTool(invalidEnvelope, "validate", "-")
	if status != 1 {
		t.Errorf("invalid envelope on stdin: status %d, want 1", status)
	}
}

func TestValidateJSONLines(t *testing.T) {
	files := writeFiles(t, validBundle, invalidEnvelope, "{\"objects\": [\xff]}")
	missing := filepath.Join(t.TempDir(), "missing.json")
	status, stdout, _ := runTool("", append([]string{"validate", "--json"}, append(files, missing)...)...)
	if status != 2 {
		t.Errorf("status %d, want 2", status)
	}
	type problem struct{ Code, Path, Message string }
	type line struct {
		File    string    `json:"file"`
		Valid   *bool     `json:"valid"`
		Errors  []problem `json:"errors"`
		Objects []struct {
			ID       *string    `json:"id"`
			Valid    *bool      `json:"valid"`
			Errors   *[]problem `json:"errors"`
			Warnings *[]problem `json:"warnings"`
		} `json:"objects"`
	}
	var lines []line
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want one per file:\n%s", len(lines), stdout)
	}
	for i, l := range lines {
		if l.Valid == nil || l.Objects == nil {
			t.Errorf("line %d lacks valid or objects: %+v", i, l)
		}
		for _, o := range l.Objects {
			if o.ID == nil || o.Valid == nil || o.Errors == nil || o.Warnings == nil {
				t.Errorf("line %d: object lacks id, valid, errors or warnings: %+v", i, o)
			}
		}
	}
	if !*lines[0].Valid || *lines[1].Valid || *lines[2].Valid || *lines[3].Valid {
		t.Errorf("valid flags %v %v %v %v, want true false false false", *lines[0].Valid, *lines[1].Valid, *lines[2].Valid, *lines[3].Valid)
	}
	if o := lines[1].Objects[0]; *o.ID != "identity--8ae20dde-83d4-4218-88fd-41ef0dabf9d1" || len(*o.Errors) == 0 ||
		(*o.Errors)[0].Code != "timestamp-precision" || (*o.Errors)[0].Path != "/objects/0/created" {
		t.Errorf("invalid envelope object: %+v", o)
	}
	if len(lines[2].Errors) != 1 || lines[2].Errors[0].Code != "invalid-utf8" {
		t.Errorf("non-UTF-8 file: errors %+v", lines[2].Errors)
	}
	if lines[3].File != missing || len(lines[3].Errors) != 1 || lines[3].Errors[0].Code != codeUnreadable {
		t.Errorf("missing file: %+v", lines[3])
	}
}

func TestValidateTextReport(t *testing.T) {
	files := writeFiles(t, invalidEnvelope, "[1,")
	_, stdout, _ := runTool("", "validate", files[0], files[1])
	for _, want := range []string{
		files[0] + ": invalid, 1 object (1 invalid)",
		"/objects/0/created [timestamp-precision]",
		files[1] + ": invalid, 0 objects",
		"[invalid-json]",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
}

func TestValidateReportsDuplicateKeys(t *testing.T) {
	repeated := `{"objects": [
		{"type": "identity", "spec_version": "2.1", "id": "identity--8ae20dde-83d4-4218-88fd-41ef0dabf9d1",
		 "created": "2016-08-22T14:09:00.123Z", "modified": "2016-08-22T14:09:00.123Z", "name": "someone@example.org",
		 "identity_class": "organization", "name": "mitre.org"}]}`
	files := writeFiles(t, repeated)
	status, stdout, _ := runTool("", "validate", "--json", files[0])
	var line struct {
		Objects []struct {
			ID     string `json:"id"`
			Errors []struct{ Code, Path string }
		} `json:"objects"`
	}
	if err := json.Unmarshal([]byte(stdout), &line); err != nil {
		t.Fatalf("output %q: %v", stdout, err)
	}
	if status != 1 || len(line.Objects) != 1 || len(line.Objects[0].Errors) != 1 || line.Objects[0].ID != "identity--8ae20dde-83d4-4218-88fd-41ef0dabf9d1" ||
		line.Objects[0].Errors[0].Code != "duplicate-key" || line.Objects[0].Errors[0].Path != "/objects/0/name" {
		t.Errorf("status %d, report %s", status, stdout)
	}
	if _, stdout, _ := runTool("", "validate", files[0]); !strings.Contains(stdout, "/objects/0/name [duplicate-key]") {
		t.Errorf("text report lacks the repeated name:\n%s", stdout)
	}
}

// TestValidatePrintsPatternWarnings checks that an indicator whose pattern cannot match is
// valid (exit 0) and that --warnings says why, with the warning's code.
func TestValidatePrintsPatternWarnings(t *testing.T) {
	indicator := `{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": [
		{"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		 "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "name": "C2", "description": "C2 address",
		 "pattern_type": "stix", "pattern": "[ipv4-addr:value = '2001:db8::1']", "valid_from": "2016-01-01T00:00:00Z"}]}`
	files := writeFiles(t, indicator)
	status, stdout, _ := runTool("", "validate", "--warnings", files[0])
	if status != 0 {
		t.Fatalf("status %d, want 0 (warnings do not make an object invalid):\n%s", status, stdout)
	}
	if !strings.Contains(stdout, "/objects/0/pattern [pattern-value]") || !strings.Contains(stdout, "use ipv6-addr:value") {
		t.Errorf("report lacks the pattern warning:\n%s", stdout)
	}
}

// TestVersion: taxiictl --version names the build without talking to any hub.
func TestVersion(t *testing.T) {
	status, stdout, stderr := runTool("", "--version", "--url", "http://127.0.0.1:1")
	if status != exitOK || !strings.HasPrefix(stdout, "taxiictl ") || !strings.Contains(stdout, " revision ") || stderr != "" {
		t.Errorf("taxiictl --version: exit %d, stdout %q, stderr %q", status, stdout, stderr)
	}
}
