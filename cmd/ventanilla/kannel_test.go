package main

import (
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
