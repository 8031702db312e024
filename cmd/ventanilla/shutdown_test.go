package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
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
	ctx, stop := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"demo", "--addr", addr, "--sample-latency", "400ms", "--limit-phone", "0"}, strings.NewReader(""), io.Discard, io.Discard)
	}()
	base := "http://" + addr
	deadline := time.Now().Add(5 * time.Second)
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the gateway never became ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
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
	go func() { reply <- post("1*1*1") }() // calls the slow back-end for the offices
	time.Sleep(100 * time.Millisecond)
	stop()
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
