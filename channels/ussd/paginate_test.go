package ussd_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
)

var (
	back = flows.Option{Key: "0", Label: "Atrás"}
	home = flows.Option{Key: "00", Label: "Inicio"}
	more = flows.Option{Key: "98", Label: "Más"}
	// fullNav is what the engine fills in on a screen deep in a flow.
	fullNav = flows.Nav{Back: back, Home: home, More: more}
)

func options(labels ...string) []flows.Option {
	out := make([]flows.Option, len(labels))
	for i, l := range labels {
		out[i] = flows.Option{Key: fmt.Sprint(i + 1), Label: l}
	}
	return out
}

var provinces = options("Azuay", "Bolívar", "Cañar", "Carchi", "Chimborazo",
	"Cotopaxi", "El Oro", "Esmeraldas", "Galápagos", "Guayas", "Imbabura", "Loja")

func TestPaginate(t *testing.T) {
	tests := []struct {
		name   string
		screen flows.Screen
		limit  int
		want   []string
	}{
		{
			name: "menu fits one page with back and home",
			screen: flows.Screen{
				Text: "Ventanilla Ciudadana\nElija un trámite:",
				Options: options("Cédula y documentos", "Turnos médicos", "Impuestos y tasas",
					"Bono de desarrollo", "Consultar trámite", "Ayuda"),
				Nav: fullNav,
			},
			limit: ussd.DefaultLimit,
			want: []string{"Ventanilla Ciudadana\nElija un trámite:\n1. Cédula y documentos\n" +
				"2. Turnos médicos\n3. Impuestos y tasas\n4. Bono de desarrollo\n" +
				"5. Consultar trámite\n6. Ayuda\n0. Atrás\n00. Inicio"},
		},
		{
			name: "first screen without back shows home only",
			screen: flows.Screen{
				Text:    "¿Confirma su turno?",
				Options: options("Sí", "No"),
				Nav:     flows.Nav{Home: home, More: more},
			},
			limit: ussd.DefaultLimit,
			want:  []string{"¿Confirma su turno?\n1. Sí\n2. No\n00. Inicio"},
		},
		{
			name: "end screen shows body only",
			screen: flows.Screen{
				Text:    "Su turno quedó registrado para el martes 14 a las 09:30. ¡Gracias!",
				Options: options("Otro trámite"),
				Nav:     fullNav,
				End:     true,
			},
			limit: ussd.DefaultLimit,
			want:  []string{"Su turno quedó registrado para el martes 14 a las 09:30. ¡Gracias!"},
		},
		{
			name:   "182 accented runes fit one page although they are 364 bytes",
			screen: flows.Screen{Text: strings.Repeat("á", 182), Nav: flows.Nav{More: more}},
			limit:  182,
			want:   []string{strings.Repeat("á", 182)},
		},
		{
			name:   "183 runes hard-split the single word",
			screen: flows.Screen{Text: strings.Repeat("á", 183), Nav: flows.Nav{More: more}},
			limit:  182,
			// 174 + "\n98. Más" = 182; page 2 gets the fallback Back.
			want: []string{
				strings.Repeat("á", 174) + "\n98. Más",
				strings.Repeat("á", 9) + "\n0. Atrás",
			},
		},
		{
			name: "home dropped when short",
			screen: flows.Screen{
				Text: "Su trámite está en revisión hoy", // 31 runes + "\n0. Atrás" = 40
				Nav:  fullNav,
			},
			limit: 40,
			want:  []string{"Su trámite está en revisión hoy\n0. Atrás"},
		},
		{
			name: "limit below 40 treated as 40",
			screen: flows.Screen{
				Text: "Su trámite está en revisión hoy",
				Nav:  fullNav,
			},
			limit: 10,
			want:  []string{"Su trámite está en revisión hoy\n0. Atrás"},
		},
		{
			name:   "options paged whole with more and back",
			screen: flows.Screen{Text: "Elija su provincia:", Options: provinces, Nav: fullNav},
			limit:  60,
			want: []string{
				"Elija su provincia:\n1. Azuay\n2. Bolívar\n98. Más\n0. Atrás",
				"3. Cañar\n4. Carchi\n5. Chimborazo\n98. Más\n0. Atrás",
				"6. Cotopaxi\n7. El Oro\n8. Esmeraldas\n98. Más\n0. Atrás",
				// "\n00. Inicio" would make 65 runes: dropped.
				"9. Galápagos\n10. Guayas\n11. Imbabura\n12. Loja\n0. Atrás",
			},
		},
		{
			name:   "home kept on last page when it fits",
			screen: flows.Screen{Text: "Elija su provincia:", Options: provinces, Nav: fullNav},
			limit:  120,
			want: []string{
				"Elija su provincia:\n1. Azuay\n2. Bolívar\n3. Cañar\n4. Carchi\n5. Chimborazo\n" +
					"6. Cotopaxi\n7. El Oro\n98. Más\n0. Atrás",
				"8. Esmeraldas\n9. Galápagos\n10. Guayas\n11. Imbabura\n12. Loja\n0. Atrás\n00. Inicio",
			},
		},
		{
			name: "first page without back when the screen has none",
			screen: flows.Screen{Text: "Elija su provincia:", Options: provinces,
				Nav: flows.Nav{Home: home, More: more}},
			limit: 120,
			want: []string{
				"Elija su provincia:\n1. Azuay\n2. Bolívar\n3. Cañar\n4. Carchi\n5. Chimborazo\n" +
					"6. Cotopaxi\n7. El Oro\n8. Esmeraldas\n98. Más",
				"9. Galápagos\n10. Guayas\n11. Imbabura\n12. Loja\n0. Atrás\n00. Inicio",
			},
		},
		{
			name: "body split on word boundaries then options",
			screen: flows.Screen{
				Text: "Para renovar su cédula acuda con el documento anterior y una fotografía " +
					"reciente a cualquier agencia del Registro Civil. El trámite es gratuito para " +
					"personas mayores de 65 años y con discapacidad. Atención de lunes a viernes.",
				Options: provinces[:3],
				Nav:     fullNav,
			},
			limit: 120,
			want: []string{
				"Para renovar su cédula acuda con el documento anterior y una fotografía " +
					"reciente a cualquier agencia\n98. Más\n0. Atrás",
				"del Registro Civil. El trámite es gratuito para personas mayores de 65 años " +
					"y con discapacidad.\n98. Más\n0. Atrás",
				"Atención de lunes a viernes.\n1. Azuay\n2. Bolívar\n3. Cañar\n0. Atrás\n00. Inicio",
			},
		},
		{
			name: "long end screen is paged and its last page is bare",
			screen: flows.Screen{
				Text: "Requisitos: cédula original, certificado de votación y comprobante de " +
					"pago. Kichwa: Ñukanchik wasipi kawsanchik, shunkumanta yupaychani.",
				Nav: fullNav,
				End: true,
			},
			limit: 60,
			want: []string{
				"Requisitos: cédula original, certificado de votación\n98. Más", // 52+1+7 = 60
				"y comprobante de pago. Kichwa: Ñukanchik\n98. Más\n0. Atrás",
				"wasipi kawsanchik, shunkumanta yupaychani.",
			},
		},
		{
			name:   "english fallback labels when the screen has no nav",
			screen: flows.Screen{Text: "Choose:", Options: provinces[:6], Locale: "en"},
			limit:  40,
			want: []string{
				"Choose:\n1. Azuay\n2. Bolívar\n98. More",
				"3. Cañar\n4. Carchi\n98. More\n0. Back",
				"5. Chimborazo\n6. Cotopaxi\n0. Back",
			},
		},
		{
			name: "option longer than a page is cut rather than overflow",
			screen: flows.Screen{
				Text:    "Elija:",
				Options: options(strings.Repeat("ñ", 60)),
				Nav:     flows.Nav{More: more},
			},
			limit: 40,
			want: []string{
				"Elija:\n98. Más",
				"1. " + strings.Repeat("ñ", 28) + "\n0. Atrás", // 31 + 1 + 8 = 40
			},
		},
		{
			name: "no-break space keeps a number together",
			// Room for text on page 1 is 32 runes; a plain space would split
			// after "12" (rune 28).
			screen: flows.Screen{Text: "Valor a pagar en dólares: 12\u00a0345,00 anual", Nav: flows.Nav{More: more}},
			limit:  40,
			want: []string{
				"Valor a pagar en dólares:\n98. Más",
				"12\u00a0345,00 anual\n0. Atrás",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ussd.Paginate(&tt.screen, tt.limit)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d pages, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n-----\n"))
			}
			limit := max(tt.limit, 40)
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("page %d:\ngot:\n%s\nwant:\n%s", i, got[i], tt.want[i])
				}
				if n := utf8.RuneCountInString(got[i]); n > limit {
					t.Errorf("page %d has %d runes, limit %d", i, n, limit)
				}
			}
			if n := ussd.Pages(&tt.screen, tt.limit); n != len(tt.want) {
				t.Errorf("Pages = %d, want %d", n, len(tt.want))
			}
		})
	}
}

func TestRenderClampsPage(t *testing.T) {
	s := flows.Screen{Text: "Elija su provincia:", Options: provinces, Nav: fullNav}
	all := ussd.Paginate(&s, 60)
	for _, tt := range []struct{ page, want int }{{-1, 0}, {0, 0}, {2, 2}, {3, 3}, {99, 3}} {
		s.Page = tt.page
		text, pages := ussd.Render(&s, 60)
		if pages != len(all) || text != all[tt.want] {
			t.Errorf("Render(page %d) = %q, %d; want page %d of %d", tt.page, text, pages, tt.want, len(all))
		}
	}
}

func TestEmptyScreenIsOneEmptyPage(t *testing.T) {
	got := ussd.Paginate(&flows.Screen{}, ussd.DefaultLimit)
	if len(got) != 1 || got[0] != "" {
		t.Fatalf("got %q", got)
	}
}
