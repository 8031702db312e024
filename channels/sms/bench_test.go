package sms_test

import (
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/flows"
)

var (
	menu6 = flows.Screen{
		Text: "Ventanilla Ciudadana\nElija un trámite:",
		Options: options("Cédula y documentos", "Turnos médicos", "Impuestos y tasas",
			"Bono de desarrollo", "Consultar trámite", "Ayuda"),
		Nav: fullNav,
	}
	paged = flows.Screen{
		Text: "Para renovar su cédula acuda con el documento anterior y una fotografía " +
			"reciente a cualquier agencia del Registro Civil. Elija su provincia:",
		Options: provinces,
		Nav:     fullNav,
	}
	reply = strings.Repeat("Su trámite número 12345 está en revisión; le avisaremos por este medio. ", 8)

	sink    string
	sinkN   int
	sinkEnc sms.Encoding
)

func BenchmarkSegments(b *testing.B) {
	for _, bc := range []struct{ name, text string }{
		{"gsm7", sms.Transliterate(reply)},
		{"ucs2", reply},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.text)))
			for b.Loop() {
				sinkN, sinkEnc = sms.Segments(bc.text)
			}
		})
	}
}

func BenchmarkTransliterate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink = sms.Transliterate(reply)
	}
}

func BenchmarkFit(b *testing.B) {
	text := sms.Transliterate(reply)
	b.ReportAllocs()
	for b.Loop() {
		sink = sms.Fit(text, 2)
	}
}

func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name   string
		screen *flows.Screen
		opts   sms.Options
	}{
		{"menu6", &menu6, sms.Options{Transliterate: true}},
		{"paged-1seg", &paged, sms.Options{Transliterate: true, MaxSegments: 1}},
		{"paged-ucs2", &paged, sms.Options{MaxSegments: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink = sms.Render(bc.screen, bc.opts)
			}
		})
	}
}

func BenchmarkPages(b *testing.B) {
	b.ReportAllocs()
	opts := sms.Options{Transliterate: true, MaxSegments: 1}
	for b.Loop() {
		sinkN = sms.Pages(&paged, opts)
	}
}
