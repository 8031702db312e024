package kannel_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
)

// sendsms is a stand-in for smsbox's sendsms interface on loopback.
type sendsms struct {
	mu      sync.Mutex
	queries []url.Values
	status  int
	body    string
	delay   time.Duration
}

func (s *sendsms) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.queries = append(s.queries, r.URL.Query())
	s.mu.Unlock()
	if r.URL.Path != "/cgi-bin/sendsms" {
		http.Error(w, "Unknown request.", http.StatusNotFound)
		return
	}
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(cmp(s.status, http.StatusAccepted))
	_, _ = io.WriteString(w, cmp(s.body, "0: Accepted for delivery"))
}

func newSender(t *testing.T, s *sendsms) *kannel.Sender {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &kannel.Sender{BaseURL: srv.URL + "/", Username: "ventanilla", Password: "s3cr3t-pw",
		From: "4545", SMSC: "claro", HTTPClient: srv.Client()}
}

func TestSenderRequest(t *testing.T) {
	tests := []struct {
		name, text, coding string
	}{
		{"gsm-7 text", "Su turno: martes 10h00. ñ é ü ¿ €", "0"},
		{"accented text as ucs-2", "Opción válida, señor", "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sendsms{}
			if err := newSender(t, s).Send(context.Background(), "+593991234567", tt.text); err != nil {
				t.Fatal(err)
			}
			q := s.queries[0]
			want := url.Values{"username": {"ventanilla"}, "password": {"s3cr3t-pw"}, "to": {"+593991234567"},
				"from": {"4545"}, "smsc": {"claro"}, "text": {tt.text}, "coding": {tt.coding}, "charset": {"UTF-8"}}
			if q.Encode() != want.Encode() {
				t.Errorf("query\n got %v\nwant %v", q, want)
			}
		})
	}
}

func TestSenderOptionalFields(t *testing.T) {
	s := &sendsms{}
	snd := newSender(t, s)
	snd.From, snd.SMSC = "", ""
	if err := snd.Send(context.Background(), "+593991234567", "hola"); err != nil {
		t.Fatal(err)
	}
	if q := s.queries[0]; q.Has("from") || q.Has("smsc") {
		t.Errorf("empty From/SMSC sent: %v", q)
	}
}

func TestSenderErrors(t *testing.T) {
	tests := []struct {
		name      string
		server    *sendsms
		to, text  string
		ctx       func() (context.Context, context.CancelFunc)
		retryable bool
		status    int
		noCall    bool
	}{
		{name: "queued for later is success", server: &sendsms{body: "3: Queued for later delivery"}},
		{name: "temporal failure", server: &sendsms{status: 503, body: "Temporal failure, try again later."}, retryable: true, status: 503},
		{name: "sending failed", server: &sendsms{status: 500, body: "Sending failed."}, retryable: true, status: 500},
		{name: "bad credentials", server: &sendsms{status: 403, body: "Authorization failed for sendsms"}, status: 403},
		{name: "not routable", server: &sendsms{status: 403, body: "Not routable. Do not try again."}, status: 403},
		{name: "field rejected", server: &sendsms{status: 400, body: "Charset or body misformed, rejected"}, status: 400},
		{name: "proxy rate limit", server: &sendsms{status: 429}, retryable: true, status: 429},
		{name: "timeout", server: &sendsms{delay: 2 * time.Second}, retryable: true,
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			}},
		{name: "caller cancelled", server: &sendsms{delay: 2 * time.Second},
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(50*time.Millisecond, cancel)
				return ctx, cancel
			}},
		{name: "not e.164", to: "0991234567", noCall: true},
		{name: "two numbers", to: "+593991234567 +593991111111", noCall: true},
		{name: "empty text", text: " ", noCall: true},
		{name: "control character", text: "a\x1bb", noCall: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			s := cmp(tt.server, &sendsms{})
			err := newSender(t, s).Send(ctx, cmp(tt.to, "+593991234567"), cmp(tt.text, "hola"))
			if tt.noCall && len(s.queries) != 0 {
				t.Errorf("Kannel called for a message it would refuse")
			}
			success := !tt.noCall && tt.status == 0 && tt.ctx == nil
			if success {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			if errors.Is(err, kannel.ErrRetryable) != tt.retryable || errors.Is(err, kannel.ErrRejected) == tt.retryable {
				t.Errorf("%v: retryable %v, want %v", err, errors.Is(err, kannel.ErrRetryable), tt.retryable)
			}
			var se *kannel.SendError
			if !errors.As(err, &se) || se.StatusCode != tt.status {
				t.Errorf("%v: want a *SendError with status %d", err, tt.status)
			}
			if s.body != "" && !strings.Contains(err.Error(), s.body) {
				t.Errorf("%q does not carry Kannel's answer %q", err, s.body)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error leaks the password: %v", err)
			}
			if tt.name == "caller cancelled" && !errors.Is(err, context.Canceled) {
				t.Errorf("%v does not wrap context.Canceled", err)
			}
		})
	}
}

// A refused connection is retryable and never quotes the URL (which holds
// the password).
func TestSenderUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	snd := &kannel.Sender{BaseURL: "http://" + addr, Username: "u", Password: "s3cr3t-pw"}
	err = snd.Send(context.Background(), "+593991234567", "hola")
	if !errors.Is(err, kannel.ErrRetryable) || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("got %v", err)
	}
}

// KANNEL_SENDSMS_URL is read as "smsbox's sendsms URL": written with its
// path, as the Kannel documentation gives it, it reaches the same place.
func TestSenderURLWithItsPath(t *testing.T) {
	s := &sendsms{}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	for _, base := range []string{srv.URL, srv.URL + "/", srv.URL + "/cgi-bin/sendsms", srv.URL + "/cgi-bin/sendsms/"} {
		snd := &kannel.Sender{BaseURL: base, Username: "ventanilla", Password: "s3cr3t-pw", HTTPClient: srv.Client()}
		if err := snd.Send(context.Background(), "+593991234567", "hola"); err != nil {
			t.Errorf("BaseURL %q: %v", base, err)
		}
	}
}
