package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/flows"
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
	if flows.EffectsMade(&was) {
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
	if text == "" || in.Phone == "" {
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
		return Pending{Store: g.Store}.Notify(ctx, in.Phone, "", text)
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
