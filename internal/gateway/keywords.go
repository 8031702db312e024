package gateway

import (
	"context"
	"strings"

	"github.com/ventanilla-gob/ventanilla/conversation"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/i18n"
)

// Keyword is what a keyword does: open a flow, or stop the conversation.
type Keyword struct {
	Flow string // flow to open; "" with Stop
	Stop bool   // end the conversation ("SALIR", "STOP")
}

// keyword recognises a keyword at the start of an SMS or chat message.
func (g *Gateway) keyword(in carrier.Inbound) (Keyword, []string, bool) {
	keywords := g.keywords()
	if in.Channel == "ussd" || len(keywords) == 0 {
		return Keyword{}, nil, false
	}
	words := strings.Fields(in.Input)
	if len(words) == 0 {
		return Keyword{}, nil, false
	}
	kw, ok := keywords[NormalizeKeyword(words[0])]
	if !ok || (kw.Flow != "" && g.Hidden != nil && g.Hidden(kw.Flow, in)) {
		return Keyword{}, nil, false
	}
	args := words[1:]
	if len(args) > ussd.MaxShortcut {
		args = args[:ussd.MaxShortcut]
	}
	return kw, args, true
}

// NormalizeKeyword is the form keywords are matched in: upper case, no
// accents, so "Ayúda", "ayuda" and "AYUDA" are one keyword.
func NormalizeKeyword(w string) string {
	w = strings.ToUpper(strings.TrimSpace(w))
	return strings.Map(func(r rune) rune {
		switch r {
		case 'Á', 'À', 'Ä':
			return 'A'
		case 'É', 'È', 'Ë':
			return 'E'
		case 'Í', 'Ì', 'Ï':
			return 'I'
		case 'Ó', 'Ò', 'Ö':
			return 'O'
		case 'Ú', 'Ù', 'Ü':
			return 'U'
		}
		return r
	}, w)
}

// byKeyword starts the keyword's flow with its arguments as answers, or
// ends the conversation for a stop keyword.
func (g *Gateway) byKeyword(ctx context.Context, st *state, in carrier.Inbound, kw Keyword, args []string) (carrier.Reply, error) {
	if st.found {
		g.abandoned(&st.s)
	}
	if kw.Stop {
		locale, m := g.defaultLocale(), g.Engine.Messages
		if st.found {
			locale, m = st.s.Locale, g.Engine.MessagesFor(&st.s)
			if err := g.conversations().Delete(ctx, st.key); err != nil {
				g.logger().Warn("stopped conversation not deleted; it will expire", "err", err)
			}
		} else {
			var s conversation.State
			s.Phone = in.Phone
			g.loadLocale(ctx, &s)
			locale = s.Locale
		}
		st.info.set(func(i *hopInfo) { i.outcome = "end" })
		return carrier.Reply{Text: m.Text(locale, i18n.Goodbye), End: true}, nil
	}
	return g.startWith(ctx, st, in, kw.Flow, args)
}
