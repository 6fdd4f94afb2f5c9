package stix

import (
	"strings"
)

func (c *objectCheck) checkArtifact() {
	_, hasPayload := c.obj["payload_bin"]
	url, hasURL := c.obj["url"]
	switch {
	case hasPayload && hasURL:
		c.r.errorf(CodeExclusive, at("url"), "An artifact carries its content either inline (payload_bin) or by url, not both.")
	case !hasPayload && !hasURL:
		c.r.errorf(CodeMissingOneOf, nil, "An artifact needs payload_bin or url.")
	case hasURL && !has(c.obj, "hashes"):
		c.r.errorf(CodeDependentMissing, at("hashes"), "hashes is required when an artifact is given by url, so that the content can be verified.")
	}
	if s, ok := url.(string); ok {
		if why := uriProblem(s); why != "" {
			c.r.errorf(CodeInvalidURL, at("url"), "url must be a URL (RFC 3986); %s is not: %s.", quote(s), why)
		}
	}
	if has(c.obj, "decryption_key") && !has(c.obj, "encryption_algorithm") {
		c.r.errorf(CodeDependentMissing, at("decryption_key"), "decryption_key is only allowed together with encryption_algorithm.")
	}
	if mt, ok := str(c.obj, "mime_type"); ok {
		if why := mediaTypeProblem(mt); why != "" {
			c.r.errorf(CodeInvalidMediaType, at("mime_type"), "mime_type must be a media type from the IANA registry, such as application/zip; %s is not: %s.", quote(mt), why)
		}
	}
}

func (c *objectCheck) checkDirectory() {
	if enc, ok := str(c.obj, "path_enc"); ok {
		c.checkCharset(at("path_enc"), enc)
	}
}

func (c *objectCheck) checkEmailMessage() {
	multipart, ok := c.obj["is_multipart"].(bool)
	switch {
	case !ok:
	case multipart && has(c.obj, "body"):
		c.r.errorf(CodeExclusive, at("body"), "body is not allowed when is_multipart is true: the parts go in body_multipart.")
	case !multipart && has(c.obj, "body_multipart"):
		c.r.errorf(CodeExclusive, at("body_multipart"), "body_multipart is only allowed when is_multipart is true.")
	}
	parts, _ := list(c.obj, "body_multipart")
	for i, p := range parts {
		part, _ := p.(map[string]any)
		if part == nil {
			continue
		}
		switch _, body := part["body"]; {
		case body && has(part, "body_raw_ref"):
			c.r.errorf(CodeExclusive, at("body_multipart", i), "A MIME part has either body or body_raw_ref, not both.")
		case !body && !has(part, "body_raw_ref"):
			c.r.errorf(CodeMissingOneOf, at("body_multipart", i), "A MIME part needs body or body_raw_ref.")
		}
	}
	headers, _ := dict(c.obj, "additional_header_fields")
	for name, v := range headers {
		if _, single := v.(string); single {
			// STIX 2.1 says the value MUST always be a list, but its own example, the OASIS
			// schemas and MISP's export write a single string, which no reader can mistake.
			c.r.warnf(CodeWrongType, at("additional_header_fields", name),
				"Each additional header field should hold a list of strings, even for a header that appears once (STIX 2.1 section 6.5).")
			continue
		}
		if !validHeaderValues(v) {
			c.r.errorf(CodeWrongType, at("additional_header_fields", name),
				"Each additional header field holds a list of strings, one per occurrence of the header.")
		}
	}
}

// validHeaderValues reports whether v is a non-empty list of strings.
func validHeaderValues(v any) bool {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return len(v) > 0
	}
	return false
}

func (c *objectCheck) checkFile() {
	if !hasAny(c.obj, "hashes", "name") {
		c.r.errorf(CodeMissingOneOf, nil, "A file needs hashes or name (or both).")
	}
	if enc, ok := str(c.obj, "name_enc"); ok {
		c.checkCharset(at("name_enc"), enc)
	}
	if mt, ok := str(c.obj, "mime_type"); ok {
		if why := mediaTypeProblem(mt); why != "" {
			c.r.warnf(CodeInvalidMediaType, at("mime_type"), "mime_type should be a media type from the IANA registry, such as application/pdf; %s is not: %s.", quote(mt), why)
		}
	}
	exts, _ := dict(c.obj, "extensions")
	pe, _ := exts["windows-pebinary-ext"].(map[string]any)
	if peType, ok := pe["pe_type"].(string); ok {
		c.checkVocabularyValue(at("extensions", "windows-pebinary-ext", "pe_type"), peType, windowsPEBinaryType)
	}
}

func (c *objectCheck) checkNetworkTraffic() {
	if !hasAny(c.obj, "src_ref", "dst_ref") {
		c.r.errorf(CodeMissingOneOf, nil, "A network-traffic needs src_ref or dst_ref (or both).")
	}
	if active, _ := c.obj["is_active"].(bool); active && has(c.obj, "end") {
		c.r.errorf(CodeExclusive, at("end"), "end is not allowed while is_active is true: active traffic has not ended.")
	}
	eachString(c.obj, "protocols", func(i int, p string) {
		if p != strings.ToLower(p) {
			c.r.warnf(CodeValueFormat, at("protocols", i), "Protocol names should be lowercase IANA service names such as tcp or http; %s is not.", quote(p))
		}
	})
}

func (c *objectCheck) checkProcess() {
	c.requireSpecificProperty()
	exts, _ := dict(c.obj, "extensions")
	win, _ := exts["windows-process-ext"].(map[string]any)
	if p, ok := win["priority"].(string); ok && !strings.HasSuffix(p, "_CLASS") {
		c.r.warnf(CodeValueFormat, at("extensions", "windows-process-ext", "priority"),
			"priority should be a Windows priority class name ending in _CLASS, such as HIGH_PRIORITY_CLASS; %s is not.", quote(p))
	}
}

func (c *objectCheck) checkSoftware() {
	if cpe, ok := str(c.obj, "cpe"); ok {
		if why := cpeProblem(cpe); why != "" {
			c.r.errorf(CodeInvalidCPE, at("cpe"), "cpe must be a CPE 2.3 name; %s is not: %s.", quote(cpe), why)
		}
	}
	eachString(c.obj, "languages", func(i int, lang string) {
		c.checkLanguageTag(at("languages", i), lang)
	})
}

func (c *objectCheck) checkRegistryKey() {
	c.requireSpecificProperty()
	if key, ok := str(c.obj, "key"); ok {
		if why := registryKeyProblem(key); why != "" {
			c.r.errorf(CodeInvalidRegistryKey, at("key"), "key %s is not valid: %s.", quote(key), why)
		}
	}
}

// checkValue checks the value property of an SCO whose value has an external syntax.
func (c *objectCheck) checkValue(problem func(string) string, code, what string) {
	v, ok := str(c.obj, "value")
	if !ok {
		return
	}
	if why := problem(v); why != "" {
		c.r.errorf(code, at("value"), "value must be %s; %s is not: %s.", what, quote(v), why)
	}
}

// requireSpecificProperty enforces that an SCO whose properties are all optional carries at
// least one of its own, beyond the common ones.
func (c *objectCheck) requireSpecificProperty() {
	common := c.v.schemas.observableCoreShape
	for name := range c.obj {
		if c.shape.defines(name) && !common.defines(name) {
			return
		}
	}
	if exts, _ := dict(c.obj, "extensions"); len(exts) > 0 {
		return
	}
	c.r.errorf(CodeMissingOneOf, nil, "%s needs at least one of its own properties besides the common ones.", capitalize(withArticle(c.typ)))
}
