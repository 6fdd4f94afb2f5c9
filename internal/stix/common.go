package stix

import (
	"regexp"
)

// checkCommon applies the rules of the common properties that the schemas cannot express.
func (c *objectCheck) checkCommon() {
	if lang, ok := str(c.obj, "lang"); ok && !c.kind.isObservable() {
		c.checkLanguageTag(at("lang"), lang)
	}
	c.checkExternalReferences()
	c.checkGranularMarkings()
	c.checkKillChainPhases()
	c.checkVocabularies()
}

var (
	cveID   = regexp.MustCompile(`^CVE-\d{4}-(0\d{3}|[1-9]\d{3,})$`)
	capecID = regexp.MustCompile(`^CAPEC-\d+$`)
)

// checkExternalReferences checks each external reference: one of description, url or
// external_id; a URI in url; CVE and CAPEC identifiers only under their own source names.
func (c *objectCheck) checkExternalReferences() {
	refs, _ := list(c.obj, "external_references")
	for i, e := range refs {
		ref, ok := e.(map[string]any)
		if !ok {
			continue // reported by the schema
		}
		where := at("external_references", i)
		if !hasAny(ref, "description", "url", "external_id") {
			c.r.errorf(CodeMissingOneOf, where, "%s needs at least one of description, url and external_id.", where)
		}
		if url, ok := ref["url"].(string); ok {
			if why := uriProblem(url); why != "" {
				c.r.errorf(CodeInvalidURL, where.key("url"), "%s.url must be a URI (RFC 3986); %s is not: %s.", where, quote(url), why)
			}
			if !has(ref, "hashes") {
				c.r.warnf(CodeRecommended, where.key("url"), "%s has a url but no hashes; hashes let a consumer tell whether the content changed.", where)
			}
		}
		source, _ := ref["source_name"].(string)
		id, hasID := ref["external_id"].(string)
		switch {
		case source == "cve" && !cveID.MatchString(id):
			c.r.errorf(CodeExternalReference, where.key("external_id"), "An external reference with source_name cve needs an external_id of the form CVE-YYYY-NNNN; %s.", describeID(id, hasID))
		case source == "capec" && !capecID.MatchString(id):
			c.r.errorf(CodeExternalReference, where.key("external_id"), "An external reference with source_name capec needs an external_id of the form CAPEC-N; %s.", describeID(id, hasID))
		case source != "cve" && cveID.MatchString(id):
			c.r.errorf(CodeExternalReference, where.key("source_name"), "%s is a CVE identifier, so the source_name of this external reference must be cve, not %s.", quote(id), quote(source))
		case source != "capec" && capecID.MatchString(id):
			c.r.errorf(CodeExternalReference, where.key("source_name"), "%s is a CAPEC identifier, so the source_name of this external reference must be capec, not %s.", quote(id), quote(source))
		}
	}
}

func describeID(id string, present bool) string {
	if !present {
		return "it has none"
	}
	return quote(id) + " is not one"
}

// checkKillChainPhases warns about kill-chain and phase names that are not lowercase and
// hyphenated, as STIX recommends.
func (c *objectCheck) checkKillChainPhases() {
	phases, _ := list(c.obj, "kill_chain_phases")
	for i, e := range phases {
		phase, _ := e.(map[string]any)
		for _, prop := range []string{"kill_chain_name", "phase_name"} {
			if s, ok := phase[prop].(string); ok && !lowercaseHyphenated(s) {
				c.r.warnf(CodeValueFormat, at("kill_chain_phases", i, prop), "%s should be lowercase words separated by hyphens; %s is not.", prop, quote(s))
			}
		}
	}
}
