package stix

// checkTypeRules applies the rules specific to the object's type.
func (c *objectCheck) checkTypeRules() {
	switch c.typ {
	case "indicator":
		c.checkIndicator()
	case "location":
		c.checkLocation()
	case "malware":
		c.checkMalware()
	case "malware-analysis":
		c.checkMalwareAnalysis()
	case "observed-data":
		c.checkObservedData()
	case "relationship":
		c.checkRelationship()
	case "marking-definition":
		c.checkMarkingDefinition()
	case "language-content":
		c.checkLanguageContent()
	case "extension-definition":
		c.checkExtensionDefinition()
	case "artifact":
		c.checkArtifact()
	case "directory":
		c.checkDirectory()
	case "domain-name":
		c.checkValue(domainNameProblem, CodeInvalidDomainName, "a domain name")
	case "email-addr":
		c.checkValue(emailProblem, CodeInvalidEmail, "an email address (addr-spec, such as jdoe@example.com, without a display name)")
	case "email-message":
		c.checkEmailMessage()
	case "file":
		c.checkFile()
	case "ipv4-addr":
		c.checkValue(func(s string) string { return ipProblem(s, 32) }, CodeInvalidIPAddress, "an IPv4 address or CIDR block")
	case "ipv6-addr":
		c.checkValue(func(s string) string { return ipProblem(s, 128) }, CodeInvalidIPAddress, "an IPv6 address or CIDR block")
	case "mac-addr":
		c.checkValue(macProblem, CodeInvalidMACAddress, "a MAC address")
	case "network-traffic":
		c.checkNetworkTraffic()
	case "process":
		c.checkProcess()
	case "software":
		c.checkSoftware()
	case "url":
		c.checkValue(uriProblem, CodeInvalidURL, "a URL (RFC 3986)")
	case "user-account", "x509-certificate":
		c.requireSpecificProperty()
	case "windows-registry-key":
		c.checkRegistryKey()
	}
}
