package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Repeated member names. STIX 2.1 content is I-JSON (RFC 7493), whose objects never repeat a
// member name (§2.3). The rule matters beyond form: encoding/json keeps the last of repeated
// members, so every check of the hub, the content rules included, would judge one value while
// the bytes stored and served byte for byte to partners carry both, and a reader elsewhere may
// keep the first. A partner could pass {"description": "<personal data>", ..., "description":
// "clean"}, or a RED marking followed by a GREEN one in object_marking_refs, past the rules. The
// object judged and the bytes stored must be the same object, so such content is refused.

// scanRaw reads raw, which decode has read as a single JSON value, for what the decoded form
// cannot show. It returns huge, a number-too-big problem, for the first number literal beyond
// the bounds (see numberTooBig); and otherwise, as dups, the member names that appear more
// than once in one JSON object, at any depth, compared after unescaping ("a" and "\u0061" are
// the same name). Each repeated name is reported once per object, at its second occurrence.
// Problem paths are JSON Pointers into raw.
//
// unitDepth bounds the repetitions reported. Each value at that depth (0: raw as a whole; 1:
// each element of a top-level array; 2: each element of an array held by a top-level member,
// such as a bundle's objects) gets at most maxProblems of them, and so does everything outside
// such values, so that the verdict of every object of a document still says it repeats names.
//
// The scan does not validate raw again. It is linear in the size of raw, and allocates only for
// names with escapes, for objects of many members and for the problems found.
func scanRaw(raw []byte, unitDepth int) (dups []Problem, huge *Problem) {
	// The scan is one function so that its buffers, sized for usual objects, stay on the stack.
	var frameBuf [16]keyFrame
	var nameBuf [64]memberName
	frames, names := frameBuf[:0], nameBuf[:0]
	// inUnit and outside count the repetitions found in the current unit and outside any unit.
	inUnit, outside := 0, 0
	expectName := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '{', '[':
			frames = append(frames, keyFrame{object: c == '{', first: len(names)})
			if len(frames) == unitDepth+1 {
				inUnit = 0
			}
			expectName = c == '{'
		case '}', ']':
			names = names[:frames[len(frames)-1].first]
			frames = frames[:len(frames)-1]
		case ',':
			if top := &frames[len(frames)-1]; top.object {
				expectName = true
			} else {
				top.index++
			}
		case '"':
			end := stringEnd(raw, i)
			if expectName {
				expectName = false
				name := raw[i+1 : end-1]
				if bytes.IndexByte(name, '\\') >= 0 {
					name = unescape(raw[i:end])
				}
				top := &frames[len(frames)-1]
				top.name = name
				var repeated bool
				if names, repeated = addName(top, names, name); repeated {
					count := &outside
					if len(frames) > unitDepth {
						count = &inUnit
					}
					*count++
					dups = appendRepeated(dups, frames, unitDepth, count == &inUnit, *count, name)
				}
			}
			i = end - 1
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			end := i + 1
			for end < len(raw) && isNumberByte(raw[end]) {
				end++
			}
			if numberTooBig(raw[i:end]) {
				return nil, hugeNumber(raw[i:end], frames)
			}
			i = end - 1
		}
		// Anything else is white space, a colon, true, false or null.
	}
	return dups, nil
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// hugeNumber is the problem of the number literal lit, found where frames are reading.
func hugeNumber(lit []byte, frames []keyFrame) *Problem {
	var at loc
	for _, f := range frames {
		if f.object {
			at = at.key(string(f.name))
		} else {
			at = at.index(f.index)
		}
	}
	return &Problem{Code: CodeNumberTooBig, Path: framePointer(frames), Message: fmt.Sprintf(
		"The number %.40s at %s is too large to be STIX content (at most %d characters and an exponent within ±%d).",
		lit, at, maxNumberLen, maxNumberExponent)}
}

// keyFrame is an open object or array.
type keyFrame struct {
	object bool
	// first is where the object's names start in the names of the open objects.
	first int
	// many replaces the names of an object once it has more than linearMembers members; its
	// values say whether the repetition of the name was reported.
	many map[string]bool
	// name is the member being read in an object; index the element being read in an array.
	name  []byte
	index int
}

// memberName is an unescaped member name of an open object, and whether its repetition was
// reported.
type memberName struct {
	name     []byte
	reported bool
}

// linearMembers is the number of members up to which an object's names are compared one by
// one, which for the usual STIX object costs less than hashing them.
const linearMembers = 32

// stringEnd returns the offset just past the string literal starting at raw[start].
func stringEnd(raw []byte, start int) int {
	i := start + 1
	for {
		q := i + bytes.IndexByte(raw[i:], '"')
		// The quote ends the string unless an odd number of backslashes precede it.
		b := q
		for raw[b-1] == '\\' {
			b--
		}
		if (q-b)%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
}

// unescape returns the text of a string literal that holds escapes.
func unescape(lit []byte) []byte {
	var s string
	_ = json.Unmarshal(lit, &s) // cannot fail: decode has read the literal
	return []byte(s)
}

// addName adds name to the names of the innermost object top, whose own names are at the end
// of names, and reports whether it is a repetition not yet reported.
func addName(top *keyFrame, names []memberName, name []byte) ([]memberName, bool) {
	if top.many != nil {
		reported, seen := top.many[string(name)]
		if !seen || !reported {
			top.many[string(name)] = seen
		}
		return names, seen && !reported
	}
	own := names[top.first:]
	for j := range own {
		if string(own[j].name) == string(name) {
			first := !own[j].reported
			own[j].reported = true
			return names, first
		}
	}
	if len(own) < linearMembers {
		return append(names, memberName{name: name}), false
	}
	top.many = make(map[string]bool, 2*linearMembers)
	for _, k := range own {
		top.many[string(k.name)] = k.reported
	}
	top.many[string(name)] = false
	return names[:top.first], false
}

// appendRepeated adds to found the problem for the count-th repetition of name found in the
// current unit (inUnit) or outside any, in the innermost of frames.
func appendRepeated(found []Problem, frames []keyFrame, unitDepth int, inUnit bool, count int, name []byte) []Problem {
	switch {
	case count <= maxProblems:
		return append(found, Problem{Code: CodeDuplicateKey, Path: framePointer(frames),
			Message: fmt.Sprintf("The member name %s appears more than once in this JSON object. STIX content is I-JSON "+
				"(RFC 7493), whose member names are unique: a reader would keep one of the values and ignore the other.",
				quote(string(name)))})
	case count == maxProblems+1:
		at := ""
		if inUnit {
			at = framePointer(frames[:unitDepth]) // the unit's own location
		}
		return append(found, Problem{Code: CodeTooManyProblems, Path: at,
			Message: fmt.Sprintf("Only the first %d repeated member names are reported.", maxProblems)})
	}
	return found
}

// framePointer renders as a JSON Pointer the location of what the innermost of frames is
// reading: the member names and element indexes being read in each.
func framePointer(frames []keyFrame) string {
	var b strings.Builder
	for _, f := range frames {
		b.WriteByte('/')
		if f.object {
			b.WriteString(escapePointer(string(f.name)))
		} else {
			b.WriteString(strconv.Itoa(f.index))
		}
	}
	return b.String()
}
