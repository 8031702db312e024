package telegram_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/telegram"
	"github.com/ventanilla-gob/ventanilla/internal/channelstest"
	"github.com/ventanilla-gob/ventanilla/interop"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// turnosBackend answers the catalogue's appointment services with canned
// JSON, as the institution's back-end would.
type turnosBackend struct{}

func (turnosBackend) Call(_ context.Context, service string, params map[string]any) interop.Response {
	switch service {
	case "turnos.offices":
		return interop.Response{Outcome: interop.OK, Body: []byte(`[{"id":"quito-norte","name":"Quito Norte"},{"id":"cuenca","name":"Cuenca"}]`)}
	case "turnos.slots":
		return interop.Response{Outcome: interop.OK, Body: []byte(`[{"id":"2026-11-24T09:00","date":"2026-11-24","time":"09:00"},{"id":"2026-11-24T09:30","date":"2026-11-24","time":"09:30"}]`)}
	case "turnos.book":
		if params["office"] != "quito-norte" || params["slot"] != "2026-11-24T09:00" || params["cedula"] != "1714307103" {
			return interop.Response{Outcome: interop.Rejected}
		}
		return interop.Response{Outcome: interop.OK, Body: []byte(`{"code":"T-TEST1"}`)}
	}
	return interop.Response{Outcome: interop.Unavailable}
}

// chat drives one citizen's Telegram chat through the webhook and reads
// what the bot sent back.
type chat struct {
	t      *testing.T
	e      *echo.Echo
	api    *fakeAPI
	update int
	screen call   // the last message sent with a keyboard
	last   []byte // the last update sent, for a retry
}

// send delivers an update and returns the messages sent in answer.
func (c *chat) send(body []byte) []call {
	c.t.Helper()
	c.api.reset()
	c.last = body
	if rec := post(c.e, body, testSecret); rec.Code != 200 {
		c.t.Fatalf("webhook answered %d", rec.Code)
	}
	sent := c.api.Calls("sendMessage")
	if len(sent) == 0 {
		c.t.Fatal("no reply sent")
	}
	for _, m := range sent {
		if f := m.Form.Get("reply_markup"); strings.Contains(f, "inline_keyboard") {
			c.screen = m
		}
	}
	return sent
}

func (c *chat) next() int { c.update++; return c.update }

func (c *chat) typed(text string) string {
	c.t.Helper()
	return c.send(textUpdate(c.next(), chatID, text))[0].Form.Get("text")
}

// press presses the button labelled label on the last screen and checks
// that it carries data.
func (c *chat) press(label, data string) string {
	c.t.Helper()
	m := markupOf(c.t, c.screen)
	i := slices.Index(m.inlineLabels(), label)
	if i < 0 || m.callbackData()[i] != data {
		c.t.Fatalf("no button %q → %q on %q: %q %q", label, data, c.screen.Form.Get("text"), m.inlineLabels(), m.callbackData())
	}
	sent := c.send(callbackUpdate(c.next(), chatID, c.screen.MsgID, data))
	if n := len(c.api.Calls("answerCallbackQuery")); n != 1 {
		c.t.Errorf("press on %q answered %d times", label, n)
	}
	return sent[0].Form.Get("text")
}

// A citizen books an appointment over Telegram, from /start to the
// booking code, pressing buttons and typing the cédula, against the real
// gateway and the catalogue's flows.
func TestConversationBookAppointment(t *testing.T) {
	store := sessions.NewMemory(sessions.MemoryOptions{})
	t.Cleanup(func() { store.Close() })
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{Links: sessions.Plain{Store: store}})
	c := &chat{t: t, e: server(b, channelstest.Gateway(t, store, turnosBackend{})), api: api, update: 900}

	sent := c.send(textUpdate(c.next(), chatID, "/start"))
	if got := sent[0].Form.Get("text"); !strings.HasPrefix(got, "Bienvenido a Ventanilla. Elija su idioma:") {
		t.Fatalf("/start: %q", got)
	}
	if got := markupOf(t, sent[0]).inlineLabels(); !slices.Equal(got, []string{"Español", "English", "Runa shimi"}) {
		t.Errorf("language buttons %q", got)
	}
	if len(sent) != 2 || !markupOf(t, sent[1]).Keyboard[0][0].RequestContact {
		t.Errorf("no phone-sharing offer after the first screen")
	}
	// Turnos handles personal data (level 1): the citizen shares the
	// number first, and the conversation starts again on it.
	linked := c.send(contactUpdate(c.next(), chatID, chatID, "+593991234567"))
	if got := linked[len(linked)-1].Form.Get("text"); !strings.HasPrefix(got, "Bienvenido a Ventanilla") {
		t.Fatalf("after sharing the number: %q", got)
	}

	steps := []struct {
		label, data, want string
	}{
		{"Español", "1", "Ventanilla ciudadana"},
		{"Turnos", "1", "Turnos"},
		{"Reservar un turno", "1", "Elija la oficina:"},
		{"Quito Norte", "1", "Elija fecha y hora:"},
		{"24 nov 2026 09:00", "1", "Escriba su número de cédula (10 dígitos):"},
	}
	for _, s := range steps {
		if got := c.press(s.label, s.data); !strings.HasPrefix(got, s.want) {
			t.Fatalf("after %q: %q, want %q…", s.label, got, s.want)
		}
	}
	if got := c.typed("1714307103"); !strings.HasPrefix(got, "Confirme su turno:\nQuito Norte\n24 nov 2026 09:00\nCédula 1714307103") {
		t.Fatalf("after the cédula: %q", got)
	}
	got := c.press("Confirmar", "1")
	if !strings.Contains(got, "Turno reservado") || !strings.Contains(got, "T-TEST1") || !strings.Contains(got, "¿Cómo fue su atención?") {
		t.Fatalf("after confirming: %q", got)
	}
	// The satisfaction question under the booking: buttons 1 to 5.
	if got := c.press("4", "4"); !strings.HasPrefix(got, "Gracias. Le esperamos.") {
		t.Fatalf("after rating: %q", got)
	}
	if c.api.Calls("sendMessage")[0].Form.Get("reply_markup") != "" {
		t.Error("the final screen has buttons")
	}
}

// Telegram retrying an update (same update_id) shows the same screen
// again rather than applying the answer twice.
func TestConversationRetriedUpdate(t *testing.T) {
	store := sessions.NewMemory(sessions.MemoryOptions{})
	t.Cleanup(func() { store.Close() })
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{})
	c := &chat{t: t, e: server(b, channelstest.Gateway(t, store, turnosBackend{})), api: api, update: 100}
	c.send(textUpdate(c.next(), chatID, "/start"))
	c.send(callbackUpdate(c.next(), chatID, 7001, "1")) // Español → services
	again := textUpdate(c.next(), chatID, "2")          // Estado de trámite (level 0)
	first := c.send(again)[0].Form.Get("text")
	second := c.send(again)[0].Form.Get("text")
	if !strings.HasPrefix(first, "Escriba el número de su trámite") || first != second {
		t.Errorf("retry moved the flow: %q then %q", first, second)
	}
}

// Sharing the number moves the conversation to the number's key: the
// language chosen for that number on any channel is used at once.
func TestConversationAfterLinking(t *testing.T) {
	store := sessions.NewMemory(sessions.MemoryOptions{})
	t.Cleanup(func() { store.Close() })
	if err := store.Set(context.Background(), keys.Profile("+593991234567"), []byte("en"), time.Hour); err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{Links: sessions.Plain{Store: store}})
	c := &chat{t: t, e: server(b, channelstest.Gateway(t, store, turnosBackend{})), api: api, update: 200}
	c.send(textUpdate(c.next(), chatID, "/start"))
	sent := c.send(contactUpdate(c.next(), chatID, chatID, "+593991234567"))
	if len(sent) != 2 || !strings.HasPrefix(sent[1].Form.Get("text"), "Citizen services") {
		t.Errorf("after linking: %q", sent[len(sent)-1].Form.Get("text"))
	}
}

// bookings counts the bookings that reach the back-end.
type bookings struct {
	turnosBackend
	n atomic.Int64
}

func (b *bookings) Call(ctx context.Context, service string, params map[string]any) interop.Response {
	if service == "turnos.book" {
		b.n.Add(1)
	}
	return b.turnosBackend.Call(ctx, service, params)
}

// Telegram retrying an update it already delivered (same update_id) —
// a button press whose answer carried new buttons, or the press that
// ended the conversation — gets the same screen again: not the notice
// for an old button, not the language menu of a new conversation, and
// no second booking.
func TestRetriedPressGetsTheSameScreen(t *testing.T) {
	store := sessions.NewMemory(sessions.MemoryOptions{})
	t.Cleanup(func() { store.Close() })
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{Links: sessions.Plain{Store: store}})
	backend := &bookings{}
	c := &chat{t: t, e: server(b, channelstest.Gateway(t, store, backend)), api: api, update: 300}
	c.send(textUpdate(c.next(), chatID, "/start"))
	c.send(contactUpdate(c.next(), chatID, chatID, "+593991234567"))
	c.press("Español", "1")
	first := c.press("Turnos", "1")
	again := c.send(c.last)[0].Form.Get("text")
	if again != first {
		t.Errorf("retried press: %q, want %q", again, first)
	}
	for _, s := range [][2]string{{"Reservar un turno", "1"}, {"Quito Norte", "1"}, {"24 nov 2026 09:00", "1"}} {
		c.press(s[0], s[1])
	}
	c.typed("1714307103")
	booked := c.press("Confirmar", "1")
	if !strings.Contains(booked, "T-TEST1") {
		t.Fatalf("after confirming: %q", booked)
	}
	if again := c.send(c.last)[0].Form.Get("text"); again != booked {
		t.Errorf("retried final press: %q, want %q", again, booked)
	}
	if n := backend.n.Load(); n != 1 {
		t.Errorf("%d bookings", n)
	}
}
