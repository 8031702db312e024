package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Stopping the gateway finishes the hops in flight: a hop waiting on a
// slow back-end when the stop arrives still gets its whole reply, and the
// process exits cleanly.
func TestGracefulShutdownFinishesHopsInFlight(t *testing.T) {
	addr := freePort(t)
	// The back-end holds the first list of offices until the stop has
	// begun, so that the hop asking for it is surely in flight then.
	api := sample.New(sample.Options{})
	arrived, release := make(chan struct{}), make(chan struct{})
	var first sync.Once
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/offices" {
			first.Do(func() {
				close(arrived)
				<-release
			})
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(backend.Close)
	t.Setenv("VENTANILLA_SAMPLE_URL", backend.URL)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"serve", "--addr", addr, "--limit-phone", "0"}, strings.NewReader(""), io.Discard, io.Discard)
	}()
	base := "http://" + addr
	testutil.WaitFor(t, "the gateway to be ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	post := func(text string) string {
		form := url.Values{"sessionId": {"stop"}, "serviceCode": {"*384#"}, "phoneNumber": {"+593991000300"}, "text": {text}}
		resp, err := http.PostForm(base+"/ussd/africastalking", form)
		if err != nil {
			t.Fatalf("hop %q: %v", text, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post("")
	post("1")
	post("1*1")
	reply := make(chan string, 1)
	go func() { reply <- post("1*1*1") }() // calls the back-end for the offices
	select {
	case <-arrived:
	case <-time.After(testutil.WaitTimeout):
		t.Fatal("the hop never asked the back-end for the offices")
	}
	stop()
	// The stop has begun once the gateway takes no new connections.
	testutil.WaitFor(t, "the gateway to stop listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	close(release)
	select {
	case r := <-reply:
		if !strings.HasPrefix(r, "CON Elija la oficina:") {
			t.Errorf("the hop in flight got %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the hop in flight never got its reply")
	}
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("exit status %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the gateway did not stop")
	}
}
