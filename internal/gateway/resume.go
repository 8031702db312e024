package gateway

import (
	"context"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
)

// resumable reports whether a stored conversation is one a citizen can be
// offered to continue: recent enough and mid-trámite — inside a flow the
// root menu led to, or past the first screen of a flow dialled directly.
// A citizen who only reached the root menu just starts again.
func (g *Gateway) resumable(s *conversation.State) bool {
	if s.Ended || s.Channel != "ussd" || len(s.Frames) == 0 {
		return false
	}
	if len(s.Frames) == 1 && (s.Frames[0].Flow == g.Engine.Root || len(s.History) == 0) {
		return false
	}
	if _, closing := s.Vars["$closing"]; closing {
		return false
	}
	if flows.Completed(s) {
		// The trámite is done; only a question after it (a rating) is
		// left, not worth an offer to resume (see askAfterLate).
		return false
	}
	return g.now().Sub(time.UnixMilli(s.Updated)) <= g.resumeWindow()
}

// offerResume asks a citizen who dialled again whether to continue the
// conversation that dropped or to start over.
func (g *Gateway) offerResume(ctx context.Context, st *state, in carrier.Inbound) (carrier.Reply, error) {
	s := &st.s
	s.Conversation, s.Carrier, s.CarrierSeq, s.Trail, s.Page = in.SessionID, in.Carrier, in.Seq, "", 0
	if in.Cumulative {
		s.Trail = in.Input
	}
	s.Vars[resumeVar] = true
	delete(s.Vars, resumeNoteVar)
	delete(s.Vars, resumeStartVar)
	if flow, _ := g.dialled(in); flow != "" {
		// Starting over opens what was dialled this time (an entry's own
		// code), as a fresh dial of it would.
		s.Vars[resumeStartVar] = flow
	}
	s.Updated = g.now().UnixMilli()
	st.info.set(func(i *hopInfo) { i.outcome, i.flow = "resume", flowID(s) })
	return g.save(ctx, st, in, g.resumeScreen(s, ""))
}

func (g *Gateway) resumeScreen(s *conversation.State, prefix string) flows.Screen {
	m := g.Engine.MessagesFor(s)
	text := m.Format(s.Locale, i18n.ResumePrompt, map[string]any{"Flow": g.Engine.Title(s)})
	if prefix != "" {
		text = prefix + "\n" + text
	}
	return flows.Screen{
		Text:   text,
		Locale: s.Locale,
		Retry:  prefix != "",
		Options: []flows.Option{
			{Key: "1", Label: m.Text(s.Locale, i18n.ResumeContinue)},
			{Key: "2", Label: m.Text(s.Locale, i18n.ResumeRestart)},
		},
		Nav: flows.Nav{
			More: flows.Option{Key: g.Engine.Nav.More, Label: m.Text(s.Locale, i18n.NavMore)},
			Prev: flows.Option{Key: g.Engine.Nav.Back, Label: m.Text(s.Locale, i18n.NavBack)},
		},
	}
}

// resumeChoice applies the answer to the resume offer.
func (g *Gateway) resumeChoice(ctx context.Context, st *state, in carrier.Inbound) (carrier.Reply, error) {
	s := &st.s
	text := in.Input
	if in.Cumulative {
		var dup bool
		text, s.Trail, dup = ussd.LatestInput(s.Trail, in.Input)
		if dup {
			note, _ := s.Vars[resumeNoteVar].(string)
			sc := g.resumeScreen(s, note)
			sc.Page = s.Page
			reply, _ := g.render(in, sc)
			return reply, nil
		}
	}
	switch text {
	case "1":
		delete(s.Vars, resumeVar)
		delete(s.Vars, resumeNoteVar)
		delete(s.Vars, resumeStartVar)
		s.Page = 0
		screen, err := g.Engine.Apply(ctx, s, flows.Input{Redisplay: true, Pages: g.pager(in), Confirm: st.confirm, Checkpoint: g.checkpoint(st, in)})
		return g.finish(ctx, st, in, screen, err, s.Vars["language_chosen"] == true)
	case "2":
		flow, _ := s.Vars[resumeStartVar].(string)
		g.abandoned(s)
		// A fresh start on the flow the citizen dialled (the root for the
		// gateway's own code) that has consumed the history so far ("2"),
		// so the next cumulative hop ("2*1") reads as one new answer.
		return g.startWith(ctx, st, in, flow, nil)
	case g.Engine.Nav.More, g.Engine.Nav.Back:
		// The offer pages like a flow's screen, on the layout of the text
		// it was shown with.
		note, _ := s.Vars[resumeNoteVar].(string)
		sc := g.resumeScreen(s, note)
		switch {
		case text == g.Engine.Nav.More && s.Page+1 < g.pager(in)(&sc):
			s.Page++
		case text == g.Engine.Nav.Back && s.Page > 0:
			s.Page--
		case text == g.Engine.Nav.More:
			return g.resumeNote(ctx, st, in, i18n.NavNoMore)
		default:
			return g.resumeNote(ctx, st, in, i18n.NavNoBack)
		}
		sc.Page = s.Page
		return g.save(ctx, st, in, sc)
	}
	return g.resumeNote(ctx, st, in, i18n.InvalidOption)
}

// Variables of the resume offer: the note it was last shown under, and
// the flow the code dialled opens, which starting over begins ("" for the
// root).
const (
	resumeNoteVar  = "$resume_note"
	resumeStartVar = "$resume_start"
)

// resumeNote shows the offer again from its first page, under a note.
func (g *Gateway) resumeNote(ctx context.Context, st *state, in carrier.Inbound, id string) (carrier.Reply, error) {
	s := &st.s
	note := g.Engine.MessagesFor(s).Text(s.Locale, id)
	s.Vars[resumeNoteVar], s.Page = note, 0
	return g.save(ctx, st, in, g.resumeScreen(s, note))
}

// closed records that the carrier closed a session. The conversation is
// kept: a citizen whose session dropped can dial again and continue.
func (g *Gateway) closed(ctx context.Context, st *state, in carrier.Inbound) error {
	flow := ""
	if st.found {
		flow = flowOf(&st.s)
	}
	g.logger().Info("carrier closed the session", "carrier", in.Carrier, "status", in.EndStatus, "flow", flow)
	st.info.set(func(i *hopInfo) { i.outcome, i.flow = "closed", flowID(&st.s) })
	g.note(st.info, &st.s)
	if !st.found || st.s.Conversation != in.SessionID || st.s.Carrier != in.Carrier {
		return nil
	}
	g.abandoned(&st.s)
	// Late retries of the closed session now count as a new dial.
	st.s.Conversation = ""
	return g.put(ctx, st, in)
}

// resumeWindow is how long a dropped USSD conversation can be resumed.
func (g *Gateway) resumeWindow() time.Duration {
	if g.ResumeWindow > 0 {
		return g.ResumeWindow
	}
	return 5 * time.Minute
}
