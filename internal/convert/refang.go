package convert

import "strings"

// refanger undoes the usual ways of defanging an indicator so that it cannot be clicked:
// hxxp for http, [.] (.) {.} [dot] for dots, [at] (at) [@] for @, [:] for the colon of a scheme.
// Replacements are case-insensitive in their letters (hXXp, [DOT]).
var refanger = strings.NewReplacer(
	"[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "(dot)", ".", "[DOT]", ".", "(DOT)", ".",
	"[at]", "@", "(at)", "@", "[@]", "@", "[AT]", "@", "(AT)", "@",
	"[:]", ":", "[://]", "://", "[/]", "/",
)

// schemeFangs maps the defanged spellings of URL schemes to the real ones.
var schemeFangs = []struct{ from, to string }{
	{"hxxps", "https"}, {"hxxp", "http"}, {"hxxps", "https"}, {"fxp", "ftp"}, {"sftp", "sftp"},
}

// Refang returns s with every defanged spelling undone.
func Refang(s string) string {
	s = refanger.Replace(s)
	lower := strings.ToLower(s)
	if !strings.Contains(lower, "xx") && !strings.Contains(lower, "fxp") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		matched := false
		for _, f := range schemeFangs {
			if strings.HasPrefix(lower[i:], f.from) && (i == 0 || !isWordByte(lower[i-1])) &&
				strings.HasPrefix(lower[i+len(f.from):], ":") {
				b.WriteString(f.to)
				i += len(f.from)
				matched = true
				break
			}
		}
		if !matched {
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}
