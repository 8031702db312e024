package ussd_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
)

// FuzzPaginate feeds arbitrary text (including invalid UTF-8, control
// characters and absurd labels) to the layout: it must terminate, keep
// every page within the limit and agree with Pages and Render.
func FuzzPaginate(f *testing.F) {
	f.Add("Elija su provincia:", "Azuay|Bolívar|Cañar", "Atrás", "Inicio", "Más", 60, false)
	f.Add(strings.Repeat("á", 183), "", "", "", "Más", 182, false)
	f.Add("Gracias.\n\n", "x", "Atrás", "", "", 10, true)
	f.Add("a\u00a0b\u00a0c d", strings.Repeat("ñ", 90), strings.Repeat("z", 80), "h", "m", 40, false)
	f.Add("\xff\xfe  \t", "\xff|", "\x00", "\n", "\xff", 0, false)
	f.Fuzz(func(t *testing.T, body, labels, backLabel, homeLabel, moreLabel string, limit int, end bool) {
		if limit > 4096 || limit < -4096 {
			t.Skip()
		}
		s := flows.Screen{Text: body, End: end}
		if labels != "" {
			for i, l := range strings.Split(labels, "|") {
				s.Options = append(s.Options, flows.Option{Key: fmt.Sprint(i + 1), Label: l})
			}
		}
		if backLabel != "" {
			s.Nav.Back = flows.Option{Key: "0", Label: backLabel}
		}
		if homeLabel != "" {
			s.Nav.Home = flows.Option{Key: "00", Label: homeLabel}
		}
		if moreLabel != "" {
			s.Nav.More = flows.Option{Key: "98", Label: moreLabel}
		}
		pages := ussd.Paginate(&s, limit)
		want := max(limit, 40)
		for i, p := range pages {
			if n := utf8.RuneCountInString(p); n > want {
				t.Fatalf("page %d has %d runes > %d: %q", i, n, want, p)
			}
		}
		if n := ussd.Pages(&s, limit); n != len(pages) || n == 0 {
			t.Fatalf("Pages = %d, Paginate gave %d", n, len(pages))
		}
		s.Page = len(pages) - 1
		if text, _ := ussd.Render(&s, limit); text != pages[len(pages)-1] {
			t.Fatalf("Render disagrees with Paginate")
		}
	})
}
