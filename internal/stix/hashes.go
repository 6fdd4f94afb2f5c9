package stix

import (
	"slices"
	"strings"
)

// hashAlgorithm is an entry of the STIX hash-algorithm-ov whose values have a known format.
type hashAlgorithm struct {
	name  string
	valid func(string) bool
	form  string // the format, for messages
}

var hashAlgorithms = []hashAlgorithm{
	{"MD5", hexOfLength(32), "32 hexadecimal digits"},
	{"SHA-1", hexOfLength(40), "40 hexadecimal digits"},
	{"SHA-256", hexOfLength(64), "64 hexadecimal digits"},
	{"SHA-512", hexOfLength(128), "128 hexadecimal digits"},
	{"SHA3-256", hexOfLength(64), "64 hexadecimal digits"},
	{"SHA3-512", hexOfLength(128), "128 hexadecimal digits"},
	{"SSDEEP", validSSDEEP, "1 to 128 characters from A-Z, a-z, 0-9, /, +, : and ."},
	// The OASIS schemas fix TLSH at 70 letters and digits; the newer T1-prefixed form is longer.
	{"TLSH", validTLSH, "70 ASCII letters and digits"},
}

func hexOfLength(n int) func(string) bool {
	return func(s string) bool {
		if len(s) != n {
			return false
		}
		for i := range len(s) {
			if !isHexDigit(s[i]) {
				return false
			}
		}
		return true
	}
}

func validSSDEEP(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !isAlnum(c) && c != '/' && c != '+' && c != ':' && c != '.' {
			return false
		}
	}
	return true
}

func validTLSH(s string) bool {
	if len(s) != 70 {
		return false
	}
	for i := range len(s) {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkHashes checks a hashes dictionary: values of the listed algorithms must have their
// format, other algorithm names must be 3 to 250 characters of [a-zA-Z0-9_-] and should come
// from the vocabulary or carry the x_ prefix of custom values.
func (c *objectCheck) checkHashes(where loc, v any) {
	hashes, ok := v.(map[string]any)
	if !ok {
		return // reported by the schema
	}
	for name, value := range hashes {
		s, ok := value.(string)
		if !ok {
			continue // reported by the schema
		}
		i := slices.IndexFunc(hashAlgorithms, func(a hashAlgorithm) bool { return a.name == name })
		if i >= 0 {
			if a := hashAlgorithms[i]; !a.valid(s) {
				p := where.key(name)
				c.r.errorf(CodeInvalidHash, p, "%s must be %s; %s is not a %s hash.", p, a.form, quote(s), name)
			}
			continue
		}
		p := where.key(name)
		switch {
		case !validDictionaryKey(name, 3):
			c.r.errorf(CodeHashAlgorithm, p, "The hash algorithm name %s must be 3 to 250 characters of ASCII letters, digits, hyphens and underscores.", quote(name))
		case !strings.HasPrefix(name, "x_"):
			if j := slices.IndexFunc(hashAlgorithms, func(a hashAlgorithm) bool { return hashNameFold(a.name) == hashNameFold(name) }); j >= 0 {
				c.r.warnf(CodeHashAlgorithm, p, "The hash algorithm %s is spelled %s in STIX; readers look the hash up by that key.", quote(name), hashAlgorithms[j].name)
				continue
			}
			c.r.warnf(CodeHashAlgorithm, p, "The hash algorithm %s is not in the STIX hash-algorithm vocabulary (%s); a custom algorithm name should start with x_.", quote(name), hashAlgorithmNames())
		case len(name) > 30:
			c.r.warnf(CodeHashAlgorithm, p, "The hash algorithm name %s should be no longer than 30 characters.", quote(name))
		}
	}
}

func hashAlgorithmNames() string {
	names := make([]string, len(hashAlgorithms))
	for i, a := range hashAlgorithms {
		names[i] = a.name
	}
	return strings.Join(names, ", ")
}

// validDictionaryKey reports whether s is a dictionary key: ASCII letters, digits, hyphens
// and underscores, minLen to 250 characters.
func validDictionaryKey(s string, minLen int) bool {
	if len(s) < minLen || len(s) > 250 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
