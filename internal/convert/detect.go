package convert

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Kind is what an indicator of compromise is.
type Kind string

// The kinds the converter recognises. The names are those of the CSV type column.
const (
	IPv4          Kind = "ipv4-addr" // an address or a CIDR range
	IPv6          Kind = "ipv6-addr" // an address or a CIDR range
	Domain        Kind = "domain-name"
	URL           Kind = "url"
	Email         Kind = "email-addr"
	MD5           Kind = "md5"
	SHA1          Kind = "sha-1"
	SHA256        Kind = "sha-256"
	SHA512        Kind = "sha-512"
	FileName      Kind = "file-name"
	ASN           Kind = "autonomous-system"
	Vulnerability Kind = "vulnerability" // a CVE id
)

// kinds lists every Kind, for the CSV type column and the documentation.
var kinds = []Kind{IPv4, IPv6, Domain, URL, Email, MD5, SHA1, SHA256, SHA512, FileName, ASN, Vulnerability}

// hashKey is the key of a hash algorithm in STIX hashes dictionaries, as the specification spells it.
func (k Kind) hashKey() string {
	switch k {
	case MD5:
		return "MD5"
	case SHA1:
		return "SHA-1"
	case SHA256:
		return "SHA-256"
	case SHA512:
		return "SHA-512"
	}
	return ""
}

// IOC is one recognised indicator of compromise, normalised: the same indicator however it was
// spelled (defanged, upper case, with a trailing dot, as Unicode or punycode) has the same IOC.
type IOC struct {
	Kind  Kind
	Value string
}

// Pattern is the STIX pattern that matches the IOC; "" for a vulnerability, which is no indicator.
func (i IOC) Pattern() string {
	switch i.Kind {
	case IPv4, IPv6, Domain, URL, Email:
		return "[" + string(i.Kind) + ":value = " + QuoteLiteral(i.Value) + "]"
	case MD5, SHA1, SHA256, SHA512:
		return "[file:hashes." + hashPath(i.Kind.hashKey()) + " = " + QuoteLiteral(i.Value) + "]"
	case FileName:
		return "[file:name = " + QuoteLiteral(i.Value) + "]"
	case ASN:
		return "[autonomous-system:number = " + i.Value + "]"
	}
	return ""
}

// hashPath writes a hashes key as a pattern path step: quoted when it is not a plain identifier
// (SHA-1 holds a hyphen).
func hashPath(key string) string {
	for i := 0; i < len(key); i++ {
		if !isWordByte(key[i]) {
			return "'" + key + "'"
		}
	}
	return key
}

// Issue is why a line, or a value, gave no indicator: the text to show the analyst.
type Issue struct {
	Code    string
	Message string
}

func (i *Issue) Error() string { return "[" + i.Code + "] " + i.Message }

// The codes of Issues.
const (
	CodeUnrecognised = "unrecognised" // nothing in the line is an indicator
	CodeAmbiguous    = "ambiguous"    // the line could be read more than one way
	CodeInvalid      = "invalid"      // a value given as one kind is not a value of that kind
	CodeUnsupported  = "unsupported"  // an input the converter does not map (MISP types, CSV types)
)

func issuef(code, format string, args ...any) *Issue {
	return &Issue{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fileMarkers start a line that names a file: the rest of the line is the file name, spaces and all.
var fileMarkers = []string{"filename:", "file name:", "file:"}

// DetectLine recognises the one indicator of compromise in a line of an IOC list. Text around it
// is tolerated; a line holding two different indicators, or an indicator next to something that
// might be one (invoice.pdf: a file name or a domain?), is ambiguous and is refused rather than
// guessed.
func DetectLine(line string) (IOC, *Issue) {
	text := strings.TrimSpace(line)
	lower := strings.ToLower(text)
	for _, m := range fileMarkers {
		if strings.HasPrefix(lower, m) {
			name := strings.TrimSpace(text[len(m):])
			if name == "" {
				return IOC{}, issuef(CodeInvalid, "%q names no file", text)
			}
			return IOC{Kind: FileName, Value: name}, nil
		}
	}
	var found []IOC
	var doubts []string
	for _, tok := range strings.Fields(Refang(text)) {
		ioc, doubt := detectToken(tok)
		switch {
		case doubt != "":
			doubts = append(doubts, doubt)
		case ioc.Kind != "":
			dup := false
			for _, f := range found {
				dup = dup || f == ioc
			}
			if !dup {
				found = append(found, ioc)
			}
		}
	}
	switch {
	case len(found) == 1 && len(doubts) == 0:
		return found[0], nil
	case len(found) > 1:
		var names []string
		for _, f := range found {
			names = append(names, string(f.Kind)+" "+f.Value)
		}
		return IOC{}, issuef(CodeAmbiguous, "the line holds %d indicators (%s); put one per line", len(found), strings.Join(names, ", "))
	case len(doubts) > 0 && len(found) == 1:
		return IOC{}, issuef(CodeAmbiguous, "besides %s %s, %s", found[0].Kind, found[0].Value, doubts[0])
	case len(doubts) > 0:
		return IOC{}, issuef(CodeAmbiguous, "%s", doubts[0])
	}
	return IOC{}, issuef(CodeUnrecognised, "no indicator recognised in %q", truncate(text, 80))
}

// trimToken strips what surrounds a token in prose: quotes and brackets in pairs, an opening
// quote or bracket with its closing one, then trailing punctuation. Quotes inside a URL stay.
func trimToken(tok string) string {
	for len(tok) >= 2 {
		first, last := tok[0], tok[len(tok)-1]
		if (first == '"' && last == '"') || (first == '\'' && last == '\'') || (first == '<' && last == '>') ||
			(first == '(' && last == ')') || (first == '[' && last == ']') || (first == '`' && last == '`') {
			tok = tok[1 : len(tok)-1]
			continue
		}
		break
	}
	opened := ""
	for tok != "" && strings.IndexByte("(<\"'`", tok[0]) >= 0 {
		opened += tok[:1]
		tok = tok[1:]
	}
	tok = strings.TrimRight(tok, ",;!?")
	for i := len(opened) - 1; i >= 0; i-- {
		tok = strings.TrimSuffix(tok, string(closing(opened[i])))
	}
	return tok
}

func closing(c byte) byte {
	switch c {
	case '(':
		return ')'
	case '<':
		return '>'
	}
	return c
}

// detectToken recognises one whitespace-separated token. It returns the IOC, or a doubt (why the
// token might be an indicator but is not taken as one), or neither for ordinary words.
func detectToken(raw string) (IOC, string) {
	tok := trimToken(raw)
	if i := strings.Index(tok, "://"); !(i > 0 && isScheme(tok[:i])) {
		tok = strings.TrimRight(tok, ")>\"'`")
	}
	if tok == "" {
		return IOC{}, ""
	}
	if i := strings.Index(tok, "://"); i > 0 && isScheme(tok[:i]) {
		ioc, err := ParseValue(URL, tok)
		if err != nil {
			return IOC{}, err.Message
		}
		return ioc, ""
	}
	if strings.Contains(tok, "@") && !strings.HasPrefix(tok, "@") {
		ioc, err := ParseValue(Email, strings.TrimRight(tok, ".:"))
		if err == nil {
			return ioc, ""
		}
		if strings.Contains(err.Message, "top-level") {
			return IOC{}, err.Message
		}
	}
	lower := strings.ToLower(tok)
	if strings.HasPrefix(lower, "cve-") {
		if ioc, err := ParseValue(Vulnerability, strings.TrimRight(tok, ".:")); err == nil {
			return ioc, ""
		}
		return IOC{}, fmt.Sprintf("%q looks like a CVE id but is not one (CVE-YYYY-NNNN…)", tok)
	}
	if strings.HasPrefix(lower, "as") && len(tok) > 2 {
		if ioc, err := ParseValue(ASN, strings.TrimRight(tok, ".:")); err == nil {
			return ioc, ""
		}
	}
	bare := strings.TrimRight(tok, ".:")
	if isHex(bare) && len(bare) >= 16 {
		if k := hashKind(len(bare)); k != "" {
			return IOC{Kind: k, Value: strings.ToLower(bare)}, ""
		}
		return IOC{}, fmt.Sprintf("%q is a hexadecimal string of %d characters, which is the length of no MD5, SHA-1, SHA-256 or SHA-512 hash", truncate(bare, 20), len(bare))
	}
	if strings.ContainsAny(tok, ":") || strings.Count(bare, ".") == 3 && strings.IndexFunc(bare, notIPv4Char) < 0 {
		// Addresses: IPv6 holds colons, IPv4 four dotted numbers; a trailing ':' or '.' of prose
		// is not part of an IPv4 address, but is of the IPv6 '::'.
		cand := tok
		if !strings.Contains(cand, "::") || !strings.HasSuffix(cand, "::") {
			cand = strings.TrimRight(cand, ".")
		}
		if ioc, err := parseAddress(cand); err == nil {
			return ioc, ""
		} else if err.Code == CodeAmbiguous || err.Code == CodeInvalid && looksLikeAddress(cand) {
			return IOC{}, err.Message
		}
	}
	if strings.Count(bare, ".") >= 1 {
		ioc, err := ParseValue(Domain, tok)
		if err == nil {
			return ioc, ""
		}
		if err.Code == CodeAmbiguous && mayBeName(bare) {
			return IOC{}, err.Message
		}
	}
	return IOC{}, ""
}

func notIPv4Char(r rune) bool { return !(r == '.' || r == '/' || '0' <= r && r <= '9') }

// looksLikeAddress tells a malformed address (1.2.3.256, 10.0.0.1/33) from prose with colons.
func looksLikeAddress(s string) bool {
	if strings.Count(s, ".") == 3 && strings.IndexFunc(s, notIPv4Char) < 0 {
		return true
	}
	return strings.Count(s, ":") >= 2 && strings.IndexFunc(s, func(r rune) bool {
		return !(r == ':' || r == '.' || r == '/' || '0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F')
	}) < 0
}

func isScheme(s string) bool {
	switch strings.ToLower(s) {
	case "http", "https", "ftp", "ftps", "sftp", "ws", "wss":
		return true
	}
	return false
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func hashKind(n int) Kind {
	switch n {
	case 32:
		return MD5
	case 40:
		return SHA1
	case 64:
		return SHA256
	case 128:
		return SHA512
	}
	return ""
}

// ParseValue reads a value given as a kind (a CSV row's type, a MISP attribute's) and normalises
// it. Defanged spellings are undone first.
func ParseValue(kind Kind, value string) (IOC, *Issue) {
	v := strings.TrimSpace(value)
	if kind != FileName {
		v = Refang(v)
	}
	if v == "" {
		return IOC{}, issuef(CodeInvalid, "the value is empty")
	}
	switch kind {
	case IPv4, IPv6:
		ioc, err := parseAddress(v)
		if err != nil {
			return IOC{}, err
		}
		if ioc.Kind != kind {
			return IOC{}, issuef(CodeInvalid, "%s is an %s, not an %s", v, ioc.Kind, kind)
		}
		return ioc, nil
	case Domain:
		d, err := normaliseDomain(v)
		if err != nil {
			return IOC{}, err
		}
		return IOC{Kind: Domain, Value: d}, nil
	case URL:
		return parseURL(v)
	case Email:
		local, domain, ok := strings.Cut(v, "@")
		if !ok || local == "" || strings.ContainsAny(local, " \t\"<>()[]\\,;:") || strings.Contains(domain, "@") {
			return IOC{}, issuef(CodeInvalid, "%q is not an e-mail address", truncate(v, 80))
		}
		d, err := normaliseDomain(domain)
		if err != nil {
			return IOC{}, issuef(CodeInvalid, "%q is not an e-mail address: %s", truncate(v, 80), err.Message)
		}
		return IOC{Kind: Email, Value: local + "@" + d}, nil
	case MD5, SHA1, SHA256, SHA512:
		if !isHex(v) || hashKind(len(v)) != kind {
			return IOC{}, issuef(CodeInvalid, "%q is not an %s hash (%d hexadecimal digits)", truncate(v, 80), kind.hashKey(), hashLength(kind))
		}
		return IOC{Kind: kind, Value: strings.ToLower(v)}, nil
	case FileName:
		if strings.ContainsAny(v, "/\\") && strings.IndexAny(v, "/\\") < len(v)-1 {
			// A path is kept whole: file:name is the name, but refusing would lose the indicator.
			return IOC{Kind: FileName, Value: v}, nil
		}
		return IOC{Kind: FileName, Value: v}, nil
	case ASN:
		digits := v
		for _, p := range []string{"asn:", "asn", "as:", "as"} {
			if len(digits) > len(p) && strings.EqualFold(digits[:len(p)], p) {
				digits = strings.TrimSpace(digits[len(p):])
				break
			}
		}
		n, err := strconv.ParseUint(digits, 10, 32)
		if err != nil || n == 0 || digits[0] == '0' || digits[0] == '+' {
			return IOC{}, issuef(CodeInvalid, "%q is not an autonomous system number (AS1 to AS4294967295)", truncate(v, 80))
		}
		return IOC{Kind: ASN, Value: strconv.FormatUint(n, 10)}, nil
	case Vulnerability:
		up := strings.ToUpper(v)
		parts := strings.Split(up, "-")
		if len(parts) != 3 || parts[0] != "CVE" || len(parts[1]) != 4 || !isDigits(parts[1]) || len(parts[2]) < 4 || !isDigits(parts[2]) {
			return IOC{}, issuef(CodeInvalid, "%q is not a CVE id (CVE-YYYY-NNNN)", truncate(v, 80))
		}
		return IOC{Kind: Vulnerability, Value: up}, nil
	}
	return IOC{}, issuef(CodeUnsupported, "%q is not a type the converter knows (%s)", kind, kindList())
}

func hashLength(k Kind) int {
	switch k {
	case MD5:
		return 32
	case SHA1:
		return 40
	case SHA256:
		return 64
	}
	return 128
}

func kindList() string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseAddress reads an IPv4 or IPv6 address, or a CIDR range of either. A range with host bits
// set (10.0.0.1/24) is refused: the analyst meant either the host or the network.
func parseAddress(s string) (IOC, *Issue) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return IOC{}, issuef(CodeInvalid, "%q is not a CIDR range", truncate(s, 80))
		}
		if p.Addr().Zone() != "" {
			return IOC{}, issuef(CodeInvalid, "%q has a zone, which no indicator can match", truncate(s, 80))
		}
		if p.Masked() != p {
			return IOC{}, issuef(CodeAmbiguous, "%s has host bits set: write the address %s alone, or the range %s", s, p.Addr(), p.Masked())
		}
		return IOC{Kind: addrKind(p.Addr()), Value: p.String()}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return IOC{}, issuef(CodeInvalid, "%q is not an IP address", truncate(s, 80))
	}
	if a.Zone() != "" {
		return IOC{}, issuef(CodeInvalid, "%q has a zone, which no indicator can match", truncate(s, 80))
	}
	return IOC{Kind: addrKind(a), Value: a.String()}, nil
}

func addrKind(a netip.Addr) Kind {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// idnaProfile converts international domain names to their ASCII (punycode) form as resolvers
// look them up, and refuses what cannot be a host name.
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(true), idna.Transitional(false))

// extensionTLDs are top-level domains that are also file extensions: a name under them may be a
// file as well as a domain, so it is refused as ambiguous unless its type is given.
var extensionTLDs = map[string]bool{"zip": true, "mov": true}

// normaliseDomain lower-cases a domain, converts it to punycode and drops a trailing root dot.
// A name whose suffix is no public suffix (invoice.pdf), or which is a public suffix itself
// (co.uk), is not a domain.
func normaliseDomain(s string) (string, *Issue) {
	d := strings.TrimSuffix(s, ".")
	if d == "" || strings.HasPrefix(d, ".") || strings.Contains(d, "..") {
		return "", issuef(CodeInvalid, "%q is not a domain name", truncate(s, 80))
	}
	ascii, err := idnaProfile.ToASCII(d)
	if err != nil || len(ascii) > 253 {
		return "", issuef(CodeInvalid, "%q is not a domain name", truncate(s, 80))
	}
	ascii = strings.ToLower(ascii)
	if !strings.Contains(ascii, ".") {
		return "", issuef(CodeInvalid, "%q is not a domain name: it has a single label", truncate(s, 80))
	}
	suffix, icann := publicsuffix.PublicSuffix(ascii)
	if !icann && !strings.Contains(suffix, ".") {
		// The last label is no top-level domain: a file name such as invoice.pdf, or a typo.
		return "", issuef(CodeAmbiguous, "%q is not a domain (.%s is no top-level domain); if it is a file name, write \"filename: %s\"", truncate(s, 80), suffix, truncate(s, 80))
	}
	if suffix == ascii {
		return "", issuef(CodeInvalid, "%q is a public suffix, not a domain someone registered", truncate(s, 80))
	}
	if extensionTLDs[suffix] {
		return "", issuef(CodeAmbiguous, "%q may be a file name as well as a domain (.%s is both); give its type (domain-name or filename:)", truncate(s, 80), suffix)
	}
	return ascii, nil
}

// parseURL normalises the parts of a URL that do not change what it names (scheme and host case,
// an IDN host in punycode, a trailing root dot) and keeps the rest as written.
func parseURL(s string) (IOC, *Issue) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || !isScheme(u.Scheme) || u.Opaque != "" {
		return IOC{}, issuef(CodeInvalid, "%q is not a URL", truncate(s, 80))
	}
	host := u.Hostname()
	var normHost string
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		normHost = a.String()
		if a.Is6() {
			normHost = "[" + normHost + "]"
		}
	} else {
		d, issue := normaliseDomain(host)
		if issue != nil && issue.Code != CodeAmbiguous {
			return IOC{}, issuef(CodeInvalid, "%q is not a URL: %s", truncate(s, 80), issue.Message)
		}
		if issue != nil && !extensionTLDs[host[strings.LastIndex(host, ".")+1:]] {
			return IOC{}, issuef(CodeInvalid, "%q is not a URL: %s", truncate(s, 80), issue.Message)
		}
		if issue != nil {
			// In a URL the host is a host: .zip and the like are domains here.
			d = strings.ToLower(strings.TrimSuffix(host, "."))
			if ascii, err := idnaProfile.ToASCII(d); err == nil {
				d = ascii
			}
		}
		normHost = d
	}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return IOC{}, issuef(CodeInvalid, "%q is not a URL: port %s is out of range", truncate(s, 80), port)
		}
		normHost += ":" + port
	}
	// The rest is kept byte for byte: the scheme and authority are rebuilt, everything after the
	// authority is copied from the input.
	rest := s[strings.Index(s, "://")+3:]
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[i:]
	} else {
		rest = ""
	}
	userinfo := ""
	if u.User != nil {
		userinfo = u.User.String() + "@"
	}
	return IOC{Kind: URL, Value: strings.ToLower(u.Scheme) + "://" + userinfo + normHost + percentEncode(rest)}, nil
}

// percentEncode writes the bytes RFC 3986 does not allow in a URL's path, query or fragment
// (spaces, quotes, backslashes, brackets, non-ASCII…) as %XX, as a browser does before it sends
// the request, so that the pattern names the URL that crosses the wire and the validator takes it
// for a URL. Escapes already present are kept, and so is every allowed byte.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	allowed := func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~!$&'()*+,;=:@/?#", c) >= 0
	}
	isHex := func(c byte) bool { return strings.IndexByte(hex, c) >= 0 || 'a' <= c && c <= 'f' }
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case allowed(c):
			b.WriteByte(c)
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// mayBeName tells a dotted token worth a doubt (invoice.pdf: a file, or a domain under a suffix
// the list lacks?) from prose and numbers (e.g., 1.2.3), which are no indicator at all.
func mayBeName(s string) bool {
	last := s[strings.LastIndex(s, ".")+1:]
	if len(last) < 2 || strings.Index(s, ".") < 1 {
		return false
	}
	for i := 0; i < len(last); i++ {
		if c := last[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
