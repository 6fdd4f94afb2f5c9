// Package buildinfo says what a taxiihub binary was built from: the module version and the
// version-control revision, time and state that the Go toolchain records in every binary it builds
// (runtime/debug.ReadBuildInfo). Operators need it to tell which build answers, so the hub, taxiictl
// and taxiiload print it with --version and the hub exports it as the taxiihub_build_info metric.
// It is read from the binary itself rather than set with -ldflags, so that a plain `go build` is
// enough and no release script can forget it.
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Unknown stands for what the toolchain did not record: `go run` and `go test` binaries carry no
// revision, and a binary built outside a checkout none either.
const Unknown = "unknown"

// Info is what a binary was built from.
type Info struct {
	// Version is the main module's version: a tag such as v1.4.0 when built from a module
	// download, a pseudo-version, or "(devel)" when built in a checkout.
	Version string
	// Revision is the version-control commit, Unknown when not recorded; Modified says the working
	// tree had uncommitted changes.
	Revision string
	Modified bool
	// Time is the commit's time (RFC 3339), Unknown when not recorded.
	Time string
	// GoVersion is the toolchain that built the binary, such as go1.25.1.
	GoVersion string
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: Unknown, Revision: Unknown, Time: Unknown, GoVersion: Unknown}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, Revision: Unknown, Time: Unknown, GoVersion: bi.GoVersion}
	if info.Version == "" {
		info.Version = Unknown
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// Line is the one line --version prints, such as
// "taxiihub (devel) revision 45fa60d… (2026-12-05T22:00:00Z, modified) go1.25.1".
func (i Info) Line(program string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s revision %s", program, i.Version, i.Revision)
	var notes []string
	if i.Time != Unknown {
		notes = append(notes, i.Time)
	}
	if i.Modified {
		notes = append(notes, "modified")
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(notes, ", "))
	}
	fmt.Fprintf(&b, " %s", i.GoVersion)
	return b.String()
}

// IsVersionFlag reports whether a command-line argument asks for the version, in the spellings
// Go's flag package accepts for a flag.
func IsVersionFlag(arg string) bool {
	return arg == "--version" || arg == "-version"
}
