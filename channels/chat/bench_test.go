package chat_test

import (
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/chat"
	"github.com/ventanilla-gob/ventanilla/flows"
)

var (
	menu6 = flows.Screen{
		Text: "Ventanilla Ciudadana\nElija un trámite:",
		Options: options("Cédula y documentos", "Turnos médicos", "Impuestos y tasas",
			"Bono de desarrollo", "Consultar trámite", "Ayuda"),
		Nav: fullNav,
	}
	paged = flows.Screen{Text: "Elija su provincia:", Options: provinces, Nav: fullNav, Page: 1}

	sinkMsg chat.Message
	sinkN   int
)

func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name   string
		screen *flows.Screen
	}{
		{"menu6", &menu6},
		{"paged", &paged},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkMsg = chat.Render(bc.screen, chat.Options{})
			}
		})
	}
}

func BenchmarkPages(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkN = chat.Pages(&paged, chat.Options{})
	}
}
