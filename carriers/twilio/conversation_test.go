package twilio_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"ventanilla/carriers/twilio"
	"ventanilla/channels"
	"ventanilla/channels/ussd"
	"ventanilla/flows"
	"ventanilla/flows/catalogue"
	"ventanilla/i18n"
	"ventanilla/interop"
	"ventanilla/sessions"
)

// backend answers the turnos services with what the sample back-end
// (interop/sample) returns.
type backend struct{}

func (backend) Call(_ context.Context, service string, _ map[string]any) interop.Response {
	body := map[string]string{
		"turnos.offices": `[{"id":"quito-norte","name":"Quito Norte","city":"Quito"},{"id":"cuenca","name":"Cuenca","city":"Cuenca"}]`,
		"turnos.slots":   `[{"id":"2026-11-24T09:00","date":"2026-11-24","time":"09:00"},{"id":"2026-11-24T09:30","date":"2026-11-24","time":"09:30"}]`,
		"turnos.book":    `{"code":"T-4F7K2","office":"quito-norte","office_name":"Quito Norte","date":"2026-11-24","time":"09:00","status":"active"}`,
	}[service]
	if body == "" {
		return interop.Response{Outcome: interop.Unavailable}
	}
	return interop.Response{Outcome: interop.OK, Status: http.StatusOK, Body: []byte(body)}
}

// newGateway is the real gateway with the real catalogue, as
// channels/gateway_test.go builds it, on a memory store.
func newGateway(t testing.TB) *channels.Gateway {
	t.Helper()
	now := func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	measure := func(s *flows.Screen) int { return len([]rune(ussd.Paginate(s, 1<<20)[0])) }
	reg, ps := flows.Load(catalogue.Sources(), flows.Env{Messages: msgs, Measure: measure})
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	engine := &flows.Engine{
		Flows:    func() *flows.Registry { return reg },
		Messages: msgs,
		Caller:   backend{},
		Now:      now,
		Nav:      flows.DefaultNav,
		Root:     "inicio",
	}
	return &channels.Gateway{Engine: engine, Store: sessions.NewMemory(sessions.MemoryOptions{}), Now: now}
}

// citizen texts the gateway through Twilio as one number on one channel.
type citizen struct {
	t        *testing.T
	e        *echo.Echo
	from, to string
	n        int
}

func (c *citizen) says(text string) string {
	c.t.Helper()
	c.n++
	v := url.Values{
		"MessageSid": {"SM" + strings.Repeat("0", 28) + hex4(c.n)},
		"SmsSid":     {"SM" + strings.Repeat("0", 28) + hex4(c.n)},
		"AccountSid": {accountSID},
		"From":       {c.from},
		"To":         {c.to},
		"Body":       {text},
		"NumMedia":   {"0"},
		"ApiVersion": {"2010-04-01"},
	}
	if strings.HasPrefix(c.from, "whatsapp:") {
		v.Set("ProfileName", "María")
		v.Set("WaId", strings.TrimPrefix(c.from, "whatsapp:+"))
	}
	rec := signed(c.e, v.Encode())
	if rec.Code != http.StatusOK {
		c.t.Fatalf("%q: status %d: %s", text, rec.Code, rec.Body)
	}
	msgs := twiml(c.t, rec)
	if len(msgs) != 1 {
		c.t.Fatalf("%q: %d messages", text, len(msgs))
	}
	return msgs[0]
}

func hex4(n int) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[n>>12&15], digits[n>>8&15], digits[n>>4&15], digits[n&15]})
}

// bookingScript books a turno from the first message on; want is what
// each reply starts with (or, for the last, contains).
var bookingScript = []struct{ says, want string }{
	{"hola", "Bienvenido a Ventanilla"},
	{"1", "Ventanilla ciudadana"},
	{"1", "Turnos"},
	{"1", "Elija la oficina:"},
	{"1", "Elija fecha y hora:"},
	{"1", "Escriba su número de cédula"},
	{"1714307103", "Confirme su turno:\nQuito Norte\n2026-11-24 09:00\nCédula 1714307103"},
	{"1", "Turno reservado. Código T-4F7K2."},
}

func TestConversationBooksATurno(t *testing.T) {
	for _, tt := range []struct{ name, from, to string }{
		{"sms", "+593991234567", "+14155552345"},
		{"whatsapp", "whatsapp:+593991234567", "whatsapp:+14155238886"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := echo.New()
			newHandler(t, nil).Mount(e, newGateway(t))
			c := &citizen{t: t, e: e, from: tt.from, to: tt.to}
			for _, step := range bookingScript {
				got := c.says(step.says)
				if !strings.HasPrefix(got, step.want) {
					t.Fatalf("after %q:\n%s\nwant it to start with %q", step.says, got, step.want)
				}
			}
		})
	}
}

// A number's SMS and WhatsApp conversations are two conversations: each
// goes on where it was, whatever the other did in between.
func TestSMSAndWhatsAppStayApart(t *testing.T) {
	e := echo.New()
	newHandler(t, nil).Mount(e, newGateway(t))
	sms := &citizen{t: t, e: e, from: "+593991234567", to: "+14155552345"}
	wa := &citizen{t: t, e: e, from: "whatsapp:+593991234567", to: "whatsapp:+14155238886"}

	sms.says("hola")
	if got := wa.says("hola"); !strings.HasPrefix(got, "Bienvenido a Ventanilla") || !strings.Contains(got, "\n1. Español\n2. English") {
		t.Fatalf("whatsapp first message:\n%s", got)
	}
	if got := sms.says("1"); !strings.HasPrefix(got, "Ventanilla ciudadana\n1. Turnos") {
		t.Fatalf("sms after choosing Spanish:\n%s", got)
	}
	if got := wa.says("2"); !strings.HasPrefix(got, "Citizen services") {
		t.Fatalf("whatsapp after choosing English:\n%s", got)
	}
	if got := sms.says("1"); !strings.HasPrefix(got, "Turnos\n1. Reservar un turno") {
		t.Fatalf("sms goes on in Spanish:\n%s", got)
	}
	if got := wa.says("1"); !strings.HasPrefix(got, "Appointments") {
		t.Fatalf("whatsapp goes on in English:\n%s", got)
	}
}

// Twilio retrying a webhook (same MessageSid) gets the same screen again;
// the answer is not applied twice.
func TestRetriedWebhookIsNotAppliedTwice(t *testing.T) {
	e := echo.New()
	newHandler(t, nil).Mount(e, newGateway(t))
	c := &citizen{t: t, e: e, from: "+593991234567", to: "+14155552345"}
	c.says("hola")
	first := c.says("1")
	c.n-- // the same MessageSid again
	again := c.says("1")
	if first != again {
		t.Fatalf("retry changed the screen:\n%s\n--\n%s", first, again)
	}
	if got := c.says("1"); !strings.HasPrefix(got, "Turnos") {
		t.Errorf("after the retry the flow should be at the turnos menu:\n%s", got)
	}
}

var _ channels.Carrier = (*twilio.Handler)(nil)
