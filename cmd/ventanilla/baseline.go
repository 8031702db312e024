package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/loadgen"
)

// cmdBaseline serves the bench's bare net/http baseline in a process of
// its own, as the gateway runs in its own: a baseline inside the bench's
// process would hand each request to a goroutine of the same runtime and
// skip the wake-ups between processes that every hop to the gateway
// pays, flattering the baseline. It prints the baseline's URL on one line
// and serves until its standard input closes (the bench ended or died).
func cmdBaseline(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	carrierName := fs.String("carrier", "africastalking", "carrier protocol to answer: "+strings.Join(benchCarrierNames(), ", "))
	if err := fs.Parse(args); err != nil {
		return 2
	}
	carrier, err := benchCarrier(*carrierName)
	if err != nil {
		fmt.Fprintf(stderr, "baseline: %v\n", err)
		return 2
	}
	b, err := loadgen.StartBaseline(carrier)
	if err != nil {
		fmt.Fprintf(stderr, "baseline: %v\n", err)
		return 1
	}
	defer b.Close()
	fmt.Fprintln(stdout, b.URL)
	closed := make(chan struct{})
	go func() { io.Copy(io.Discard, stdin); close(closed) }()
	select {
	case <-closed:
	case <-ctx.Done():
	}
	return 0
}

// baselineProcess starts "ventanilla baseline" from this executable and
// returns its URL and how to stop it.
func baselineProcess(carrier string) (url string, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(exe, "baseline", "--carrier", carrier)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	select {
	case url = <-lines:
	case <-time.After(10 * time.Second):
	}
	if !strings.HasPrefix(url, "http://") {
		stop()
		return "", nil, errors.New("the baseline process did not start")
	}
	return url, stop, nil
}
