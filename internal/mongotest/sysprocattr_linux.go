package mongotest

import "syscall"

// sysProcAttr makes the kernel kill mongod when the test binary dies without running Stop (a panic,
// go test -timeout, Ctrl-C), so that no mongod outlives its tests. The data is throwaway, so SIGKILL
// loses nothing.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
