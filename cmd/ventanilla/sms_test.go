package main

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// twilioAPI answers the Messages resource as Twilio documents it and keeps
// what it was asked to send.
type twilioAPI struct {
	mu   sync.Mutex
	sent []url.Values
}

func (f *twilioAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/Messages.json") {
		http.NotFound(w, r)
		return
	}
	r.ParseForm()
	f.mu.Lock()
	f.sent = append(f.sent, r.PostForm)
	n := len(f.sent)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"sid": "SM" + strings.Repeat("0", 31) + string(rune('0'+n)), "status": "queued", "to": r.PostForm.Get("To")})
}

// twilioSignature is X-Twilio-Signature as Twilio computes it.
func twilioSignature(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		b.WriteString(k + form.Get(k))
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// With Twilio's credentials in the environment, the product answers SMS by
// TwiML on a signed webhook, and institutions' notifications go out through
// Twilio's REST API, their status readable back.
func TestTwilioAndNotificationsWiring(t *testing.T) {
	api := &twilioAPI{}
	tw := httptest.NewServer(api)
	defer tw.Close()
	// A slow institution: its answers take longer than the hop may.
	backend := httptest.NewServer(sample.New(sample.Options{Latency: 600 * time.Millisecond}))
	defer backend.Close()
	dir := t.TempDir()
	templates := filepath.Join(dir, "templates.yaml")
	os.WriteFile(templates, []byte("templates:\n  tramite_listo:\n    es: \"Su trámite {{numero}} está listo para retirar.\"\n    en: \"Your procedure {{numero}} is ready.\"\n"), 0o644)

	var public string
	env := map[string]string{
		"TWILIO_ACCOUNT_SID":       "AC" + strings.Repeat("a", 32),
		"TWILIO_AUTH_TOKEN":        "twilioauthtoken0123456789abcdef0",
		"TWILIO_FROM":              "+15005550006",
		"TWILIO_API_URL":           tw.URL,
		"VENTANILLA_NOTIFY_TOKENS": "registro_civil=rc-token-0123456789",
		"VENTANILLA_SAMPLE_URL":    backend.URL,
	}
	getenv := func(k string) (string, bool) {
		if k == "VENTANILLA_PUBLIC_URL" {
			return public, public != ""
		}
		v, ok := env[k]
		return v, ok
	}
	// The public URL is the test server's own, known once it listens.
	mux := &switchHandler{}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	public = srv.URL
	a, err := newApp(&config{Root: "inicio", Keywords: defaultKeywords, NotifyTemplates: templates, SMSTranslit: true,
		Routes: "*384*2#=estado-tramite", Budget: 300 * time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	defer a.outbound.close(t.Context())
	mux.set(a.echo)

	// An SMS arrives, signed; the reply is TwiML.
	form := url.Values{"MessageSid": {"SM" + strings.Repeat("1", 32)}, "AccountSid": {env["TWILIO_ACCOUNT_SID"]}, "From": {"+593991000500"}, "To": {"+15005550006"}, "Body": {"TURNO"}, "NumMedia": {"0"}}
	post := func(sig string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/sms/twilio", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post("forged"); code != http.StatusForbidden {
		t.Errorf("forged signature: %d", code)
	}
	code, body := post(twilioSignature(env["TWILIO_AUTH_TOKEN"], srv.URL+"/sms/twilio", form))
	if code != 200 || !strings.Contains(body, "<Message>Turnos") {
		t.Fatalf("signed SMS: %d %s", code, body)
	}

	// An institution notifies a citizen.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/notifications", strings.NewReader(`{"to":"+593991000501","template":"tramite_listo","params":{"numero":"123"}}`))
	req.Header.Set("Authorization", "Bearer rc-token-0123456789")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || created.ID == "" {
		t.Fatalf("notification: %d %+v", resp.StatusCode, created)
	}
	testutil.WaitFor(t, "Twilio to get the notification", func() bool {
		api.mu.Lock()
		defer api.mu.Unlock()
		return len(api.sent) > 0
	})
	api.mu.Lock()
	got := api.sent[0]
	api.mu.Unlock()
	if got.Get("To") != "+593991000501" || got.Get("Body") != "Su tramite 123 esta listo para retirar." {
		t.Errorf("sent %v", got)
	}
	sreq, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/notifications/"+created.ID, nil)
	sreq.Header.Set("Authorization", "Bearer rc-token-0123456789")
	sresp, err := http.DefaultClient.Do(sreq)
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Status string }
	json.NewDecoder(sresp.Body).Decode(&st)
	sresp.Body.Close()
	if st.Status != "sent" && st.Status != "sending" {
		t.Errorf("status %q", st.Status)
	}

	// A procedure lookup by USSD outlasts its hop: the citizen is told the
	// result will follow, and it does, by SMS through Twilio.
	ussd := func(text string) string {
		f := url.Values{"sessionId": {"async"}, "serviceCode": {"*384*2#"}, "phoneNumber": {"+593991000502"}, "text": {text}}
		resp, err := http.PostForm(srv.URL+"/ussd/africastalking", f)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	ussd("")
	if r := ussd("1002"); r != "END Su consulta tarda más de lo normal. Le enviaremos el resultado por SMS." {
		t.Fatalf("slow lookup: %q", r)
	}
	var last url.Values
	testutil.WaitFor(t, "the async result to go out by SMS", func() bool {
		api.mu.Lock()
		defer api.mu.Unlock()
		if len(api.sent) > 1 {
			last = api.sent[len(api.sent)-1]
		}
		return last != nil
	})
	if last.Get("To") != "+593991000502" || !strings.Contains(last.Get("Body"), "1002") {
		t.Errorf("async result sent as %v", last)
	}
}

// switchHandler serves a handler set after the server started.
type switchHandler struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *switchHandler) set(h http.Handler) { s.mu.Lock(); s.h = h; s.mu.Unlock() }

func (s *switchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}
