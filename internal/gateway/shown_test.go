package gateway_test

import (
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// Shown hears the screen the reply is laid out from, page included, so a
// simulator can lay the same screen out for another medium.
func TestShownHearsTheScreenOfEachReply(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	var got []flows.Screen
	g.Shown = func(in carrier.Inbound, s flows.Screen) {
		if in.Channel != "ussd" {
			t.Errorf("heard channel %q", in.Channel)
		}
		got = append(got, s)
	}
	for _, input := range []string{"", "1"} {
		got = got[:0]
		r := hop(t, g, carrier.Inbound{Channel: "ussd", Carrier: "studio", SessionID: "s", Phone: "+593991234567", ServiceCode: "*384#", Input: input})
		if len(got) != 1 {
			t.Fatalf("input %q: heard %d screens, want 1", input, len(got))
		}
		if text, _ := ussd.Render(&got[0], ussd.DefaultLimit); text != r.Text {
			t.Errorf("input %q: the screen heard renders as\n%s\nbut the reply is\n%s", input, text, r.Text)
		}
	}
}
