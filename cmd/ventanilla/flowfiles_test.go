package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
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

// The lint tells the author what the engine will tell the citizen: with
// no SMS carrier's credentials, a slow async call's result waits for the
// citizen's next contact; with them, it goes by SMS.
func TestLintSaysWhereLateResultsGo(t *testing.T) {
	for _, k := range []string{"KANNEL_SENDSMS_URL", "AT_USERNAME", "AT_API_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_MESSAGING_SERVICE_SID"} {
		t.Setenv(k, "")
	}
	want := "estado-tramite.yaml:34:5: steps.lookup.async: warning: no SMS carrier is configured"
	if _, out, _ := runCLI(t, "", "flows", "lint"); !strings.Contains(out, want) {
		t.Errorf("without an SMS carrier the lint should say so:\n%s", out)
	}
	t.Setenv("AT_USERNAME", "sandbox")
	t.Setenv("AT_API_KEY", "key")
	if _, out, _ := runCLI(t, "", "flows", "lint"); strings.Contains(out, "async-without-sms") {
		t.Errorf("with Africa's Talking SMS the lint still warns:\n%s", out)
	}
}

// The gateway and the lint read the same environment the same way: the
// engine promises an SMS, and sends sms steps, exactly when lateResults
// says one can be sent.
func TestLateResultsAgreeWithTheGateway(t *testing.T) {
	cases := []map[string]string{
		{},
		{"KANNEL_USERNAME": "ventanilla"},
		{"KANNEL_SENDSMS_URL": "http://127.0.0.1:1/cgi-bin/sendsms"},
		{"AT_USERNAME": "sandbox", "AT_API_KEY": "key"},
		{"TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("a", 32), "TWILIO_AUTH_TOKEN": "token", "TWILIO_FROM": "+15005550006"},
		{"TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("a", 32), "TWILIO_AUTH_TOKEN": "token"},
	}
	for _, env := range cases {
		getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		a, err := newApp(&config{Root: "inicio"}, log, getenv, registry)
		if err != nil {
			t.Fatalf("%v: %v", env, err)
		}
		_, kept := a.gateway.Engine.Notifier.(flows.Promiser)
		engine := flows.LateBySMS
		if kept {
			engine = flows.LateAtNextContact
		}
		if lint := lateResults(getenv); lint != engine {
			t.Errorf("%v: the lint says %q, the gateway does %q", env, lint, engine)
		}
		// sms steps: the lint warns exactly where the engine cannot send.
		if sends := a.gateway.Engine.SMS != nil; sends != (lateResults(getenv) == flows.LateBySMS) {
			t.Errorf("%v: the engine sends sms steps: %v; the lint says %q", env, sends, lateResults(getenv))
		}
		if a.outbound != nil {
			a.outbound.close(context.Background())
		}
		a.store.Close()
	}
}
