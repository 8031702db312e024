package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"ventanilla/interop/sample"
	"ventanilla/sessions/redistest"
)

// gatewayFor starts the sample back-end and the gateway with the catalogue
// flows and the carriers of the product, as `ventanilla demo` does.
func gatewayFor(t *testing.T, c *config) *httptest.Server {
	t.Helper()
	srv, _ := gatewayLogging(t, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return srv
}

// gatewayLogging is gatewayFor with the product's logger; it also returns
// the app, for tests that look inside.
func gatewayLogging(t *testing.T, c *config, log *slog.Logger) (*httptest.Server, *app) {
	t.Helper()
	backend := httptest.NewServer(sample.New(sample.Options{
		Now: func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) },
	}))
	t.Cleanup(backend.Close)
	getenv := func(name string) (string, bool) {
		if name == "VENTANILLA_SAMPLE_URL" {
			return backend.URL, true
		}
		return "", false
	}
	if c.Root == "" {
		c.Root = "inicio"
	}
	a, err := newApp(c, log, getenv, carriers(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.store.Close() })
	srv := httptest.NewServer(a.echo)
	t.Cleanup(srv.Close)
	return srv, a
}

// dialer plays one Africa's Talking USSD session: every hop posts the
// whole input history joined by "*", as Africa's Talking does.
type dialer struct {
	t       *testing.T
	url     string
	session string
	phone   string
	inputs  []string
}

func (d *dialer) send(input string) string {
	d.t.Helper()
	if input != "" || len(d.inputs) > 0 {
		d.inputs = append(d.inputs, input)
	}
	form := url.Values{
		"sessionId":   {d.session},
		"serviceCode": {"*384#"},
		"phoneNumber": {d.phone},
		"networkCode": {"74001"},
		"text":        {strings.Join(d.inputs, "*")},
	}
	resp, err := http.PostForm(d.url+"/ussd/africastalking", form)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	reply := string(body)
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("status %d: %s", resp.StatusCode, reply)
	}
	if !strings.HasPrefix(reply, "CON ") && !strings.HasPrefix(reply, "END ") {
		d.t.Fatalf("reply without CON/END: %q", reply)
	}
	if n := utf8.RuneCountInString(reply[4:]); n > 182 {
		d.t.Fatalf("screen of %d characters: %q", n, reply)
	}
	return reply
}

func expect(t *testing.T, reply, want string) {
	t.Helper()
	if !strings.Contains(reply, want) {
		t.Fatalf("reply %q does not contain %q", reply, want)
	}
}

var codeRE = regexp.MustCompile(`T-[A-Z0-9]+`)

// On the product's own router and the sample back-end, a citizen books a
// turno, looks it up and cancels it, in each language, through Africa's
// Talking's USSD protocol.
//
// With Redis the sessions go as serve sets them up by default: each
// instance's copies (Near) in front of Redis, the commands batched.
func TestBookLookUpAndCancelInEveryLanguage(t *testing.T) {
	t.Run("memory", func(t *testing.T) { bookLookUpAndCancel(t, &config{}) })
	t.Run("redis", func(t *testing.T) {
		addr := redistest.Start(t).Options().Addr
		bookLookUpAndCancel(t, &config{RedisURL: "redis://" + addr + "/0", NearSessions: 1000, RedisBatch: true})
	})
}

func bookLookUpAndCancel(t *testing.T, c *config) {
	srv := gatewayFor(t, c)
	langs := []struct {
		choice, phone                     string
		services, booked, mine, cancelled string
	}{
		{"1", "+593991000001", "Ventanilla ciudadana", "Turno reservado", "Sus turnos", "anulado"},
		{"2", "+593991000002", "Citizen services", "Appointment booked", "Your appointments", "cancelled"},
		{"3", "+593991000003", "Llaktayuk ventanilla", "Turno mañashka", "Kikinpak turnokuna", "anulashka"},
	}
	for _, l := range langs {
		t.Run("language "+l.choice, func(t *testing.T) {
			d := &dialer{t: t, url: srv.URL, session: "book-" + l.choice, phone: l.phone}
			expect(t, d.send(""), "CON Bienvenido a Ventanilla")
			expect(t, d.send(l.choice), l.services)
			d.send("1")                                   // turnos
			d.send("1")                                   // book
			d.send("1")                                   // first office
			d.send("1")                                   // first slot
			expect(t, d.send("1714307103"), "1714307103") // confirmation screen
			booked := d.send("1")
			expect(t, booked, "END "+l.booked)
			code := codeRE.FindString(booked)
			if code == "" {
				t.Fatalf("no code in %q", booked)
			}

			// Dialling again: the language is remembered, no question asked.
			d = &dialer{t: t, url: srv.URL, session: "lookup-" + l.choice, phone: l.phone}
			expect(t, d.send(""), "CON "+l.services)
			d.send("1")
			d.send("2") // my appointments
			expect(t, d.send("1714307103"), l.mine)
			expect(t, d.send("1"), code)
			d.send("1") // cancel it
			expect(t, d.send("1"), "END ")

			d = &dialer{t: t, url: srv.URL, session: "check-" + l.choice, phone: l.phone}
			d.send("")
			d.send("1")
			d.send("2")
			if reply := d.send("1714307103"); strings.Contains(reply, code) {
				t.Errorf("cancelled %s still listed: %q", code, reply)
			}
		})
	}
}

// A free-text answer containing "*" reaches the flow whole, although
// Africa's Talking joins answers with "*".
func TestStarInsideAnAnswer(t *testing.T) {
	srv := gatewayFor(t, &config{})
	d := &dialer{t: t, url: srv.URL, session: "star", phone: "+593991000009"}
	d.send("")
	d.send("1") // Español
	d.send("3") // buzón
	d.send("2") // suggestion
	expect(t, d.send("Más buses *por favor*"), "END ")
}

// Garbled carrier requests get a 4xx and never start a session.
func TestGarbledRequestsAreRefused(t *testing.T) {
	srv := gatewayFor(t, &config{})
	cases := map[string]url.Values{
		"no session id": {"serviceCode": {"*384#"}, "phoneNumber": {"+593991234567"}, "text": {""}},
		"bad phone":     {"sessionId": {"s"}, "serviceCode": {"*384#"}, "phoneNumber": {"not-a-number"}, "text": {""}},
		"control chars": {"sessionId": {"s"}, "serviceCode": {"*384#"}, "phoneNumber": {"+593991234567"}, "text": {"1\x00"}},
	}
	for name, form := range cases {
		t.Run(name, func(t *testing.T) {
			resp, err := http.PostForm(srv.URL+"/ussd/africastalking", form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
}
