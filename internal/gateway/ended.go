package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// over reports whether s is the record an ended conversation leaves
// behind (see ended), not a conversation that goes on.
func over(s *conversation.State) bool {
	_, ok := s.Vars[replyVar]
	return s.Ended && ok
}

// repeated reports whether in is the carrier repeating the request that
// ended the conversation s records: the same carrier session and, where
// the protocol numbers requests (Hubtel's Sequence, a message's id, a
// Telegram update), the same number. An ended USSD session cannot be
// answered any more, so any other request of it is a repeat too. A text
// without a message id cannot be told from a new one, and a begin of a
// carrier whose session ids repeat is a new dial.
func repeated(s *conversation.State, in carrier.Inbound) bool {
	if in.Carrier != s.Carrier || in.SessionID != s.Conversation {
		return false
	}
	if in.Seq != 0 {
		return in.Seq == s.CarrierSeq
	}
	if in.Channel != "ussd" || in.SessionID == "" {
		return false
	}
	return !(in.Event == carrier.EventBegin && in.BeginIsNew)
}

// end replaces an ended conversation with the record of its last reply,
// kept for the conversation's TTL: a carrier that repeats the last
// request (it timed out, it retries) gets the same reply and nothing runs
// twice, on whichever instance it lands. The record keeps no answers, no
// variables and no place in a flow, so an ended conversation can never be
// resumed. A write that fails leaves the conversation to expire; the
// citizen still gets the reply.
func (g *Gateway) end(ctx context.Context, st *state, in carrier.Inbound, reply carrier.Reply) (carrier.Reply, error) {
	was := st.s
	if flows.EffectsMade(&was) && !flows.Completed(&was) {
		// A trámite completed at a question showed its result above it,
		// and that hop kept it (save): what ends the conversation now is
		// the answer to the question.
		st.info.set(func(i *hopInfo) { i.result = reply.Text })
	}
	st.s = conversation.State{
		Key: st.key, Phone: was.Phone, Channel: in.Channel, Carrier: in.Carrier, Locale: was.Locale,
		Conversation: in.SessionID, CarrierSeq: in.Seq, Started: was.Started, Updated: g.now().UnixMilli(),
		Ended: true, Vars: map[string]any{replyVar: reply.Text},
	}
	if err := g.put(ctx, st, in); err != nil {
		if errors.Is(err, sessions.ErrConflict) {
			return carrier.Reply{}, err
		}
		g.logger().Warn("ended conversation not recorded; it will expire", "carrier", in.Carrier, "err", err)
	}
	g.settled(ctx, &was)
	return reply, nil
}

// keepResult keeps, for the citizen's next contact (see Pending), the
// result of a conversation that made a back-end call with effects and
// ended in a hop whose reply comes too late: the citizen was told to try
// again, and would not otherwise learn that the turno was booked. The
// store may be what made the hop late, so the write is tried again, in
// the background, for as long as a citizen may dial back to resume.
func (g *Gateway) keepResult(in carrier.Inbound, info *hopInfo) {
	info.mu.Lock()
	text := info.result
	info.mu.Unlock()
	who := keptFor(in)
	if text == "" || who == "" {
		return
	}
	keep := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), g.budget())
		defer cancel()
		// When the writes of the hop were lost, the conversation still
		// waits for the call, and the next contact finishes it and shows
		// the result: keeping it as well would show it twice.
		rec, err := g.Store.Get(ctx, Key(in))
		var s conversation.State
		if err == nil && s.UnmarshalBinary(rec.Data) == nil && flows.CallPending(&s) {
			return nil
		}
		if err != nil && !errors.Is(err, sessions.ErrNotFound) {
			return err
		}
		return Pending{Store: g.Store}.Notify(ctx, who, "", text)
	}
	if keep() == nil {
		return
	}
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for give := time.Now().Add(g.resumeWindow()); time.Now().Before(give); {
			<-tick.C
			if keep() == nil {
				return
			}
		}
		g.logger().Warn("result of a late hop not kept for the next contact", "carrier", in.Carrier)
	}()
}

// maxChatID bounds the chat ids a result is kept for: Telegram's are
// at most 20 characters.
const maxChatID = 64

// keptFor is who a result kept for the next contact (Pending) is kept
// for: the citizen's number, or, on a chat that shared none, the chat
// ("telegram:4242"), which is who the citizen is there. "" when neither:
// a USSD session without a number is over once it is.
func keptFor(in carrier.Inbound) string {
	switch {
	case in.Phone != "":
		return in.Phone
	case in.Channel == "chat" && in.Carrier != "" && in.SessionID != "" && len(in.SessionID) <= maxChatID:
		return in.Carrier + ":" + in.SessionID
	}
	return ""
}

// askAfterLate serves a citizen who dials again, or texts again, after
// the hop that showed a trámite's result above a question (a rating) came
// too late: they were told to try again, and the result was kept for them
// (keepResult). They get the result first, under the heading of any kept
// result, then the question they did not see; what they typed is not an
// answer to it. ok is false when that is not the case (the citizen saw
// the question: a USSD caller who left it starts anew, a text answers it).
// On USSD the offer lasts the resume window; a text conversation, as long
// as it is kept.
func (g *Gateway) askAfterLate(ctx context.Context, st *state, in carrier.Inbound) (carrier.Reply, bool, error) {
	s := &st.s
	notice := flows.Notice(s)
	who := keptFor(in)
	if s.Ended || !flows.Completed(s) || notice == "" || who == "" {
		return carrier.Reply{}, false, nil
	}
	if in.Channel == "ussd" && g.now().Sub(time.UnixMilli(s.Updated)) > g.resumeWindow() {
		return carrier.Reply{}, false, nil
	}
	kept, err := g.Store.Get(ctx, keys.Pending(who))
	if err != nil || string(kept.Data) != notice {
		return carrier.Reply{}, false, nil
	}
	if st.confirm != nil {
		if err := st.confirm(ctx); errors.Is(err, sessions.ErrConflict) {
			return carrier.Reply{}, true, err
		}
	}
	if err := g.Store.Delete(ctx, keys.Pending(who)); err != nil {
		g.storeError("forgetting a result kept for the citizen", err)
		return carrier.Reply{}, false, nil // shown only once it can be forgotten: never twice
	}
	s.Conversation, s.Carrier, s.CarrierSeq, s.Trail, s.Page = in.SessionID, in.Carrier, in.Seq, "", 0
	if in.Cumulative {
		s.Trail = in.Input
	}
	chosen := s.Vars["language_chosen"] == true
	screen, err := g.Engine.Apply(ctx, s, flows.Input{Redisplay: true, Pages: g.pager(in), Confirm: st.confirm, Checkpoint: g.checkpoint(st, in)})
	if err == nil {
		flows.Above(s, &screen, g.Engine.MessagesFor(s).Text(s.Locale, i18n.AsyncResult))
	}
	r, err := g.finish(ctx, st, in, screen, err, chosen)
	return r, true, err
}
