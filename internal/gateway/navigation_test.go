package gateway_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// More on a screen that has no further page shows that screen again with a
// short note: nothing twice, no More offered, and More again does the same
// instead of looping. On the shipped catalogue, over USSD and SMS.
func TestMoreWithoutNextPage(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   func(string) carrier.Inbound
		more string // how the More key shows on this channel
	}{
		{"ussd", func(s string) carrier.Inbound {
			in := at("s", s)
			in.Cumulative = false
			return in
		}, "98. "},
		{"sms", func(s string) carrier.Inbound { return text("sms", s) }, "98 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
			hop(t, g, tc.in("hola"))
			menu := hop(t, g, tc.in("1")).Text
			if !strings.HasPrefix(menu, "Ventanilla ciudadana\n1. Turnos") {
				t.Fatalf("after Español: %q", menu)
			}
			for i := range 3 {
				r := hop(t, g, tc.in("98"))
				if !strings.HasPrefix(r.Text, "No hay más páginas.\nVentanilla ciudadana\n1. Turnos") {
					t.Errorf("98 #%d: want the note above the same screen, got %q", i+1, r.Text)
				}
				seen := map[string]bool{}
				for _, line := range strings.Split(r.Text, "\n") {
					if seen[line] {
						t.Errorf("98 #%d: line %q shown twice in %q", i+1, line, r.Text)
					}
					seen[line] = true
					if strings.HasPrefix(line, tc.more) || strings.Contains(line, " - "+tc.more) {
						t.Errorf("98 #%d: More offered with no next page: %q", i+1, r.Text)
					}
				}
			}
			if r := hop(t, g, tc.in("1")); !strings.HasPrefix(r.Text, "Turnos") {
				t.Errorf("the menu still answers after the note: %q", r.Text)
			}
		})
	}
}

// The offer to resume a dropped conversation pages like any screen on a
// small carrier screen: 98 shows its other options, 0 comes back, and the
// keys where they do not apply give the notes, never "Opción no válida."
// in a loop.
func TestResumeOfferPages(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	dial := func(session, input string) string {
		in := at(session, input)
		in.Cumulative, in.Limit = false, 40
		return hop(t, g, in).Text
	}
	dial("a", "")
	dial("a", "1")
	dial("a", "1") // Turnos; then the call drops
	first := dial("b", "")
	if !strings.HasPrefix(first, "Tiene un trámite sin terminar") || !strings.Contains(first, "\n98. ") {
		t.Fatalf("want the resume offer on several pages at 40 characters, got %q", first)
	}
	pages := []string{first}
	for p := pages[0]; strings.Contains(p, "\n98. "); {
		if len(pages) > 5 {
			t.Fatalf("More never stops: %q", pages)
		}
		p = dial("b", "98")
		pages = append(pages, p)
	}
	all := strings.Join(pages, "\n")
	if strings.Count(all, "1. Continuar") != 1 || strings.Count(all, "2. Empezar de nuevo") != 1 {
		t.Errorf("each option once over the pages of the offer: %q", pages)
	}
	if got := dial("b", "98"); !strings.HasPrefix(got, "No hay más páginas.\nTiene") {
		t.Errorf("98 on the last page of the offer: %q", got)
	}
	if got := dial("b", "0"); !strings.HasPrefix(got, "No hay pantalla anterior.\nTiene") {
		t.Errorf("0 on the first page of the offer: %q", got)
	}
	wrong := dial("b", "7")
	if !strings.HasPrefix(wrong, "Opción no válida.\nTiene") {
		t.Fatalf("a wrong answer to the offer: %q", wrong)
	}
	next := dial("b", "98")
	if back := dial("b", "0"); back != wrong {
		t.Errorf("98 then 0 after a wrong answer: got %q, want %q again", back, wrong)
	}
	if strings.Contains(wrong, "1. Continuar") && strings.Contains(next, "1. Continuar") {
		t.Errorf("option 1 on two pages: %q, %q", wrong, next)
	}
	if got := dial("b", "1"); !strings.HasPrefix(got, "Turnos") {
		t.Errorf("continue after paging the offer: %q", got)
	}
}

// A result kept for the citizen's next contact goes above the first screen;
// on a small screen that screen is paged, and its pages are those of the
// screen with the result: each option once, 0 back to the page before.
func TestKeptResultAboveAPagedScreen(t *testing.T) {
	store := sessions.NewMemory(sessions.MemoryOptions{})
	g := newGateway(t, store)
	ctx := context.Background()
	const phone = "+593991234567"
	if err := store.Set(ctx, keys.Profile(phone), []byte("es"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := (gateway.Pending{Store: store}).Notify(ctx, phone, "es", "Trámite 1002: listo."); err != nil {
		t.Fatal(err)
	}
	dial := func(input string) string {
		in := at("s", input)
		in.Cumulative, in.Limit = false, 60
		return hop(t, g, in).Text
	}
	pages := []string{dial("")}
	if !strings.HasPrefix(pages[0], "Resultado de su consulta anterior:") || !strings.Contains(pages[0], "\n98. ") {
		t.Fatalf("want the kept result above a paged first screen, got %q", pages[0])
	}
	for strings.Contains(pages[len(pages)-1], "\n98. ") {
		if len(pages) > 6 {
			t.Fatalf("More never stops: %q", pages)
		}
		pages = append(pages, dial("98"))
	}
	all := strings.Join(pages, "\n")
	for _, o := range []string{"1. Turnos", "2. Estado de trámite", "3. Quejas y sugerencias", "4. Idioma / Language"} {
		if n := strings.Count(all, o); n != 1 {
			t.Errorf("%q on %d pages: %q", o, n, pages)
		}
	}
	for k := len(pages) - 1; k > 0; k-- {
		if got := dial("0"); got != pages[k-1] {
			t.Fatalf("0 from page %d: got %q, want %q", k+1, got, pages[k-1])
		}
	}
}
