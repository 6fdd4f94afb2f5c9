package stix

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// corpusDir is the labelled development corpus, beside the repository in the developers'
// workspace: the package directory is main/internal/stix.
// corpusDir is a copy of the labelled development corpus (see its MANIFEST.md), kept in the
// repository so that a fresh clone and CI run the agreement test rather than skip it.
var corpusDir = filepath.Join("testdata", "corpus")

// patternCorpus is the file of labelled patterns within corpusDir.
const patternCorpus = "patterns-oasis-pattern-validator.json"

// Labels of the corpus.
const (
	labelValid   = "valid"
	labelInvalid = "invalid"
	labelNot21   = "not-2.1"
)

// labelledCase is one entry of the corpus: a file, or a pattern checked inside an indicator.
type labelledCase struct {
	group string // the MANIFEST section: a corpus folder, or the pattern file
	name  string
	label string
	input []byte
}

// readManifest returns the labelled files of MANIFEST.md: each "## `folder/`" section has a
// table whose rows are | `file` | origin | **label** | ... |.
func readManifest(dir string) ([]labelledCase, error) {
	f, err := os.Open(filepath.Join(dir, "MANIFEST.md"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []labelledCase
	folder := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if heading, ok := strings.CutPrefix(line, "## `"); ok {
			folder, _, _ = strings.Cut(heading, "`")
			if !strings.HasSuffix(folder, "/") {
				folder = "" // a file section (the pattern corpus) has no file table
			}
			continue
		}
		if folder == "" || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, " | ")
		if len(cells) < 4 {
			return nil, fmt.Errorf("MANIFEST row with %d cells: %q", len(cells), line)
		}
		name := strings.Trim(strings.TrimPrefix(cells[0], "| "), "`")
		label := strings.Trim(cells[2], "*")
		if label != labelValid && label != labelInvalid && label != labelNot21 {
			return nil, fmt.Errorf("MANIFEST row for %s has label %q", name, label)
		}
		data, err := os.ReadFile(filepath.Join(dir, folder, name))
		if err != nil {
			return nil, fmt.Errorf("MANIFEST lists %s%s: %w", folder, name, err)
		}
		cases = append(cases, labelledCase{group: strings.TrimSuffix(folder, "/"), name: name, label: label, input: data})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read MANIFEST: %w", err)
	}
	return cases, nil
}

// patternIndicator is a valid indicator whose only varying property is the pattern, the way
// the corpus labels each pattern's expected_in_indicator.
func patternIndicator(pattern string) []byte {
	p, _ := json.Marshal(pattern)
	return []byte(`{
  "type": "indicator",
  "spec_version": "2.1",
  "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
  "created": "2016-04-06T20:03:48.000Z",
  "modified": "2016-04-06T20:03:48.000Z",
  "name": "Pattern under test",
  "description": "Only the pattern varies between these indicators.",
  "indicator_types": ["malicious-activity"],
  "pattern_type": "stix",
  "pattern": ` + string(p) + `,
  "valid_from": "2016-04-06T20:03:48.000Z"
}`)
}

func readPatternCases(dir string) ([]labelledCase, error) {
	data, err := os.ReadFile(filepath.Join(dir, patternCorpus))
	if err != nil {
		return nil, err
	}
	var file struct {
		Patterns []struct {
			Pattern             string `json:"pattern"`
			ExpectedInIndicator string `json:"expected_in_indicator"`
		} `json:"patterns"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("decode %s: %w", patternCorpus, err)
	}
	cases := make([]labelledCase, len(file.Patterns))
	for i, p := range file.Patterns {
		cases[i] = labelledCase{group: patternCorpus, name: p.Pattern, label: p.ExpectedInIndicator, input: patternIndicator(p.Pattern)}
	}
	return cases, nil
}

// loadCorpus reads every labelled case; a missing or unreadable corpus fails the test.
func loadCorpus(tb testing.TB) []labelledCase {
	tb.Helper()
	files, err := readManifest(corpusDir)
	if err != nil {
		tb.Fatal(err)
	}
	patterns, err := readPatternCases(corpusDir)
	if err != nil {
		tb.Fatal(err)
	}
	return append(files, patterns...)
}

// TestCorpusAgreement validates every labelled input of the corpus and compares with its
// label. It fails when agreement drops below 99 % or when anything labelled invalid or not-2.1
// is accepted: a false rejection costs a partner a retry, a false acceptance spreads bad data.
func TestCorpusAgreement(t *testing.T) {
	v := newTestValidator(t)
	cases := loadCorpus(t)

	type tally struct{ agree, total int }
	perGroup := map[string]*tally{}
	var groups []string
	agree := 0
	for _, c := range cases {
		d := v.Document(c.input)
		ok := agrees(c.label, d)
		if perGroup[c.group] == nil {
			perGroup[c.group] = &tally{}
			groups = append(groups, c.group)
		}
		perGroup[c.group].total++
		if ok {
			perGroup[c.group].agree++
			agree++
			continue
		}
		switch c.label {
		case labelValid:
			t.Logf("DISAGREE %s/%s: labelled valid, rejected: %s", c.group, c.name, firstError(d))
		default:
			t.Errorf("%s/%s is labelled %s but was accepted", c.group, c.name, c.label)
		}
	}

	slices.Sort(groups)
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-38s %7s %7s %8s\n", "folder", "agree", "total", "%")
	for _, g := range groups {
		tl := perGroup[g]
		fmt.Fprintf(&table, "%-38s %7d %7d %7.1f%%\n", g, tl.agree, tl.total, 100*float64(tl.agree)/float64(tl.total))
	}
	overall := 100 * float64(agree) / float64(len(cases))
	fmt.Fprintf(&table, "%-38s %7d %7d %7.1f%%", "overall", agree, len(cases), overall)
	t.Log(table.String())
	if overall < 99 {
		t.Errorf("agreement with the corpus labels is %.1f%%, below 99%%", overall)
	}
}

// agrees reports whether a verdict matches a label. not-2.1 content must be refused for being
// STIX 2.0, not for some other reason.
func agrees(label string, d DocumentVerdict) bool {
	switch label {
	case labelValid:
		return d.Valid()
	case labelNot21:
		return !d.Valid() && hasCode(d, CodeNotSTIX21)
	}
	return !d.Valid()
}

func hasCode(d DocumentVerdict, code string) bool {
	for _, p := range d.Errors {
		if p.Code == code {
			return true
		}
	}
	for _, o := range d.Objects {
		for _, p := range o.Errors {
			if p.Code == code {
				return true
			}
		}
	}
	return false
}

func firstError(d DocumentVerdict) string {
	if len(d.Errors) > 0 {
		return fmt.Sprintf("%s %s: %s", d.Errors[0].Code, d.Errors[0].Path, d.Errors[0].Message)
	}
	for _, o := range d.Objects {
		if len(o.Errors) > 0 {
			return fmt.Sprintf("%s %s: %s", o.Errors[0].Code, o.Errors[0].Path, o.Errors[0].Message)
		}
	}
	return "no error"
}

// TestCorpusIsFullyLabelled guards the MANIFEST parsing: every JSON file of the corpus folders
// must be labelled, so that a table the parser misreads cannot shrink the test silently.
func TestCorpusIsFullyLabelled(t *testing.T) {
	cases := loadCorpus(t)
	labelled := map[string]bool{}
	for _, c := range cases {
		labelled[filepath.Join(c.group, c.name)] = true
	}
	err := filepath.WalkDir(corpusDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, path)
		if rel == patternCorpus || filepath.Base(rel) == "index.json" {
			return nil
		}
		group, name, _ := strings.Cut(rel, string(filepath.Separator))
		if !labelled[filepath.Join(group, name)] {
			t.Errorf("%s is not labelled in MANIFEST.md", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func newTestValidator(tb testing.TB) *Validator {
	tb.Helper()
	v, err := NewValidator()
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// expectedPatternWarnings lists the warnings about patterns and property-name case that
// content labelled valid in the corpus draws, each read and found true. They are kept exact so
// that a check that starts warning about good patterns fails here instead of teaching authors
// to ignore the warnings.
var expectedPatternWarnings = []struct {
	group, name string
	codes       []string
}{
	// Hash keys written md5: content carries MD5, and keys compare exactly.
	{"oasis-json-schemas-examples", "apt1.json", []string{"pattern-hash-algorithm", "pattern-hash-algorithm", "pattern-hash-algorithm"}},
	// A domain-name value holding a space ('domain autuo.xicp.net').
	{"oasis-json-schemas-examples", "poisonivy.json", []string{"pattern-value"}},
	// process:name, which STIX 2.0 had and STIX 2.1 removed (image_ref.name replaces it).
	{"misp-stix-literals", "misp-external-process-indicator.json", []string{"pattern-unknown-property"}},
	{"misp-stix-literals", "misp-external-process-objects.json", []string{"pattern-unknown-property"}},
	// software:languages[0] = 'C#': languages holds RFC 5646 tags (en, fr), not programming
	// languages; the same export's software objects are invalid for this (misp-external-software-objects).
	{"misp-stix-literals", "misp-external-software-indicator.json", []string{"pattern-value"}},
	// file:foo, a custom property without the x_ prefix, which no file carries.
	{"oasis-validator-cases", "valid/indicator--pattern_custom_property_valid--9d4d66e7d5.json", []string{"pattern-unknown-property"}},
	// The pattern validator's own test inputs: types that are not STIX 2.1 observables (foo,
	// ipv4addr, win-registry-key, network-connection), STIX 2.0 properties (file:created,
	// extended_properties, process:name), file:file_name, and file:size compared with a string.
	{patternCorpus, "[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']", []string{"pattern-unknown-property", "pattern-value"}},
	{patternCorpus, "([file:name = 'foo.dll'] AND [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']", []string{"pattern-unknown-property", "pattern-unknown-type"}},
	{patternCorpus, "[file:extended_properties.'ntfs-ext'.sid = '234']", []string{"pattern-unknown-property"}},
	{patternCorpus, "[ipv4addr:value ISSUBSET '192.168.0.1/24']", []string{"pattern-unknown-type"}},
	{patternCorpus, "[ipv4addr:value NOT ISSUBSET '192.168.0.1/24']", []string{"pattern-unknown-type"}},
	{patternCorpus, "[file:file_name IN ('test.txt', 'test2.exe', 'README')]", []string{"pattern-unknown-property"}},
	{patternCorpus, "[network-connection:extended_properties[0].source_payload MATCHES 'dGVzdHRlc3R0ZXN0']", []string{"pattern-unknown-type"}},
	{patternCorpus, "[win-registry-key:key = 'hkey_local_machine\\\\foo\\\\bar'] WITHIN 5 SECONDS", []string{"pattern-unknown-type"}},
	{patternCorpus, "[foo:bar=1] REPEATS 9 TIMES", []string{"pattern-unknown-type"}},
	{patternCorpus, "([win-registry-key:key = 'hkey_local_machine\\\\foo\\\\bar'] REPEATS 2 TIMES) REPEATS 2 TIMES", []string{"pattern-unknown-type"}},
	{patternCorpus, "[foo:bar = 1]", []string{"pattern-unknown-type"}},
	{patternCorpus, "[foo:bar = 1] REPEATS 5 TIMES", []string{"pattern-unknown-type"}},
	{patternCorpus, "[foo:bar = 1] WITHIN 123 SECONDS", []string{"pattern-unknown-type"}},
	{patternCorpus, "[foo:bar = 1] START t'1932-11-12T15:42:15Z' STOP t'1964-10-23T21:12:26Z'", []string{"pattern-unknown-type"}},
	{patternCorpus, "[foo:bar = 1] AND [foo:baz > 25.2]", []string{"pattern-unknown-type"}},
	{patternCorpus, "[foo:bar = 1] OR [foo:baz != 'hello']", []string{"pattern-unknown-type"}},
	{patternCorpus, "[foo:bar = 1] FOLLOWEDBY [foo:baz IN (1,2,3)]", []string{"pattern-unknown-type"}},
	{patternCorpus, "[foo:bar = 1] OR ([foo:baz = false] FOLLOWEDBY [frob:abc LIKE '123']) WITHIN 46.1 SECONDS", []string{"pattern-unknown-type", "pattern-unknown-type"}},
	{patternCorpus, "[foo:bar=1 AND foo:baz=2]", []string{"pattern-unknown-type"}},
	{patternCorpus, "[foo:bar=1] OR [foo:baz MATCHES '123\\\\d+']", []string{"pattern-unknown-type"}},
	{patternCorpus, "[foo:bar=1 AND bar:foo NOT >33] REPEATS 12 TIMES OR   ([baz:bar ISSUBSET '1234'] FOLLOWEDBY [baz:quux NOT LIKE 'a_cd'])", []string{"pattern-unknown-type", "pattern-unknown-type", "pattern-unknown-type"}},
}

// TestCorpusPatternWarnings checks the new warnings against the corpus: content labelled valid
// draws exactly the warnings listed in expectedPatternWarnings, and the counts per code are
// logged for the record.
func TestCorpusPatternWarnings(t *testing.T) {
	v := newTestValidator(t)
	codesOf := []string{CodePatternUnknownType, CodePatternUnknownProperty, CodePatternHashAlgorithm, CodePatternValue, CodePropertyNameCase}
	want := map[string][]string{}
	for _, e := range expectedPatternWarnings {
		want[e.group+"/"+e.name] = e.codes
	}
	counts := map[string]int{}
	validCases, indicators := 0, 0
	for _, c := range loadCorpus(t) {
		if c.label != labelValid {
			continue
		}
		validCases++
		d := v.Document(c.input)
		var got []string
		for _, o := range d.Objects {
			if o.Type == "indicator" {
				indicators++
			}
			for _, w := range o.Warnings {
				if slices.Contains(codesOf, w.Code) {
					got = append(got, w.Code)
					counts[w.Code]++
				}
			}
		}
		key := c.group + "/" + c.name
		if !slices.Equal(got, want[key]) {
			t.Errorf("%s: warnings %v, want %v", key, got, want[key])
		}
		delete(want, key)
	}
	for key := range want {
		t.Errorf("%s is listed with warnings but is not a valid case of the corpus", key)
	}
	var summary strings.Builder
	for _, code := range codesOf {
		fmt.Fprintf(&summary, " %s=%d", code, counts[code])
	}
	t.Logf("%d valid cases (%d indicators):%s", validCases, indicators, summary.String())
}
