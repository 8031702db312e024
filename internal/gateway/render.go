package gateway

import (
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/chat"
	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
)

func (g *Gateway) limit(in carrier.Inbound) int {
	if in.Limit > 0 {
		return in.Limit
	}
	return ussd.DefaultLimit
}

// pager tells the engine how many pages a screen takes on the hop's channel.
func (g *Gateway) pager(in carrier.Inbound) func(*flows.Screen) int {
	switch in.Channel {
	case "sms":
		opts := g.SMS
		return func(s *flows.Screen) int { return sms.Pages(s, opts) }
	case "chat":
		opts := g.Chat
		return func(s *flows.Screen) int { return chat.Pages(s, opts) }
	}
	limit := g.limit(in)
	return func(s *flows.Screen) int { return ussd.Pages(s, limit) }
}

// render lays the screen out for the channel and reports whether the page
// shown is its last: a final screen ends the conversation only there.
func (g *Gateway) render(in carrier.Inbound, s flows.Screen) (carrier.Reply, bool) {
	if g.Shown != nil {
		g.Shown(in, s)
	}
	var text string
	var pages int
	switch in.Channel {
	case "sms":
		text, pages = sms.Render(&s, g.SMS), sms.Pages(&s, g.SMS)
	case "chat":
		m := chat.Render(&s, g.Chat)
		pages = chat.Pages(&s, g.Chat)
		last := s.Page >= pages-1
		r := carrier.Reply{Text: m.Text, End: s.End && last}
		for _, row := range m.Buttons {
			out := make([]carrier.Button, len(row))
			for i, b := range row {
				out[i] = carrier.Button{Label: b.Label, Data: b.Data}
			}
			r.Buttons = append(r.Buttons, out)
		}
		return r, last
	default:
		text, pages = ussd.Render(&s, g.limit(in))
	}
	last := s.Page >= pages-1
	return carrier.Reply{Text: text, End: s.End && last}, last
}

func (g *Gateway) failure(locale, id string) carrier.Reply {
	return carrier.Reply{Text: g.Engine.Messages.Text(locale, id), End: true}
}

// failureIn is failure in the words of the flow conversation s is in:
// its institution's, where it has its own.
func (g *Gateway) failureIn(s *conversation.State, id string) carrier.Reply {
	return carrier.Reply{Text: g.Engine.MessagesFor(s).Text(s.Locale, id), End: true}
}
