package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// A turno booked on USSD is reminded 24 and 2 hours ahead in the office's
// zone, by SMS, out of the quiet hours; the institution reads, moves and
// cancels the reminders by the turno's code; a turno cancelled in the
// flow takes its reminders with it; a reminder due goes out once, on the
// fake clock. With
// the sessions in real Redis, and in memory.
func TestTurnoRemindersEndToEnd(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testTurnoReminders(t, "") })
	t.Run("redis", func(t *testing.T) {
		addr, _ := redistest.StartServer(t)
		testTurnoReminders(t, "redis://"+addr+"/0")
	})
}

func testTurnoReminders(t *testing.T, redisURL string) {
	quito, err := time.LoadLocation("America/Guayaquil")
	if err != nil {
		t.Fatal(err)
	}
	// Monday 3 June 2030, 08:00 in Quito: the first slot is Tuesday 09:00.
	clk := testutil.NewClock(time.Date(2030, 6, 3, 8, 0, 0, 0, quito))
	backend := httptest.NewServer(sample.New(sample.Options{Now: clk.Now}))
	defer backend.Close()
	provider := &flakyTwilio{took: map[string]int{}}
	api := httptest.NewServer(provider)
	defer api.Close()
	env := map[string]string{
		"VENTANILLA_SAMPLE_URL":    backend.URL,
		"TWILIO_ACCOUNT_SID":       "AC" + strings.Repeat("a", 32),
		"TWILIO_AUTH_TOKEN":        "twilioauthtoken0123456789abcdef0",
		"TWILIO_FROM":              "+15005550006",
		"TWILIO_API_URL":           api.URL,
		"VENTANILLA_NOTIFY_TOKENS": "ventanilla=vt-token-0123456789ab,registro_civil=rc-token-0123456789",
	}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	// Quiet until 07:30: the 2-hour reminder of a 09:00 turno waits
	// until then.
	c := &config{Root: "inicio", Keywords: defaultKeywords, RedisURL: redisURL, Zone: "America/Guayaquil", QuietHours: "21:00-07:30", now: clk.Now}
	a, err := newApp(c, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	defer a.store.Close()
	defer a.outbound.close(t.Context())
	srv := httptest.NewServer(a.echo)
	defer srv.Close()

	book := func(session string) string {
		d := &dialer{t: t, url: srv.URL, session: session, phone: "+593991000777"}
		if strings.Contains(d.send(""), "Elija su idioma") {
			d.send("1") // Español
		}
		d.send("1") // turnos
		d.send("1") // book
		d.send("1") // first office
		expect(t, d.send("1"), "Escriba su número de cédula")
		expect(t, d.send("1714307103"), "Confirme su turno")
		booked := d.send("1")
		expect(t, booked, "Turno reservado")
		// Under the satisfaction question the first time the number books.
		if strings.HasPrefix(booked, "CON ") {
			expect(t, d.send("5"), "END Gracias")
		}
		code := regexp.MustCompile(`T-[A-Z0-9]+`).FindString(booked)
		if code == "" {
			t.Fatalf("no code in %q", booked)
		}
		return code
	}
	kept := func(code string) []reminders.Reminder {
		rs, err := a.outbound.later.Get(t.Context(), reminders.BookingKey("ventanilla", code))
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	dues := func(rs []reminders.Reminder) string {
		var out []string
		for _, r := range rs {
			out = append(out, reminders.Span(r.Before)+"→"+r.Due.In(quito).Format("01-02 15:04"))
		}
		return strings.Join(out, " ")
	}
	call := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	const vt, rc = "vt-token-0123456789ab", "rc-token-0123456789"

	code := book("ATUid_remind_1")
	rs := kept(code)
	if got, want := dues(rs), "24h→06-03 09:00 2h→06-04 07:30"; got != want {
		t.Fatalf("reminders %s, want %s", got, want)
	}
	r := rs[0]
	if r.Channel != "sms" || r.Carrier == "" || r.Phone != "+593991000777" || r.Locale != "es" || r.Reply != "turnos-respuesta" ||
		r.Vars["code"] != code || r.Vars["cedula"] != "1714307103" || !strings.Contains(r.Text, "Responda 1 para confirmar o 2 para anular") ||
		r.Flow != "turnos" || r.Institution != "ventanilla" {
		t.Errorf("reminder %+v", r)
	}

	// The institution sees them; another does not.
	if st, body := call(http.MethodGet, "/v1/reminders/"+code, vt, ""); st != http.StatusOK || len(body["reminders"].([]any)) != 2 {
		t.Errorf("GET: %d %v", st, body)
	}
	if st, _ := call(http.MethodGet, "/v1/reminders/"+code, rc, ""); st != http.StatusNotFound {
		t.Errorf("GET by another institution: %d, want 404", st)
	}
	if st, _ := call(http.MethodDelete, "/v1/reminders/"+code, rc, ""); st != http.StatusNotFound || len(kept(code)) != 2 {
		t.Errorf("DELETE by another institution: %d, %d left", st, len(kept(code)))
	}
	// Moved to Wednesday 14:00.
	if st, body := call(http.MethodPost, "/v1/reminders/"+code+"/move", vt, `{"at": "2030-06-05T14:00:00-05:00"}`); st != http.StatusOK {
		t.Errorf("move: %d %v", st, body)
	}
	if got, want := dues(kept(code)), "24h→06-04 14:00 2h→06-05 12:00"; got != want {
		t.Errorf("moved: %s, want %s", got, want)
	}
	if st, body := call(http.MethodPost, "/v1/reminders/"+code+"/move", vt, `{"at": "mañana"}`); st != http.StatusBadRequest || body["field"] != "at" {
		t.Errorf("move to no time: %d %v", st, body)
	}
	// Cancelled.
	if st, body := call(http.MethodDelete, "/v1/reminders/"+code, vt, ""); st != http.StatusOK || body["cancelled"] != float64(2) {
		t.Errorf("DELETE: %d %v", st, body)
	}
	if len(kept(code)) != 0 {
		t.Errorf("%d reminders left after DELETE", len(kept(code)))
	}
	if st, _ := call(http.MethodDelete, "/v1/reminders/"+code, vt, ""); st != http.StatusNotFound {
		t.Errorf("DELETE again: %d, want 404", st)
	}

	// Another turno, cancelled from the menu: its reminders go too.
	other := book("ATUid_remind_2")
	if len(kept(other)) != 2 {
		t.Fatalf("%d reminders of %s", len(kept(other)), other)
	}
	d := &dialer{t: t, url: srv.URL, session: "ATUid_remind_3", phone: "+593991000777"}
	d.send("")
	d.send("1")                              // turnos
	d.send("2")                              // mine
	expect(t, d.send("1714307103"), "10:30") // the first turno holds 09:00
	expect(t, d.send("2"), other)
	d.send("1") // cancel it
	expect(t, d.send("1"), "anulado")
	if len(kept(other)) != 0 {
		t.Errorf("%d reminders left of a cancelled turno", len(kept(other)))
	}

	// A third turno's 24-hour reminder goes out once, when it is due.
	third := book("ATUid_remind_4")
	if got := dues(kept(third)); !strings.HasPrefix(got, "24h→06-03 ") {
		t.Fatalf("third turno: %s", got)
	}
	clk.Advance(kept(third)[0].Due.Sub(clk.Now()))
	testutil.WaitFor(t, "the 24-hour reminder sent", func() bool {
		for text := range provider.Took() {
			if strings.Contains(text, third) {
				return true
			}
		}
		return false
	})
	for text, n := range provider.Took() {
		if n != 1 {
			t.Errorf("%q sent %d times", text, n)
		}
		if strings.Contains(text, code) || strings.Contains(text, other) {
			t.Errorf("a cancelled turno's reminder was sent: %q", text)
		}
	}
	if got := dues(kept(third)); !strings.HasPrefix(got, "2h→") {
		t.Errorf("after the send: %s", got)
	}
}

// Misspelt quiet hours stop the start, with or without a carrier that
// reminders go through.
func TestQuietHoursAreChecked(t *testing.T) {
	getenv := func(string) (string, bool) { return "", false }
	_, err := newApp(&config{Root: "inicio", Keywords: defaultKeywords, Zone: "America/Guayaquil", QuietHours: "21-7"}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err == nil || !strings.Contains(err.Error(), `--quiet-hours: quiet hours "21-7": want HH:MM-HH:MM`) {
		t.Errorf("newApp: %v", err)
	}
}
