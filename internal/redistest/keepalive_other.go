//go:build !linux

package redistest

import (
	"os"
	"os/exec"
)

// startKept starts cmd. Where the kernel cannot kill a child with its
// parent, shared servers outlive the test process.
func startKept(cmd *exec.Cmd) error { return cmd.Start() }

func alive(pid int) bool {
	_, err := os.FindProcess(pid)
	return err == nil
}
