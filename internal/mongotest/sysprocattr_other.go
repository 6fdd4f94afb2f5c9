//go:build unix && !linux

package mongotest

import "syscall"

// sysProcAttr returns nil: only Linux can tie a child's life to its parent's, so elsewhere a test
// binary that dies without running Stop leaves its mongod behind.
func sysProcAttr() *syscall.SysProcAttr { return nil }
