package admin_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"taxiihub/internal/admin"
	"taxiihub/internal/store"
)

func parse(t *testing.T, yaml string) admin.Spec {
	t.Helper()
	spec, err := admin.ParseSpec([]byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return spec
}

const baseSpec = `
partnerships:
  - slug: eu-japan
    title: EU–Japan
    collections:
      - {alias: cyber-threats, title: Cyber threats}
members:
  - {id: cert-eu, name: CERT-EU, jurisdiction: EU}
  - {id: jpcert-cc, name: JPCERT/CC, jurisdiction: JP}
grants:
  - {member: cert-eu, partnership: eu-japan, collection: cyber-threats, read: true, write: true}
  - {member: jpcert-cc, partnership: eu-japan, collection: cyber-threats, read: true}
`

// TestApplySteps applies a sequence of specs to one hub and checks the changes each one reports.
func TestApplySteps(t *testing.T) {
	e := newEnv(t)
	steps := []struct {
		name string
		spec string
		want []string
	}{
		{"creates everything", baseSpec, []string{
			"create partnership eu-japan",
			"create collection eu-japan/cyber-threats",
			"create member cert-eu",
			"create member jpcert-cc",
			"create grant cert-eu on eu-japan/cyber-threats",
			"create grant jpcert-cc on eu-japan/cyber-threats",
		}},
		{"the same spec again changes nothing", baseSpec, nil},
		{"updates what differs", strings.NewReplacer(
			"title: EU–Japan", "title: EU–Japan partnership\n    description: Cyber and critical infrastructure",
			"title: Cyber threats}", "title: Cyber threats, media_types: [application/stix+json;version=2.1]}",
			"name: JPCERT/CC,", "name: JPCERT/CC, contact: liaison@jpcert.example,",
			"collection: cyber-threats, read: true}", "collection: cyber-threats, read: true, write: true}",
		).Replace(baseSpec), []string{
			"update partnership eu-japan",
			"update collection eu-japan/cyber-threats",
			"update member jpcert-cc",
			"update grant jpcert-cc on eu-japan/cyber-threats",
		}},
		{"a partial spec deletes nothing", `
members:
  - {id: cert-eu, name: CERT-EU, jurisdiction: EU}
`, nil},
		{"a new collection, granted in the same spec", `
partnerships:
  - slug: eu-japan
    title: EU–Japan partnership
    description: Cyber and critical infrastructure
    collections:
      - {alias: critical-infrastructure, title: Critical infrastructure}
grants:
  - {member: jpcert-cc, partnership: eu-japan, collection: critical-infrastructure, read: true}
`, []string{
			"create collection eu-japan/critical-infrastructure",
			"create grant jpcert-cc on eu-japan/critical-infrastructure",
		}},
	}
	for _, st := range steps {
		res, err := e.svc.Apply(t.Context(), "alice", parse(t, st.spec), false, false)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := changeLines(res.Changes); !sameLines(got, st.want) && (len(got) != 0 || len(st.want) != 0) {
			t.Errorf("%s: changes\n  %s\nwant\n  %s", st.name, strings.Join(got, "\n  "), strings.Join(st.want, "\n  "))
		}
		if res.DryRun {
			t.Errorf("%s: reported a dry run", st.name)
		}
	}

	// The spec's two collections, and the members collection the hub keeps beside them.
	colls, err := e.store.Collections(t.Context(), "eu-japan")
	if err != nil || len(colls) != 3 || len(slices.DeleteFunc(slices.Clone(colls), func(c store.Collection) bool { return !c.Members })) != 1 {
		t.Fatalf("collections: %+v, %v", colls, err)
	}
	for _, c := range colls {
		if !isUUIDv4(c.ID) {
			t.Errorf("collection %s has id %q, want a UUIDv4", c.Alias, c.ID)
		}
	}
	grants, _ := e.store.Grants(t.Context(), "jpcert-cc")
	if len(grants) != 2 || !grants[0].Read {
		t.Errorf("jpcert-cc grants: %+v", grants)
	}
	// Every change is in the audit trail under the operator who applied it; no-ops are not.
	if got := auditActions(t, e.store); len(got) != 12 || got[0] != "alice partnership.create partnership eu-japan" {
		t.Errorf("audit trail:\n  %s", strings.Join(got, "\n  "))
	}
}

func readExample(t *testing.T) admin.Spec {
	t.Helper()
	data, err := os.ReadFile("../../deploy/examples/partnerships.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := admin.ParseSpec(data)
	if err != nil {
		t.Fatalf("the example does not parse: %v", err)
	}
	return spec
}

func isUUIDv4(s string) bool {
	return len(s) == 36 && s[14] == '4' && strings.ContainsRune("89ab", rune(s[19])) && strings.Count(s, "-") == 4
}

// TestApplyExample applies the example file the README's run command seeds a hub with.
func TestApplyExample(t *testing.T) {
	spec := readExample(t)
	e := newEnv(t)

	dry, err := e.svc.Apply(t.Context(), "alice", spec, true, false)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if roots, _ := e.store.APIRoots(t.Context()); len(roots) != 0 || !dry.DryRun {
		t.Errorf("a dry run changed the hub (%d roots) or was not reported as one", len(roots))
	}
	res, err := e.svc.Apply(t.Context(), "alice", spec, false, false)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	// 3 partnerships, 6 collections (released among them), 7 members, 8 memberships, 14 grants.
	if len(res.Changes) != len(dry.Changes) || len(res.Changes) != 3+6+7+8+14 {
		t.Errorf("%d changes, dry run said %d; want 38", len(res.Changes), len(dry.Changes))
	}
	again, err := e.svc.Apply(t.Context(), "alice", spec, false, false)
	if err != nil || len(again.Changes) != 0 {
		t.Errorf("second apply: %v, %v; want no changes", again.Changes, err)
	}
	roots, _ := e.store.APIRoots(t.Context())
	var slugs []string
	for _, r := range roots {
		slugs = append(slugs, r.Slug)
	}
	if strings.Join(slugs, " ") != "eu-china-cyber eu-immigration-ct eu-japan" {
		t.Errorf("partnerships %v", slugs)
	}
	// EU–China releases through review in one collection; its others stay immediate.
	for alias, want := range map[string]store.ReviewRule{"released": store.ReviewOwnMember, "indicators": store.ReviewNone, "incidents": store.ReviewNone} {
		if c, err := e.store.Collection(t.Context(), "eu-china-cyber", alias); err != nil || c.Policy.Review != want ||
			c.Policy.EffectiveReviewTimeout() != store.DefaultReviewTimeout {
			t.Errorf("eu-china-cyber/%s: review %q, timeout %v, %v; want %q", alias, c.Policy.Review, c.Policy.EffectiveReviewTimeout(), err, want)
		}
	}
	// One way: immigration authorities write without reading; counter-terrorism agencies read without writing.
	for member, want := range map[string]store.Grant{
		"frontex":      {Write: true},
		"europol-ectc": {Read: true},
	} {
		grants, _ := e.store.Grants(t.Context(), member)
		if len(grants) != 1 || grants[0].Read != want.Read || grants[0].Write != want.Write || grants[0].APIRoot != "eu-immigration-ct" {
			t.Errorf("%s grants %+v", member, grants)
		}
	}
}

// TestApplyRefusesBadSpecs checks that a faulty spec is refused whole, with every problem listed,
// before anything changes.
func TestApplyRefusesBadSpecs(t *testing.T) {
	cases := []struct {
		name string
		spec string
		want []string
	}{
		{"bad names", `
partnerships:
  - slug: EU_Japan
    title: x
  - slug: admin
    title: x
  - slug: ok
    title: ""
members:
  - {id: -cert, name: x, jurisdiction: EU}
`, []string{`slug "EU_Japan"`, `slug "admin" is reserved`, "title is required", `member id "-cert"`}},
		{"jurisdictions", `
members:
  - {id: a, name: A, jurisdiction: UK}
  - {id: b, name: B, jurisdiction: Europe}
  - {id: c, name: C, jurisdiction: fr}
`, []string{`"UK" is not an ISO 3166-1`, "the United Kingdom is GB", `"Europe"`, `"fr"`}},
		{"collections", `
partnerships:
  - slug: p
    title: P
    collections:
      - {title: No alias}
      - {alias: x, title: X}
      - {alias: x, title: X again}
      - {alias: 0b6ea3b4-6a62-4e4b-8b4a-3b1a1f7a0c11, title: Id-like}
      - {alias: m, title: M, media_types: ["not a media type"]}
`, []string{"alias is required", "alias x is declared twice", "looks like a collection id", `media type "not a media type"`}},
		{"duplicates", `
partnerships:
  - {slug: p, title: P}
  - {slug: p, title: P}
members:
  - {id: a, name: A, jurisdiction: EU}
  - {id: a, name: A, jurisdiction: EU}
`, []string{"slug p is declared twice", "member a is declared twice"}},
		{"grants", `
partnerships:
  - slug: p
    title: P
    collections: [{alias: c, title: C}]
members:
  - {id: a, name: A, jurisdiction: EU}
grants:
  - {member: a, partnership: p, collection: c}
  - {member: nobody, partnership: p, collection: c, read: true}
  - {member: a, partnership: p, collection: missing, read: true}
  - {member: a, partnership: elsewhere, collection: c, read: true}
`, []string{"must allow read, write or both", "no member nobody", "no collection p/missing", "no collection elsewhere/c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.svc.Apply(t.Context(), "alice", parse(t, tc.spec), false, false)
			wantKind(t, "apply", err, admin.Invalid, tc.want...)
			roots, _ := e.store.APIRoots(t.Context())
			members, _ := e.store.Members(t.Context())
			if len(roots) != 0 || len(members) != 0 || len(auditActions(t, e.store)) != 0 {
				t.Errorf("a refused spec changed the hub: %d roots, %d members", len(roots), len(members))
			}
		})
	}
}

func TestParseSpecRefusesUnknownAndRepeatedKeys(t *testing.T) {
	for name, yaml := range map[string]string{
		"misspelt field":    "members:\n  - {id: a, nmae: A, jurisdiction: EU}\n",
		"unknown top level": "partnership:\n  - {slug: a, title: A}\n",
		"repeated key":      "members:\n  - id: a\n    id: b\n",
		"policy not yet":    "partnerships:\n  - {slug: a, title: A, tlp_ceiling: amber}\n",
		"not YAML":          "members: [",
	} {
		if _, err := admin.ParseSpec([]byte(yaml)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err := admin.ParseSpec([]byte("members:\n  - id: a\n    nmae: A\n"))
	if err == nil || !strings.Contains(err.Error(), "3:5: members[0].nmae") {
		t.Errorf("the error does not say where the unknown field is: %v", err)
	}
}
