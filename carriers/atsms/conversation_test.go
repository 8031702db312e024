package atsms_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/internal/channelstest"
)

// citizen texts the gateway's short code through Africa's Talking and
// reads the replies the adapter queued.
type citizen struct {
	t   *testing.T
	e   *echo.Echo
	box *outbox
	n   int
}

func (c *citizen) send(id, text string) {
	c.t.Helper()
	v := url.Values{
		"from":        {"+593991234567"},
		"to":          {"20880"},
		"text":        {text},
		"date":        {"2026-11-23 09:00:00"},
		"id":          {id},
		"linkId":      {""},
		"networkCode": {"74001"},
	}
	rec := post(c.e, v.Encode())
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		c.t.Fatalf("%q: got %d %q", text, rec.Code, rec.Body)
	}
}

// says sends text and returns the one reply it queued.
func (c *citizen) says(text string) string {
	c.t.Helper()
	c.n++
	before := len(c.box.queued())
	c.send(fmt.Sprintf("7e4b2a1f-3c5d-4f9b-8a2e-%012d", c.n), text)
	q := c.box.queued()
	if len(q) != before+1 {
		c.t.Fatalf("%q: %d replies queued", text, len(q)-before)
	}
	m := q[len(q)-1]
	if m.To != "+593991234567" || m.Carrier != "africastalking-sms" || m.Channel != "sms" {
		c.t.Fatalf("reply queued as %+v", m)
	}
	return m.Text
}

func TestConversationBooksATurno(t *testing.T) {
	box := &outbox{}
	e := echo.New()
	newHandler(t, box).Mount(e, channelstest.Gateway(t, nil, nil))
	c := &citizen{t: t, e: e, box: box}
	for _, step := range []struct{ says, want string }{
		{"hola", "Bienvenido a Ventanilla"},
		{"1", "Ventanilla ciudadana"},
		{"1", "Turnos"},
		{"1", "Elija la oficina:"},
		{"1", "Elija fecha y hora:"},
		{"1", "Escriba su número de cédula"},
		{"1714307103", "Confirme su turno:\nQuito Norte\n24 nov 2026 09:00\nCédula 1714307103"},
		{"1", "Turno reservado. Código T-4F7K2."},
	} {
		if got := c.says(step.says); !strings.HasPrefix(got, step.want) {
			t.Fatalf("after %q:\n%s\nwant it to start with %q", step.says, got, step.want)
		}
	}
}

// AT delivering a callback twice (same id) neither applies the answer
// twice nor queues a second reply.
func TestRepeatedCallbackIsNotAppliedTwice(t *testing.T) {
	box := &outbox{}
	e := echo.New()
	newHandler(t, box).Mount(e, channelstest.Gateway(t, nil, nil))
	c := &citizen{t: t, e: e, box: box}
	c.says("hola")
	c.says("1") // Spanish: the root menu
	before := len(box.queued())
	c.send(fmt.Sprintf("7e4b2a1f-3c5d-4f9b-8a2e-%012d", c.n), "1")
	if n := len(box.queued()) - before; n != 0 {
		t.Fatalf("the repeated callback queued %d more replies", n)
	}
	if got := c.says("1"); !strings.HasPrefix(got, "Turnos") {
		t.Errorf("after the repeat the flow should be at the turnos menu:\n%s", got)
	}
}
