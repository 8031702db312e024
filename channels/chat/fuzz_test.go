package chat_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/ventanilla-gob/ventanilla/channels/chat"
	"github.com/ventanilla-gob/ventanilla/flows"
)

// FuzzRender feeds arbitrary screens and options: Render must terminate,
// respect the platform limits on every page and agree with Pages.
func FuzzRender(f *testing.F) {
	f.Add("Elija su provincia:", "Azuay|Bolívar|Cañar", "Atrás", "Inicio", 2, 1, 0, false)
	f.Add(strings.Repeat("🙂", 50), "", "", "", 0, 0, 3, true)
	f.Add("\xff\xfe  \t", "\xff|||", "\x00", "\n", 1, 5, 1, false)
	f.Fuzz(func(t *testing.T, body, labels, backLabel, homeLabel string, perPage, cols, maxText int, end bool) {
		if perPage > 100 || cols > 100 || maxText > 10000 {
			t.Skip()
		}
		s := flows.Screen{Text: body, End: end, Nav: flows.Nav{More: more, Prev: back}}
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
		opts := chat.Options{PerPage: perPage, Columns: cols, MaxText: maxText}
		n := chat.Pages(&s, opts)
		if n < 1 || n > len(body)+len(s.Options)+1 {
			t.Fatalf("Pages = %d", n)
		}
		limit := maxText
		if limit <= 0 {
			limit = chat.DefaultMaxText
		}
		for i := range n {
			s.Page = i
			m := chat.Render(&s, opts)
			// One character always goes out, even if larger than the limit.
			if u := len(utf16.Encode([]rune(m.Text))); u > max(limit, 2) {
				t.Fatalf("page %d: %d units", i, u)
			}
			for _, row := range m.Buttons {
				for _, b := range row {
					if b.Data == "" || len(b.Data) > chat.MaxData || b.Label == "" {
						t.Fatalf("page %d: bad button %+v", i, b)
					}
				}
			}
		}
	})
}
