package redistest

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// starts runs on one goroutine locked to its thread for the life of the
// process: a shared server is started from that thread with Pdeathsig, so
// the kernel kills it when the thread — that is, the test process — ends,
// however the tests end.
var (
	starts     = make(chan func())
	startsOnce sync.Once
)

func starter() {
	runtime.LockOSThread() // never unlocked: the thread lives as long as the process
	for f := range starts {
		f()
	}
}

// startKept starts cmd so that it dies with the test process.
func startKept(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	startsOnce.Do(func() { go starter() })
	done := make(chan error)
	starts <- func() { done <- cmd.Start() }
	return <-done
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }
