package studio

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/flows"
)

// More and Back on the chat page through the chat's own keyboard pages;
// they are not answers, so the conversation (and the feature phone) stays
// where it is. Past the last page, More is an answer like any other.
func TestChatPagesItsOwnKeyboard(t *testing.T) {
	f := newFixture(t, false)
	f.send(t, PhoneUSSD, "")
	c := f.conv
	c.mu.Lock()
	s := flows.Screen{Text: "Elija:", Nav: flows.Nav{
		More: flows.Option{Key: "98", Label: "Más"}, Prev: flows.Option{Key: "0", Label: "Atrás"},
	}}
	for i := 1; i <= 12; i++ {
		s.Options = append(s.Options, flows.Option{Key: fmt.Sprint(i), Label: fmt.Sprintf("Oficina %d", i)})
	}
	c.screen = s
	turns, ussd := len(c.turns), c.ussdText
	c.mu.Unlock()

	page := f.send(t, PhoneChat, "98")
	if !strings.Contains(page, `value="9" class="chat-button">Oficina 9</button>`) || strings.Contains(page, ">Oficina 1</button>") {
		t.Errorf("More did not show the chat's second page of buttons")
	}
	c.mu.Lock()
	if len(c.turns) != turns || c.ussdText != ussd {
		t.Errorf("paging the chat moved the conversation: %d hops (was %d)", len(c.turns), turns)
	}
	c.mu.Unlock()
	page = f.send(t, PhoneChat, "0")
	if !strings.Contains(page, ">Oficina 1</button>") {
		t.Errorf("Back did not show the chat's first page again")
	}
	f.send(t, PhoneChat, "98")
	f.send(t, PhoneChat, "98") // past the last page: an answer
	c.mu.Lock()
	if len(c.turns) != turns+1 {
		t.Errorf("More past the last page: %d hops, want %d", len(c.turns), turns+1)
	}
	c.mu.Unlock()
}
