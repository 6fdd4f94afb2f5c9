package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.25.1", Main: debug.Module{Path: "taxiihub", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef"},
			{Key: "vcs.time", Value: "2026-12-05T22:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	got := fromBuildInfo(bi)
	want := Info{Version: "v1.2.3", Revision: "0123456789abcdef", Modified: true, Time: "2026-12-05T22:00:00Z", GoVersion: "go1.25.1"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if line := got.Line("taxiihub"); line != "taxiihub v1.2.3 revision 0123456789abcdef (2026-12-05T22:00:00Z, modified) go1.25.1" {
		t.Errorf("line %q", line)
	}
	// What go test and go run binaries carry: no revision.
	bare := fromBuildInfo(&debug.BuildInfo{GoVersion: "go1.25.1", Main: debug.Module{Path: "taxiihub", Version: "(devel)"}})
	if line := bare.Line("taxiictl"); line != "taxiictl (devel) revision unknown go1.25.1" {
		t.Errorf("line without version control %q", line)
	}
}
