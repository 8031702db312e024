package twilio_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/twilio"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/internal/channelstest"
)

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
	{"1714307103", "Confirme su turno:\nQuito Norte\n24 nov 2026 09:00\nCédula 1714307103"},
	{"1", "Turno reservado. Código T-4F7K2."},
}

func TestConversationBooksATurno(t *testing.T) {
	for _, tt := range []struct{ name, from, to string }{
		{"sms", "+593991234567", "+14155552345"},
		{"whatsapp", "whatsapp:+593991234567", "whatsapp:+14155238886"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := echo.New()
			newHandler(t, nil).Mount(e, channelstest.Gateway(t, nil, nil))
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
	newHandler(t, nil).Mount(e, channelstest.Gateway(t, nil, nil))
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
	newHandler(t, nil).Mount(e, channelstest.Gateway(t, nil, nil))
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

var _ carrier.Carrier = (*twilio.Handler)(nil)
