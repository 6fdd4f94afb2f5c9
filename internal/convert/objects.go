package convert

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"taxiihub/internal/identity"
)

// namespace is the namespace of the name-based ids of the objects the converter makes. It is fixed
// for good: the same IOC from the same member must get the same id on every run and every hub, so
// that submitting a list again stores nothing twice.
var namespace = uuid.MustParse("b0a3ee4c-3c48-4d8e-9a8f-7a1a8c51c2d4")

// scoNamespace is the namespace STIX 2.1 fixes for the deterministic ids of cyber-observables.
var scoNamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// timestampLayout is STIX's timestamp with the millisecond precision the hub requires of created
// and modified.
const timestampLayout = "2006-01-02T15:04:05.000Z"

// FormatTimestamp writes t as a STIX timestamp in milliseconds.
func FormatTimestamp(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format(timestampLayout)
}

// DefaultLifetimes is how long an indicator of each kind stays valid (valid_until - valid_from)
// unless the analyst says otherwise: addresses change hands within weeks, domains and URLs within
// months, while a file hash names the same file for good (a year, after which it is reviewed).
var DefaultLifetimes = map[Kind]time.Duration{
	IPv4: 30 * 24 * time.Hour, IPv6: 30 * 24 * time.Hour,
	Domain: 90 * 24 * time.Hour, URL: 90 * 24 * time.Hour,
	Email: 180 * 24 * time.Hour, FileName: 180 * 24 * time.Hour, ASN: 180 * 24 * time.Hour,
	MD5: 365 * 24 * time.Hour, SHA1: 365 * 24 * time.Hour, SHA256: 365 * 24 * time.Hour, SHA512: 365 * 24 * time.Hour,
}

// SDO is a STIX domain or relationship object the converter makes: an indicator, a vulnerability,
// a based-on relationship or a report. The fields are those STIX names; the JSON is written in
// this order.
type SDO struct {
	Type               string              `json:"type"`
	SpecVersion        string              `json:"spec_version"`
	ID                 string              `json:"id"`
	CreatedByRef       string              `json:"created_by_ref,omitempty"`
	Created            string              `json:"created"`
	Modified           string              `json:"modified"`
	Name               string              `json:"name,omitempty"`
	Description        string              `json:"description,omitempty"`
	IndicatorTypes     []string            `json:"indicator_types,omitempty"`
	Pattern            string              `json:"pattern,omitempty"`
	PatternType        string              `json:"pattern_type,omitempty"`
	PatternVersion     string              `json:"pattern_version,omitempty"`
	ValidFrom          string              `json:"valid_from,omitempty"`
	ValidUntil         string              `json:"valid_until,omitempty"`
	RelationshipType   string              `json:"relationship_type,omitempty"`
	SourceRef          string              `json:"source_ref,omitempty"`
	TargetRef          string              `json:"target_ref,omitempty"`
	FirstObserved      string              `json:"first_observed,omitempty"`
	LastObserved       string              `json:"last_observed,omitempty"`
	NumberObserved     int                 `json:"number_observed,omitempty"`
	ReportTypes        []string            `json:"report_types,omitempty"`
	Published          string              `json:"published,omitempty"`
	ObjectRefs         []string            `json:"object_refs,omitempty"`
	Confidence         *int                `json:"confidence,omitempty"`
	Labels             []string            `json:"labels,omitempty"`
	ExternalReferences []ExternalReference `json:"external_references,omitempty"`
	ObjectMarkingRefs  []string            `json:"object_marking_refs,omitempty"`

	// Lifetime, when not zero, is how valid_until was set: valid_from plus it, the kind's default
	// or --valid-for. A valid_until the analyst wrote (a CSV column) leaves it zero.
	Lifetime time.Duration `json:"-"`
}

// ExternalReference is a STIX external reference.
type ExternalReference struct {
	SourceName string `json:"source_name"`
	ExternalID string `json:"external_id,omitempty"`
	URL        string `json:"url,omitempty"`
}

// SetTimes gives the object its version: created, modified, and for an indicator valid_from and,
// when its validity is a lifetime, valid_until.
func (o *SDO) SetTimes(created, modified, validFrom time.Time) {
	o.Created, o.Modified = FormatTimestamp(created), FormatTimestamp(modified)
	if o.Type == "indicator" {
		o.ValidFrom = FormatTimestamp(validFrom)
		if o.Lifetime > 0 {
			o.ValidUntil = FormatTimestamp(validFrom.Add(o.Lifetime))
		}
	}
	switch o.Type {
	case "report":
		o.Published = o.Modified
	case "observed-data":
		o.FirstObserved, o.LastObserved = FormatTimestamp(validFrom), FormatTimestamp(validFrom)
	}
}

// Object is one object of a conversion: an SDO the converter made, whose version the publisher
// may still settle, or fixed JSON (a marking definition, an observable, an object of a STIX bundle
// let through), stored as is.
type Object struct {
	SDO *SDO
	Raw json.RawMessage
}

// ID is the object's id; for raw JSON it is read from the JSON.
func (o Object) ID() string {
	if o.SDO != nil {
		return o.SDO.ID
	}
	var head struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(o.Raw, &head) // an object without a readable id is reported by the validator
	return head.ID
}

// JSON is the object's JSON.
func (o Object) JSON() (json.RawMessage, error) {
	if o.SDO == nil {
		return o.Raw, nil
	}
	raw, err := json.Marshal(o.SDO)
	if err != nil {
		return nil, fmt.Errorf("convert: encode %s: %w", o.SDO.ID, err)
	}
	return raw, nil
}

// deterministicID is the id of an object the member makes of what: the same for every run.
//
// The UUID is name-based (SHA-256 over the namespace, the member and the normalised IOC), like a
// UUIDv5, but laid out as a version 4 UUID. STIX 2.1 asks SDOs and SROs for UUIDv4 ids (section
// 2.9) and validators warn on any other version, so a v5 id would put a warning on every object
// an analyst publishes; a version 4 UUID only promises 122 bits no one else will pick, which a
// SHA-256 digest under a namespace of our own gives as well as randomness does. Cyber-observables
// keep the UUIDv5 STIX prescribes for them (scoID).
func deterministicID(typ, member string, parts ...string) string {
	name := member + "\x00" + typ + "\x00" + strings.Join(parts, "\x00")
	return typ + "--" + uuid.NewHash(sha256.New(), namespace, []byte(name), 4).String()
}

// Meta is what an analyst says about an indicator besides its value: from the command line, a CSV
// row or a MISP attribute.
type Meta struct {
	Description string
	Labels      []string
	Confidence  *int
	// ValidUntil, when not zero, replaces the lifetime.
	ValidUntil time.Time
	// TLP, when not empty, replaces the conversion's TLP for this indicator (a MISP tag).
	TLP string
}

// kindLabels name the kinds in indicator names.
var kindLabels = map[Kind]string{
	IPv4: "IPv4", IPv6: "IPv6", Domain: "Domain", URL: "URL", Email: "E-mail address", MD5: "MD5",
	SHA1: "SHA-1", SHA256: "SHA-256", SHA512: "SHA-512", FileName: "File name", ASN: "AS",
}

// indicatorName names the indicator after what it matches. An e-mail address is left out of the
// name: names are checked for personal data by the partnerships' rules, patterns are not.
func indicatorName(ioc IOC) string {
	switch ioc.Kind {
	case Email:
		return "E-mail address indicator"
	case ASN:
		return "AS" + ioc.Value
	}
	return kindLabels[ioc.Kind] + " " + truncate(ioc.Value, 200)
}

// makeObjects makes the objects of one IOC: an indicator (or, for a CVE id, a vulnerability) and,
// when asked, its observable, the observed-data reporting it, and the indicator's based-on
// relationship to that (indicator based-on observed-data is the relationship STIX defines; an
// indicator based-on a bare observable draws the validator's warning).
func (c *Converter) makeObjects(ioc IOC, pattern, name string, meta Meta, labels []string) ([]Object, string, *Issue) {
	tlp := c.opts.TLP
	if meta.TLP != "" {
		tlp = meta.TLP
	}
	marking, err := c.marking(tlp)
	if err != nil {
		return nil, "", err
	}
	var refs []string
	if marking != "" {
		refs = []string{marking}
	}
	allLabels := append(append([]string(nil), c.opts.Labels...), meta.Labels...)
	allLabels = append(allLabels, labels...)
	confidence := c.opts.Confidence
	if meta.Confidence != nil {
		confidence = meta.Confidence
	}
	description := meta.Description
	if description == "" {
		description = c.opts.Description
	}
	if description == "" {
		// STIX asks for a description so that a reader can tell what the indicator detects.
		description = defaultDescription(ioc)
	}
	member := c.opts.Member
	if ioc.Kind == Vulnerability {
		v := &SDO{Type: "vulnerability", SpecVersion: "2.1", ID: deterministicID("vulnerability", member, ioc.Value),
			CreatedByRef: identity.OfMember(member), Name: ioc.Value, Description: description,
			Confidence: confidence, Labels: nonEmpty(allLabels), ObjectMarkingRefs: refs,
			ExternalReferences: []ExternalReference{{SourceName: "cve", ExternalID: ioc.Value}}}
		v.SetTimes(c.now, c.now, c.now)
		return []Object{{SDO: v}}, v.ID, nil
	}
	if pattern == "" {
		pattern = ioc.Pattern()
	}
	if name == "" {
		name = indicatorName(ioc)
	}
	ind := &SDO{Type: "indicator", SpecVersion: "2.1", ID: deterministicID("indicator", member, pattern),
		CreatedByRef: identity.OfMember(member), Name: name, Description: description,
		IndicatorTypes: []string{"malicious-activity"}, Pattern: pattern, PatternType: "stix", PatternVersion: "2.1",
		Confidence: confidence, Labels: nonEmpty(allLabels), ObjectMarkingRefs: refs}
	switch {
	case !meta.ValidUntil.IsZero():
		ind.ValidUntil = FormatTimestamp(meta.ValidUntil)
		if !meta.ValidUntil.After(c.now) {
			return nil, "", issuef(CodeInvalid, "valid_until %s is not after now (%s)", ind.ValidUntil, FormatTimestamp(c.now))
		}
	case c.opts.ValidFor > 0:
		ind.Lifetime = c.opts.ValidFor
	case c.opts.ValidFor == 0:
		ind.Lifetime = DefaultLifetimes[ioc.Kind]
	}
	ind.SetTimes(c.now, c.now, c.now)
	objs := []Object{{SDO: ind}}
	if c.opts.Observables {
		if sco, scoID := observable(ioc); sco != nil {
			od := &SDO{Type: "observed-data", SpecVersion: "2.1", ID: deterministicID("observed-data", member, scoID),
				CreatedByRef: identity.OfMember(member), NumberObserved: 1, ObjectRefs: []string{scoID},
				ObjectMarkingRefs: refs}
			od.SetTimes(c.now, c.now, c.now)
			rel := &SDO{Type: "relationship", SpecVersion: "2.1", ID: deterministicID("relationship", member, ind.ID, od.ID),
				CreatedByRef: identity.OfMember(member), RelationshipType: "based-on", SourceRef: ind.ID, TargetRef: od.ID,
				ObjectMarkingRefs: refs}
			rel.SetTimes(c.now, c.now, c.now)
			objs = append(objs, Object{Raw: sco}, Object{SDO: od}, Object{SDO: rel})
		}
	}
	return objs, ind.ID, nil
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// observable is the cyber-observable an IOC names, with its deterministic id as STIX 2.1 computes
// it (UUIDv5 over the canonical JSON of the type's id contributing properties). Ranges, file names
// and numbers without a value property of their own are written all the same.
func observable(ioc IOC) (json.RawMessage, string) {
	var typ string
	var contributing map[string]any
	switch ioc.Kind {
	case URL:
		if !isRFC3986(ioc.Value) {
			// The pattern matches the URL as written; an url observable must be a URL as RFC 3986
			// spells it, and rewriting it would make it another URL than the one matched.
			return nil, ""
		}
		typ, contributing = string(ioc.Kind), map[string]any{"value": ioc.Value}
	case IPv4, IPv6, Domain, Email:
		typ, contributing = string(ioc.Kind), map[string]any{"value": ioc.Value}
	case MD5, SHA1, SHA256, SHA512:
		typ, contributing = "file", map[string]any{"hashes": map[string]any{ioc.Kind.hashKey(): ioc.Value}}
	case FileName:
		typ, contributing = "file", map[string]any{"name": ioc.Value}
	case ASN:
		var n json.Number = json.Number(ioc.Value)
		typ, contributing = "autonomous-system", map[string]any{"number": n}
	default:
		return nil, ""
	}
	canon, err := json.Marshal(contributing) // maps are written with sorted keys: canonical here
	if err != nil {
		return nil, ""
	}
	id := typ + "--" + uuid.NewSHA1(scoNamespace, canon).String()
	obj := map[string]any{"type": typ, "spec_version": "2.1", "id": id}
	for k, v := range contributing {
		obj[k] = v
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, ""
	}
	return raw, id
}

func identityOf(member string) string { return identity.OfMember(member) }

// defaultDescription says what an indicator without a description of its own detects.
func defaultDescription(ioc IOC) string {
	label, ok := kindLabels[ioc.Kind]
	if !ok {
		label = string(ioc.Kind)
	}
	return "Indicator of compromise (" + label + ") submitted by an analyst as seen in malicious activity."
}

// isRFC3986 reports whether every character after the authority of u may appear there unencoded.
func isRFC3986(u string) bool {
	rest := u[strings.Index(u, "://")+3:]
	i := strings.IndexAny(rest, "/?#")
	if i < 0 {
		return true
	}
	for _, c := range []byte(rest[i:]) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~:/?#@!$&'()*+,;=%", c) >= 0:
		default:
			return false
		}
	}
	return true
}
