package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"ventanilla/flows/catalogue"
)

// A FIFO named like a flow in the flows folder is refused with its name;
// the load never opens it and waits for a writer, which would hold a
// reload (and a shutdown behind it) forever.
func TestFlowsFolderWithAFIFO(t *testing.T) {
	dir := t.TempDir()
	for _, src := range catalogue.Sources() {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(src.Name)), src.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fifo := filepath.Join(dir, "zz-pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errs := runCLI(t, "", "flows", "lint", dir)
		done <- result{code, out, errs}
	}()
	for {
		select {
		case r := <-done:
			if r.code == 0 || !strings.Contains(r.out+r.err, "zz-pipe.yaml: not a regular file") {
				t.Errorf("exit %d, want a refusal naming the FIFO:\n%s%s", r.code, r.out, r.err)
			}
			return
		default:
		}
		// Opening the writing end succeeds only while something has the
		// FIFO open for reading: the load is waiting on it.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
			<-done
			t.Fatal("the load opened the FIFO and waited for a writer")
		}
		runtime.Gosched()
	}
}
