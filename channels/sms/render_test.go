package sms_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/flows"
)

var (
	back = flows.Option{Key: "0", Label: "Atrás"}
	home = flows.Option{Key: "00", Label: "Inicio"}
	more = flows.Option{Key: "98", Label: "Más"}
	// fullNav is what the engine fills in on a screen deep in a flow.
	fullNav = flows.Nav{Back: back, Home: home, More: more, Prev: back}
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
		opts   sms.Options
		want   []string
	}{
		{
			name: "menu in one message with back and home",
			screen: flows.Screen{
				Text:    "Ventanilla Ciudadana\nElija un trámite:",
				Options: options("Cédula", "Turnos médicos", "Impuestos"),
				Nav:     fullNav,
			},
			want: []string{"Ventanilla Ciudadana\nElija un trámite:\n1. Cédula\n2. Turnos médicos\n" +
				"3. Impuestos\n0 Atrás - 00 Inicio"},
		},
		{
			name: "transliterated into GSM-7",
			screen: flows.Screen{
				Text:    "Ventanilla Ciudadana\nElija un trámite:",
				Options: options("Cédula", "Turnos médicos", "Impuestos"),
				Nav:     fullNav,
			},
			opts: sms.Options{Transliterate: true},
			want: []string{"Ventanilla Ciudadana\nElija un tramite:\n1. Cédula\n2. Turnos médicos\n" +
				"3. Impuestos\n0 Atras - 00 Inicio"},
		},
		{
			name: "a page UCS-2 anyway keeps its accents",
			screen: flows.Screen{
				Text:    "¿Confirma su turno del día 12? 📅",
				Options: options("Sí", "No"),
				Nav:     flows.Nav{Home: home, More: more},
			},
			opts: sms.Options{Transliterate: true},
			want: []string{"¿Confirma su turno del día 12? 📅\n1. Sí\n2. No\n00 Inicio"},
		},
		{
			name: "first screen without back or home has no navigation line",
			screen: flows.Screen{
				Text:    "Bienvenido. Elija idioma:",
				Options: options("Español", "Kichwa"),
				Nav:     flows.Nav{More: more, Prev: back},
			},
			want: []string{"Bienvenido. Elija idioma:\n1. Español\n2. Kichwa"},
		},
		{
			name: "end screen shows the text only",
			screen: flows.Screen{
				Text: "  Su turno quedó registrado: lunes 10:00.\n",
				Nav:  flows.Nav{More: more, Prev: back},
				End:  true,
			},
			want: []string{"Su turno quedó registrado: lunes 10:00."},
		},
		{
			name: "one segment: paged like USSD",
			screen: flows.Screen{
				Text:    "Elija su provincia:",
				Options: provinces,
				Nav:     fullNav,
			},
			opts: sms.Options{MaxSegments: 1, Transliterate: true},
			want: []string{
				"Elija su provincia:\n1. Azuay\n2. Bolivar\n3. Cañar\n4. Carchi\n5. Chimborazo\n" +
					"6. Cotopaxi\n7. El Oro\n8. Esmeraldas\n9. Galapagos\n10. Guayas\n98 Mas - 0 Atras",
				"11. Imbabura\n12. Loja\n0 Atras - 00 Inicio",
			},
		},
		{
			name: "one segment UCS-2: 70 code units a page",
			screen: flows.Screen{
				Text:    "Elija su provincia:",
				Options: provinces,
				Nav:     fullNav,
			},
			opts: sms.Options{MaxSegments: 1},
			want: []string{
				"Elija su provincia:\n1. Azuay\n2. Bolívar\n3. Cañar\n98 Más - 0 Atrás",
				"4. Carchi\n5. Chimborazo\n6. Cotopaxi\n7. El Oro\n98 Más - 0 Atrás",
				// Home does not fit: dropped rather than given a page.
				"8. Esmeraldas\n9. Galápagos\n10. Guayas\n11. Imbabura\n12. Loja\n0 Atrás",
			},
		},
		{
			name: "home is dropped rather than pushed onto a page of its own",
			screen: flows.Screen{
				Text:    strings.Repeat("a", 130),
				Options: options("Sí", "No"),
				Nav:     fullNav,
			},
			opts: sms.Options{MaxSegments: 1, Transliterate: true},
			want: []string{strings.Repeat("a", 130) + "\n1. Si\n2. No\n0 Atras"},
		},
		{
			name: "long end screen is paged and the last page is bare",
			screen: flows.Screen{
				Text: words("Gracias", 25),
				Nav:  flows.Nav{More: more, Prev: back},
				End:  true,
			},
			opts: sms.Options{MaxSegments: 1},
			// "Más" makes the first page UCS-2; the bare last page is GSM-7.
			want: []string{words("Gracias", 8) + "\n98 Más", words("Gracias", 17)},
		},
		{
			name: "english fallbacks when the screen offers no paging keys",
			screen: flows.Screen{
				Text:    words("word", 40),
				Options: options("Yes", "No"),
				Locale:  "en",
			},
			opts: sms.Options{MaxSegments: 1},
			want: []string{words("word", 30) + "\n98 More", words("word", 10) + "\n1. Yes\n2. No\n0 Back"},
		},
		{
			name: "an option too long for a page is cut",
			screen: flows.Screen{
				Text:    "Elija:",
				Options: options(words("largo", 40), "corto"),
				Nav:     flows.Nav{More: more, Prev: back},
			},
			opts: sms.Options{MaxSegments: 1},
			want: []string{"Elija:\n98 Más", "1. " + words("largo", 8) + "...\n98 Más - 0 Atrás", "2. corto\n0 Atrás"},
		},
		{
			name: "a one-word label too long for a page is cut inside the word",
			screen: flows.Screen{
				Text:    "Elija:",
				Options: options(strings.Repeat("x", 200)),
				Nav:     flows.Nav{More: more, Prev: back},
			},
			opts: sms.Options{MaxSegments: 1},
			want: []string{"Elija:\n98 Más", "1. " + strings.Repeat("x", 56) + "...\n0 Atrás"},
		},
		{
			name: "the extension table counts double",
			screen: flows.Screen{
				Text:    strings.Repeat("{", 70),
				Options: options("ok"),
				Nav:     flows.Nav{More: more, Prev: back},
			},
			opts: sms.Options{MaxSegments: 1},
			want: []string{strings.Repeat("{", 70) + "\n1. ok"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sms.Paginate(&tt.screen, tt.opts)
			if strings.Join(got, "\n=====\n") != strings.Join(tt.want, "\n=====\n") {
				t.Errorf("Paginate =\n%s\nwant\n%s", strings.Join(got, "\n=====\n"), strings.Join(tt.want, "\n=====\n"))
			}
			if n := sms.Pages(&tt.screen, tt.opts); n != len(got) {
				t.Errorf("Pages = %d, Paginate gave %d", n, len(got))
			}
			for i := range got {
				tt.screen.Page = i
				if r := sms.Render(&tt.screen, tt.opts); r != got[i] {
					t.Errorf("Render page %d = %q, want %q", i, r, got[i])
				}
			}
		})
	}
}

func TestRenderClampsPage(t *testing.T) {
	s := flows.Screen{Text: "Elija su provincia:", Options: provinces, Nav: fullNav}
	opts := sms.Options{MaxSegments: 1}
	pages := sms.Paginate(&s, opts)
	for _, p := range []int{-3, len(pages), 99} {
		s.Page = p
		want := pages[min(max(p, 0), len(pages)-1)]
		if got := sms.Render(&s, opts); got != want {
			t.Errorf("page %d: got %q, want %q", p, got, want)
		}
	}
}
