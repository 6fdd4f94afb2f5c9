package pattern

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// corpusPath is the labelled pattern corpus, from the copy of the development corpus kept in the
// stix package's testdata so that a fresh clone and CI run this test rather than skip it.
var corpusPath = filepath.Join("..", "testdata", "corpus", "patterns-oasis-pattern-validator.json")

type corpusEntry struct {
	Pattern string `json:"pattern"`
	// ExpectedPatternValidator is the verdict of stix2patterns.validate(p, stix_version="2.1").
	ExpectedPatternValidator string   `json:"expected_pattern_validator"`
	PatternValidatorErrors   []string `json:"pattern_validator_errors"`
	// ExpectedInIndicator is the verdict of the OASIS STIX validator on an indicator carrying p.
	ExpectedInIndicator string `json:"expected_in_indicator"`
	Origin              string `json:"origin"`
}

func readCorpus() ([]corpusEntry, error) {
	data, err := os.ReadFile(corpusPath)
	if err != nil {
		return nil, fmt.Errorf("read pattern corpus: %w", err)
	}
	var file struct {
		Patterns []corpusEntry `json:"patterns"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("decode pattern corpus %s: %w", corpusPath, err)
	}
	if len(file.Patterns) == 0 {
		return nil, fmt.Errorf("pattern corpus %s holds no patterns", corpusPath)
	}
	return file.Patterns, nil
}

// loadCorpus reads the labelled patterns; a missing corpus fails the test.
func loadCorpus(tb testing.TB) []corpusEntry {
	tb.Helper()
	entries, err := readCorpus()
	if err != nil {
		tb.Fatal(err)
	}
	return entries
}

func verdict(err error) string {
	if err == nil {
		return "valid"
	}
	return "invalid"
}

// labelContradictsSpec recognises the one kind of disagreement with the OASIS labels that is the
// label's fault: the OASIS grammar checks each timestamp field's range but not the calendar, so it
// accepts t'2023-02-29T12:00:00Z'. STIX 2.1 timestamps are RFC 3339 timestamps, and RFC 3339
// section 5.7 limits the day to the days of the month, so such a pattern is invalid. Only patterns
// whose every problem is CodeInvalidDate qualify.
func labelContradictsSpec(err error, label string) bool {
	var problems Problems
	if label != "valid" || !errors.As(err, &problems) {
		return false
	}
	for _, p := range problems {
		if p.Code != CodeInvalidDate {
			return false
		}
	}
	return true
}

// antlrPosition reads the 0-based column from an OASIS syntax error ("Error found at line 1:13").
var antlrPosition = regexp.MustCompile(`Error found at line 1:(\d+)`)

type agreement struct {
	agree, disagree int
	labelWrong      []string
}

func (a agreement) String() string {
	return fmt.Sprintf("%d agree, %d disagree, %d label(s) contradict the spec", a.agree, a.disagree, len(a.labelWrong))
}

func TestOASISCorpus(t *testing.T) {
	entries := loadCorpus(t)
	var validator, indicator agreement
	positions := 0
	record := func(a *agreement, column, pattern, label string, err error) {
		switch {
		case verdict(err) == label:
			a.agree++
		case labelContradictsSpec(err, label):
			a.labelWrong = append(a.labelWrong, pattern)
			t.Logf("%s label %q contradicts the spec for %s: %v", column, label, pattern, err)
		default:
			a.disagree++
			t.Errorf("%s: %s labelled %s, got %s: %v", column, pattern, label, verdict(err), err)
		}
	}
	for _, e := range entries {
		_, err := Parse(e.Pattern)
		record(&validator, "pattern validator", e.Pattern, e.ExpectedPatternValidator, err)

		// Where the OASIS tool located a syntax error, ours must point at the same place.
		if len(e.PatternValidatorErrors) > 0 && err != nil {
			if m := antlrPosition.FindStringSubmatch(e.PatternValidatorErrors[0]); m != nil {
				want, _ := strconv.Atoi(m[1])
				var problems Problems
				if errors.As(err, &problems) && problems[0].Offset != want {
					t.Errorf("%s: our first problem is at offset %d, the OASIS validator's at %d: %v", e.Pattern, problems[0].Offset, want, err)
				}
				positions++
			}
		}

		record(&indicator, "in indicator", e.Pattern, e.ExpectedInIndicator, ValidateIndicatorPattern(e.Pattern))
	}
	t.Logf("%d patterns; pattern-validator column: %v; in-indicator column: %v; %d syntax error positions compared",
		len(entries), validator, indicator, positions)
}

func BenchmarkParse(b *testing.B) {
	entries := loadCorpus(b)
	patterns := make([]string, len(entries))
	for i, e := range entries {
		patterns[i] = e.Pattern
	}
	b.Run("corpus", func(b *testing.B) {
		b.ReportAllocs()
		loops := 0
		for b.Loop() {
			for _, s := range patterns {
				_, _ = Parse(s)
			}
			loops++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(loops*len(patterns)), "ns/pattern")
	})
	// The shape of most indicators in real feeds: one hash, or a couple of network observables.
	typical := map[string]string{
		"file-hash": "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
		"network":   "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
	}
	for name, s := range typical {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := ValidateIndicatorPattern(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
