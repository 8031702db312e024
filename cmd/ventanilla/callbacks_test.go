package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// An institution whose manifest names a callback hears, signed, that its
// notification was delivered when Twilio reports it, and GET shows the
// push; the secret comes from the institution's environment.
func TestDeliveryReceiptReachesTheInstitutionsCallback(t *testing.T) {
	api := &twilioAPI{}
	tw := httptest.NewServer(api)
	defer tw.Close()
	const secret = "transito-callback-secret-0123456789abcdef"
	var (
		mu     sync.Mutex
		events []callbacks.Event
		bad    []error
	)
	institution := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := callbacks.Verify(r.Header.Get(callbacks.SignatureHeader), body, []byte(secret), time.Now(), 0); err != nil {
			bad = append(bad, err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev callbacks.Event
		_ = json.Unmarshal(body, &ev)
		events = append(events, ev)
	}))
	defer institution.Close()

	dir := t.TempDir()
	newPackage(t, dir, "transito", func(m string) string {
		return published(m) + "callback:\n  url: " + institution.URL + "/ventanilla\n  secret_env: TRANSITO_CALLBACK_SECRET\n"
	})
	if err := os.WriteFile(filepath.Join(dir, "transito", "templates.yaml"), []byte("templates:\n  transito_multa:\n    es: \"Tiene una multa {{numero}}.\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mux := &switchHandler{}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	env := map[string]string{
		"TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("a", 32), "TWILIO_AUTH_TOKEN": "twilioauthtoken0123456789abcdef0",
		"TWILIO_FROM": "+15005550006", "TWILIO_API_URL": tw.URL, "VENTANILLA_PUBLIC_URL": srv.URL,
		"VENTANILLA_NOTIFY_TOKENS": "transito=transito-token-0123456789",
		"TRANSITO_API_URL":         "http://127.0.0.1:1", "TRANSITO_API_KEY": "k", "TRANSITO_CALLBACK_SECRET": secret,
	}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	a, err := newApp(&config{Root: "inicio", Keywords: defaultKeywords, Packages: listFlag{dir}}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	defer a.outbound.close(t.Context())
	mux.set(a.echo)

	call := func(method, path, body string) map[string]any {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer transito-token-0123456789")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	created := call(http.MethodPost, "/v1/notifications", `{"to": "+593991234567", "template": "transito_multa", "params": {"numero": "7"}}`)
	id, _ := created["id"].(string)
	if id == "" {
		t.Fatalf("POST: %v", created)
	}
	testutil.WaitFor(t, "the notification sent", func() bool { return call(http.MethodGet, "/v1/notifications/"+id, "")["status"] == "sent" })

	// Twilio reports the delivery, signed.
	form := url.Values{"MessageSid": {"SM" + strings.Repeat("0", 31) + "1"}, "MessageStatus": {"delivered"}, "AccountSid": {env["TWILIO_ACCOUNT_SID"]}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/sms/twilio/status", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilioSignature(env["TWILIO_AUTH_TOKEN"], srv.URL+"/sms/twilio/status", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status callback: %d", resp.StatusCode)
	}

	var cb map[string]any
	testutil.WaitFor(t, "GET to show the callback delivered", func() bool {
		cb, _ = call(http.MethodGet, "/v1/notifications/"+id, "")["callback"].(map[string]any)
		return cb != nil && cb["status"] == "delivered"
	})
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 || len(events) != 1 {
		t.Fatalf("the institution took %d events and refused %v", len(events), bad)
	}
	ev := events[0]
	if ev.ID != cb["event_id"] || ev.Type != callbacks.TypeNotificationStatus || ev.Institution != "transito" ||
		!strings.Contains(string(ev.Data), `"notification_id":"`+id+`"`) || !strings.Contains(string(ev.Data), `"status":"delivered"`) {
		t.Errorf("event %+v, callback in GET %v", ev, cb)
	}
	_, out := get(t, srv.URL+"/metrics")
	for _, want := range []string{`ventanilla_callbacks_total{institution="transito",outcome="attempted"} 1`, `ventanilla_callbacks_total{institution="transito",outcome="delivered"} 1`} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// A citizen's answer to an institution's reminder reaches the
// institution's callback, signed, without the citizen's number.
func TestReplyReachesTheInstitutionsCallback(t *testing.T) {
	const secret = "transito-callback-secret-0123456789abcdef"
	var (
		mu     sync.Mutex
		events []callbacks.Event
		bodies []string
	)
	institution := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := callbacks.Verify(r.Header.Get(callbacks.SignatureHeader), body, []byte(secret), time.Now(), 0); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev callbacks.Event
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		defer mu.Unlock()
		events, bodies = append(events, ev), append(bodies, string(body))
	}))
	defer institution.Close()
	dir := t.TempDir()
	newPackage(t, dir, "transito", func(m string) string {
		return published(m) + "callback:\n  url: " + institution.URL + "\n  secret_env: TRANSITO_CALLBACK_SECRET\n"
	})
	tw := httptest.NewServer(&twilioAPI{})
	defer tw.Close()
	env := map[string]string{
		"TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("a", 32), "TWILIO_AUTH_TOKEN": "twilioauthtoken0123456789abcdef0",
		"TWILIO_FROM": "+15005550006", "TWILIO_API_URL": tw.URL,
		"TRANSITO_API_URL": "http://127.0.0.1:1", "TRANSITO_API_KEY": "k", "TRANSITO_CALLBACK_SECRET": secret,
	}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	a, err := newApp(&config{Root: "inicio", Keywords: defaultKeywords, Packages: listFlag{dir}}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	defer a.outbound.close(t.Context())
	ctx := t.Context()
	const phone = "+593991234567"
	q := gateway.Question{ID: "T-0001/24h", Kind: "reminder", Key: "T-0001", Flow: "transito-consulta", Institution: "transito", Locale: "es", Channel: "sms"}
	if err := a.gateway.Questions.Ask(ctx, phone, q, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.gateway.Hop(ctx, carrier.Inbound{Channel: "sms", Carrier: "twilio", Phone: phone, Input: "2"}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the reply at the institution", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) > 0
	})
	// What the answer came to, as the reply flow's end tells it.
	replyCallbacks{a}.Settled(ctx, q, "cancelled")
	testutil.WaitFor(t, "the reply's outcome at the institution", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) > 1
	})
	mu.Lock()
	defer mu.Unlock()
	var outcome callbacks.ReplyOutcome
	_ = json.Unmarshal(events[1].Data, &outcome)
	if events[1].Type != callbacks.TypeReplyOutcome || outcome != (callbacks.ReplyOutcome{Kind: "reminder", QuestionID: "T-0001/24h", BookingKey: "T-0001", Outcome: "cancelled"}) || events[1].ID == events[0].ID {
		t.Errorf("event %+v with outcome %+v", events[1], outcome)
	}
	var reply callbacks.Reply
	_ = json.Unmarshal(events[0].Data, &reply)
	if events[0].Type != callbacks.TypeReply || events[0].Institution != "transito" ||
		reply.Kind != "reminder" || reply.QuestionID != "T-0001/24h" || reply.BookingKey != "T-0001" || reply.Text != "2" || reply.Channel != "sms" {
		t.Errorf("event %+v with reply %+v", events[0], reply)
	}
	if strings.Contains(bodies[0], "991234567") {
		t.Errorf("the event holds the citizen's number: %s", bodies[0])
	}
}

// The lint checks a callback's manifest, not the environment it will run
// in: an unset secret is not an error there, whatever its name; a
// misspelt field and a secret outside the prefix are.
func TestLintOfACallbackNeedsNoSecret(t *testing.T) {
	dir := t.TempDir()
	pkg := newPackage(t, dir, "transito", func(m string) string {
		return m + "callback:\n  url: https://api.transito.example.gob.ec/cb\n  secret_env: TRANSITO_KEY\n"
	})
	if code, out, errs := runCLI(t, "", "flows", "lint", pkg); code != 0 || !strings.Contains(out, "0 errors") {
		t.Errorf("lint: %d\n%s%s", code, out, errs)
	}
	editFile(t, filepath.Join(pkg, "institution.yaml"), func(m string) string {
		return strings.Replace(m, "secret_env: TRANSITO_KEY", "secret_env: MUNICIPIO_KEY", 1)
	})
	if code, out, _ := runCLI(t, "", "flows", "lint", pkg); code != 1 || !strings.Contains(out, "MUNICIPIO_KEY: the secrets of institution \"transito\" are environment variables starting with TRANSITO_") {
		t.Errorf("lint of a secret outside the prefix: %d\n%s", code, out)
	}
}
