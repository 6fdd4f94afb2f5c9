package load

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// key names one object of a run: the number of the publisher that made it in the high 16 bits, its
// sequence number at that publisher in the low 48. Keys rather than id strings keep the ledgers of a
// run of millions of objects small.
type key uint64

const seqBits = 48

func newKey(publisher uint16, seq uint64) key {
	return key(uint64(publisher)<<seqBits | seq&(1<<seqBits-1))
}

func (k key) publisher() uint16 { return uint16(k >> seqBits) }
func (k key) seq() uint64       { return uint64(k) & (1<<seqBits - 1) }

// shape is what the objects published to one collection look like, chosen from the rules the
// collection advertises so that the hub accepts them: an indicator where any type goes, else a
// location or an organisation's identity (the administrative details a one-way collection may
// take); marked TLP:GREEN unless the collection's TLP ceiling is below it.
type shape struct {
	typ   string // "indicator", "location" or "identity"; empty when the collection takes none of them
	green bool   // carries the TLP:GREEN marking
	// inName puts the synthetic text and its padding into the name, for a collection whose allowed
	// properties refuse a description.
	inName bool
}

// shapeProperties are the properties the objects of each type carry besides the common ones.
var shapeProperties = map[string][]string{
	"indicator": {"name", "indicator_types", "pattern", "pattern_type", "valid_from"},
	"location":  {"name", "country"},
	"identity":  {"name", "identity_class"},
}

// shapeFor picks the shape for a collection advertising these allowed types (none: any), allowed
// properties (none: any) and TLP ceiling (empty: none).
func shapeFor(allowedTypes []string, allowedProps map[string][]string, tlpMax string) shape {
	s := shape{green: tlpMax != "clear" && tlpMax != "white"}
	for _, t := range []string{"indicator", "location", "identity"} {
		if len(allowedTypes) > 0 && !slices.Contains(allowedTypes, t) {
			continue
		}
		if allowedProps != nil && slices.ContainsFunc(shapeProperties[t], func(p string) bool { return !slices.Contains(allowedProps[t], p) }) {
			continue
		}
		s.typ = t
		s.inName = allowedProps != nil && !slices.Contains(allowedProps[t], "description")
		return s
	}
	return s
}

// objects makes the objects of one run. Everything about an object follows from the run, its key and
// its collection's shape, so pollers can check the bytes they are served without keeping what was
// sent.
type objects struct {
	run     uint32 // first eight hex digits of every id of the run, telling its objects from others
	created string // created and modified (and valid_from) of every object
	size    int    // approximate JSON size to pad objects to; zero for no padding
}

// id is a UUIDv4-shaped id: <type>--RRRRRRRR-PPPP-4000-8000-SSSSSSSSSSSS with the run, the
// publisher and the sequence number in hexadecimal.
func (o objects) id(k key, s shape) string { return string(o.appendID(nil, k, s)) }

func (o objects) appendID(b []byte, k key, s shape) []byte {
	b = append(b, s.typ...)
	b = append(b, "--"...)
	b = appendHex(b, uint64(o.run), 8)
	b = append(b, '-')
	b = appendHex(b, uint64(k.publisher()), 4)
	b = append(b, "-4000-8000-"...)
	return appendHex(b, k.seq(), 12)
}

func appendHex(b []byte, v uint64, digits int) []byte {
	s := strconv.FormatUint(v, 16)
	for range digits - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// parseID returns the key of an id of this run, whatever its type; ours is false for any other id.
func (o objects) parseID(id string) (k key, ours bool) {
	_, rest, ok := strings.Cut(id, "--")
	if !ok || len(rest) != 36 {
		return 0, false
	}
	var run [4]byte
	if _, err := hex.Decode(run[:], []byte(rest[:8])); err != nil {
		return 0, false
	}
	if uint32(run[0])<<24|uint32(run[1])<<16|uint32(run[2])<<8|uint32(run[3]) != o.run {
		return 0, false
	}
	if rest[8] != '-' || rest[13:24] != "-4000-8000-" {
		return 0, false
	}
	pub, err1 := strconv.ParseUint(rest[9:13], 16, 16)
	seq, err2 := strconv.ParseUint(rest[24:], 16, seqBits)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return newKey(uint16(pub), seq), true
}

const tlpGreen = `,"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]`

// appendObject appends the JSON of the object with key k. Its name, and an indicator's pattern,
// carry the run and publisher, so that no two runs or publishers publish objects alike but for
// their ids, which a partnership that forbids onward sharing would refuse as the same content.
func (o objects) appendObject(b []byte, k key, s shape) []byte {
	start := len(b)
	seq := k.seq()
	b = append(b, `{"type":"`...)
	b = append(b, s.typ...)
	b = append(b, `","spec_version":"2.1","id":"`...)
	b = o.appendID(b, k, s)
	b = append(b, `","created":"`...)
	b = append(b, o.created...)
	b = append(b, `","modified":"`...)
	b = append(b, o.created...)
	// Letters between the numbers: a run id of hex digits that happened to be all digits, next to
	// the publisher and sequence numbers, could read as a phone number to a partnership that
	// refuses personal data.
	b = append(b, `","name":"taxiiload run r`...)
	b = appendHex(b, uint64(o.run), 8)
	b = append(b, " publisher p"...)
	b = strconv.AppendUint(b, uint64(k.publisher()), 10)
	b = append(b, " object n"...)
	b = strconv.AppendUint(b, seq, 10)
	if s.inName {
		b = append(b, ` Synthetic object published by taxiiload.`...)
	} else {
		b = append(b, `","description":"Synthetic object published by taxiiload.`...)
	}
	if pad := o.size - (len(b) - start) - tailSize(s); pad > 1 {
		b = append(b, ' ')
		b = append(b, bytes.Repeat([]byte("x"), pad-1)...)
	}
	b = append(b, '"')
	switch s.typ {
	case "indicator":
		b = append(b, `,"indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.`...)
		b = strconv.AppendUint(b, seq>>16&0xff, 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, seq>>8&0xff, 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, seq&0xff, 10)
		// The hub judges an indicator's content by its pattern alone, so the run and publisher
		// are in the pattern too.
		b = append(b, `'] AND [domain-name:value = 'r`...)
		b = appendHex(b, uint64(o.run), 8)
		b = append(b, "-p"...)
		b = strconv.AppendUint(b, uint64(k.publisher()), 10)
		b = append(b, `.taxiiload.example']","pattern_type":"stix","valid_from":"`...)
		b = append(b, o.created...)
		b = append(b, '"')
	case "location":
		b = append(b, `,"country":"BE"`...)
	case "identity":
		b = append(b, `,"identity_class":"organization"`...)
	}
	if s.green {
		b = append(b, tlpGreen...)
	}
	return append(b, '}')
}

// tailSize is about how many bytes of an object follow its description.
func tailSize(s shape) int {
	n := 2
	switch s.typ {
	case "indicator":
		n += len(`,"indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.0.0.0'] AND [domain-name:value = 'r00000000-p0.taxiiload.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00.000Z"`)
	case "location":
		n += len(`,"country":"BE"`)
	case "identity":
		n += len(`,"identity_class":"organization"`)
	}
	if s.green {
		n += len(tlpGreen)
	}
	return n
}

// envelope is a TAXII envelope holding the objects with the given keys.
func (o objects) envelope(keys []key, s shape) []byte {
	b := make([]byte, 0, len(keys)*max(o.size, 640)+16)
	b = append(b, `{"objects":[`...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = o.appendObject(b, k, s)
	}
	return append(b, "]}"...)
}
