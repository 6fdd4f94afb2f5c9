package stix

import "slices"

// Relationship types that may link any two objects.
var genericRelationships = []string{"derived-from", "duplicate-of", "related-to"}

// suggestedRelationships is the STIX 2.1 table of relationships between object types: source
// type, then relationship type, then target types. Others are allowed but warned about.
var suggestedRelationships = map[string]map[string][]string{
	"attack-pattern": {
		"delivers": {"malware"}, "targets": {"identity", "location", "vulnerability"}, "uses": {"malware", "tool"},
	},
	"campaign": {
		"attributed-to": {"intrusion-set", "threat-actor"}, "compromises": {"infrastructure"},
		"originates-from": {"location"}, "targets": {"identity", "location", "vulnerability"},
		"uses": {"attack-pattern", "infrastructure", "malware", "tool"},
	},
	"course-of-action": {
		"investigates": {"indicator"},
		"mitigates":    {"attack-pattern", "indicator", "malware", "tool", "vulnerability"},
		"remediates":   {"malware", "vulnerability"},
	},
	"identity": {"located-at": {"location"}},
	"indicator": {
		"indicates": {"attack-pattern", "campaign", "infrastructure", "intrusion-set", "malware", "threat-actor", "tool"},
		"based-on":  {"observed-data"},
	},
	"infrastructure": {
		"communicates-with": {"infrastructure", "ipv4-addr", "ipv6-addr", "domain-name", "url"},
		"consists-of":       append([]string{"infrastructure", "observed-data"}, scoTypes...),
		"controls":          {"infrastructure", "malware"}, "delivers": {"malware"}, "has": {"vulnerability"},
		"hosts": {"tool", "malware"}, "located-at": {"location"}, "uses": {"infrastructure"},
	},
	"intrusion-set": {
		"attributed-to": {"threat-actor"}, "compromises": {"infrastructure"}, "hosts": {"infrastructure"},
		"owns": {"infrastructure"}, "originates-from": {"location"},
		"targets": {"identity", "location", "vulnerability"},
		"uses":    {"attack-pattern", "infrastructure", "malware", "tool"},
	},
	"malware": {
		"authored-by": {"threat-actor", "intrusion-set"}, "beacons-to": {"infrastructure"},
		"exfiltrates-to": {"infrastructure"}, "communicates-with": {"ipv4-addr", "ipv6-addr", "domain-name", "url"},
		"controls": {"malware"}, "downloads": {"malware", "file", "tool"}, "drops": {"malware", "file", "tool"},
		"exploits": {"vulnerability"}, "originates-from": {"location"},
		"targets": {"identity", "infrastructure", "location"},
		"uses":    {"attack-pattern", "infrastructure", "malware", "tool"}, "variant-of": {"malware"},
	},
	"malware-analysis": {
		"characterizes": {"malware"}, "analysis-of": {"malware"}, "static-analysis-of": {"malware"},
		"dynamic-analysis-of": {"malware"},
	},
	"threat-actor": {
		"attributed-to": {"identity"}, "compromises": {"infrastructure"}, "hosts": {"infrastructure"},
		"owns": {"infrastructure"}, "impersonates": {"identity"}, "located-at": {"location"},
		"targets": {"identity", "location", "vulnerability"},
		"uses":    {"attack-pattern", "infrastructure", "malware", "tool"},
	},
	"tool": {
		"delivers": {"malware"}, "drops": {"malware"}, "has": {"vulnerability"},
		"targets": {"identity", "infrastructure", "location", "vulnerability"}, "uses": {"infrastructure"},
	},
	"domain-name": {"resolves-to": {"domain-name", "ipv4-addr", "ipv6-addr"}},
	"ipv4-addr":   {"resolves-to": {"mac-addr"}, "belongs-to": {"autonomous-system"}},
	"ipv6-addr":   {"resolves-to": {"mac-addr"}, "belongs-to": {"autonomous-system"}},
}

func (c *objectCheck) checkRelationship() {
	rt, ok := str(c.obj, "relationship_type")
	if !ok {
		return
	}
	if !lowercaseHyphenated(rt) {
		c.r.errorf(CodeRelationshipType, at("relationship_type"),
			"relationship_type must be lowercase ASCII letters, digits and hyphens, such as indicates; %s is not.", quote(rt))
		return
	}
	if slices.Contains(genericRelationships, rt) {
		return
	}
	src, _ := str(c.obj, "source_ref")
	dst, _ := str(c.obj, "target_ref")
	srcID, why1 := parseIdentifier(src)
	dstID, why2 := parseIdentifier(dst)
	if why1 != "" || why2 != "" {
		return // reported as invalid references
	}
	if !slices.Contains(suggestedRelationships[srcID.typ][rt], dstID.typ) {
		c.r.warnf(CodeRelationshipTarget, at("relationship_type"),
			"%s %s %s is not among the relationships STIX suggests; consider one of them, or derived-from, duplicate-of or related-to.", srcID.typ, rt, dstID.typ)
	}
}
