package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// instance is a `ventanilla serve` process: this test binary, started as
// the command (see TestMain).
type instance struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{}
}

func startInstance(t *testing.T, redisAddr, backend string) *instance {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(os.Args[0], "serve", "--addr", addr, "--redis-url", "redis://"+redisAddr+"/0", "--limit-phone", "0")
	cmd.Env = append(os.Environ(), "VENTANILLA_SAMPLE_URL="+backend)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{url: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(in.done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-in.done })
	testutil.WaitFor(t, "the instance to be ready", func() bool {
		select {
		case <-in.done:
			t.Fatal("the instance exited at start")
		default:
		}
		resp, err := http.Get(in.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return in
}

// atPost sends one Africa's Talking request and returns the reply, or ""
// when the instance gave none.
func atPost(base, session, text string) string {
	form := url.Values{"sessionId": {session}, "serviceCode": {"*384#"}, "phoneNumber": {citizenE164}, "networkCode": {"74001"}, "text": {text}}
	resp, err := http.PostForm(base+"/ussd/africastalking", form)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// Two instances share a real redis-server. The one serving the booking is
// killed (-9) during the booking call, after the back-end booked, and the
// carrier repeats the request on the other: the citizen gets the booking,
// and the back-end holds one.
func TestInstanceKilledDuringTheBooking(t *testing.T) {
	redisAddr, _ := redistest.StartServer(t)
	store := sample.NewMemoryStore()
	api := sample.New(sample.Options{Now: func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }, Store: store})
	booked := make(chan struct{})
	var first sync.Once
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/appointments" {
			api.ServeHTTP(w, r)
			return
		}
		hold := false
		first.Do(func() { hold = true })
		if !hold {
			api.ServeHTTP(w, r)
			return
		}
		// The first booking is made, and its answer never leaves: the
		// instance that asked is killed meanwhile.
		api.ServeHTTP(httptest.NewRecorder(), r)
		close(booked)
		<-r.Context().Done()
	}))
	t.Cleanup(backend.Close)
	a := startInstance(t, redisAddr, backend.URL)
	b := startInstance(t, redisAddr, backend.URL)

	text := ""
	for _, answer := range []string{"", "1", "1", "1", "1", "1", "1714307103"} {
		text = strings.TrimPrefix(text+"*"+answer, "*")
		if r := atPost(a.url, "kill-9", text); !strings.HasPrefix(r, "CON ") {
			t.Fatalf("%q: %q", text, r)
		}
	}
	confirm := text + "*1"
	go atPost(a.url, "kill-9", confirm)
	<-booked
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.done

	r := atPost(b.url, "kill-9", confirm) // the carrier's retry
	list, err := store.ByCedula(context.Background(), "1714307103")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d turnos booked: %+v", len(list), list)
	}
	if want := "CON Turno reservado. Código " + list[0].Code; !strings.HasPrefix(r, want) { // above the satisfaction question
		t.Errorf("the retry on the other instance: %q, want %q…", r, want)
	}
}
