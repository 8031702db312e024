package twilio_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// BenchmarkWebhook is one SMS hop through the router: body, signature,
// fields, and the TwiML reply.
func BenchmarkWebhook(b *testing.B) {
	hop := &benchHopper{reply: carrier.Reply{Text: "Turnos\n1. Reservar un turno\n2. Mis turnos / anular\n0 Atrás - 00 Inicio"}}
	e := router(newHandler(b, nil), hop)
	body := string(carriertest.Testdata(b, "sms.form"))
	sig := sign(token, publicURL, body)
	b.ReportAllocs()
	for b.Loop() {
		if rec := post(e, "/sms/twilio", body, sig); rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

// benchHopper answers without recording, so the benchmark measures the
// adapter alone.
type benchHopper struct{ reply carrier.Reply }

func (h *benchHopper) Hop(_ context.Context, _ carrier.Inbound) (carrier.Reply, error) {
	return h.reply, nil
}
