package channels_test

import (
	"strings"
	"testing"

	"ventanilla/channels"
	"ventanilla/sessions"
)

// More on a screen that has no further page shows that screen again with a
// short note: nothing twice, no More offered, and More again does the same
// instead of looping. On the shipped catalogue, over USSD and SMS.
func TestMoreWithoutNextPage(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   func(string) channels.Inbound
		more string // how the More key shows on this channel
	}{
		{"ussd", func(s string) channels.Inbound {
			in := at("s", s)
			in.Cumulative = false
			return in
		}, "98. "},
		{"sms", func(s string) channels.Inbound { return text("sms", s) }, "98 "},
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
