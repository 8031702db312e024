package ussd_test

import (
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/ussd"
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
	sinkPages []string
	sinkText  string
	sinkN     int
)

func BenchmarkPaginate(b *testing.B) {
	for _, bc := range []struct {
		name   string
		screen *flows.Screen
		limit  int
	}{
		{"menu6", &menu6, ussd.DefaultLimit},
		{"paged", &paged, 160},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkPages = ussd.Paginate(bc.screen, bc.limit)
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkText, sinkN = ussd.Render(&menu6, ussd.DefaultLimit)
	}
}

func BenchmarkPages(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkN = ussd.Pages(&paged, 160)
	}
}
