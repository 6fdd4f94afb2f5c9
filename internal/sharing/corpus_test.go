package sharing

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"taxiihub/internal/policy"
	"taxiihub/internal/store"
)

// corpusDir is the labelled development corpus the STIX validator is tuned on (see its MANIFEST.md).
var corpusDir = filepath.Join("..", "stix", "testdata", "corpus")

// validCorpusFiles lists the corpus files labelled valid, by path.
func validCorpusFiles(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([^`]+)` \\|.*\\| \\*\\*valid\\*\\* \\|")
	var files []string
	folder := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if heading, ok := strings.CutPrefix(line, "## `"); ok {
			folder, _, _ = strings.Cut(heading, "`")
			continue
		}
		if m := row.FindStringSubmatch(line); m != nil && strings.HasSuffix(folder, "/") {
			files = append(files, filepath.Join(corpusDir, folder, m[1]))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return files
}

// corpusObjects returns the objects of a bundle or envelope, or the file as one object.
func corpusObjects(data []byte) []json.RawMessage {
	var doc struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	if doc.Objects != nil {
		return doc.Objects
	}
	if doc.Type != "" {
		return []json.RawMessage{data}
	}
	return nil
}

// oldLevel is an object's level as the hub judged it before markings were classified: the
// predefined TLP ids spelt in lower case counted, every other marking was ignored.
func oldLevel(obj map[string]any) store.TLP {
	level := store.TLPNone
	see := func(ref any) {
		id, _ := ref.(string)
		if l, ok := policy.LevelOf(id); ok && id == strings.ToLower(id) {
			level = max(level, l)
		}
	}
	refs, _ := obj["object_marking_refs"].([]any)
	for _, r := range refs {
		see(r)
	}
	gms, _ := obj["granular_markings"].([]any)
	for _, gm := range gms {
		if m, ok := gm.(map[string]any); ok {
			see(m["marking_ref"])
		}
	}
	return level
}

// corpusFigures is what the TLP rules make of the corpus's valid objects.
type corpusFigures struct {
	files, valid, notJudged int
	oldRefused, newRefused  int
	byCode                  map[string]int
	// unknown counts the references to marking definitions the hub could not classify, by id.
	unknown map[string]int
}

func (c corpusFigures) String() string {
	var markings []string
	for id, n := range c.unknown {
		markings = append(markings, id+" ×"+strconv.Itoa(n))
	}
	sort.Strings(markings)
	return fmt.Sprintf("%d valid objects in %d files (%d observables without spec_version not judged); refused before: %d; refused now: %d %v; unclassifiable markings: %v",
		c.valid, c.files, c.notJudged, c.oldRefused, c.newRefused, c.byCode, markings)
}

// TestCorpusUnderAmberCeiling posts each valid file of the corpus, as one envelope (dry run), into
// a collection with a TLP:AMBER ceiling, and counts what the TLP rules refuse now against what they
// refused before markings were classified; then again once the partnership holds the corpus's
// marking definitions, as it would when a publisher shares them first. Every refusal must be
// explained: an object refused before is refused still; an unclassifiable marking is one the hub
// has not seen; a new refusal above the ceiling comes from a definition that claims a level.
func TestCorpusUnderAmberCeiling(t *testing.T) {
	f := newFixture(t, store.PartnershipPolicy{}, member{id: "m", read: true, write: true})
	coll, err := f.store.Collection(t.Context(), "r", "c")
	if err != nil {
		t.Fatal(err)
	}
	coll.Policy = store.CollectionPolicy{MaxTLP: store.TLPAmber}
	if err := f.store.UpdateCollection(t.Context(), coll); err != nil {
		t.Fatal(err)
	}
	acc := f.access(t, "m")
	files := validCorpusFiles(t)

	alone := judgeCorpus(t, f, acc, files, map[string]bool{})
	t.Logf("corpus under a TLP:AMBER ceiling, each file alone: %s", alone)

	// The partnership learns the corpus's marking definitions (the predefined TLP ones aside).
	var definitions []json.RawMessage
	known := map[string]bool{}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range corpusObjects(data) {
			var o struct{ Type, ID string }
			if json.Unmarshal(raw, &o) == nil && o.Type == "marking-definition" && !known[o.ID] {
				if _, fixed := policy.LevelOf(o.ID); !fixed {
					known[o.ID] = true
					definitions = append(definitions, raw)
				}
			}
		}
	}
	if _, err := f.svc.Publish(t.Context(), acc, definitions, false); err != nil {
		t.Fatal(err)
	}
	informed := judgeCorpus(t, f, acc, files, known)
	t.Logf("the same, once the partnership holds the corpus's %d marking definitions: %s", len(definitions), informed)
	if informed.byCode[policy.CodeUnclassifiable] != 0 {
		t.Errorf("markings the partnership holds are still unclassifiable: %v", informed.unknown)
	}
}

// judgeCorpus dry-runs each file as an envelope; known are the marking definitions the
// partnership holds.
func judgeCorpus(t *testing.T, f fixture, acc Access, files []string, known map[string]bool) corpusFigures {
	t.Helper()
	v := mustValidator(t)
	c := corpusFigures{byCode: map[string]int{}, unknown: map[string]int{}}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		raws := corpusObjects(data)
		if len(raws) == 0 {
			continue
		}
		c.files++
		defined := maps.Clone(known)
		var judged []json.RawMessage
		for _, raw := range raws {
			sv := v.Object(raw)
			if sv.Valid() && sv.SpecVersion == "" {
				// The store refuses observables without spec_version (a matter apart from TLP).
				c.notJudged++
				continue
			}
			if sv.Type == "marking-definition" {
				defined[sv.ID] = true
			}
			judged = append(judged, raw)
		}
		st, err := f.svc.Publish(t.Context(), acc, slices.Clone(judged), true)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		refusals := map[string]string{}
		for _, d := range st.Failures {
			refusals[d.ID] = d.Message
		}
		for _, raw := range judged {
			sv := v.Object(raw)
			if !sv.Valid() {
				continue
			}
			c.valid++
			msg := refusals[sv.ID]
			wasRefused := !store.TLPAmber.Admits(oldLevel(sv.Object))
			isRefused := strings.Contains(msg, "[tlp-")
			if wasRefused {
				c.oldRefused++
				if !isRefused {
					t.Errorf("%s: %s was refused above the ceiling and no longer is: %q", path, sv.ID, msg)
				}
			}
			if !isRefused {
				continue
			}
			c.newRefused++
			for _, code := range []string{policy.CodeAboveCeiling, policy.CodeUnclassifiable} {
				if strings.Contains(msg, "["+code+"]") {
					c.byCode[code]++
				}
			}
			if strings.Contains(msg, "["+policy.CodeUnclassifiable+"]") {
				undefined := 0
				policy.ScanMarkingIDs(raw, func(id string) {
					if id != sv.ID && !defined[id] {
						c.unknown[id]++
						undefined++
					}
				})
				if undefined == 0 {
					t.Errorf("%s: %s is unclassifiable though every marking it names is known", path, sv.ID)
				}
			}
		}
	}
	if c.valid == 0 {
		t.Fatalf("no corpus read from %s", corpusDir)
	}
	return c
}
