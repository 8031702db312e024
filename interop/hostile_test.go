package interop_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/interop"
)

// rawServer accepts loopback TCP connections and hands each to serve, for
// back-ends too broken for net/http to play. Cleanup closes the listener
// and every connection and waits for serve to return.
func rawServer(t *testing.T, serve func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Go(func() { serve(conn) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// readRequest consumes a request's head, so the client has sent it.
func readRequest(conn net.Conn) {
	buf := make([]byte, 4096)
	var got strings.Builder
	for !strings.Contains(got.String(), "\r\n\r\n") {
		n, err := conn.Read(buf)
		if err != nil {
			return
		}
		got.Write(buf[:n])
	}
}

// Hostile back-ends never hurt the hop or the process: each call ends in
// its outcome within its time, and no goroutine is left behind.
func TestHostileBackends(t *testing.T) {
	before := runtime.NumGoroutine()
	hc := loopbackClient(t)
	// Back-ends that stall get a short timeout; the others a long one, so
	// that a loaded machine cannot turn their error into a timeout.
	const short, long = 200 * time.Millisecond, 5 * time.Second

	tests := []struct {
		name    string
		url     func(t *testing.T) string
		want    interop.Outcome
		wantErr error
	}{
		{"slow drip: headers at once, the body a byte at a time past the deadline", func(t *testing.T) string {
			return backend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, "[")
				for {
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-time.After(10 * time.Millisecond):
					}
					if _, err := io.WriteString(w, "1,"); err != nil {
						return
					}
				}
			})
		}, interop.Timeout, context.DeadlineExceeded},
		{"never answers: accepts, reads, says nothing", func(t *testing.T) string {
			return rawServer(t, func(conn net.Conn) {
				readRequest(conn)
				_, _ = io.Copy(io.Discard, conn) // until the client or Cleanup closes it
			})
		}, interop.Timeout, context.DeadlineExceeded},
		{"never answers: headers half written", func(t *testing.T) string {
			return rawServer(t, func(conn net.Conn) {
				readRequest(conn)
				_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Ty")
				_, _ = io.Copy(io.Discard, conn)
			})
		}, interop.Timeout, context.DeadlineExceeded},
		{"connection reset", func(t *testing.T) string {
			return rawServer(t, func(conn net.Conn) {
				readRequest(conn)
				_ = conn.(*net.TCPConn).SetLinger(0) // close with RST
				_ = conn.Close()
			})
		}, interop.Error, nil},
		{"connection reset mid-body", func(t *testing.T) string {
			return rawServer(t, func(conn net.Conn) {
				readRequest(conn)
				_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":")
				_ = conn.(*net.TCPConn).SetLinger(0)
				_ = conn.Close()
			})
		}, interop.Error, nil},
		{"closes without a word", func(t *testing.T) string {
			return rawServer(t, func(conn net.Conn) {
				readRequest(conn)
				_ = conn.Close()
			})
		}, interop.Error, nil},
		{"garbage instead of HTTP", func(t *testing.T) string {
			return rawServer(t, func(conn net.Conn) {
				readRequest(conn)
				_, _ = io.WriteString(conn, "SSH-2.0-OpenSSH_9.6\r\n\r\n")
				_ = conn.Close()
			})
		}, interop.Error, nil},
		{"huge body, declared", func(t *testing.T) string {
			return backend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "1073741824")
				_, _ = io.WriteString(w, "[")
			})
		}, interop.Error, interop.ErrTooLarge},
		{"huge body, streamed without end", func(t *testing.T) string {
			return backend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				chunk := strings.Repeat(`"0123456789",`, 1000)
				for r.Context().Err() == nil {
					if _, err := io.WriteString(w, chunk); err != nil {
						return
					}
				}
			})
		}, interop.Error, interop.ErrTooLarge},
		{"invalid JSON", func(t *testing.T) string {
			return backend(t, reply(200, ct("application/json"), `{"slots": [1, 2`))
		}, interop.Error, interop.ErrNotJSON},
		{"wrong content type", func(t *testing.T) string {
			return backend(t, reply(200, ct("text/html; charset=utf-8"), `<html><body>Servicio en mantenimiento</body></html>`))
		}, interop.Error, interop.ErrNotJSON},
		{"redirect elsewhere", func(t *testing.T) string {
			return backend(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://192.0.2.1/steal", http.StatusTemporaryRedirect)
			})
		}, interop.Error, interop.ErrStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := long
			if tt.want == interop.Timeout {
				timeout = short
			}
			c := interop.NewClient(interop.NewRegistry(interop.Service{
				ID: "svc", BaseURL: tt.url(t), Timeout: timeout, MaxBody: 32 << 10,
			}), hc, interop.WithLogger(quiet))
			start := time.Now()
			r := c.Call(context.Background(), "svc", nil)
			elapsed := time.Since(start)
			if r.Outcome != tt.want {
				t.Errorf("Outcome %q, want %q (Err %v)", r.Outcome, tt.want, r.Err)
			}
			if tt.wantErr != nil && !errors.Is(r.Err, tt.wantErr) {
				t.Errorf("Err %v, want %v", r.Err, tt.wantErr)
			}
			if r.Err == nil {
				t.Error("no reason in Err")
			}
			// Bounded: without the client's limits these would hang until
			// the test's cleanup, or fill memory.
			if elapsed > short+3*time.Second {
				t.Errorf("took %v", elapsed)
			}
		})
	}

	// Every server above is closed; the client's idle connections go now.
	// What is left must settle back to where the test started.
	hc.CloseIdleConnections()
	defer func() {
		if t.Failed() {
			buf := make([]byte, 1<<16)
			t.Logf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
	}()
	testutil.WaitFor(t, fmt.Sprintf("the goroutines to settle back to %d (+2)", before), func() bool {
		return runtime.NumGoroutine() <= before+2
	})
}
