package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/indicators"
	"github.com/ventanilla-gob/ventanilla/internal/kanneltest"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// backOffice is the sample back-end, counting what confirmations and
// cancellations did: a request under an idempotency key seen before does
// nothing again, as the sample's own POSTs.
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

// Turnos booked through the catalogue's turnos flow on a fake clock,
// with the sessions in real Redis, are reminded the day before — by SMS
// through real Kannel, on WhatsApp through Twilio — and the answers run
// turnos-respuesta: 2 by SMS cancels at the back-end and drops the
// turno's other reminder, a second 2 cancels nothing; 1 on WhatsApp,
// delivered twice, confirms once; an unexpected answer on Telegram (the
// number shared with the bot) gets the flow's menu, whose 2 cancels. The
// day of the turno only the confirmed one is reminded again, and the
// indicators count what the answers came to. An institution's
// notification that asks is answered the same way.
// slotShown is a turno's slot as reminders write it: 8 dic 2026 09:00.
var slotShown = regexp.MustCompile(`, \d{1,2} (ene|feb|mar|abr|may|jun|jul|ago|sept|oct|nov|dic) 20\d\d \d\d:\d\d\. `)

func TestReminderAnswersConfirmAndCancelTurnos(t *testing.T) {
	rdb := redistest.Start(t)
	// Monday 7 December, 04:00 in Guayaquil: the first slots are on
	// Tuesday.
	clk := testutil.NewClock(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	inst := &backOffice{h: sample.New(sample.Options{Now: clk.Now}), seen: map[string]bool{}}
	back := httptest.NewServer(inst)
	defer back.Close()

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
	if err := os.WriteFile(templates, []byte("templates:\n  cita:\n    es: \"Su turno {{code}} es el martes. Responda 1 para confirmar, 2 para anular.\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	a, err := newApp(&config{Root: "inicio", Keywords: defaultKeywords, SMSTranslit: true, NotifyTemplates: templates, QuietHours: "21:00-07:00",
		RedisURL: "redis://" + rdb.Options().Addr + "/0", IndicatorsK: 1, Zone: "America/Guayaquil", now: clk.Now},
		slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	defer a.outbound.close(t.Context())
	mux.set(a.echo)

	booking := []string{"hola", "1", "1", "1", "1", "1", "", "1"}
	codeIn := regexp.MustCompile(`C[oó]digo ([A-Z0-9-]+)\.`)
	// ana and caro book by SMS through Kannel.
	bySMS := func(phone, cedula string) string {
		t.Helper()
		var text string
		for _, in := range booking {
			if in == "" {
				in = cedula
			}
			k.Inject(phone, "4545", in)
			var err error
			if _, text, err = k.Received(15 * time.Second); err != nil {
				t.Fatalf("%s booking, %q: %v", phone, in, err)
			}
		}
		m := codeIn.FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("%s booking ended with %q", phone, text)
		}
		return m[1]
	}
	// beto books on WhatsApp; Twilio numbers each message.
	sid := 0
	whatsapp := func(phone, body string, again bool) string {
		t.Helper()
		if !again {
			sid++
		}
		form := url.Values{"MessageSid": {fmt.Sprintf("SM%032d", sid)}, "AccountSid": {env["TWILIO_ACCOUNT_SID"]},
			"From": {"whatsapp:" + phone}, "To": {"whatsapp:+15005550006"}, "Body": {body}, "NumMedia": {"0"}}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/sms/twilio", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twilioSignature(env["TWILIO_AUTH_TOKEN"], srv.URL+"/sms/twilio", form))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return string(out)
	}
	const ana, beto, caro = "+593991000901", "+593991000902", "+593991000903"
	anaCode := bySMS(ana, "1714307103")
	caroCode := bySMS(caro, "1713175071")
	var reply string
	for _, in := range booking {
		if in == "" {
			in = "0926687856"
		}
		reply = whatsapp(beto, in, false)
	}
	m := codeIn.FindStringSubmatch(reply)
	if m == nil {
		t.Fatalf("beto's booking ended with %s", reply)
	}
	betoCode := m[1]

	// They took Tuesday's first three slots, 09:00, 10:30 and 14:00. At
	// 14:01 on Monday, the reminders 24 hours before have gone out.
	clk.Advance(10*time.Hour + time.Minute)
	got := map[string]string{}
	for len(got) < 2 {
		to, text, err := k.Received(15 * time.Second)
		if err != nil {
			t.Fatalf("the reminders by SMS: %v (have %v)", err, got)
		}
		got["+"+strings.TrimPrefix(to, "+")] = text
	}
	for phone, code := range map[string]string{ana: anaCode, caro: caroCode} {
		if !strings.Contains(got[phone], "turno "+code) || !slotShown.MatchString(got[phone]) || !strings.Contains(got[phone], "Responda 1 para confirmar o 2 para anular") {
			t.Errorf("%s was reminded %q", phone, got[phone])
		}
	}
	lastWhatsApp := func() string {
		twAPI.mu.Lock()
		defer twAPI.mu.Unlock()
		if len(twAPI.sent) == 0 {
			return ""
		}
		return twAPI.sent[len(twAPI.sent)-1].Get("Body")
	}
	testutil.WaitFor(t, "beto's reminder on WhatsApp", func() bool { return strings.Contains(lastWhatsApp(), "turno "+betoCode) })

	// ana answers 2 by SMS: her turno is cancelled at the back-end.
	k.Inject(ana, "4545", "2")
	if _, text, err := k.Received(15 * time.Second); err != nil || !strings.Contains(text, "Turno "+anaCode+" anulado") {
		t.Fatalf("ana's answer: %q, %v", text, err)
	}
	var appt struct{ Status string }
	getJSON(t, back.URL+"/appointments/"+anaCode, &appt)
	if appt.Status != "cancelled" {
		t.Errorf("ana's turno at the back-end: %q", appt.Status)
	}
	// She sends 2 again: the question is answered; nothing is cancelled
	// twice, and she gets the welcome of a new conversation.
	k.Inject(ana, "4545", "2")
	if _, text, err := k.Received(15 * time.Second); err != nil || strings.Contains(text, "anulado") {
		t.Errorf("ana's second 2: %q, %v", text, err)
	}

	// beto answers 1 on WhatsApp; Twilio delivers the webhook twice.
	for i, again := range []bool{false, true} {
		if body := whatsapp(beto, "1", again); !strings.Contains(body, "Su turno "+betoCode+" está confirmado") {
			t.Errorf("beto's 1 (delivery %d): %s", i+1, body)
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
	update(1, map[string]any{"contact": map[string]any{"phone_number": strings.TrimPrefix(caro, "+"), "first_name": "Caro", "user_id": 43}})
	update(2, map[string]any{"text": "¿qué turno?"})
	update(3, map[string]any{"text": "2"})
	tgAPI.mu.Lock()
	sent := append([]string(nil), tgAPI.sent...)
	tgAPI.mu.Unlock()
	if n := len(sent); n < 2 || !strings.HasPrefix(sent[n-2], "Turno "+caroCode) || !strings.HasPrefix(sent[n-1], "Turno "+caroCode+" anulado") {
		t.Errorf("caro on Telegram was sent %q", sent)
	}

	// Tuesday 12:01: two hours before, only beto, who confirmed, is
	// reminded again; the cancelled turnos took their reminders with them.
	clk.Advance(22 * time.Hour)
	testutil.WaitFor(t, "beto's second reminder", func() bool {
		twAPI.mu.Lock()
		defer twAPI.mu.Unlock()
		return len(twAPI.sent) == 2
	})
	owner := "Institución de ejemplo"
	if sr, ok := a.gateway.Engine.Reminders.(gateway.StepReminders); ok && sr.Owner != nil && sr.Owner("turnos") != "" {
		owner = sr.Owner("turnos")
	}
	for _, code := range []string{anaCode, betoCode, caroCode} {
		if left, err := a.outbound.later.Get(t.Context(), reminders.BookingKey(owner, code)); err != nil || len(left) != 0 {
			t.Errorf("turno %s keeps reminders %v (%v)", code, left, err)
		}
	}

	// The institution notifies dani itself, asking the same: the answer
	// runs the flow it names, with its vars.
	const dani, daniCedula = "+593991000904", "0102030405"
	daniCode := inst.book(t, back.URL, daniCedula)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/notifications", strings.NewReader(`{"to": "`+dani+`", "template": "cita",
		"params": {"code": "`+daniCode+`"}, "channel": "sms", "reply": "turnos-respuesta", "reply_vars": {"code": "`+daniCode+`", "cedula": "`+daniCedula+`"}}`))
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
	if _, text, err := k.Received(15 * time.Second); err != nil || !strings.Contains(text, "Su turno "+daniCode) {
		t.Fatalf("dani's notification: %q, %v", text, err)
	}
	k.Inject(dani, "4545", "1")
	if _, text, err := k.Received(15 * time.Second); err != nil || !strings.Contains(text, "Su turno "+daniCode+" esta confirmado") {
		t.Fatalf("dani's answer: %q, %v", text, err)
	}

	want := []string{"cancel " + anaCode, "confirm " + betoCode, "cancel " + caroCode, "confirm " + daniCode}
	if got := inst.calls(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("the back-end did %q, want %q", got, want)
	}

	// The indicators: five sent, one confirmed, two cancelled.
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
	if want := (indicators.Reminders{Sent: 4, Confirmed: 1, Cancelled: 2}); turnos != want {
		t.Errorf("turnos' reminders in the indicators: %+v, want %+v", turnos, want)
	}
}
