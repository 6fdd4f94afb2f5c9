package convert

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MISP's native JSON export: an Event with Attributes, Objects (each with Attributes) and Tags.
// Attributes marked to_ids become indicators with the patterns MISP's own STIX 2.1 export writes
// (misp-stix); the rest are left out with a note, as they describe rather than detect.
type mispEvent struct {
	Info      string          `json:"info"`
	Attribute []mispAttribute `json:"Attribute"`
	Object    []mispObject    `json:"Object"`
	Tag       []mispTag       `json:"Tag"`
}

type mispAttribute struct {
	Type           string    `json:"type"`
	Category       string    `json:"category"`
	Value          string    `json:"value"`
	Comment        string    `json:"comment"`
	ToIDs          mispBool  `json:"to_ids"`
	ObjectRelation string    `json:"object_relation"`
	Tag            []mispTag `json:"Tag"`
}

type mispObject struct {
	Name      string          `json:"name"`
	Comment   string          `json:"comment"`
	Attribute []mispAttribute `json:"Attribute"`
}

type mispTag struct {
	Name string `json:"name"`
}

// mispBool reads MISP's booleans, which older exports write as "1" and "0".
type mispBool bool

func (b *mispBool) UnmarshalJSON(raw []byte) error {
	switch strings.Trim(string(raw), `"`) {
	case "true", "1":
		*b = true
	case "false", "0", "", "null":
		*b = false
	default:
		return fmt.Errorf("to_ids %s is not a boolean", raw)
	}
	return nil
}

// misp reads one MISP event whole (it is one JSON document; at most MaxMISPSize bytes) and
// returns its attributes one at a time.
func (c *Converter) misp(br *bufio.Reader) (func() (Item, error), error) {
	raw, err := io.ReadAll(io.LimitReader(br, MaxMISPSize+1))
	if err != nil {
		return nil, fmt.Errorf("convert: read MISP event: %w", err)
	}
	if len(raw) > MaxMISPSize {
		return nil, fmt.Errorf("convert: the MISP event is larger than %d bytes", MaxMISPSize)
	}
	var wrapper struct {
		Event    *mispEvent `json:"Event"`
		Response []struct {
			Event *mispEvent `json:"Event"`
		} `json:"response"`
	}
	if err := json.Unmarshal(raw, &wrapper); err != nil {
		return nil, fmt.Errorf("convert: MISP event: %w", err)
	}
	var events []*mispEvent
	switch {
	case wrapper.Event != nil:
		events = []*mispEvent{wrapper.Event}
	case len(wrapper.Response) > 0:
		for _, r := range wrapper.Response {
			if r.Event != nil {
				events = append(events, r.Event)
			}
		}
	default:
		var e mispEvent
		if err := json.Unmarshal(raw, &e); err != nil || (len(e.Attribute) == 0 && len(e.Object) == 0) {
			return nil, fmt.Errorf("convert: no MISP Event in the input")
		}
		events = []*mispEvent{&e}
	}
	raw = nil
	var work []func() Item
	for ei, e := range events {
		prefix := ""
		if len(events) > 1 {
			prefix = fmt.Sprintf("Event[%d].", ei)
		}
		eventTLP, eventLabels := mispTags(e.Tag)
		for i, a := range e.Attribute {
			where := fmt.Sprintf("%sAttribute[%d]", prefix, i)
			work = append(work, func() Item { return c.mispAttribute(where, a, eventTLP, eventLabels) })
		}
		for i, o := range e.Object {
			where := fmt.Sprintf("%sObject[%d]", prefix, i)
			work = append(work, c.mispObject(where, o, eventTLP, eventLabels)...)
		}
	}
	return func() (Item, error) {
		if len(work) == 0 {
			return Item{}, io.EOF
		}
		w := work[0]
		work = work[1:]
		return w(), nil
	}, nil
}

// mispTags splits tags into a TLP level and labels.
func mispTags(tags []mispTag) (string, []string) {
	tlp := ""
	var labels []string
	for _, t := range tags {
		if level := NormaliseTLP(t.Name); level != "" && strings.HasPrefix(strings.ToLower(t.Name), "tlp:") {
			if tlpRank(level) > tlpRank(tlp) {
				tlp = level
			}
			continue
		}
		labels = append(labels, t.Name)
	}
	return tlp, labels
}

func tlpRank(level string) int {
	return strings.Index("clear green amber amber+strict red", level) + 1
}

// mispLabels are the labels MISP's export gives an indicator: its type and category, then tags.
func mispLabels(a mispAttribute, eventLabels []string) []string {
	labels := []string{fmt.Sprintf("misp:type=%q", a.Type)}
	if a.Category != "" {
		labels = append(labels, fmt.Sprintf("misp:category=%q", a.Category))
	}
	_, own := mispTags(a.Tag)
	return append(append(labels, eventLabels...), own...)
}

// mispTLP is an attribute's TLP: --tlp when given, else the highest of its and its event's tags.
func (c *Converter) mispTLP(a mispAttribute, eventTLP string) string {
	if c.opts.TLP != "" {
		return ""
	}
	own, _ := mispTags(a.Tag)
	if tlpRank(own) > tlpRank(eventTLP) {
		return own
	}
	return eventTLP
}

// mispAttribute converts one attribute.
func (c *Converter) mispAttribute(where string, a mispAttribute, eventTLP string, eventLabels []string) Item {
	it := Item{Where: where, Input: a.Type + " " + a.Value}
	if !bool(a.ToIDs) && a.Type != "vulnerability" {
		it.Note = "to_ids is false: not an indicator, left out"
		return it
	}
	cmps, ioc, issue := mispComparisons(a.Type, a.Value)
	if issue != nil {
		it.Issue = issue
		return it
	}
	meta := Meta{Description: a.Comment, TLP: c.mispTLP(a, eventTLP)}
	pattern := ""
	if len(cmps) > 0 {
		pattern = "[" + strings.Join(cmps, " AND ") + "]"
	}
	it.Kind, it.Value = ioc.Kind, ioc.Value
	objs, id, issue := c.makeObjects(ioc, pattern, mispName(a.Type, ioc), meta, mispLabels(a, eventLabels))
	if issue != nil {
		it.Issue = issue
		return it
	}
	it.Pattern = pattern
	if pattern == "" {
		it.Pattern = ioc.Pattern()
	}
	it.ID, it.Objects = id, objs
	return it
}

func mispName(typ string, ioc IOC) string {
	if ioc.Kind == Email {
		return "MISP " + typ + " indicator"
	}
	return "MISP " + typ + ": " + truncate(ioc.Value, 200)
}

// mispComparisons maps a MISP attribute to the comparisons of its pattern, as misp-stix does, and
// the IOC that names it (for the ids and the line mapping). No comparisons means the IOC's own
// pattern.
func mispComparisons(typ, value string) ([]string, IOC, *Issue) {
	one := func(kind Kind, v string) (IOC, *Issue) { return ParseValue(kind, v) }
	split := func() (string, string, *Issue) {
		l, r, ok := strings.Cut(value, "|")
		if !ok {
			return "", "", issuef(CodeInvalid, "a MISP %s value is two values joined by |", typ)
		}
		return l, r, nil
	}
	switch typ {
	case "ip-src", "ip-dst":
		ioc, issue := parseAddress(strings.TrimSpace(Refang(value)))
		if issue != nil {
			return nil, IOC{}, issue
		}
		ref := strings.TrimPrefix(typ, "ip-") + "_ref"
		return []string{"network-traffic:" + ref + ".type = " + QuoteLiteral(string(ioc.Kind)),
			"network-traffic:" + ref + ".value = " + QuoteLiteral(ioc.Value)}, ioc, nil
	case "ip-src|port", "ip-dst|port":
		addr, port, issue := split()
		if issue != nil {
			return nil, IOC{}, issue
		}
		ioc, issue := parseAddress(strings.TrimSpace(Refang(addr)))
		if issue != nil {
			return nil, IOC{}, issue
		}
		n, err := strconv.Atoi(strings.TrimSpace(port))
		if err != nil || n < 0 || n > 65535 {
			return nil, IOC{}, issuef(CodeInvalid, "port %q is not a number from 0 to 65535", port)
		}
		dir := strings.TrimSuffix(strings.TrimPrefix(typ, "ip-"), "|port")
		return []string{"network-traffic:" + dir + "_ref.type = " + QuoteLiteral(string(ioc.Kind)),
			"network-traffic:" + dir + "_ref.value = " + QuoteLiteral(ioc.Value),
			"network-traffic:" + dir + "_port = " + strconv.Itoa(n)}, ioc, nil
	case "domain", "hostname":
		ioc, issue := one(Domain, value)
		return nil, ioc, issue
	case "domain|ip":
		d, ip, issue := split()
		if issue != nil {
			return nil, IOC{}, issue
		}
		ioc, issue := one(Domain, d)
		if issue != nil {
			return nil, IOC{}, issue
		}
		addr, issue := parseAddress(strings.TrimSpace(Refang(ip)))
		if issue != nil {
			return nil, IOC{}, issue
		}
		return []string{"domain-name:value = " + QuoteLiteral(ioc.Value),
			"domain-name:resolves_to_refs[*].value = " + QuoteLiteral(addr.Value)}, IOC{Kind: Domain, Value: ioc.Value + "|" + addr.Value}, nil
	case "url", "link", "uri":
		ioc, issue := one(URL, value)
		return nil, ioc, issue
	case "email", "email-src", "email-dst":
		ioc, issue := one(Email, value)
		if issue != nil {
			return nil, IOC{}, issue
		}
		switch typ {
		case "email-src":
			return []string{"email-message:from_ref.value = " + QuoteLiteral(ioc.Value)}, ioc, nil
		case "email-dst":
			return []string{"email-message:to_refs[*].value = " + QuoteLiteral(ioc.Value)}, ioc, nil
		}
		return nil, ioc, nil
	case "email-subject":
		return []string{"email-message:subject = " + QuoteLiteral(value)}, IOC{Kind: "email-subject", Value: value}, nil
	case "md5", "sha1", "sha256", "sha512":
		ioc, issue := one(mispHashKinds[typ], value)
		return nil, ioc, issue
	case "filename|md5", "filename|sha1", "filename|sha256", "filename|sha512":
		name, hash, issue := split()
		if issue != nil {
			return nil, IOC{}, issue
		}
		kind := mispHashKinds[strings.TrimPrefix(typ, "filename|")]
		h, issue := one(kind, hash)
		if issue != nil {
			return nil, IOC{}, issue
		}
		return []string{"file:name = " + QuoteLiteral(name), "file:hashes." + hashPath(kind.hashKey()) + " = " + QuoteLiteral(h.Value)},
			IOC{Kind: kind, Value: name + "|" + h.Value}, nil
	case "filename":
		ioc, issue := one(FileName, value)
		return nil, ioc, issue
	case "AS":
		ioc, issue := one(ASN, value)
		return nil, ioc, issue
	case "vulnerability":
		ioc, issue := one(Vulnerability, value)
		return nil, ioc, issue
	case "mutex":
		return []string{"mutex:name = " + QuoteLiteral(value)}, IOC{Kind: "mutex", Value: value}, nil
	case "regkey":
		key := fullHive(value)
		return []string{"windows-registry-key:key = " + QuoteLiteral(key)}, IOC{Kind: "windows-registry-key", Value: key}, nil
	case "mac-address":
		v := strings.ToLower(strings.TrimSpace(value))
		return []string{"mac-addr:value = " + QuoteLiteral(v)}, IOC{Kind: "mac-addr", Value: v}, nil
	case "user-agent":
		return []string{"network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = " + QuoteLiteral(value)},
			IOC{Kind: "user-agent", Value: value}, nil
	}
	return nil, IOC{}, issuef(CodeUnsupported, "MISP attribute type %q is not converted", typ)
}

var mispHashKinds = map[string]Kind{"md5": MD5, "sha1": SHA1, "sha256": SHA256, "sha512": SHA512}

// mispObjectPaths map the relations of MISP objects to pattern paths, for the objects whose
// attributes misp-stix joins into one observation of one object type.
var mispObjectPaths = map[string]map[string]string{
	"file": {"filename": "file:name", "md5": "file:hashes.MD5", "sha1": "file:hashes.'SHA-1'",
		"sha256": "file:hashes.'SHA-256'", "sha512": "file:hashes.'SHA-512'", "size-in-bytes": "file:size"},
	"domain-ip": {"domain": "domain-name:value", "hostname": "domain-name:value", "ip": "domain-name:resolves_to_refs[*].value"},
	"ip-port": {"ip-dst": "network-traffic:dst_ref.value", "ip-src": "network-traffic:src_ref.value",
		"dst-port": "network-traffic:dst_port", "src-port": "network-traffic:src_port"},
	"url": {"url": "url:value"},
}

// mispObject converts a MISP object: one indicator joining its attributes where misp-stix does
// so, else each attribute on its own.
func (c *Converter) mispObject(where string, o mispObject, eventTLP string, eventLabels []string) []func() Item {
	paths, joined := mispObjectPaths[o.Name]
	if !joined {
		var work []func() Item
		for i, a := range o.Attribute {
			w := fmt.Sprintf("%s.Attribute[%d]", where, i)
			work = append(work, func() Item { return c.mispAttribute(w, a, eventTLP, eventLabels) })
		}
		return work
	}
	return []func() Item{func() Item {
		it := Item{Where: where, Input: o.Name + " object"}
		var cmps, values []string
		toIDs := false
		tlp := ""
		var tags []mispTag
		for _, a := range o.Attribute {
			path, ok := paths[a.ObjectRelation]
			if !ok {
				continue // relations misp-stix writes as custom properties, not pattern comparisons
			}
			toIDs = toIDs || bool(a.ToIDs)
			v := a.Value
			if strings.HasSuffix(path, "_port") || strings.HasSuffix(path, ":size") {
				if _, err := strconv.ParseUint(v, 10, 64); err != nil {
					it.Issue = issuef(CodeInvalid, "%s %q is not a number", a.ObjectRelation, v)
					return it
				}
			} else {
				v = normaliseObjectValue(path, v)
				v = QuoteLiteral(v)
			}
			cmps = append(cmps, path+" = "+v)
			values = append(values, a.Value)
			if t := c.mispTLP(a, eventTLP); tlpRank(t) > tlpRank(tlp) {
				tlp = t
			}
			tags = append(tags, a.Tag...)
		}
		if len(cmps) == 0 {
			it.Issue = issuef(CodeUnsupported, "the %s object has no attribute that makes a pattern", o.Name)
			return it
		}
		if !toIDs {
			it.Note = "to_ids is false on every attribute: not an indicator, left out"
			return it
		}
		if o.Name == "ip-port" {
			for _, p := range []string{"dst", "src"} {
				for i, cmp := range cmps {
					if strings.HasPrefix(cmp, "network-traffic:"+p+"_ref.value") {
						kind := IPv4
						if strings.Contains(cmp, ":") && strings.Count(cmp, ":") > 2 {
							kind = IPv6
						}
						cmps = append(cmps[:i], append([]string{"network-traffic:" + p + "_ref.type = " + QuoteLiteral(string(kind))}, cmps[i:]...)...)
						break
					}
				}
			}
		}
		pattern := "[" + strings.Join(cmps, " AND ") + "]"
		ioc := IOC{Kind: Kind(o.Name), Value: strings.Join(values, "|")}
		labels := append([]string{fmt.Sprintf("misp:name=%q", o.Name)}, eventLabels...)
		_, own := mispTags(tags)
		meta := Meta{Description: o.Comment, TLP: tlp}
		objs, id, issue := c.makeObjects(ioc, pattern, "MISP "+o.Name+" object", meta, append(labels, own...))
		if issue != nil {
			it.Issue = issue
			return it
		}
		it.Kind, it.Value, it.Pattern, it.ID, it.Objects = ioc.Kind, ioc.Value, pattern, id, objs
		return it
	}}
}

// normaliseObjectValue normalises the values of an object's comparisons that have a normal form.
func normaliseObjectValue(path, v string) string {
	v = strings.TrimSpace(v)
	switch {
	case strings.HasPrefix(path, "file:hashes"):
		return strings.ToLower(v)
	case path == "domain-name:value":
		if d, err := normaliseDomain(Refang(v)); err == nil {
			return d
		}
	case strings.HasSuffix(path, "_ref.value") || strings.HasSuffix(path, "resolves_to_refs[*].value"):
		if a, err := parseAddress(Refang(v)); err == nil {
			return a.Value
		}
	}
	return v
}

// hiveNames are the abbreviations of the registry's root keys that MISP users write; STIX 2.1
// wants a windows-registry-key's key to start with the hive in full (section 6.17.1).
var hiveNames = map[string]string{
	"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKCR": "HKEY_CLASSES_ROOT",
	"HKU": "HKEY_USERS", "HKCC": "HKEY_CURRENT_CONFIG",
}

// fullHive writes a key's abbreviated hive in full: HKLM\Software becomes
// HKEY_LOCAL_MACHINE\Software. Other keys are kept as they are.
func fullHive(key string) string {
	hive, rest, _ := strings.Cut(key, `\`)
	full, ok := hiveNames[strings.ToUpper(hive)]
	if !ok {
		return key
	}
	if rest == "" {
		return full
	}
	return full + `\` + rest
}
