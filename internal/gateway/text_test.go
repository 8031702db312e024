package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

func text(channel, body string) carrier.Inbound {
	return carrier.Inbound{Channel: channel, Carrier: "kannel", Phone: "+593991234567", Input: body}
}

func withKeywords(g *gateway.Gateway) *gateway.Gateway {
	g.Keywords = map[string]gateway.Keyword{
		"TURNO":  {Flow: "turnos"},
		"ESTADO": {Flow: "estado-tramite"},
		"AYUDA":  {Flow: "inicio"},
		"HELP":   {Flow: "inicio"},
		"SALIR":  {Stop: true},
		"STOP":   {Stop: true},
	}
	return g
}

// A text conversation is kept by number across messages; numbered answers
// and the navigation keys work as on USSD.
func TestSMSConversation(t *testing.T) {
	g := withKeywords(newGateway(t, sessions.NewMemory(sessions.MemoryOptions{})))
	if r := hop(t, g, text("sms", "hola")); !strings.HasPrefix(r.Text, "Bienvenido a Ventanilla") {
		t.Fatalf("first message: %q", r.Text)
	}
	if r := hop(t, g, text("sms", "1")); !strings.HasPrefix(r.Text, "Ventanilla ciudadana\n1. Turnos") {
		t.Fatalf("choice: %q", r.Text)
	}
	r := hop(t, g, text("sms", "2"))
	if !strings.HasPrefix(r.Text, "Escriba el número de su trámite") || !strings.Contains(r.Text, "0 Atrás") {
		t.Fatalf("estado: %q", r.Text)
	}
	if r := hop(t, g, text("sms", "0")); !strings.HasPrefix(r.Text, "Ventanilla ciudadana") {
		t.Errorf("back: %q", r.Text)
	}
}

// Keywords start flows in any case and accent, with arguments handed to
// the flow as its first answers; a stop keyword ends the conversation.
func TestKeywords(t *testing.T) {
	g := withKeywords(newGateway(t, sessions.NewMemory(sessions.MemoryOptions{})))
	if r := hop(t, g, text("sms", "turno")); !strings.HasPrefix(r.Text, "Turnos\n1. Reservar") {
		t.Errorf("TURNO: %q", r.Text)
	}
	// Mid-conversation, a keyword starts over on its flow; "12" is not a
	// valid procedure number, so the flow asks again.
	if r := hop(t, g, text("sms", "Estado 12")); !strings.HasPrefix(r.Text, "El número tiene de 3 a 10 dígitos.") {
		t.Errorf("ESTADO 12: %q", r.Text)
	}
	if r := hop(t, g, text("sms", "SALIR")); !r.End || r.Text != "Gracias por usar Ventanilla." {
		t.Errorf("SALIR: %+v", r)
	}
	if r := hop(t, g, text("sms", "Ayúda")); !strings.HasPrefix(r.Text, "Bienvenido a Ventanilla") {
		t.Errorf("AYÚDA: %q", r.Text)
	}
}

// Chat platforms get the options as buttons carrying what the citizen
// would type.
func TestChatButtons(t *testing.T) {
	g := withKeywords(newGateway(t, sessions.NewMemory(sessions.MemoryOptions{})))
	r := hop(t, g, carrier.Inbound{Channel: "chat", Carrier: "telegram", SessionID: "42", Phone: "+593991234567", Input: "/start"})
	if len(r.Buttons) != 3 || r.Buttons[1][0].Data != "2" || r.Buttons[1][0].Label != "English" {
		t.Fatalf("buttons: %+v", r.Buttons)
	}
	r = hop(t, g, carrier.Inbound{Channel: "chat", Carrier: "telegram", SessionID: "42", Phone: "+593991234567", Input: "2"})
	last := r.Buttons[len(r.Buttons)-1]
	if !strings.HasPrefix(r.Text, "Citizen services") || last[0].Data != "0" || last[0].Label != "Back" {
		t.Errorf("after choosing: %q %+v", r.Text, r.Buttons)
	}
}

func TestNormalizeKeyword(t *testing.T) {
	for in, want := range map[string]string{"ayúda": "AYUDA", " Turno ": "TURNO", "ESTADO": "ESTADO", "stop": "STOP"} {
		if got := gateway.NormalizeKeyword(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

// The text channel a citizen starts a conversation on is remembered as
// where notifications reach them.
func TestPreferredChannelRemembered(t *testing.T) {
	store := sessions.NewMemory(sessions.MemoryOptions{})
	g := newGateway(t, store)
	hop(t, g, carrier.Inbound{Channel: "chat", Carrier: "telegram", SessionID: "9", Phone: "+593991234567", Input: "hola"})
	rec, err := store.Get(context.Background(), keys.Preference("+593991234567"))
	if err != nil || string(rec.Data) != "telegram" {
		t.Errorf("preference: %q %v", rec.Data, err)
	}
}

// The preference is "sms" for every SMS carrier and the carrier itself
// for every chat carrier: the gateway names none of them. A chat carrier
// other than WhatsApp and Telegram used to be remembered as "sms".
func TestPreferredChannelByKind(t *testing.T) {
	for i, tc := range []struct{ channel, carrier, want string }{
		{"chat", "telegram", "telegram"},
		{"chat", "whatsapp", "whatsapp"},
		{"chat", "messenger", "messenger"},
		{"sms", "twilio", "sms"},
		{"sms", "kannel", "sms"},
		{"sms", "africastalking-sms", "sms"},
	} {
		store := sessions.NewMemory(sessions.MemoryOptions{})
		g := newGateway(t, store)
		phone := fmt.Sprintf("+59399123450%d", i)
		hop(t, g, carrier.Inbound{Channel: tc.channel, Carrier: tc.carrier, SessionID: phone, Phone: phone, Input: "hola"})
		rec, err := store.Get(context.Background(), keys.Preference(phone))
		if err != nil || string(rec.Data) != tc.want {
			t.Errorf("%s by %s: preference %q %v, want %q", tc.channel, tc.carrier, rec.Data, err, tc.want)
		}
	}
}
