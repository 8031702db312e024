package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/ventanilla-gob/ventanilla/conversation"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// start begins a new conversation, applying the answers a dialled shortcut
// carries (*384*1*2# answers 1 then 2) until one is not accepted.
func (g *Gateway) start(ctx context.Context, st *state, in carrier.Inbound) (carrier.Reply, error) {
	flow, answers := g.dialled(in)
	if in.Cumulative && in.Input != "" {
		// Some operators deliver *384*1*2# as *384# with the text "1*2".
		_, more := ussd.Dialled("*0*"+in.Input+"#", nil)
		answers = append(answers, more...)
	}
	return g.startWith(ctx, st, in, flow, answers)
}

// startWith begins a conversation on flow ("" is the root) and applies
// answers in turn until one is not accepted.
func (g *Gateway) startWith(ctx context.Context, st *state, in carrier.Inbound, flow string, answers []string) (carrier.Reply, error) {
	return g.begin(ctx, st, in, flow, answers, start{})
}

// start is what a conversation starts with besides its flow and answers:
// the variables and language of a question's answer (see Questions).
type start struct {
	vars         map[string]any
	locale       string // "" or one without system messages: the citizen's
	conversation string // the id in its calls' idempotency keys (flows.Input.Conversation)
}

func (g *Gateway) begin(ctx context.Context, st *state, in carrier.Inbound, flow string, answers []string, with start) (carrier.Reply, error) {
	// What a first hop writes is the carrier's until the citizen answers:
	// under a flood the memory store drops the oldest of it first.
	ctx = sessions.WithOrigin(ctx, in.Carrier)
	st.s = conversation.State{Key: st.key, Phone: in.Phone, Channel: in.Channel, Carrier: in.Carrier, Conversation: in.SessionID, CarrierSeq: in.Seq}
	var chosen bool
	var pending []byte
	var err error
	who := keptFor(in)
	st.s.Locale, chosen, pending, err = g.citizen(ctx, in.Phone, who)
	if err != nil {
		g.logger().Error("citizen's profile unreadable; conversation not started", "carrier", in.Carrier, "kind", errorKind(err), "err", err)
		return g.failure(g.defaultLocale(), i18n.ServiceUnavail), err
	}
	if with.locale != "" && g.Engine.Messages.Has(with.locale, i18n.LanguageName) {
		st.s.Locale = with.locale
	}
	st.info.set(func(i *hopInfo) { i.locale = st.s.Locale })
	g.savePreference(ctx, in)
	if in.Cumulative {
		st.s.Trail = in.Input
	}
	vars := startVars(in, chosen)
	for k, v := range with.vars {
		vars[k] = v
	}
	input := flows.Input{Start: flow, Vars: vars, Conversation: with.conversation, Pages: g.pager(in), Confirm: st.confirm, Checkpoint: g.checkpoint(st, in)}
	screen, err := g.Engine.Apply(ctx, &st.s, input)
	if err == nil {
		err = g.showPending(ctx, st, who, pending, &screen)
	}
	for _, a := range answers {
		if err != nil || screen.End || screen.Retry {
			break
		}
		screen, err = g.Engine.Apply(ctx, &st.s, flows.Input{Text: a, Pages: g.pager(in), Confirm: st.confirm, Checkpoint: g.checkpoint(st, in)})
	}
	return g.finish(ctx, st, in, screen, err, chosen)
}

// showPending puts a result kept for the citizen who (see Pending,
// keptFor) above the first screen of a new conversation, once. Its only
// error is a stale session copy (sessions.ErrConflict): the hop must run
// again.
func (g *Gateway) showPending(ctx context.Context, st *state, who string, pending []byte, screen *flows.Screen) error {
	s := &st.s
	if len(pending) == 0 {
		return nil
	}
	if st.confirm != nil {
		if err := st.confirm(ctx); errors.Is(err, sessions.ErrConflict) {
			return err
		}
	}
	if err := g.Store.Delete(ctx, keys.Pending(who)); err != nil {
		g.storeError("forgetting a result kept for the citizen", err)
		return nil // shown only once it can be forgotten: never twice
	}
	flows.Above(s, screen, g.Engine.MessagesFor(s).Text(s.Locale, i18n.AsyncResult)+"\n"+string(pending))
	return nil
}

// answer applies the citizen's answer in a running conversation.
func (g *Gateway) answer(ctx context.Context, st *state, in carrier.Inbound) (carrier.Reply, error) {
	s := &st.s
	input := flows.Input{Text: in.Input, Pages: g.pager(in), Confirm: st.confirm, Checkpoint: g.checkpoint(st, in)}
	if in.Cumulative {
		text, trail, dup := ussd.LatestInput(s.Trail, in.Input)
		s.Trail = trail
		input.Text = text
		input.Redisplay = dup
	}
	if in.Seq != 0 {
		input.Redisplay = input.Redisplay || in.Seq == s.CarrierSeq
		s.CarrierSeq = in.Seq
	}
	// A first hop of the running conversation is the carrier retrying it.
	input.Redisplay = input.Redisplay || in.Event == carrier.EventBegin
	chosen := s.Vars["language_chosen"] == true
	screen, err := g.Engine.Apply(ctx, s, input)
	if err == nil && input.Redisplay {
		// A retried hop changed nothing worth a write; skipping it also
		// keeps a burst of retries from fighting over the revision.
		reply, _ := g.render(in, screen)
		return reply, nil
	}
	return g.finish(ctx, st, in, screen, err, chosen)
}

// finishCall serves a hop on a conversation stored during a back-end call
// (flows.CallPending): the hop that made it did not store what came of
// it — it was cut off, its instance died, the store failed. The call is
// made again with the same idempotency key, so the back-end answers as
// it did the first time and does nothing twice, and the conversation goes
// on from its result: for the carrier's retry, the screen it was waiting
// for; for a citizen who came back, that result under a note that the
// request had been sent before. What the hop brings is not an answer to
// anything yet and is not applied.
func (g *Gateway) finishCall(ctx context.Context, st *state, in carrier.Inbound) (carrier.Reply, error) {
	s := &st.s
	back := s.Conversation != in.SessionID || s.Carrier != in.Carrier || in.Event == carrier.EventBegin && in.BeginIsNew ||
		in.Channel != "ussd" && in.Seq != s.CarrierSeq // a new message, not the retry of the last one
	if back {
		s.Conversation, s.Carrier, s.Trail, s.Page = in.SessionID, in.Carrier, "", 0
		delete(s.Vars, resumeVar)
		delete(s.Vars, resumeNoteVar)
		delete(s.Vars, resumeStartVar)
	}
	if in.Cumulative {
		s.Trail = in.Input
	}
	s.CarrierSeq = in.Seq
	chosen := s.Vars["language_chosen"] == true
	screen, err := g.Engine.Apply(ctx, s, flows.Input{Resume: back, Pages: g.pager(in), Confirm: st.confirm, Checkpoint: g.checkpoint(st, in)})
	return g.finish(ctx, st, in, screen, err, chosen)
}

// flowID is the id of the flow a session is in, for metrics labels.
func flowID(s *conversation.State) string {
	if f := s.Current(); f != nil {
		return f.Flow
	}
	return ""
}

func flowOf(s *conversation.State) string {
	if f := s.Current(); f != nil {
		return fmt.Sprintf("%s@%d", f.Flow, f.Version)
	}
	return ""
}

// startVars are the variables a conversation starts with: besides phone,
// channel and locale (the engine's), the carrier and, on chat platforms,
// the chat — what a package's draft entries are shown to testers by.
func startVars(in carrier.Inbound, chosen bool) map[string]any {
	vars := map[string]any{"language_chosen": chosen, "carrier": in.Carrier}
	if in.Channel == "chat" {
		vars["chat"] = in.SessionID
	}
	return vars
}
