package policy

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"taxiihub/internal/store"
)

//go:generate sh -c "go run ./testdata/personalgen > testdata/personal-data.jsonl"

// labelledSet is the labelled set the personal-data rule is measured on, written by
// testdata/personalgen: each line an object, whether it carries personal data, and where.
var labelledSet = filepath.Join("testdata", "personal-data.jsonl")

// Targets of issue 13 on the labelled set.
const (
	minRecall = 0.98
	maxFPR    = 0.01
)

type labelledObject struct {
	Personal bool            `json:"personal"`
	Where    string          `json:"where"`
	Kind     string          `json:"kind"`
	Spelling string          `json:"spelling"`
	Object   json.RawMessage `json:"object"`
}

// TestPersonalDataRecallAndFalsePositives measures the rule in reject mode on the labelled set:
// an object with personal data counts as found only when it is refused at the place the label
// names; an object without counts as a false positive when it is refused for personal data at all.
func TestPersonalDataRecallAndFalsePositives(t *testing.T) {
	f, err := os.Open(labelledSet)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	reject := Rules{Partnership: store.PartnershipPolicy{PersonalData: store.PersonalDataReject}}
	var positives, found, negatives, falsePositives int
	missedByKind := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var e labelledObject
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s:%d: %v", labelledSet, line, err)
		}
		d := reject.Check(e.Object)
		var paths []string
		for _, p := range d.Errors {
			if p.Code == CodePersonalData {
				paths = append(paths, p.Path)
			}
		}
		if e.Personal {
			positives++
			if containsString(paths, e.Where) {
				found++
				continue
			}
			missedByKind[e.Kind]++
			t.Logf("missed, line %d: %s (%s) at %s; refused at %v", line, e.Kind, e.Spelling, e.Where, paths)
			continue
		}
		negatives++
		if len(paths) > 0 {
			falsePositives++
			t.Logf("false positive, line %d: %s; refused at %v: %v", line, e.Spelling, paths, d.Errors)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if positives < 150 || negatives < 150 {
		t.Fatalf("the set has %d objects with personal data and %d without; it needs 150 of each", positives, negatives)
	}
	recall := float64(found) / float64(positives)
	fpr := float64(falsePositives) / float64(negatives)
	t.Logf("labelled set: %d objects, %d with personal data, %d without", positives+negatives, positives, negatives)
	t.Logf("recall %.4f (%d of %d found at the labelled place), false-positive rate %.4f (%d of %d)",
		recall, found, positives, fpr, falsePositives, negatives)
	kinds := make([]string, 0, len(missedByKind))
	for k := range missedByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		t.Logf("missed %s: %d", k, missedByKind[k])
	}
	if recall < minRecall {
		t.Errorf("recall %.4f, below %.2f", recall, minRecall)
	}
	if fpr > maxFPR {
		t.Errorf("false-positive rate %.4f, above %.2f", fpr, maxFPR)
	}
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
