package deploy

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

const (
	readmeFile       = "../README.md"
	examplesSpecFile = "examples/partnerships.yaml"
)

// yamlBlockAfter returns the first ```yaml block in the markdown after the heading.
func yamlBlockAfter(t *testing.T, markdown, heading string) string {
	t.Helper()
	_, section, found := strings.Cut(markdown, "\n"+heading+"\n")
	if !found {
		t.Fatalf("README has no heading %q", heading)
	}
	_, block, found := strings.Cut(section, "```yaml\n")
	if !found {
		t.Fatalf("README's %q section has no yaml block", heading)
	}
	block, _, _ = strings.Cut(block, "```")
	return block
}

// identityKeys name the items of a list of mappings, so that an excerpt's item is compared with
// the example's item of the same name wherever it stands in the list.
var identityKeys = [][]string{{"slug"}, {"alias"}, {"id"}, {"member", "partnership", "collection"}, {"member", "partnership"}}

func identityOf(item map[string]any) string {
	for _, keys := range identityKeys {
		var parts []string
		for _, k := range keys {
			v, ok := item[k]
			if !ok {
				parts = nil
				break
			}
			parts = append(parts, fmt.Sprint(v))
		}
		if parts != nil {
			return strings.Join(keys, "+") + "=" + strings.Join(parts, "/")
		}
	}
	return ""
}

// excerptProblems says where excerpt is not an excerpt of full: a mapping may leave keys out, a
// list of named mappings may leave items out, but a policy is stated in full (leaving a rule out
// means there is none) and every value given must be the example's.
func excerptProblems(path string, excerpt, full any) []string {
	switch e := excerpt.(type) {
	case map[string]any:
		f, ok := full.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: a mapping in the README, %T in the example", path, full)}
		}
		var out []string
		for k, v := range e {
			fv, ok := f[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: in the README, not in the example", path, k))
				continue
			}
			if k == "policy" && !reflect.DeepEqual(v, fv) {
				out = append(out, fmt.Sprintf("%s.policy: the README states %v, the example %v", path, v, fv))
				continue
			}
			out = append(out, excerptProblems(path+"."+k, v, fv)...)
		}
		if p, ok := f["policy"]; ok && path != "" {
			if _, shown := e["policy"]; !shown && hasRulesShown(e) {
				out = append(out, fmt.Sprintf("%s: the example has the policy %v, which the README leaves out", path, p))
			}
		}
		return out
	case []any:
		f, ok := full.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: a list in the README, %T in the example", path, full)}
		}
		named := map[string]any{}
		for _, item := range f {
			if m, ok := item.(map[string]any); ok {
				named[identityOf(m)] = m
			}
		}
		var out []string
		for i, item := range e {
			m, isMap := item.(map[string]any)
			if !isMap || identityOf(m) == "" {
				// A list of values (jurisdictions, types) is a rule: all of it, in order.
				if !reflect.DeepEqual(excerpt, full) {
					return []string{fmt.Sprintf("%s: the README lists %v, the example %v", path, excerpt, full)}
				}
				return nil
			}
			fm, ok := named[identityOf(m)]
			if !ok {
				out = append(out, fmt.Sprintf("%s[%d]: %s is not in the example", path, i, identityOf(m)))
				continue
			}
			out = append(out, excerptProblems(fmt.Sprintf("%s[%s]", path, identityOf(m)), m, fm)...)
		}
		return out
	default:
		if !reflect.DeepEqual(excerpt, full) {
			return []string{fmt.Sprintf("%s: the README has %v, the example %v", path, excerpt, full)}
		}
		return nil
	}
}

// hasRulesShown reports whether an excerpt's item shows anything besides its name, in which case
// leaving its policy out would read as "no rules".
func hasRulesShown(m map[string]any) bool {
	for k := range m {
		if k != "slug" && k != "alias" && k != "collections" {
			return true
		}
	}
	return false
}

// TestReadmeSharingRulesMatchTheExample: the sharing-rules example in the README is an excerpt of
// deploy/examples/partnerships.yaml, the file the README's run command seeds, so that what a reader
// learns there is what the running hub enforces.
func TestReadmeSharingRulesMatchTheExample(t *testing.T) {
	var excerpt, full map[string]any
	block := yamlBlockAfter(t, string(read(t, readmeFile)), "## Sharing rules")
	if err := yaml.Unmarshal([]byte(block), &excerpt); err != nil {
		t.Fatalf("README's sharing rules block: %v", err)
	}
	if err := yaml.Unmarshal(read(t, examplesSpecFile), &full); err != nil {
		t.Fatal(err)
	}
	if len(excerpt) == 0 {
		t.Fatal("README's sharing rules block is empty")
	}
	for _, p := range excerptProblems("", excerpt, full) {
		t.Error(p)
	}

	// The check catches a README that drifted: a rule changed, a list shortened, an item made up.
	for name, drift := range map[string]func(string) string{
		"a rule changed":   func(s string) string { return strings.Replace(s, "tlp_max: amber", "tlp_max: red", 1) },
		"a list cut short": func(s string) string { return strings.Replace(s, ", marking-definition]", "]", 1) },
		"a member made up": func(s string) string { return strings.Replace(s, "member: frontex", "member: interpol", 1) },
		"a rule the file lacks": func(s string) string {
			return strings.Replace(s, "          allowed_types:", "          tlp_max: green\n          allowed_types:", 1)
		},
		"a policy left out": func(s string) string {
			i := strings.Index(s, "    policy:\n      personal_data: reject")
			j := strings.Index(s, "  - slug: eu-japan")
			if i < 0 || j < i {
				return s
			}
			return s[:i] + "    title: EU–China cyber taskforce\n" + s[j:]
		},
	} {
		changed := drift(block)
		if changed == block {
			t.Errorf("%s: the README block no longer has what this case changes", name)
			continue
		}
		var e map[string]any
		if err := yaml.Unmarshal([]byte(changed), &e); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(excerptProblems("", e, full)) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}

// TestReadmeReleaseReviewMatchesTheExample: the release review example in the README is an excerpt
// of the example file, so that the collection it describes is the one the seeded hub reviews.
func TestReadmeReleaseReviewMatchesTheExample(t *testing.T) {
	var excerpt, full map[string]any
	block := yamlBlockAfter(t, string(read(t, readmeFile)), "## Release review")
	if err := yaml.Unmarshal([]byte(block), &excerpt); err != nil {
		t.Fatalf("README's release review block: %v", err)
	}
	if err := yaml.Unmarshal(read(t, examplesSpecFile), &full); err != nil {
		t.Fatal(err)
	}
	if len(excerpt) == 0 {
		t.Fatal("README's release review block is empty")
	}
	for _, p := range excerptProblems("", excerpt, full) {
		t.Error(p)
	}
	drifted := strings.Replace(block, "review: own-member", "review: partnership", 1)
	var changed map[string]any
	if err := yaml.Unmarshal([]byte(drifted), &changed); err != nil || drifted == block || len(excerptProblems("", changed, full)) == 0 {
		t.Errorf("a review rule changed in the README goes unnoticed")
	}
}
