package policy

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"taxiihub/internal/stix"
	"taxiihub/internal/store"
)

// tlpLevels maps the ids of the predefined TLP marking definitions, TLP 1.0 (STIX 2.1 section 7.2.1.4)
// and TLP 2.0 (published by the OASIS CTI TC), to one scale. WHITE and CLEAR are one level; AMBER
// is AMBER in both. Keys are lower case; look ids up with fixedTLP.
var tlpLevels = map[string]store.TLP{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": store.TLPClear, // TLP 1.0 WHITE
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": store.TLPGreen, // TLP 1.0 GREEN
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": store.TLPAmber, // TLP 1.0 AMBER
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": store.TLPRed,   // TLP 1.0 RED

	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": store.TLPClear,       // TLP 2.0 CLEAR
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": store.TLPGreen,       // TLP 2.0 GREEN
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": store.TLPAmber,       // TLP 2.0 AMBER
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": store.TLPAmberStrict, // TLP 2.0 AMBER+STRICT
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": store.TLPRed,         // TLP 2.0 RED
}

// tlp2Extension is the extension definition the TLP 2.0 marking definitions use: a public object
// like them.
const tlp2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// fixedTLP returns the level of a predefined TLP marking definition id, and whether id is one.
//
// Ids are compared without regard to case. A STIX identifier's UUID part is an RFC 4122 UUID,
// whose hexadecimal digits "are case insensitive on input"; the STIX 2.1 JSON schema accepts
// A-F as well as a-f, and so does the OASIS validator, so the hub's validator accepts upper-case
// ids too. marking-definition--5E57C739-… therefore names TLP:RED, and must count as RED: treating
// it as some unknown marking would let a partner put a RED object under an AMBER ceiling by
// changing the case of the reference. (The validator holds a marking-definition object bearing a
// fixed id in any case to the predefined object, whose id is lower case, so no other definition
// can take such an id.)
func fixedTLP(id string) (store.TLP, bool) {
	l, ok := tlpLevels[id]
	if !ok && len(id) == len(tlpIDExample) {
		l, ok = tlpLevels[strings.ToLower(id)]
	}
	return l, ok
}

const tlpIDExample = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"

// LevelOf returns the TLP level of an object's own TLP marking definition id, and whether id is one.
func LevelOf(markingID string) (store.TLP, bool) { return fixedTLP(markingID) }

// Markings are what the hub knows of the marking definitions a write refers to, other than the
// predefined TLP ones: for each id, the highest TLP level the definition claims (ClaimedLevel), or
// TLPNone when it claims none (a copyright statement, say). An id absent from Markings is a
// marking the hub cannot classify. The sharing layer gathers them for a whole envelope, from the
// envelope itself and the partnership's collections, before the rules judge any object.
type Markings map[string]store.TLP

// markingIDPrefix starts every reference to a marking definition.
var markingIDPrefix = []byte("marking-definition--")

// ScanMarkingIDs calls see with every marking-definition id written plainly in raw (the object's
// own id included) that is not a predefined TLP id. It reads the bytes without decoding them, so
// that gathering the references of a large envelope costs a scan of it; an id written with JSON
// escapes is missed, and then stays unclassifiable, which refuses or hides what refers to it
// rather than letting it pass.
func ScanMarkingIDs(raw []byte, see func(id string)) {
	const idLen = len(tlpIDExample)
	for rest := raw; ; {
		i := bytes.Index(rest, markingIDPrefix)
		if i < 0 || len(rest)-i < idLen {
			return
		}
		candidate := rest[i : i+idLen]
		rest = rest[i+len(markingIDPrefix):]
		if !uuidShaped(candidate[len(markingIDPrefix):]) {
			continue // text that merely mentions the type, not an id
		}
		id := string(candidate)
		if _, fixed := fixedTLP(id); !fixed {
			see(id)
		}
	}
}

// uuidShaped reports whether b is written as a UUID: hex digits in groups of 8, 4, 4, 4 and 12.
func uuidShaped(b []byte) bool {
	if len(b) != 36 {
		return false
	}
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// tlpMention finds a TLP level named in text folded by foldText: "TLP:RED", "tlp amber+strict",
// "TLP-AMBER STRICT", "tlp_2_0 ...". The level must follow "tlp": a bare "red" is no claim.
var tlpMention = regexp.MustCompile(`tlp(?:[ _:\-]*2[._]?0)?[ _:\-]*(clear|white|green|amber(?:[ _]*\+?[ _]*strict)?|red)`)

// ClaimedLevel returns the highest TLP level a marking definition claims, other than by being one
// of the predefined TLP definitions: a tlp or tlp_2_0 property anywhere in it (the TLP 2.0
// extension's, or definition_type tlp's definition.tlp) with a level as value, or a level named
// after "TLP" in any of its text (name, a statement, any other string). Text is compared after
// NFKC normalisation, with format characters (zero-width spaces, soft hyphens) removed and case
// folded, so that "ＴＬＰ:ＲＥＤ" and "T\u00adLP:RED" claim RED too. A definition naming several
// levels claims the highest. TLPNone means it claims none.
func ClaimedLevel(def map[string]any) store.TLP {
	level := store.TLPNone
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(k, e)
			}
		case []any:
			for _, e := range v {
				walk(key, e)
			}
		case string:
			text := foldMarkingText(v)
			if k := strings.ToLower(key); k == "tlp" || k == "tlp_2_0" {
				if l, err := store.ParseTLP(text); err == nil {
					level = max(level, l)
				}
			}
			for _, m := range tlpMention.FindAllStringSubmatch(text, -1) {
				name := m[1]
				if strings.HasPrefix(name, "amber") && strings.HasSuffix(name, "strict") {
					name = "amber+strict"
				}
				if l, err := store.ParseTLP(name); err == nil {
					level = max(level, l)
				}
			}
		}
	}
	walk("", def)
	return level
}

// foldMarkingText prepares text for finding a TLP level in it: format characters removed, NFKC, lower
// case.
func foldMarkingText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	return strings.ToLower(norm.NFKC.String(s))
}

// levelOf returns the TLP level of obj and, under a ceiling, the refusal of the first marking it
// cannot accept.
//
// The level is the highest among the markings in object_marking_refs and those granular_markings
// apply to parts of it, since whoever receives the object receives every part: a predefined TLP
// definition counts as its level, another definition as the level it claims (markings), and one
// the hub cannot classify as store.TLPUnknown, above every level. A marking-definition object that
// claims a level is at that level itself. Markings that are not TLP and claim no level do not
// count; an object with no TLP level is at TLPNone.
func levelOf(obj map[string]any, ceiling store.TLP, markings Markings) (store.TLP, *stix.Problem) {
	level := store.TLPNone
	var refusal *stix.Problem
	judge := func(l store.TLP, path string) {
		level = max(level, l)
		if refusal != nil || ceiling.Admits(l) {
			return
		}
		if l == store.TLPUnknown {
			refusal = &stix.Problem{Code: CodeUnclassifiable, Path: path, Message: fmt.Sprintf(
				"the hub does not know this marking definition, so it cannot tell whether the object is within TLP:%s, the highest level this collection accepts; post the marking definition with the object, or first",
				strings.ToUpper(ceiling.String()))}
			return
		}
		refusal = &stix.Problem{Code: CodeAboveCeiling, Path: path, Message: fmt.Sprintf(
			"the object is marked TLP:%s, above TLP:%s, the highest level this collection accepts",
			strings.ToUpper(l.String()), strings.ToUpper(ceiling.String()))}
	}
	see := func(ref any, path string) {
		id, _ := ref.(string)
		if l, ok := fixedTLP(id); ok {
			judge(l, path)
			return
		}
		l, ok := markings[id]
		if !ok {
			l = store.TLPUnknown
		}
		judge(l, path)
	}
	if typ, _ := obj["type"].(string); typ == "marking-definition" {
		if id, _ := obj["id"].(string); !publicObject(id) {
			claim := ClaimedLevel(obj)
			level = claim
			if !ceiling.Admits(claim) {
				refusal = &stix.Problem{Code: CodeAboveCeiling, Message: fmt.Sprintf(
					"this marking definition claims TLP:%s, above TLP:%s, the highest level this collection accepts",
					strings.ToUpper(claim.String()), strings.ToUpper(ceiling.String()))}
			}
		}
	}
	if refs, ok := obj["object_marking_refs"].([]any); ok {
		for i, ref := range refs {
			see(ref, fmt.Sprintf("/object_marking_refs/%d", i))
		}
	}
	if gms, ok := obj["granular_markings"].([]any); ok {
		for i, gm := range gms {
			m, ok := gm.(map[string]any)
			if !ok {
				continue
			}
			if ref, has := m["marking_ref"]; has {
				see(ref, fmt.Sprintf("/granular_markings/%d/marking_ref", i))
			}
		}
	}
	return level, refusal
}
