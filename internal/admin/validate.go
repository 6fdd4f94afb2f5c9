package admin

import (
	"fmt"
	"mime"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// namePattern is the form of partnership slugs, collection aliases, member ids and operator names:
// safe as a URL path segment and as a file name (member tokens are written to <member-id>.jwt).
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// reservedSlugs are paths the hub serves, or will serve, beside the API roots.
var reservedSlugs = []string{"taxii2", "admin", "healthz", "readyz", "metrics", "console", "x-taxiihub-search"}

// Length limits keep what operators type readable in tables and cheap to store.
const (
	maxTitle       = 200
	maxDescription = 10_000
	maxContact     = 500
	maxNote        = 500
	maxMediaTypes  = 16
)

func checkName(p *problems, what, s string) {
	if !namePattern.MatchString(s) {
		p.add("%s %q must be 1 to 63 lower-case letters, digits or hyphens, starting with a letter or digit", what, s)
	}
}

func checkSlug(p *problems, what, slug string) {
	checkName(p, what, slug)
	if slices.Contains(reservedSlugs, slug) {
		p.add("%s %q is reserved for the hub's own paths (%s)", what, slug, strings.Join(reservedSlugs, ", "))
	}
}

func checkText(p *problems, what, s string, required bool, limit int) {
	switch {
	case required && strings.TrimSpace(s) == "":
		p.add("%s is required", what)
	case !utf8.ValidString(s):
		p.add("%s is not valid UTF-8", what)
	case utf8.RuneCountInString(s) > limit:
		p.add("%s is longer than %d characters", what, limit)
	}
}

func checkPartnership(p *problems, where string, slug, title, description string) {
	checkSlug(p, where+"slug", slug)
	checkText(p, where+"title", title, true, maxTitle)
	checkText(p, where+"description", description, false, maxDescription)
}

func checkCollection(p *problems, where string, alias, title, description string, mediaTypes []string) {
	if alias != "" {
		checkName(p, where+"alias", alias)
		// The store finds a collection by id or else by alias: an alias shaped like an id could
		// shadow, or be shadowed by, another collection.
		if _, err := uuid.Parse(alias); err == nil {
			p.add("%salias %q looks like a collection id; choose a name", where, alias)
		}
	}
	checkText(p, where+"title", title, true, maxTitle)
	checkText(p, where+"description", description, false, maxDescription)
	if len(mediaTypes) > maxMediaTypes {
		p.add("%smedia_types lists %d types, more than %d", where, len(mediaTypes), maxMediaTypes)
	}
	for _, m := range mediaTypes {
		if _, _, err := mime.ParseMediaType(m); err != nil {
			p.add("%smedia type %q is not a media type", where, m)
		} else if !isSTIX21(m) {
			p.add("%smedia type %q is not one a collection can hold: the hub stores STIX 2.1 objects only, %s", where, m, stixMediaType)
		}
	}
}

// isSTIX21 reports whether a media type names STIX 2.1 as TAXII 2.1 clients expect it in a
// collection's media_types: application/stix+json with version 2.1 and no other parameter, however
// it is spaced or capitalised. A collection resource advertising anything else (application/json,
// or STIX without a version) would promise clients content the hub never serves.
func isSTIX21(m string) bool {
	mediaType, params, err := mime.ParseMediaType(m)
	return err == nil && mediaType == "application/stix+json" && len(params) == 1 && params["version"] == "2.1"
}

// canonicalMediaTypes writes each media type, once checked, the one way the hub serves it, so
// that "application/stix+json; version=2.1" and the canonical spelling are one type, kept once.
func canonicalMediaTypes(types []string) []string {
	var out []string
	for _, m := range types {
		if isSTIX21(m) {
			m = stixMediaType
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func checkMember(p *problems, where string, m Member) {
	checkName(p, where+"member id", m.ID)
	checkText(p, where+"name", m.Name, true, maxTitle)
	checkJurisdiction(p, where, m.Jurisdiction)
	checkText(p, where+"contact", m.Contact, false, maxContact)
	if idp := m.IdentityProvider; idp != nil {
		checkIdentityProvider(p, where+"identity_provider: ", *idp)
	}
}

// checkIdentityProvider checks a member's OpenID Connect provider: an https issuer (http only on a
// loopback address), a client, exactly one place to read the secret from, and a roles claim.
func checkIdentityProvider(p *problems, where string, idp IdentityProvider) {
	u, err := url.Parse(idp.Issuer)
	switch {
	case err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		p.add("%sissuer %q is not an http(s) URL without query or fragment", where, idp.Issuer)
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		p.add("%sissuer %q must be https (http only on a loopback address)", where, idp.Issuer)
	}
	checkText(p, where+"client_id", idp.ClientID, true, maxTitle)
	checkText(p, where+"roles_claim", idp.RolesClaim, true, maxTitle)
	switch {
	case (idp.ClientSecretFile == "") == (idp.ClientSecretEnv == ""):
		p.add("%sgive exactly one of client_secret_file and client_secret_env", where)
	case idp.ClientSecretFile != "" && !filepath.IsAbs(idp.ClientSecretFile):
		p.add("%sclient_secret_file %q must be an absolute path on the hub", where, idp.ClientSecretFile)
	case idp.ClientSecretEnv != "" && !envName.MatchString(idp.ClientSecretEnv):
		p.add("%sclient_secret_env %q is not an environment variable name", where, idp.ClientSecretEnv)
	}
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// checkJurisdiction accepts an ISO 3166-1 alpha-2 code or EU, for a Union body.
func checkJurisdiction(p *problems, where, j string) {
	if j == "EU" || (len(j) == 2 && strings.Contains(iso3166, " "+j+" ")) {
		return
	}
	hint := ""
	switch j {
	case "UK":
		hint = " (the United Kingdom is GB)"
	case "EL":
		hint = " (Greece is GR)"
	}
	p.add("%sjurisdiction %q is not an ISO 3166-1 alpha-2 country code or EU%s", where, j, hint)
}

// iso3166 lists the officially assigned ISO 3166-1 alpha-2 codes, each between spaces.
const iso3166 = " AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ" +
	" BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ" +
	" CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ" +
	" DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR" +
	" GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU" +
	" ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ" +
	" LA LB LC LI LK LR LS LT LU LV LY" +
	" MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ" +
	" NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA" +
	" RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ" +
	" TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ" +
	" VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "

// ParseTTL reads a token lifetime: a Go duration such as "720h" or "30m", or a whole number of
// days such as "90d", the unit operators think of token lifetimes in.
func ParseTTL(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("token lifetime %q: want a whole number of days such as 90d, or a duration such as 720h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("token lifetime %q: want a whole number of days such as 90d, or a duration such as 720h", s)
	}
	return d, nil
}

// FormatTTL writes a lifetime the way ParseTTL reads it, in days when it is a whole number of them.
func FormatTTL(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}
