package atsms_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// BenchmarkCallback is one incoming SMS through the router: body, fields,
// the hop and the queued reply.
func BenchmarkCallback(b *testing.B) {
	e := carriertest.Router(newHandler(b, nopOutbox{}), &benchHopper{reply: carrier.Reply{Text: "Turnos\n1. Reservar un turno\n2. Mis turnos / anular\n0 Atrás - 00 Inicio"}})
	body := string(carriertest.Testdata(b, "incoming.form"))
	b.ReportAllocs()
	for b.Loop() {
		if rec := post(e, body); rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

type benchHopper struct{ reply carrier.Reply }

func (h *benchHopper) Hop(context.Context, carrier.Inbound) (carrier.Reply, error) {
	return h.reply, nil
}

type nopOutbox struct{}

func (nopOutbox) Enqueue(context.Context, carrier.Message) (string, error) { return "q", nil }
