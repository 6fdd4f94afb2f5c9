package stix

func (c *objectCheck) checkIndicator() {
	c.checkIndicatorPattern()
	if !has(c.obj, "name") || !has(c.obj, "description") {
		c.r.warnf(CodeRecommended, nil, "An indicator should have a name and a description, so that a person can tell what it detects.")
	}
}

func (c *objectCheck) checkLocation() {
	lat, long := has(c.obj, "latitude"), has(c.obj, "longitude")
	switch {
	case lat && !long:
		c.r.errorf(CodeDependentMissing, at("longitude"), "longitude is required when latitude is given.")
	case long && !lat:
		c.r.errorf(CodeDependentMissing, at("latitude"), "latitude is required when longitude is given.")
	case has(c.obj, "precision") && !lat:
		c.r.errorf(CodeDependentMissing, at("precision"), "precision is only allowed with latitude and longitude.")
	}
	if !lat && !long && !hasAny(c.obj, "region", "country") {
		c.r.errorf(CodeMissingOneOf, nil, "A location needs at least one of region, country, or latitude and longitude.")
	}
	if country, ok := str(c.obj, "country"); ok && !(len(country) == 2 && isUpperAlpha(country)) {
		c.r.warnf(CodeValueFormat, at("country"), "country should be an ISO 3166-1 alpha-2 code such as FR; %s is not.", quote(country))
	}
}

func isUpperAlpha(s string) bool {
	for i := range len(s) {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func (c *objectCheck) checkMalware() {
	if family, _ := c.obj["is_family"].(bool); family && !has(c.obj, "name") {
		c.r.errorf(CodeMissingProperty, at("name"), "name is required when is_family is true: a malware family has a name.")
	}
}

func (c *objectCheck) checkMalwareAnalysis() {
	if !hasAny(c.obj, "result", "analysis_sco_refs") {
		c.r.errorf(CodeMissingOneOf, nil, "A malware-analysis needs result or analysis_sco_refs (or both).")
	}
	if product, ok := str(c.obj, "product"); ok && !lowercaseHyphenated(product) {
		c.r.warnf(CodeValueFormat, at("product"), "product should be lowercase words separated by hyphens, such as microsoft-defender; %s is not.", quote(product))
	}
}
