package twilio_test

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

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/carriers/twilio"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const (
	accountSID = "AC3f8c2a9e1b7d4c6a0e5f2b3d9c1a7e40"
	createPath = "/2010-04-01/Accounts/" + accountSID + "/Messages.json"
	createdSID = "SMa0b1c2d3e4f5061728394a5b6c7d8e9f"
)

// messagesAPI stands in for Twilio's Messages API on loopback, answering
// with the documented bodies in testdata/api.
type messagesAPI struct {
	t      testing.TB
	status int
	file   string
	header http.Header
	block  bool // answer only when the client gives up

	mu    sync.Mutex
	forms []url.Values
	auth  [][2]string
	paths []string
}

func (a *messagesAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, _ := r.BasicAuth()
	_ = r.ParseForm()
	a.mu.Lock()
	a.forms = append(a.forms, r.PostForm)
	a.auth = append(a.auth, [2]string{user, pass})
	a.paths = append(a.paths, r.Method+" "+r.URL.Path)
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
		file = "api/message_created.json"
	}
	if strings.HasSuffix(file, ".json") {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(cmp(a.status, http.StatusCreated))
	_, _ = w.Write(carriertest.Testdata(a.t, file))
}

func (a *messagesAPI) requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.forms)
}

func cmp[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// newSender points a Sender at api on loopback. With viaBaseURL the
// Sender is given the server's URL; without, it talks to
// https://api.twilio.com, which the test client routes to the server.
func newSender(t *testing.T, api *messagesAPI, viaBaseURL bool, opts twilio.SenderOptions) *twilio.Sender {
	t.Helper()
	api.t = t
	opts.AccountSID = cmp(opts.AccountSID, accountSID)
	opts.AuthToken = cmp(opts.AuthToken, token)
	if opts.From == "" && opts.MessagingServiceSID == "" {
		opts.From = "+14155552345"
	}
	if viaBaseURL {
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		opts.BaseURL = srv.URL
		opts.HTTPClient = carriertest.GuardedClient(t, nil, nil)
	} else {
		_, roots, routes := carriertest.ProviderServer(t, api, "api.twilio.com")
		opts.HTTPClient = carriertest.GuardedClient(t, routes, roots)
	}
	s, err := twilio.NewSender(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func msg(text string) carrier.Message {
	return carrier.Message{ID: "reply-1", Channel: "sms", Carrier: "twilio", To: "+593991234567", Text: text}
}

func TestSenderRequest(t *testing.T) {
	tests := []struct {
		name       string
		opts       twilio.SenderOptions
		viaBaseURL bool
		m          carrier.Message
		want       url.Values
	}{
		{"sms to api.twilio.com", twilio.SenderOptions{StatusCallback: statusURL}, false, msg("Su turno: martes 09:00"),
			url.Values{"To": {"+593991234567"}, "From": {"+14155552345"}, "Body": {"Su turno: martes 09:00"}, "StatusCallback": {statusURL}}},
		{"sms through BaseURL", twilio.SenderOptions{}, true, msg("Hola"),
			url.Values{"To": {"+593991234567"}, "From": {"+14155552345"}, "Body": {"Hola"}}},
		{"messaging service", twilio.SenderOptions{MessagingServiceSID: "MG0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a"}, false, msg("Hola"),
			url.Values{"To": {"+593991234567"}, "MessagingServiceSid": {"MG0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a"}, "Body": {"Hola"}}},
		{"whatsapp", twilio.SenderOptions{WhatsApp: true, From: "+14155238886"}, false,
			carrier.Message{ID: "n-1", Channel: "chat", Carrier: "whatsapp", To: "+593991234567", Text: "¿Confirma?", Buttons: [][]carrier.Button{{{Label: "Sí", Data: "1"}, {Label: "No", Data: "2"}}}},
			url.Values{"To": {"whatsapp:+593991234567"}, "From": {"whatsapp:+14155238886"}, "Body": {"¿Confirma?\n1. Sí\n2. No"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &messagesAPI{}
			s := newSender(t, api, tt.viaBaseURL, tt.opts)
			id, err := s.SendID(context.Background(), tt.m)
			if err != nil || id != createdSID {
				t.Fatalf("SendID = %q, %v", id, err)
			}
			if api.requests() != 1 {
				t.Fatalf("%d requests", api.requests())
			}
			if got := api.paths[0]; got != "POST "+createPath {
				t.Errorf("request %s", got)
			}
			if got := api.auth[0]; got != [2]string{accountSID, token} {
				t.Errorf("basic auth %v", got)
			}
			if got := api.forms[0]; got.Encode() != tt.want.Encode() {
				t.Errorf("form\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestSenderName(t *testing.T) {
	sms := newSender(t, &messagesAPI{}, true, twilio.SenderOptions{})
	wa := newSender(t, &messagesAPI{}, true, twilio.SenderOptions{WhatsApp: true})
	if sms.Name() != "twilio" || wa.Name() != "whatsapp" {
		t.Errorf("names %q %q", sms.Name(), wa.Name())
	}
}

// Failures are classified the way the outbound queue needs them.
func TestSenderErrors(t *testing.T) {
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name      string
		api       *messagesAPI
		retryable bool
		after     time.Duration // lower bound when retryable
		code      int
	}{
		{"429 with Retry-After seconds", &messagesAPI{status: 429, file: "api/error_20429.json", header: http.Header{"Retry-After": {"7"}}}, true, 7 * time.Second, 20429},
		{"429 with Retry-After date", &messagesAPI{status: 429, file: "api/error_20429.json", header: http.Header{"Retry-After": {httpDate}}}, true, 80 * time.Second, 20429},
		{"429 without Retry-After", &messagesAPI{status: 429, file: "api/error_20429.json"}, true, 0, 20429},
		{"500", &messagesAPI{status: 500, file: "api/error_20500.json"}, true, 0, 20500},
		{"502 from a proxy", &messagesAPI{status: 502, file: "api/proxy_502.html"}, true, 0, 0},
		{"503 with Retry-After", &messagesAPI{status: 503, file: "api/error_20500.json", header: http.Header{"Retry-After": {"30"}}}, true, 30 * time.Second, 20500},
		{"400 invalid To", &messagesAPI{status: 400, file: "api/error_21211.json"}, false, 0, 21211},
		{"401 credentials", &messagesAPI{status: 401, file: "api/error_20003.json"}, false, 0, 20003},
		{"201 that is not JSON", &messagesAPI{status: 201, file: "api/proxy_502.html"}, true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, tt.api, false, twilio.SenderOptions{})
			id, err := s.SendID(context.Background(), msg("Hola"))
			if err == nil || id != "" {
				t.Fatalf("SendID = %q, %v", id, err)
			}
			retry, after := carrier.Retryable(err)
			if retry != tt.retryable || (retry && (after < tt.after || after > tt.after+15*time.Second)) {
				t.Errorf("retryable %v after %s, want %v after %s (%v)", retry, after, tt.retryable, tt.after, err)
			}
			se, ok := errors.AsType[*twilio.SendError](err)
			if !ok || se.Code != tt.code || se.Status != tt.api.status {
				t.Errorf("SendError %+v", se)
			}
			if strings.Contains(err.Error(), "593") {
				t.Errorf("error text carries the number: %v", err)
			}
		})
	}
}

func TestSenderTimeouts(t *testing.T) {
	t.Run("caller's deadline", func(t *testing.T) {
		s := newSender(t, &messagesAPI{block: true}, false, twilio.SenderOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := s.Send(ctx, msg("Hola"))
		if retry, _ := carrier.Retryable(err); !retry || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("client timeout", func(t *testing.T) {
		api := &messagesAPI{t: t, block: true}
		_, roots, routes := carriertest.ProviderServer(t, api, "api.twilio.com")
		c := carriertest.GuardedClient(t, routes, roots)
		c.Timeout = 100 * time.Millisecond
		s, err := twilio.NewSender(twilio.SenderOptions{AccountSID: accountSID, AuthToken: token, From: "+14155552345", HTTPClient: c})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = s.Send(context.Background(), msg("Hola"))
		if retry, _ := carrier.Retryable(err); !retry || time.Since(start) > 5*time.Second {
			t.Errorf("got %v after %s", err, time.Since(start))
		}
	})
	t.Run("cancelled by the caller", func(t *testing.T) {
		s := newSender(t, &messagesAPI{block: true}, false, twilio.SenderOptions{})
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
		s, err := twilio.NewSender(twilio.SenderOptions{AccountSID: accountSID, AuthToken: token, From: "+14155552345",
			BaseURL: srv.URL, HTTPClient: carriertest.GuardedClient(t, nil, nil)})
		if err != nil {
			t.Fatal(err)
		}
		if retry, _ := carrier.Retryable(s.Send(context.Background(), msg("Hola"))); !retry {
			t.Error("connection refused is not retryable")
		}
	})
}

// Messages that cannot be sent as they are fail at once, without a call.
func TestSenderRefusesBadMessages(t *testing.T) {
	tests := map[string]carrier.Message{
		"national number":    {Carrier: "twilio", To: "0991234567", Text: "Hola"},
		"letters":            {Carrier: "twilio", To: "+1800FLOWERS", Text: "Hola"},
		"empty text":         {Carrier: "twilio", To: "+593991234567", Text: "  "},
		"control characters": {Carrier: "twilio", To: "+593991234567", Text: "a\x1b[2Jb"},
		"invalid UTF-8":      {Carrier: "twilio", To: "+593991234567", Text: "se\xf1or"},
		"too long":           {Carrier: "twilio", To: "+593991234567", Text: strings.Repeat("a", 1601)},
		"another carrier":    {Carrier: "whatsapp", To: "+593991234567", Text: "Hola"},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			api := &messagesAPI{}
			s := newSender(t, api, false, twilio.SenderOptions{})
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
	for name, opts := range map[string]twilio.SenderOptions{
		"no account":            {AuthToken: token, From: "+14155552345"},
		"not an account SID":    {AccountSID: "SM3f8c2a9e1b7d4c6a0e5f2b3d9c1a7e40", AuthToken: token, From: "+14155552345"},
		"no token":              {AccountSID: accountSID, From: "+14155552345"},
		"token with symbols":    {AccountSID: accountSID, AuthToken: "abc$def", From: "+14155552345"},
		"no sender":             {AccountSID: accountSID, AuthToken: token},
		"prefixed sender":       {AccountSID: accountSID, AuthToken: token, From: "whatsapp:+14155238886"},
		"bad messaging service": {AccountSID: accountSID, AuthToken: token, MessagingServiceSID: "MG12"},
		"bad base URL":          {AccountSID: accountSID, AuthToken: token, From: "+14155552345", BaseURL: "api.twilio.com"},
	} {
		if _, err := twilio.NewSender(opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The outbound queue records a provider id from senders with this method
// (channels/outbound.IDSender); checked by shape, not by import.
var _ interface {
	SendID(context.Context, carrier.Message) (string, error)
} = (*twilio.Sender)(nil)
