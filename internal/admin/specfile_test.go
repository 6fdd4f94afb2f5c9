package admin_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"taxiihub/internal/admin"
)

// TestSpecFileProblemsAllAtOnce: every problem of shape in a spec file is reported in one go, each
// with the file, line, column and key, and what the spec expects there, never a Go type name.
func TestSpecFileProblemsAllAtOnce(t *testing.T) {
	const file = `partnerships:
  - slug: eu-japan
    title: EU–Japan
    collections:
      - alias: cyber-threats
        title: Cyber threats
        media_types: application/stix+json;version=2.1
        policy: {tlp_max: amber, tlp_ceiling: red}
    policy:
      no_onward_sharing: sometimes
members:
  - id: cert-eu
    name: CERT-EU
    jurisdiction: [EU]
grants:
  - {member: cert-eu, partnership: eu-japan, collection: cyber-threats, read: yes, write: true}
  - {member: cert-eu, partnership: eu-japan, collection: other, raed: true}
memberships: {member: cert-eu}
`
	_, err := admin.ParseSpecFile("partnerships.yaml", []byte(file))
	var se *admin.SpecError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *admin.SpecError", err)
	}
	want := []string{
		"partnerships.yaml:7:22: partnerships[0].collections[0].media_types: expected a list, got the text \"application/stix+json;version=2.1\"",
		"partnerships.yaml:8:34: partnerships[0].collections[0].policy.tlp_ceiling: unknown key \"tlp_ceiling\"; expected one of allowed_types, denied_properties, tlp_max, unmarked, allowed_properties, review, review_timeout, retention",
		"partnerships.yaml:10:26: partnerships[0].policy.no_onward_sharing: expected true or false, got the text \"sometimes\"",
		"partnerships.yaml:14:19: members[0].jurisdiction: expected text, got a list",
		"partnerships.yaml:16:79: grants[0].read: expected true or false, got the text \"yes\"",
		"partnerships.yaml:17:65: grants[1].raed: unknown key \"raed\"; expected one of member, partnership, collection, read, write",
		"partnerships.yaml:18:14: memberships: expected a list, got a mapping",
	}
	got := strings.Split(err.Error(), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	if strings.Contains(err.Error(), "Go struct") || strings.Contains(err.Error(), "unmarshal") {
		t.Errorf("the problems speak Go: %v", err)
	}
	if len(se.Problems) != len(want) || se.Problems[0].Line != 7 || se.Problems[0].Path != "partnerships[0].collections[0].media_types" {
		t.Errorf("problems as values: %+v", se.Problems)
	}

	// A file that is not YAML is reported where the parser stops, with the file's name.
	_, err = admin.ParseSpecFile("broken.yaml", []byte("members:\n  - id: a\n  id: b\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "broken.yaml:3:") {
		t.Errorf("a syntax error: %v", err)
	}
}

// TestReadmeSpecExamples: the README's spec-file example applies to an empty hub, and the problems
// it quotes are the ones the parser writes.
func TestReadmeSpecExamples(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	_, rest, found := strings.Cut(readme, "**Spec files**")
	if !found {
		t.Fatal("README has no **Spec files** paragraph")
	}
	_, block, found := strings.Cut(rest, "```yaml\n")
	if !found {
		t.Fatal("README's spec files paragraph has no yaml block")
	}
	block, _, _ = strings.Cut(block, "```")
	spec, err := admin.ParseSpecFile("README.md", []byte(block))
	if err != nil {
		t.Fatalf("the README's spec example: %v", err)
	}
	e := newEnv(t)
	if res, err := e.svc.Apply(t.Context(), "alice", spec, false, false); err != nil || len(res.Changes) == 0 {
		t.Errorf("applying the README's spec example: %v, %d changes", err, len(res.Changes))
	}

	_, err = admin.ParseSpecFile("partnerships.yaml", []byte("grants:\n  - {member: cert-eu, partnership: eu-japan, collection: cyber-threats, read: yes, write: true}\n"+
		"members:\n  - id: a\n    nmae: A\n"))
	for _, quoted := range []string{`grants[0].read: expected true or false, got the text "yes"`,
		`members[0].nmae: unknown key "nmae"; expected one of id, name, jurisdiction, contact`} {
		if !strings.Contains(err.Error(), quoted) {
			t.Errorf("the parser does not write %q:\n%v", quoted, err)
		}
		if !strings.Contains(strings.Join(strings.Fields(readme), " "), quoted) {
			t.Errorf("the README does not quote %q", quoted)
		}
	}
}
