package mongotest

import (
	"strings"
	"testing"
)

// A crash log's tail must still show why mongod aborted, not only its stack.
func TestWithoutBacktracesKeepsTheCause(t *testing.T) {
	log := []string{
		"2026-11-23T04:16:40.1 I REPL [replexec-3] transition to SECONDARY",
		"2026-11-23T04:16:40.2 F - [conn41] Invariant failure opTime.getTimestamp() src/mongo/db/write_concern.cpp 250",
		"2026-11-23T04:16:40.2 F - [conn41] ***aborting after invariant() failure",
		"2026-11-23T04:16:40.3 F - [conn41] Got signal: 6 (Aborted).",
		" 0x55e3 0x55e4",
		"----- BEGIN BACKTRACE -----",
		`{"backtrace":[{"b":"55E3","o":"1"}]}`,
		" mongod(_ZN5mongo15printStackTraceERSo+0x41) [0x55e348b8d2c1]",
		"-----  END BACKTRACE  -----",
		" libc.so.6(abort+0xD3) [0x7f70fc4ea472]",
	}
	got := withoutBacktraces(log)
	joined := strings.Join(got, "\n")
	if !strings.Contains(joined, "Invariant failure opTime") || !strings.Contains(joined, "transition to SECONDARY") {
		t.Errorf("the cause was dropped:\n%s", joined)
	}
	for _, frame := range []string{"printStackTrace", "abort+0xD3", `"backtrace"`} {
		if strings.Contains(joined, frame) {
			t.Errorf("frame %q kept:\n%s", frame, joined)
		}
	}
}
