package stix

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// This file holds the syntax of values whose format STIX borrows from other standards.
// Each function returns why a value is wrong, or "" when it is right.

// uriProblem checks an absolute URI with RFC 3986's grammar (scheme ":" hier-part
// ["?" query] ["#" fragment]). net/url is not used: it accepts spaces, non-ASCII
// characters and other text that is not a URI, which STIX content gets wrong often.
func uriProblem(s string) string {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" {
		return "it has no scheme such as https:"
	}
	if !isAlpha(scheme[0]) {
		return "its scheme must start with a letter"
	}
	for i := 1; i < len(scheme); i++ {
		if c := scheme[i]; !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return "its scheme " + quote(scheme) + " has a character other than letters, digits, +, - and ."
		}
	}
	rest, fragment, hasFragment := strings.Cut(rest, "#")
	rest, query, hasQuery := strings.Cut(rest, "?")
	if hasFragment && !uriChars(fragment, "/?:@") {
		return "its fragment has a character that must be percent-encoded"
	}
	if hasQuery && !uriChars(query, "/?:@") {
		return "its query has a character that must be percent-encoded"
	}
	path := rest
	if authority, ok := strings.CutPrefix(rest, "//"); ok {
		end := strings.IndexByte(authority, '/')
		if end < 0 {
			end = len(authority)
		}
		if why := authorityProblem(authority[:end]); why != "" {
			return why
		}
		path = authority[end:]
	}
	if !uriChars(path, "/:@") {
		return "its path has a character that must be percent-encoded (a space or a non-ASCII character, for instance)"
	}
	return ""
}

// authorityProblem checks [ userinfo "@" ] host [ ":" port ].
func authorityProblem(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		if !uriChars(a[:i], ":") {
			return "its user information has a character that must be percent-encoded"
		}
		a = a[i+1:]
	}
	host, port := a, ""
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "its IP literal has no closing ]"
		}
		host, port = a[:end+1], a[end+1:]
		if !validIPLiteral(host[1:end]) {
			return "its IP literal " + quote(host) + " is not an IPv6 address"
		}
		if port != "" && port[0] != ':' {
			return "its IP literal is followed by something other than a port"
		}
		port = strings.TrimPrefix(port, ":")
	} else if i := strings.IndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i+1:]
	}
	for i := range len(port) {
		if port[i] < '0' || port[i] > '9' {
			return "its port " + quote(port) + " is not a number"
		}
	}
	if !strings.HasPrefix(host, "[") && !uriChars(host, "") {
		return "its host " + quote(host) + " has a character that must be percent-encoded"
	}
	return ""
}

func validIPLiteral(s string) bool {
	if strings.HasPrefix(s, "v") || strings.HasPrefix(s, "V") { // IPvFuture
		ver, rest, ok := strings.Cut(s[1:], ".")
		return ok && ver != "" && rest != "" && strings.Trim(ver, "0123456789abcdefABCDEF") == "" && uriChars(rest, ":")
	}
	addr, err := netip.ParseAddr(s)
	return err == nil && addr.Is6() && addr.Zone() == ""
}

// uriChars reports whether s holds only unreserved characters, percent-encodings, sub-delims
// and the extra characters allowed at that place.
func uriChars(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c), strings.IndexByte("-._~!$&'()*+,;=", c) >= 0, strings.IndexByte(extra, c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHexDigit(s[i+1]) || !isHexDigit(s[i+2]) {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// emailProblem checks an RFC 5322 addr-spec: local-part "@" domain, without a display name or
// angle brackets.
func emailProblem(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "it has no @"
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case local == "":
		return "it has nothing before the @"
	case strings.HasPrefix(local, `"`):
		if len(local) < 2 || !strings.HasSuffix(local, `"`) || !validQuotedString(local[1:len(local)-1]) {
			return "its quoted local part is not closed or holds a bare quote or backslash"
		}
	case !validDotAtom(local):
		return "its local part is neither dot-separated words of letters, digits and !#$%&'*+-/=?^_`{|}~ nor a quoted string"
	}
	switch {
	case strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]"):
		for i := 1; i < len(domain)-1; i++ {
			if c := domain[i]; c < 33 || c > 126 || c == '[' || c == ']' || c == '\\' {
				return "its domain literal has a character it cannot hold"
			}
		}
	case !validDotAtom(domain):
		return "its domain is not a host name"
	}
	return ""
}

// validDotAtom reports whether s is a dot-atom: atext runs separated by single dots. Non-ASCII
// characters are allowed (RFC 6532).
func validDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c < 0x80 && strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) < 0 {
			return false
		}
	}
	return true
}

func validQuotedString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			if i++; i >= len(s) {
				return false
			}
		case c == '"', c < 32 && c != '\t':
			return false
		}
	}
	return true
}

// hostnameProfile validates internationalized domain names the way registries do for lookup:
// labels of letters, digits and hyphens (underscores refused), each at most 63 octets in
// their ASCII form.
var hostnameProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.StrictDomainName(true),
	idna.VerifyDNSLength(true),
)

func domainNameProblem(s string) string {
	if _, err := hostnameProfile.ToASCII(s); err != nil {
		return strings.TrimPrefix(err.Error(), "idna: ")
	}
	return ""
}

// ipProblem checks an IPv4 (bits 32) or IPv6 (bits 128) address, optionally as a CIDR block.
func ipProblem(s string, bits int) string {
	addrPart, prefix, isCIDR := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(addrPart)
	switch {
	case err != nil:
		return strings.TrimPrefix(err.Error(), "ParseAddr("+strconv.Quote(addrPart)+"): ")
	case addr.Zone() != "":
		return "a zone such as %eth0 is not part of an address"
	case bits == 32 && !addr.Is4():
		return "it is not an IPv4 address"
	case bits == 128 && !addr.Is6():
		return "it is not an IPv6 address"
	}
	if isCIDR {
		n, err := strconv.Atoi(prefix)
		if err != nil || n < 0 || n > bits || prefix != strconv.Itoa(n) {
			return "its prefix length /" + prefix + " is not a number from 0 to " + strconv.Itoa(bits)
		}
	}
	return ""
}

// macProblem checks the single form STIX allows: six lowercase, zero-padded, colon-separated
// octets.
func macProblem(s string) string {
	if len(s) != 17 {
		return "it is not six colon-separated octets such as 00:1a:2b:3c:4d:5e"
	}
	for i := range len(s) {
		c := s[i]
		if i%3 == 2 {
			if c != ':' {
				return "it is not six colon-separated octets such as 00:1a:2b:3c:4d:5e"
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "its octets must be lowercase hexadecimal digits"
		}
	}
	return ""
}

// cpe23 is the CPE 2.3 formatted string binding (NISTIR 7695, section 6.2).
var cpe23 = regexp.MustCompile(`^cpe:2\.3:[aho*\-](:(((\?*|\*?)([a-zA-Z0-9\-._]|(\\[\\*?!"#$%&'()+,/:;<=>@\[\]^` + "`" + `{|}~]))+(\?*|\*?))|[*\-])){5}(:(([a-zA-Z]{2,3}(-([a-zA-Z]{2}|[0-9]{3}))?)|[*\-]))(:(((\?*|\*?)([a-zA-Z0-9\-._]|(\\[\\*?!"#$%&'()+,/:;<=>@\[\]^` + "`" + `{|}~]))+(\?*|\*?))|[*\-])){4}$`)

func cpeProblem(s string) string {
	if !cpe23.MatchString(s) {
		return "it is not a CPE 2.3 formatted string (cpe:2.3:part:vendor:product:version:update:edition:language:sw_edition:target_sw:target_hw:other)"
	}
	return ""
}

// abbreviatedHives are the short names of registry hives, which STIX does not allow: the hive
// of a windows-registry-key is written in full.
var abbreviatedHives = []string{"HKLM", "HKCU", "HKCR", "HKCC", "HKU", "HKPD", "HKDD"}

func registryKeyProblem(key string) string {
	root, _, _ := strings.Cut(key, `\`)
	for _, a := range abbreviatedHives {
		if strings.EqualFold(root, a) {
			return "the hive must be written in full (HKEY_LOCAL_MACHINE, not HKLM)"
		}
	}
	return ""
}
