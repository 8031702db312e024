package testutil

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
)

// Child is this test binary run again as another process, to be killed
// with SIGKILL in the middle of its work: the crash tests of the stores
// that must lose nothing (the outbound queue, reminders, callbacks).
type Child struct {
	cmd    *exec.Cmd
	out    Buffer
	exited chan error
	done   bool
}

// StartChild runs the test named run (the child's body; it must skip
// unless env says it is the child) in a new process of this binary, with
// env added to this process's environment. The child is killed when the
// test ends if the test has not killed it.
func StartChild(t testing.TB, run string, env ...string) *Child {
	t.Helper()
	c := &Child{exited: make(chan error, 1)}
	c.cmd = exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.count=1")
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.exited <- c.cmd.Wait() }()
	t.Cleanup(func() {
		if !c.done {
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	})
	return c
}

// Alive fails the test, with the child's output, if the child has
// exited: a condition waited for must not outlive it.
func (c *Child) Alive(t testing.TB) {
	t.Helper()
	select {
	case err := <-c.exited:
		c.done = true
		t.Fatalf("child process exited early: %v\n%s", err, c.out.String())
	default:
	}
}

// Kill sends SIGKILL and fails the test unless that is what ended the
// child.
func (c *Child) Kill(t testing.TB) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-c.exited
	c.done = true
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child process ended with %v, want killed by SIGKILL\n%s", err, c.out.String())
	}
}

// Output is what the child wrote on its standard output and error.
func (c *Child) Output() string { return c.out.String() }

// Buffer is a bytes.Buffer that goroutines may write to while a test
// reads it: a child's output, a logger's destination.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
