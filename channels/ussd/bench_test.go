package ussd_test

import (
	"fmt"
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
	// national is the first part of a national menu with many
	// institutions: 19 entries and "more", as a compiled menu shows them
	// (options that carry their rune count), five pages on USSD.
	national  = nationalMenu()
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

func nationalMenu() flows.Screen {
	labels := []string{"Turnos", "Estado de trámite", "Quejas y sugerencias"}
	for i := range 16 {
		labels = append(labels, fmt.Sprintf("Consulta de la institución %02d", i))
	}
	labels = append(labels, "Más servicios")
	s := flows.Screen{Text: "Ventanilla ciudadana", Nav: fullNav}
	for i, l := range labels {
		s.Options = append(s.Options, flows.NewOption(fmt.Sprint(i+1), l))
	}
	return s
}

func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name   string
		screen *flows.Screen
	}{
		{"menu6", &menu6},
		{"national", &national},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkText, sinkN = ussd.Render(bc.screen, ussd.DefaultLimit)
			}
		})
	}
}

func BenchmarkPages(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkN = ussd.Pages(&paged, 160)
	}
}
