package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
)

// replyCallbacks tells an institution that a citizen answered its
// reminder or notification, and what the answer came to, through the
// institution's callback. The event is stored on the hop, before the
// citizen is answered (one write to the callbacks' store); the attempts
// to reach the institution are the pusher's, off the hop.
type replyCallbacks struct{ a *app }

var _ gateway.Answers = replyCallbacks{}

// pushTimeout bounds the write of a reply's event. It outlasts the hop's
// budget: the answer is taken already, and its event must be kept even
// by a hop that overran.
const pushTimeout = 5 * time.Second

func (h replyCallbacks) Answered(ctx context.Context, q gateway.Question, a gateway.Answer) {
	h.push(ctx, q, callbacks.TypeReply, a.At, callbacks.Reply{
		Kind: q.Kind, QuestionID: q.ID, BookingKey: q.Key,
		Text: clip(a.Text, callbacks.MaxReplyText), Channel: a.Channel, Received: a.At.UTC(),
	})
}

func (h replyCallbacks) Settled(ctx context.Context, q gateway.Question, outcome string) {
	h.push(ctx, q, callbacks.TypeReplyOutcome, time.Time{}, callbacks.ReplyOutcome{Kind: q.Kind, QuestionID: q.ID, BookingKey: q.Key, Outcome: outcome})
}

func (h replyCallbacks) push(ctx context.Context, q gateway.Question, typ string, at time.Time, data any) {
	p := h.a.outbound
	if p == nil || p.callbacks == nil || q.Institution == "" {
		return
	}
	body, err := json.Marshal(data)
	if err != nil {
		return
	}
	ev := callbacks.Event{ID: replyEventID(typ, q), Type: typ, Created: at, Data: body}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pushTimeout)
	defer cancel()
	if err := p.callbacks.Push(ctx, q.Institution, ev); err != nil && !errors.Is(err, callbacks.ErrNoEndpoint) {
		h.a.log.Error("a citizen's reply not pushed to its institution", "institution", q.Institution, "question", q.ID, "event_id", ev.ID, "err", err)
	}
}

// replyEventID is the same for every report of one answer to one
// question (a question asked again is another), so that the institution
// can dedupe.
func replyEventID(typ string, q gateway.Question) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d", typ, q.Kind, q.ID, q.Asked))
	return "evt_" + hex.EncodeToString(sum[:16])
}

// clip keeps the first n characters of s.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
