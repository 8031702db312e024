package atsms_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/carriers/atsms"
	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const apiKey = "atsk_0f1e2d3c4b5a69788796a5b4c3d2e1f0"

// messagingAPI stands in for AT's SMS API on loopback, answering with the
// documented bodies in testdata/api.
type messagingAPI struct {
	t      testing.TB
	status int
	file   string
	header http.Header
	block  bool

	mu      sync.Mutex
	forms   []url.Values
	headers []http.Header
	paths   []string
}

func (a *messagingAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	a.mu.Lock()
	a.forms = append(a.forms, r.PostForm)
	a.headers = append(a.headers, r.Header.Clone())
	a.paths = append(a.paths, r.Method+" "+r.Host+r.URL.Path)
	a.mu.Unlock()
	if a.block {
		<-r.Context().Done()
		return
	}
	for k, v := range a.header {
		w.Header()[k] = v
	}
	file := a.file
	if file == "" {
		file = "api/sent_101.json"
	}
	if strings.HasSuffix(file, ".json") {
		w.Header().Set("Content-Type", "application/json")
	}
	status := a.status
	if status == 0 {
		status = http.StatusCreated
	}
	w.WriteHeader(status)
	_, _ = w.Write(carriertest.Testdata(a.t, file))
}

func (a *messagingAPI) requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.forms)
}

// host is where the sender is pointed: a real AT host name routed to the
// loopback server, or "" for the server's own URL as BaseURL.
func newSender(t *testing.T, api *messagingAPI, host string, opts atsms.SenderOptions) *atsms.Sender {
	t.Helper()
	api.t = t
	if opts.Username == "" {
		opts.Username = "ventanilla"
	}
	if opts.APIKey == "" {
		opts.APIKey = apiKey
	}
	if host == "" {
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		opts.BaseURL = srv.URL
		opts.HTTPClient = carriertest.GuardedClient(t, nil, nil)
	} else {
		_, roots, routes := carriertest.ProviderServer(t, api, host)
		opts.HTTPClient = carriertest.GuardedClient(t, routes, roots)
	}
	s, err := atsms.NewSender(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func msg(text string) carrier.Message {
	return carrier.Message{ID: "africastalking-sms:x:reply", Channel: "sms", Carrier: "africastalking-sms", To: "+593991234567", Text: text}
}

func TestSenderRequest(t *testing.T) {
	tests := []struct {
		name, host, path string
		opts             atsms.SenderOptions
		want             url.Values
	}{
		{"production", "api.africastalking.com", "POST api.africastalking.com/version1/messaging", atsms.SenderOptions{From: "20880"},
			url.Values{"username": {"ventanilla"}, "to": {"+593991234567"}, "message": {"Su turno: martes 09:00, señor"}, "from": {"20880"}}},
		{"sandbox by its username", "api.sandbox.africastalking.com", "POST api.sandbox.africastalking.com/version1/messaging", atsms.SenderOptions{Username: "sandbox"},
			url.Values{"username": {"sandbox"}, "to": {"+593991234567"}, "message": {"Su turno: martes 09:00, señor"}}},
		{"sandbox by URL", "api.sandbox.africastalking.com", "POST api.sandbox.africastalking.com/version1/messaging", atsms.SenderOptions{BaseURL: atsms.SandboxURL, From: "VENTANILLA"},
			url.Values{"username": {"ventanilla"}, "to": {"+593991234567"}, "message": {"Su turno: martes 09:00, señor"}, "from": {"VENTANILLA"}}},
		{"base URL", "", "", atsms.SenderOptions{},
			url.Values{"username": {"ventanilla"}, "to": {"+593991234567"}, "message": {"Su turno: martes 09:00, señor"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &messagingAPI{}
			s := newSender(t, api, tt.host, tt.opts)
			id, err := s.SendID(context.Background(), msg("Su turno: martes 09:00, señor"))
			if err != nil || id != "ATXid_c4bdd23b12ad66c9a48cc1ed783da85f" {
				t.Fatalf("SendID = %q, %v", id, err)
			}
			if api.requests() != 1 {
				t.Fatalf("%d requests", api.requests())
			}
			if tt.path != "" && api.paths[0] != tt.path {
				t.Errorf("request %s, want %s", api.paths[0], tt.path)
			}
			h := api.headers[0]
			if h.Get("apiKey") != apiKey || h.Get("Accept") != "application/json" || !strings.HasPrefix(h.Get("Content-Type"), "application/x-www-form-urlencoded") {
				t.Errorf("headers %v", h)
			}
			if got := api.forms[0]; got.Encode() != tt.want.Encode() {
				t.Errorf("form\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestSenderAnswers(t *testing.T) {
	httpDate := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	tests := []struct {
		name      string
		api       *messagingAPI
		ok        bool
		id        string
		retryable bool
		after     time.Duration
		code      int
	}{
		{"101 Sent", &messagingAPI{}, true, "ATXid_c4bdd23b12ad66c9a48cc1ed783da85f", false, 0, 0},
		{"102 Queued, HTTP 200", &messagingAPI{status: 200, file: "api/queued_102.json"}, true, "ATXid_800aee138beca45c17741e96a4d00423", false, 0, 0},
		{"403 InvalidPhoneNumber", &messagingAPI{file: "api/invalid_phone_403.json"}, false, "", false, 0, 403},
		{"405 InsufficientBalance", &messagingAPI{file: "api/insufficient_balance_405.json"}, false, "", false, 0, 405},
		{"406 UserInBlacklist", &messagingAPI{file: "api/blacklisted_406.json"}, false, "", false, 0, 406},
		{"501 GatewayError", &messagingAPI{file: "api/gateway_error_501.json"}, false, "", true, 0, 501},
		{"502 RejectedByGateway", &messagingAPI{file: "api/rejected_by_gateway_502.json"}, false, "", true, 0, 502},
		{"no recipients", &messagingAPI{file: "api/invalid_sender_no_recipients.json"}, false, "", false, 0, 0},
		{"HTTP 401 wrong API key", &messagingAPI{status: 401, file: "api/unauthorized.txt"}, false, "", false, 0, 0},
		{"HTTP 400", &messagingAPI{status: 400, file: "api/unauthorized.txt"}, false, "", false, 0, 0},
		{"HTTP 429 with Retry-After", &messagingAPI{status: 429, file: "api/unauthorized.txt", header: http.Header{"Retry-After": {"12"}}}, false, "", true, 12 * time.Second, 0},
		{"HTTP 429 with a date", &messagingAPI{status: 429, file: "api/unauthorized.txt", header: http.Header{"Retry-After": {httpDate}}}, false, "", true, 110 * time.Second, 0},
		{"HTTP 500", &messagingAPI{status: 500, file: "api/proxy_502.html"}, false, "", true, 0, 0},
		{"HTTP 502 from a proxy", &messagingAPI{status: 502, file: "api/proxy_502.html"}, false, "", true, 0, 0},
		{"2xx that is not JSON", &messagingAPI{status: 201, file: "api/proxy_502.html"}, false, "", true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, tt.api, "api.africastalking.com", atsms.SenderOptions{})
			id, err := s.SendID(context.Background(), msg("Hola"))
			if (err == nil) != tt.ok || id != tt.id {
				t.Fatalf("SendID = %q, %v", id, err)
			}
			if tt.ok {
				return
			}
			retry, after := carrier.Retryable(err)
			if retry != tt.retryable || (retry && (after < tt.after || after > tt.after+15*time.Second)) {
				t.Errorf("retryable %v after %s, want %v after %s (%v)", retry, after, tt.retryable, tt.after, err)
			}
			se, ok := errors.AsType[*atsms.SendError](err)
			if !ok || se.Code != tt.code {
				t.Errorf("SendError %+v", se)
			}
			if strings.Contains(err.Error(), "593") || strings.Contains(err.Error(), apiKey) {
				t.Errorf("error text carries the number or key: %v", err)
			}
		})
	}
}

func TestSenderTimeouts(t *testing.T) {
	t.Run("caller's deadline", func(t *testing.T) {
		s := newSender(t, &messagingAPI{block: true}, "api.africastalking.com", atsms.SenderOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := s.Send(ctx, msg("Hola"))
		if retry, _ := carrier.Retryable(err); !retry || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("client timeout", func(t *testing.T) {
		api := &messagingAPI{t: t, block: true}
		_, roots, routes := carriertest.ProviderServer(t, api, "api.africastalking.com")
		c := carriertest.GuardedClient(t, routes, roots)
		c.Timeout = 100 * time.Millisecond
		s, err := atsms.NewSender(atsms.SenderOptions{Username: "ventanilla", APIKey: apiKey, HTTPClient: c})
		if err != nil {
			t.Fatal(err)
		}
		if retry, _ := carrier.Retryable(s.Send(context.Background(), msg("Hola"))); !retry {
			t.Error("a client timeout is not retryable")
		}
	})
	t.Run("cancelled by the caller", func(t *testing.T) {
		s := newSender(t, &messagingAPI{block: true}, "api.africastalking.com", atsms.SenderOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		err := s.Send(ctx, msg("Hola"))
		if retry, _ := carrier.Retryable(err); retry || !errors.Is(err, context.Canceled) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("nobody listening", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		s, err := atsms.NewSender(atsms.SenderOptions{Username: "ventanilla", APIKey: apiKey, BaseURL: srv.URL, HTTPClient: carriertest.GuardedClient(t, nil, nil)})
		if err != nil {
			t.Fatal(err)
		}
		if retry, _ := carrier.Retryable(s.Send(context.Background(), msg("Hola"))); !retry {
			t.Error("connection refused is not retryable")
		}
	})
}

func TestSenderRefusesBadMessages(t *testing.T) {
	tests := map[string]carrier.Message{
		"national number":    {Carrier: "africastalking-sms", To: "0991234567", Text: "Hola"},
		"letters":            {Carrier: "africastalking-sms", To: "+254711XXXYYY", Text: "Hola"},
		"two numbers":        {Carrier: "africastalking-sms", To: "+593991234567,+593991234568", Text: "Hola"},
		"empty text":         {Carrier: "africastalking-sms", To: "+593991234567", Text: ""},
		"control characters": {Carrier: "africastalking-sms", To: "+593991234567", Text: "a\x00b"},
		"invalid UTF-8":      {Carrier: "africastalking-sms", To: "+593991234567", Text: "se\xf1or"},
		"too long":           {Carrier: "africastalking-sms", To: "+593991234567", Text: strings.Repeat("a", 1601)},
		"another carrier":    {Carrier: "twilio", To: "+593991234567", Text: "Hola"},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			api := &messagingAPI{}
			s := newSender(t, api, "api.africastalking.com", atsms.SenderOptions{})
			err := s.Send(context.Background(), m)
			if retry, _ := carrier.Retryable(err); err == nil || retry {
				t.Errorf("got %v", err)
			}
			if api.requests() != 0 {
				t.Error("the API was called")
			}
		})
	}
}

func TestNewSenderRequiresConfiguration(t *testing.T) {
	for name, opts := range map[string]atsms.SenderOptions{
		"no username":  {APIKey: apiKey},
		"no API key":   {Username: "ventanilla"},
		"long sender":  {Username: "ventanilla", APIKey: apiKey, From: "VENTANILLA-CIUDADANA"},
		"bad base URL": {Username: "ventanilla", APIKey: apiKey, BaseURL: "api.africastalking.com"},
	} {
		if _, err := atsms.NewSender(opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A nil HTTPClient falls back to http.DefaultTransport, which TestMain
// guards: pointed at loopback it works, and it is the guarded one.
func TestSenderDefaultClient(t *testing.T) {
	api := &messagingAPI{t: t}
	srv := httptest.NewServer(api)
	defer srv.Close()
	s, err := atsms.NewSender(atsms.SenderOptions{Username: "ventanilla", APIKey: apiKey, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), msg("Hola")); err != nil {
		t.Fatal(err)
	}
}

// The outbound queue records a provider id from senders with this method
// (channels/outbound.IDSender); checked by shape, not by import.
var _ interface {
	SendID(context.Context, carrier.Message) (string, error)
} = (*atsms.Sender)(nil)
