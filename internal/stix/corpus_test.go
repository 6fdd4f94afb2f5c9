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
