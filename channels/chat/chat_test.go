package chat_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/chat"
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

func btn(label, data string) chat.Button { return chat.Button{Label: label, Data: data} }

func row(bs ...chat.Button) []chat.Button { return bs }

var provinces = options("Azuay", "Bolívar", "Cañar", "Carchi", "Chimborazo",
	"Cotopaxi", "El Oro", "Esmeraldas", "Galápagos", "Guayas", "Imbabura", "Loja")

func TestRender(t *testing.T) {
	tests := []struct {
		name   string
		screen flows.Screen
		opts   chat.Options
		want   []chat.Message // every page
	}{
		{
			name: "menu with back and home",
			screen: flows.Screen{
				Text:    "Ventanilla Ciudadana\nElija un trámite:",
				Options: options("Cédula", "Turnos médicos"),
				Nav:     fullNav,
			},
			want: []chat.Message{{
				Text: "Ventanilla Ciudadana\nElija un trámite:",
				Buttons: [][]chat.Button{
					row(btn("Cédula", "1")),
					row(btn("Turnos médicos", "2")),
					row(btn("Atrás", "0"), btn("Inicio", "00")),
				},
			}},
		},
		{
			name: "first screen: no navigation row",
			screen: flows.Screen{
				Text:    "Bienvenido. Elija idioma:",
				Options: options("Español", "Kichwa"),
				Nav:     flows.Nav{More: more, Prev: back},
			},
			opts: chat.Options{Columns: 2},
			want: []chat.Message{{
				Text:    "Bienvenido. Elija idioma:",
				Buttons: [][]chat.Button{row(btn("Español", "1"), btn("Kichwa", "2"))},
			}},
		},
		{
			name:   "end screen: text only",
			screen: flows.Screen{Text: " Listo. \n", Nav: flows.Nav{More: more, Prev: back}, End: true},
			want:   []chat.Message{{Text: "Listo."}},
		},
		{
			name: "paged keyboard",
			screen: flows.Screen{
				Text:    "Elija su provincia:",
				Options: provinces,
				Nav:     fullNav,
			},
			opts: chat.Options{PerPage: 5, Columns: 2},
			want: []chat.Message{
				{Text: "Elija su provincia:", Buttons: [][]chat.Button{
					row(btn("Azuay", "1"), btn("Bolívar", "2")),
					row(btn("Cañar", "3"), btn("Carchi", "4")),
					row(btn("Chimborazo", "5")),
					row(btn("Atrás", "0"), btn("Más", "98"), btn("Inicio", "00")),
				}},
				{Text: "Elija su provincia:", Buttons: [][]chat.Button{
					row(btn("Cotopaxi", "6"), btn("El Oro", "7")),
					row(btn("Esmeraldas", "8"), btn("Galápagos", "9")),
					row(btn("Guayas", "10")),
					row(btn("Atrás", "0"), btn("Más", "98"), btn("Inicio", "00")),
				}},
				{Text: "Elija su provincia:", Buttons: [][]chat.Button{
					row(btn("Imbabura", "11"), btn("Loja", "12")),
					row(btn("Atrás", "0"), btn("Inicio", "00")),
				}},
			},
		},
		{
			name: "paging keys fall back when the screen offers none",
			screen: flows.Screen{
				Text:    "Pick one:",
				Options: options("a", "b", "c"),
				Locale:  "en",
			},
			opts: chat.Options{PerPage: 2},
			want: []chat.Message{
				{Text: "Pick one:", Buttons: [][]chat.Button{
					row(btn("a", "1")), row(btn("b", "2")), row(btn("More", "98")),
				}},
				{Text: "Pick one:", Buttons: [][]chat.Button{
					row(btn("c", "3")), row(btn("Back", "0")),
				}},
			},
		},
		{
			name:   "long body is paged first, and option pages repeat its last part",
			screen: flows.Screen{Text: "uno dos tres", Options: options("sí", "no", "tal vez"), Nav: fullNav},
			opts:   chat.Options{MaxText: 8, PerPage: 2},
			want: []chat.Message{
				{Text: "uno dos", Buttons: [][]chat.Button{row(btn("Atrás", "0"), btn("Más", "98"), btn("Inicio", "00"))}},
				{Text: "tres", Buttons: [][]chat.Button{
					row(btn("sí", "1")), row(btn("no", "2")),
					row(btn("Atrás", "0"), btn("Más", "98"), btn("Inicio", "00")),
				}},
				{Text: "tres", Buttons: [][]chat.Button{
					row(btn("tal vez", "3")), row(btn("Atrás", "0"), btn("Inicio", "00")),
				}},
			},
		},
		{
			name:   "long end screen pages with more and back, last page bare",
			screen: flows.Screen{Text: "uno dos tres", Nav: flows.Nav{More: more, Prev: back}, End: true},
			opts:   chat.Options{MaxText: 4},
			want: []chat.Message{
				{Text: "uno", Buttons: [][]chat.Button{row(btn("Más", "98"))}},
				{Text: "dos", Buttons: [][]chat.Button{row(btn("Atrás", "0"), btn("Más", "98"))}},
				{Text: "tres"},
			},
		},
		{
			name: "labels: long ones cut, blank ones show the key",
			screen: flows.Screen{
				Text:    "Elija:",
				Options: options("Agencia Quito Norte, Av. Amazonas", "  "),
			},
			opts: chat.Options{MaxLabel: 16},
			want: []chat.Message{{Text: "Elija:", Buttons: [][]chat.Button{
				row(btn("Agencia Quito…", "1")), row(btn("2", "2")),
			}}},
		},
		{
			name: "keys that are not valid callback data get no button",
			screen: flows.Screen{
				Text: "Elija:",
				Options: []flows.Option{{Key: "1", Label: "uno"}, {Key: "", Label: "nada"},
					{Key: strings.Repeat("9", 65), Label: "largo"}, {Key: "2", Label: "dos"}},
				Nav: flows.Nav{Home: flows.Option{Key: strings.Repeat("0", 65), Label: "Inicio"}},
			},
			want: []chat.Message{{Text: "Elija:", Buttons: [][]chat.Button{
				row(btn("uno", "1")), row(btn("dos", "2")),
			}}},
		},
		{
			name:   "emoji count two UTF-16 units and are never torn",
			screen: flows.Screen{Text: "🙂🙂🙂", End: true, Nav: flows.Nav{More: more, Prev: back}},
			opts:   chat.Options{MaxText: 3},
			want: []chat.Message{
				{Text: "🙂", Buttons: [][]chat.Button{row(btn("Más", "98"))}},
				{Text: "🙂", Buttons: [][]chat.Button{row(btn("Atrás", "0"), btn("Más", "98"))}},
				{Text: "🙂"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := chat.Pages(&tt.screen, tt.opts); n != len(tt.want) {
				t.Fatalf("Pages = %d, want %d", n, len(tt.want))
			}
			for i, want := range tt.want {
				tt.screen.Page = i
				if got := chat.Render(&tt.screen, tt.opts); !reflect.DeepEqual(got, want) {
					t.Errorf("page %d:\n got %+v\nwant %+v", i, got, want)
				}
			}
		})
	}
}

func TestRenderClampsPage(t *testing.T) {
	s := flows.Screen{Text: "Elija su provincia:", Options: provinces, Nav: fullNav}
	n := chat.Pages(&s, chat.Options{})
	if n != 2 {
		t.Fatalf("Pages = %d, want 2 (8 per page)", n)
	}
	for _, p := range []int{-1, 0, n - 1, n, 50} {
		s.Page = p
		got := chat.Render(&s, chat.Options{})
		s.Page = min(max(p, 0), n-1)
		if want := chat.Render(&s, chat.Options{}); !reflect.DeepEqual(got, want) {
			t.Errorf("page %d not clamped", p)
		}
	}
}
