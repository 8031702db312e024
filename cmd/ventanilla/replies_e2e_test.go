package main

import (
	"bytes"
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

	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/internal/indicators"
	"github.com/ventanilla-gob/ventanilla/internal/kanneltest"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// replyFlowFile answers a turno's reminder: 1 confirms and 2 cancels at
// the institution's back-end; anything else is asked again.
const replyFlowFile = `spec_version: 1
id: turnos-respuesta-prueba
version: 1
institution: Registro Civil
title: {es: Su turno, en: Your appointment}
locales: [es, en]
level: 1
params: [reply, code, cedula]
start: answer
steps:
  answer:
    kind: branch
    cases:
      - when: reply == "1"
        next: confirm
      - when: reply == "2"
        next: cancel
    default: ask
  ask:
    kind: menu
    text: {es: "Turno {{code}}:", en: "Appointment {{code}}:"}
    options:
      - label: {es: Confirmar, en: Confirm}
        next: confirm
      - label: {es: Anular, en: Cancel}
        next: cancel
  confirm:
    kind: call
    service: turnos.confirm
    params: {code: code, cedula: cedula}
    on: {ok: confirmed, error: unavailable}
  cancel:
    kind: call
    service: turnos.cancel
    params: {code: code, cedula: cedula}
    on: {ok: cancelled, not_found: gone, error: unavailable}
  confirmed:
    kind: end
    text: {es: "Turno {{code}} confirmado. Le esperamos.", en: "Appointment {{code}} confirmed."}
    reminder: confirmed
  cancelled:
    kind: end
    text: {es: "Turno {{code}} anulado.", en: "Appointment {{code}} cancelled."}
    reminder: cancelled
  gone:
    kind: end
    text: {es: "Ese turno ya no existe.", en: "That appointment no longer exists."}
  unavailable:
    kind: end
    text: {es: "Servicio no disponible.", en: "Service unavailable."}
`

// backOffice is the sample back-end, with the confirmation it lacks,
// counting what each call did: a request under an idempotency key seen
// before does nothing again, as the sample's own POSTs.
type backOffice struct {
	h    http.Handler
	mu   sync.Mutex
	seen map[string]bool
	did  []string // "confirm T-…", "cancel T-…"
}

func (s *backOffice) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/appointments/") {
		code, action, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/appointments/"), "/")
		s.mu.Lock()
		key := r.Header.Get("Idempotency-Key")
		if !s.seen[key] {
			s.seen[key] = true
			s.did = append(s.did, action+" "+code)
		}
		s.mu.Unlock()
		if action == "confirm" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"code":"`+code+`","status":"confirmed"}`)
			return
		}
	}
	s.h.ServeHTTP(w, r)
}

func (s *backOffice) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.did...)
}

// book books a turno at the sample back-end and returns its code.
func (s *backOffice) book(t *testing.T, url, cedula string) string {
	t.Helper()
	var slots []struct {
		ID string `json:"id"`
	}
	getJSON(t, url+"/offices/quito-norte/slots", &slots)
	if len(slots) == 0 {
		t.Fatal("the sample has no slots")
	}
	body, _ := json.Marshal(map[string]string{"office": "quito-norte", "slot": slots[len(slots)-1].ID, "cedula": cedula})
	resp, err := http.Post(url+"/appointments", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct{ Code string }
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || a.Code == "" {
		t.Fatalf("booking: %d %v", resp.StatusCode, err)
	}
	return a.Code
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
}

// The reminders of a booked turno, on a fake clock, answered on SMS
// through real Kannel, on WhatsApp through Twilio's webhook and on
// Telegram, with the sessions in real Redis: 1 confirms at the
// institution's back-end, 2 cancels there and cancels the turno's other
// reminder; an answer delivered again does nothing twice; the
// indicators count what the answers came to. An institution's
// notification that asks is answered the same way.
func TestReminderAnswersConfirmAndCancelTurnos(t *testing.T) {
	rdb := redistest.Start(t)
	clk := testutil.NewClock(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	inst := &backOffice{h: sample.New(sample.Options{Now: clk.Now}), seen: map[string]bool{}}
	back := httptest.NewServer(inst)
	defer back.Close()

	dir := t.TempDir()
	for _, src := range catalogue.Sources() {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(src.Name)), src.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "turnos-respuesta-prueba.yaml"), []byte(replyFlowFile), 0o644); err != nil {
		t.Fatal(err)
	}
	services := filepath.Join(t.TempDir(), "services.yaml")
	confirm := "\n  turnos.confirm:\n    kind: rest\n    base_url: ${VENTANILLA_SAMPLE_URL}\n    method: POST\n    path: /appointments/{code}/confirm\n    timeout: 3s\n"
	if err := os.WriteFile(services, append(catalogue.Services(), confirm...), 0o644); err != nil {
		t.Fatal(err)
	}

	mux := &switchHandler{}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	k := kanneltest.Start(t, kanneltest.Options{GetURL: srv.URL + "/sms/kannel?" + kannel.Query})
	twAPI := &twilioAPI{}
	tw := httptest.NewServer(twAPI)
	defer tw.Close()
	tgAPI := &botAPI{}
	tg := httptest.NewServer(tgAPI)
	defer tg.Close()
	env := map[string]string{
		"KANNEL_SENDSMS_URL": k.SendSMSURL, "KANNEL_USERNAME": k.Username, "KANNEL_PASSWORD": k.Password, "KANNEL_SMSC": k.SMSC, "KANNEL_FROM": "4545",
		"TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("a", 32), "TWILIO_AUTH_TOKEN": "twilioauthtoken0123456789abcdef0",
		"TWILIO_WHATSAPP_FROM": "+15005550006", "TWILIO_API_URL": tw.URL, "VENTANILLA_PUBLIC_URL": srv.URL,
		"TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token", "TELEGRAM_API_ENDPOINT": tg.URL + "/bot%s/%s",
		"VENTANILLA_SAMPLE_URL": back.URL, "VENTANILLA_NOTIFY_TOKENS": "registro_civil=rc-token-0123456789",
	}
	templates := filepath.Join(t.TempDir(), "templates.yaml")
	if err := os.WriteFile(templates, []byte("templates:\n  cita:\n    es: \"Su turno {{code}} es el lunes. Responda 1 para confirmar, 2 para anular.\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	a, err := newApp(&config{Root: "inicio", Keywords: defaultKeywords, SMSTranslit: true, FlowsDir: dir, Services: services, NotifyTemplates: templates,
		RedisURL: "redis://" + rdb.Options().Addr + "/0", IndicatorsK: 1, now: clk.Now}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	defer a.outbound.close(t.Context())
	mux.set(a.echo)

	// Three citizens booked turnos the day after tomorrow; each has two
	// reminders, 24 and 2 hours before, that ask for an answer.
	type citizen struct{ phone, cedula, channel, carrier, code string }
	ana := &citizen{"+593991000901", "1714307103", "sms", "kannel-sms", ""}
	beto := &citizen{"+593991000902", "0926687856", "chat", "whatsapp", ""}
	caro := &citizen{"+593991000903", "1713175071", "sms", "kannel-sms", ""}
	event := clk.Now().Add(48 * time.Hour)
	for _, c := range []*citizen{ana, beto, caro} {
		c.code = inst.book(t, back.URL, c.cedula)
		for _, before := range []time.Duration{24 * time.Hour, 2 * time.Hour} {
			r := reminders.Reminder{ID: c.code + "/" + before.String(), Key: c.code, Event: event, Before: before, Due: event.Add(-before),
				Phone: c.phone, Channel: c.channel, Carrier: c.carrier, Locale: "es", Flow: "turnos", Institution: "Registro Civil",
				Text:  "Recordatorio: turno " + c.code + ". Responda 1 para confirmar, 2 para anular.",
				Reply: "turnos-respuesta-prueba", Vars: map[string]string{"code": c.code, "cedula": c.cedula}}
			if err := a.outbound.later.Schedule(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The day before, the first reminders go out: ana's and caro's by
	// SMS through Kannel, beto's on WhatsApp.
	clk.Advance(24*time.Hour + time.Minute)
	got := map[string]string{}
	for len(got) < 2 {
		to, text, err := k.Received(15 * time.Second)
		if err != nil {
			t.Fatalf("the reminders by SMS: %v (have %v)", err, got)
		}
		got["+"+strings.TrimPrefix(to, "+")] = text
	}
	for _, c := range []*citizen{ana, caro} {
		if !strings.Contains(got[c.phone], "Recordatorio: turno "+c.code) {
			t.Errorf("%s got %q", c.phone, got[c.phone])
		}
	}
	testutil.WaitFor(t, "beto's reminder on WhatsApp", func() bool {
		twAPI.mu.Lock()
		defer twAPI.mu.Unlock()
		return len(twAPI.sent) == 1
	})

	// ana answers 2 by SMS: her turno is cancelled at the back-end, and
	// her other reminder with it.
	k.Inject(ana.phone, "4545", "2")
	if to, text, err := k.Received(15 * time.Second); err != nil || !strings.Contains(text, "Turno "+ana.code+" anulado.") {
		t.Fatalf("ana's answer: %q to %s, %v", text, to, err)
	}
	testutil.WaitFor(t, "ana's other reminder to be cancelled", func() bool {
		left, err := a.outbound.later.Get(t.Context(), ana.code)
		return err == nil && len(left) == 0
	})
	var appt struct{ Status string }
	getJSON(t, back.URL+"/appointments/"+ana.code, &appt)
	if appt.Status != "cancelled" {
		t.Errorf("ana's turno at the back-end: %q", appt.Status)
	}
	// She sends 2 again: the question is answered; nothing is cancelled
	// twice, and she gets the welcome of a new conversation.
	k.Inject(ana.phone, "4545", "2")
	if _, text, err := k.Received(15 * time.Second); err != nil || strings.Contains(text, "anulado") {
		t.Errorf("ana's second 2: %q, %v", text, err)
	}

	// beto answers 1 on WhatsApp; Twilio delivers the webhook twice.
	form := url.Values{"MessageSid": {"SM" + strings.Repeat("9", 32)}, "AccountSid": {env["TWILIO_ACCOUNT_SID"]},
		"From": {"whatsapp:" + beto.phone}, "To": {"whatsapp:+15005550006"}, "Body": {"1"}, "NumMedia": {"0"}}
	for i := range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/sms/twilio", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twilioSignature(env["TWILIO_AUTH_TOKEN"], srv.URL+"/sms/twilio", form))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "Turno "+beto.code+" confirmado.") {
			t.Errorf("beto's 1 (delivery %d): %d %s", i+1, resp.StatusCode, body)
		}
	}

	// caro shared her number with the Telegram bot; she answers her SMS
	// reminder there, with something the flow does not expect, then 2.
	update := func(id int, message map[string]any) {
		t.Helper()
		message["from"] = map[string]any{"id": 43, "is_bot": false, "first_name": "Caro", "language_code": "es"}
		message["chat"] = map[string]any{"id": 43, "type": "private"}
		message["date"] = 1700000000
		message["message_id"] = id
		body, _ := json.Marshal(map[string]any{"update_id": id, "message": message})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/chat/telegram", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret_token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	update(1, map[string]any{"contact": map[string]any{"phone_number": strings.TrimPrefix(caro.phone, "+"), "first_name": "Caro", "user_id": 43}})
	update(2, map[string]any{"text": "¿qué turno?"})
	update(3, map[string]any{"text": "2"})
	tgAPI.mu.Lock()
	sent := append([]string(nil), tgAPI.sent...)
	tgAPI.mu.Unlock()
	if n := len(sent); n < 2 || !strings.HasPrefix(sent[n-2], "Turno "+caro.code+":") || sent[n-1] != "Turno "+caro.code+" anulado." {
		t.Errorf("caro on Telegram was sent %q", sent)
	}

	// The institution notifies dani itself, asking the same: the answer
	// runs the flow it names, with its vars.
	dani := &citizen{"+593991000904", "0102030405", "sms", "kannel-sms", ""}
	dani.code = inst.book(t, back.URL, dani.cedula)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/notifications", strings.NewReader(`{"to": "`+dani.phone+`", "template": "cita",
		"params": {"code": "`+dani.code+`"}, "channel": "sms", "reply": "turnos-respuesta-prueba", "reply_vars": {"code": "`+dani.code+`", "cedula": "`+dani.cedula+`"}}`))
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
	if _, text, err := k.Received(15 * time.Second); err != nil || !strings.Contains(text, "Su turno "+dani.code) {
		t.Fatalf("dani's notification: %q, %v", text, err)
	}
	k.Inject(dani.phone, "4545", "1")
	if _, text, err := k.Received(15 * time.Second); err != nil || !strings.Contains(text, "Turno "+dani.code+" confirmado.") {
		t.Fatalf("dani's answer: %q, %v", text, err)
	}

	want := []string{"cancel " + ana.code, "confirm " + beto.code, "cancel " + caro.code, "confirm " + dani.code}
	if got := inst.calls(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("the back-end did %q, want %q", got, want)
	}
	for _, c := range []*citizen{beto} {
		if left, _ := a.outbound.later.Get(t.Context(), c.code); len(left) != 1 {
			t.Errorf("%s's turno, confirmed, keeps %d reminders, want 1", c.phone, len(left))
		}
	}

	// The indicators: three sent, one confirmed, two cancelled.
	if err := a.counter.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var report indicators.Report
	getJSON(t, srv.URL+"/v1/indicators", &report)
	var turnos indicators.Reminders
	for _, row := range report.Services {
		if row.Key == "turnos" {
			turnos = row.Reminders
		}
	}
	if want := (indicators.Reminders{Sent: 3, Confirmed: 1, Cancelled: 2}); turnos != want {
		t.Errorf("turnos' reminders in the indicators: %+v, want %+v", turnos, want)
	}
}
