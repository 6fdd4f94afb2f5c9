package stix

import (
	"slices"
	"strings"
)

// vocabulary is a STIX open vocabulary: values outside it are allowed, so finding one is a
// SHOULD-level warning, never an error.
type vocabulary struct {
	name   string
	values []string
}

var (
	attackMotivation = vocabulary{"attack-motivation-ov", []string{
		"accidental", "coercion", "dominance", "ideology", "notoriety", "organizational-gain",
		"personal-gain", "personal-satisfaction", "revenge", "unpredictable",
	}}
	attackResourceLevel = vocabulary{"attack-resource-level-ov", []string{
		"individual", "club", "contest", "team", "organization", "government",
	}}
	groupingContext = vocabulary{"grouping-context-ov", []string{
		"suspicious-activity", "malware-analysis", "unspecified",
	}}
	identityClass = vocabulary{"identity-class-ov", []string{
		"individual", "group", "system", "organization", "class", "unknown",
	}}
	implementationLanguage = vocabulary{"implementation-language-ov", []string{
		"applescript", "bash", "c", "c++", "c#", "go", "java", "javascript", "lua", "objective-c", "perl",
		"php", "powershell", "python", "ruby", "scala", "swift", "typescript", "visual-basic", "x86-32", "x86-64",
	}}
	indicatorType = vocabulary{"indicator-type-ov", []string{
		"anomalous-activity", "anonymization", "benign", "compromised", "malicious-activity", "attribution", "unknown",
	}}
	industrySector = vocabulary{"industry-sector-ov", []string{
		"agriculture", "aerospace", "automotive", "chemical", "commercial", "communications", "construction",
		"defense", "education", "energy", "entertainment", "financial-services", "government",
		"emergency-services", "government-local", "government-national", "government-public-services",
		"government-regional", "healthcare", "hospitality-leisure", "infrastructure", "dams", "nuclear",
		"water", "insurance", "manufacturing", "mining", "non-profit", "pharmaceuticals", "retail",
		"technology", "telecommunications", "transportation", "utilities",
	}}
	infrastructureType = vocabulary{"infrastructure-type-ov", []string{
		"amplification", "anonymization", "botnet", "command-and-control", "control-system", "exfiltration",
		"firewall", "hosting-malware", "hosting-target-lists", "phishing", "reconnaissance",
		"routers-switches", "staging", "workstation", "unknown",
	}}
	malwareResult = vocabulary{"malware-result-ov", []string{"malicious", "suspicious", "benign", "unknown"}}
	malwareType   = vocabulary{"malware-type-ov", []string{
		"adware", "backdoor", "bot", "bootkit", "ddos", "downloader", "dropper", "exploit-kit", "keylogger",
		"ransomware", "remote-access-trojan", "resource-exploitation", "rogue-security-software", "rootkit",
		"screen-capture", "spyware", "trojan", "unknown", "virus", "webshell", "wiper", "worm",
	}}
	malwareCapabilities = vocabulary{"malware-capabilities-ov", []string{
		"accesses-remote-machines", "anti-debugging", "anti-disassembly", "anti-emulation",
		"anti-memory-forensics", "anti-sandbox", "anti-vm", "captures-input-peripherals",
		"captures-output-peripherals", "captures-system-state-data", "cleans-traces-of-infection",
		"commits-fraud", "communicates-with-c2", "compromises-data-availability",
		"compromises-data-integrity", "compromises-system-availability", "controls-local-machine",
		"degrades-security-software", "degrades-system-updates", "determines-c2-server", "emails-spam",
		"escalates-privileges", "evades-av", "exfiltrates-data", "fingerprints-host", "hides-artifacts",
		"hides-executing-code", "infects-files", "infects-remote-machines", "installs-other-components",
		"persists-after-system-reboot", "prevents-artifact-access", "prevents-artifact-deletion",
		"probes-network-environment", "self-modifies", "steals-authentication-credentials",
		"violates-system-operational-integrity",
	}}
	patternType = vocabulary{"pattern-type-ov", []string{"stix", "pcre", "sigma", "snort", "suricata", "yara"}}

	processorArchitecture = vocabulary{"processor-architecture-ov", []string{
		"alpha", "arm", "ia-64", "mips", "powerpc", "sparc", "x86", "x86-64",
	}}
	region = vocabulary{"region-ov", []string{
		"africa", "eastern-africa", "middle-africa", "northern-africa", "southern-africa", "western-africa",
		"americas", "latin-america-caribbean", "south-america", "caribbean", "central-america",
		"northern-america", "asia", "central-asia", "eastern-asia", "southern-asia", "south-eastern-asia",
		"western-asia", "europe", "eastern-europe", "northern-europe", "southern-europe", "western-europe",
		"oceania", "australia-new-zealand", "melanesia", "micronesia", "polynesia", "antarctica",
	}}
	reportType = vocabulary{"report-type-ov", []string{
		"attack-pattern", "campaign", "identity", "indicator", "intrusion-set", "malware", "observed-data",
		"threat-actor", "threat-report", "tool", "vulnerability",
	}}
	threatActorType = vocabulary{"threat-actor-type-ov", []string{
		"activist", "competitor", "crime-syndicate", "criminal", "hacker", "insider-accidental",
		"insider-disgruntled", "nation-state", "sensationalist", "spy", "terrorist", "unknown",
	}}
	threatActorRole = vocabulary{"threat-actor-role-ov", []string{
		"agent", "director", "independent", "infrastructure-architect", "infrastructure-operator",
		"malware-author", "sponsor",
	}}
	threatActorSophistication = vocabulary{"threat-actor-sophistication-ov", []string{
		"none", "minimal", "intermediate", "advanced", "expert", "innovator", "strategic",
	}}
	toolType = vocabulary{"tool-type-ov", []string{
		"denial-of-service", "exploitation", "information-gathering", "network-capture",
		"credential-exploitation", "remote-access", "vulnerability-scanning", "unknown",
	}}
	accountType = vocabulary{"account-type-ov", []string{
		"facebook", "ldap", "nis", "openid", "radius", "skype", "tacacs", "twitter", "unix",
		"windows-local", "windows-domain",
	}}
	windowsPEBinaryType = vocabulary{"windows-pebinary-type-ov", []string{"dll", "exe", "sys"}}
)

// vocabularyUses says which top-level properties of each type take values from which
// vocabulary (a property holds one value or a list of them).
var vocabularyUses = map[string]map[string]vocabulary{
	"grouping":         {"context": groupingContext},
	"identity":         {"identity_class": identityClass, "sectors": industrySector},
	"indicator":        {"indicator_types": indicatorType, "pattern_type": patternType},
	"infrastructure":   {"infrastructure_types": infrastructureType},
	"location":         {"region": region},
	"malware-analysis": {"result": malwareResult},
	"report":           {"report_types": reportType},
	"tool":             {"tool_types": toolType},
	"user-account":     {"account_type": accountType},
	"intrusion-set": {
		"resource_level": attackResourceLevel, "primary_motivation": attackMotivation,
		"secondary_motivations": attackMotivation,
	},
	"malware": {
		"malware_types": malwareType, "architecture_execution_envs": processorArchitecture,
		"implementation_languages": implementationLanguage, "capabilities": malwareCapabilities,
	},
	"threat-actor": {
		"threat_actor_types": threatActorType, "roles": threatActorRole,
		"sophistication": threatActorSophistication, "resource_level": attackResourceLevel,
		"primary_motivation": attackMotivation, "secondary_motivations": attackMotivation,
		"personal_motivations": attackMotivation,
	},
}

func (c *objectCheck) checkVocabularies() {
	for prop, vocab := range vocabularyUses[c.typ] {
		switch v := c.obj[prop].(type) {
		case string:
			c.checkVocabularyValue(at(prop), v, vocab)
		case []any:
			for i, e := range v {
				if s, ok := e.(string); ok {
					c.checkVocabularyValue(at(prop, i), s, vocab)
				}
			}
		}
	}
}

func (c *objectCheck) checkVocabularyValue(where loc, value string, vocab vocabulary) {
	if slices.Contains(vocab.values, value) {
		return
	}
	if !lowercaseHyphenated(value) {
		c.r.warnf(CodeVocabulary, where, "%s is not in the %s vocabulary, and values of open vocabularies should be lowercase words separated by hyphens.", quote(value), vocab.name)
		return
	}
	c.r.warnf(CodeVocabulary, where, "%s is not in the %s vocabulary (%s); other values are allowed but should be avoided.", quote(value), vocab.name, strings.Join(vocab.values, ", "))
}

// lowercaseHyphenated reports whether s is lowercase ASCII words joined by hyphens, the form
// STIX recommends for vocabulary values and kill-chain names.
func lowercaseHyphenated(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
