package pattern

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// fuzzSeeds cover every production of the grammar and the main ways to get it wrong.
var fuzzSeeds = []string{
	"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
	"[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
	"([file:name = 'foo.dll'] AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) OR [process:name = 'a' OR process:name = 'b']",
	"[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
	"[a:b = 1] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00Z' FOLLOWEDBY [a:c NOT IN (1, -2.5, true, h'ff', b'dGVzdA==', 'x')]",
	"[NOT EXISTS a:b OR (EXISTS a:c AND a:d[-1] <> 'it\\'s')] /* c */ // line",
	"([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS",
	"[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS",
	"[a:b LIKE 'a%' OR a:b MATCHES '^\\\\d+$' OR a:c ISSUBSET '10.0.0.0/8' OR a:d ISSUPERSET '10.0.0.1']",
	"[x:created = t'2024-02-30T12:00:00Z']",
	"[file:size = ]",
	"[a:b = '\\d']",
	"[a:b = h'abc']",
	"[a:b = b'====']",
	"[a:b = 1] within 5 seconds",
	"((([a:b = 1",
	"[file:hashes.MD5 IN ('79054025255fb1a26e4bc422aef54eb4', 'f00')]",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	if entries, err := readCorpus(); err == nil {
		for _, e := range entries {
			f.Add(e.Pattern)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			var problems Problems
			if !errors.As(err, &problems) || len(problems) == 0 {
				t.Fatalf("Parse(%q) returned %v (%T), not a non-empty Problems", s, err, err)
			}
			for _, problem := range problems {
				if problem.Code == "" || problem.Message == "" || problem.Offset < 0 || problem.Offset > len(s) || problem.Line < 1 || problem.Column < 1 {
					t.Fatalf("Parse(%q): malformed problem %+v", s, problem)
				}
			}
			return
		}
		// What parses renders to text that parses to the same structure and the same text.
		rendered := p.String()
		again, err := Parse(rendered)
		if err != nil {
			t.Fatalf("Parse(%q) succeeded, but its rendering %q fails: %v", s, rendered, err)
		}
		if got := again.String(); got != rendered {
			t.Fatalf("rendering is not stable:\n%q\n%q", rendered, got)
		}
		if tree(p.Root) != tree(again.Root) {
			t.Fatalf("rendering changed the structure of %q:\n%s\n%s", s, tree(p.Root), tree(again.Root))
		}
		if codes(p.CheckIndicator()) != codes(again.CheckIndicator()) {
			t.Fatalf("rendering changed the indicator verdict of %q", s)
		}
	})
}

// codes lists the problem codes, ignoring order and positions, which a re-rendering may change.
func codes(ps Problems) string {
	var out []string
	for _, p := range ps {
		out = append(out, string(p.Code))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}
