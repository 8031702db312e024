package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"ventanilla/carriers/kannel"
	"ventanilla/carriers/kannel/kanneltest"
)

// The turnos booking by SMS, the whole way through real Kannel: each
// message is injected at Kannel's fake SMSC, travels through bearerbox and
// smsbox to the product's router, and the reply comes back out at the fake
// SMSC.
func TestBookingBySMSThroughRealKannel(t *testing.T) {
	srv := gatewayFor(t, &config{Keywords: defaultKeywords, SMSTranslit: true})
	k := kanneltest.Start(t, kanneltest.Options{GetURL: srv.URL + "/sms/kannel?" + kannel.Query})
	const citizen = "+593991000700"
	steps := []struct{ send, want string }{
		{"hola", "Bienvenido a Ventanilla"},
		{"1", "Ventanilla ciudadana"},
		{"1", "Turnos"},
		{"1", "Elija la oficina"},
		{"1", "Elija fecha y hora"},
		{"1", "Escriba su numero de cédula"},
		{"1714307103", "Confirme su turno"},
		{"1", "Turno reservado"},
	}
	for i, s := range steps {
		k.Inject(citizen, "4545", s.send)
		to, text, err := k.Received(15 * time.Second)
		if err != nil {
			t.Fatalf("step %d (%q): %v", i+1, s.send, err)
		}
		if to != citizen || !strings.Contains(text, s.want) {
			t.Fatalf("step %d (%q): got %q to %s, want %q", i+1, s.send, text, to, s.want)
		}
	}
}

// A notification goes out through real Kannel's sendsms and reaches the
// citizen at the fake SMSC.
func TestNotificationThroughRealKannel(t *testing.T) {
	k := kanneltest.Start(t, kanneltest.Options{GetURL: "http://127.0.0.1:9/sms/kannel?" + kannel.Query})
	dir := t.TempDir()
	templates := dir + "/templates.yaml"
	if err := os.WriteFile(templates, []byte("templates:\n  listo:\n    es: \"Su trámite {{numero}} está listo.\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"KANNEL_SENDSMS_URL":       k.SendSMSURL,
		"KANNEL_USERNAME":          k.Username,
		"KANNEL_PASSWORD":          k.Password,
		"KANNEL_SMSC":              k.SMSC,
		"KANNEL_FROM":              "4545",
		"VENTANILLA_NOTIFY_TOKENS": "registro_civil=rc-token-0123456789",
		"VENTANILLA_SAMPLE_URL":    "http://127.0.0.1:9",
	}
	getenv := func(key string) (string, bool) { v, ok := env[key]; return v, ok }
	a, err := newApp(&config{Root: "inicio", NotifyTemplates: templates, SMSTranslit: true}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, carriers(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer a.outbound.close(t.Context())
	srv := httptest.NewServer(a.echo)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/notifications", strings.NewReader(`{"to":"+593991000800","template":"listo","params":{"numero":"77"}}`))
	req.Header.Set("Authorization", "Bearer rc-token-0123456789")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("notification: %d", resp.StatusCode)
	}
	to, text, err := k.Received(15 * time.Second)
	if err != nil {
		st, _ := a.outbound.queue.Depth(t.Context())
		t.Fatalf("%v (queue depth %d)", err, st)
	}
	if to != "+593991000800" || text != "Su trámite 77 está listo." && text != "Su tramite 77 esta listo." {
		t.Errorf("received %q to %s", text, to)
	}
}
