package kannel_test

import (
	"net/url"
	"testing"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

func benchRequest(b *testing.B, file string) kannel.Request {
	v, err := url.ParseQuery(string(carriertest.Testdata(b, file)))
	if err != nil {
		b.Fatal(err)
	}
	return kannel.Request{Fields: v}
}

func BenchmarkParseSMS(b *testing.B) {
	h := kannel.NewSMS(kannel.SMSOptions{})
	req := benchRequest(b, "sms_ucs2.query")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Parse(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseUSSD(b *testing.B) {
	h := kannel.NewUSSD(kannel.USSDOptions{})
	req := benchRequest(b, "ussd_answer.query")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Parse(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUSSDHop is one whole call through the router: read, parse,
// hop, choose the coding, fit and answer.
func BenchmarkUSSDHop(b *testing.B) {
	hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "Elija su trámite:\n1. Cédula\n2. Turnos\n3. Certificados\n0. Atrás"}}
	h := kannel.NewUSSD(kannel.USSDOptions{})
	q := string(carriertest.Testdata(b, "ussd_answer.query"))
	b.ReportAllocs()
	for b.Loop() {
		hop.Reset()
		if rec := get(h, hop, "/ussd/kannel", q); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
