package loadgen

import (
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Baseline is a bare net/http server on loopback that reads each callback
// as the gateway does (the whole body, parsed when it is a form) and
// answers the carrier's canned reply. Driven like the gateway, it shows
// what this machine and this client manage when the gateway costs nothing.
type Baseline struct {
	URL string
	srv *http.Server
}

// StartBaseline serves the baseline for carrier c on 127.0.0.1, on a free
// port, until Close.
func StartBaseline(c Carrier) (*Baseline, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	contentType, reply := c.Canned()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<10))
		if err != nil {
			http.Error(w, "body: unreadable", http.StatusBadRequest)
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
			if _, err := url.ParseQuery(string(body)); err != nil {
				http.Error(w, "body: malformed form encoding", http.StatusBadRequest)
				return
			}
		}
		w.Header().Set("Content-Type", contentType)
		w.Write(reply)
	})
	// The gateway's own server settings (cmd/ventanilla serve.go).
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	go func() { _ = srv.Serve(ln) }() // returns ErrServerClosed on Close
	return &Baseline{URL: "http://" + ln.Addr().String(), srv: srv}, nil
}

// Close stops the server and its connections.
func (b *Baseline) Close() error { return b.srv.Close() }
