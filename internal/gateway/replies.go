package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/keys"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// Question is a message the gateway sent a citizen on its own — a
// reminder's "1 confirmar, 2 anular", a notification that asks — whose
// answer runs a flow. It names no one: it is kept under the citizen's
// number (keys.Question) and holds what the answer needs.
type Question struct {
	// ID is the reminder's or the notification's id; Kind says which
	// ("reminder", "notification").
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Key is the booking's key of a reminder (reminders.Reminder.Key).
	Key string `json:"key,omitempty"`
	// Flow is the flow the answer runs, started with Vars and the answer
	// in the variable "reply".
	Flow string            `json:"flow"`
	Vars map[string]string `json:"vars,omitempty"`
	// Institution sent it; Origin is the flow that scheduled it (a
	// reminder's), for the indicators.
	Institution string `json:"institution,omitempty"`
	Origin      string `json:"origin,omitempty"`
	// Locale is the language it was written in: the reply flow speaks it.
	Locale string `json:"locale,omitempty"`
	// Channel and Carrier are what it went out on.
	Channel string `json:"channel,omitempty"`
	Carrier string `json:"carrier,omitempty"`
	// Asked is when it was handed over, and Until when an answer stops
	// counting, in unix milliseconds.
	Asked int64 `json:"asked"`
	Until int64 `json:"until"`
	// Answered: an answer was taken; a second one is not. Settled is
	// what it came to, once told (Answers.Settled).
	Answered bool   `json:"answered,omitempty"`
	Settled  string `json:"settled,omitempty"`
}

// Answer is a citizen's message that answered a Question.
type Answer struct {
	Text             string
	Channel, Carrier string
	At               time.Time
}

// Answers hears the answers to the questions the gateway asked (see
// Questions): the indicators count them, the institution is told.
// Calls happen on the hop, under its context, before the citizen is
// answered: what they keep is kept when they return (a push to the
// institution is stored, not started off the hop), so a process that
// dies after answering loses none. They must be quick: one store write.
type Answers interface {
	// Answered: a citizen's message answered q, and q's flow starts.
	// Once per question, whatever carriers and instances repeat.
	Answered(ctx context.Context, q Question, a Answer)
	// Settled: q's flow ended at an end step that says what the answer
	// came to (flows.ReminderConfirmed, flows.ReminderCancelled).
	Settled(ctx context.Context, q Question, outcome string)
}

// Questions keeps, per number, the last question the gateway asked on
// its own, in the session store, so that the answer finds it on
// whichever instance it lands.
type Questions struct {
	Store sessions.Store
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (qs Questions) now() time.Time {
	if qs.Now != nil {
		return qs.Now()
	}
	return time.Now()
}

// Ask records that phone's answer to q runs q.Flow until until; a newer
// question replaces an older one: the answer is to the last question
// asked, as in a conversation. Asking again the question recorded (a
// reminder handed over again after a crash) leaves it as it is, so that
// one already answered is not asked anew. A question whose time is
// over is not recorded.
func (qs Questions) Ask(ctx context.Context, phone string, q Question, until time.Time) error {
	now := qs.now()
	ttl := until.Sub(now)
	if phone == "" || ttl <= 0 {
		return nil
	}
	key := keys.Question(phone)
	rec, err := qs.Store.Get(ctx, key)
	switch {
	case errors.Is(err, sessions.ErrNotFound):
	case err != nil:
		return fmt.Errorf("reading the question kept for the citizen: %w", err)
	default:
		var had Question
		if json.Unmarshal(rec.Data, &had) == nil && had.ID == q.ID && had.Kind == q.Kind {
			return nil
		}
	}
	q.Asked, q.Until, q.Answered = now.UnixMilli(), until.UnixMilli(), false
	data, err := json.Marshal(q)
	if err != nil {
		return err
	}
	if err := qs.Store.Set(ctx, key, data, ttl); err != nil {
		return fmt.Errorf("keeping the question for the citizen: %w", err)
	}
	return nil
}

// waiting returns the question phone has not answered yet, with the
// revision it was read at.
func (qs Questions) waiting(ctx context.Context, phone string) (Question, uint64, bool, error) {
	rec, err := qs.Store.Get(ctx, keys.Question(phone))
	if errors.Is(err, sessions.ErrNotFound) {
		return Question{}, 0, false, nil
	}
	if err != nil {
		return Question{}, 0, false, err
	}
	q, ok := qs.waitingIn(rec)
	return q, rec.Rev, ok, nil
}

// waitingIn returns the question rec holds, if it waits for an answer.
func (qs Questions) waitingIn(rec sessions.Record) (Question, bool) {
	if rec.Rev == 0 {
		return Question{}, false
	}
	var q Question
	if err := json.Unmarshal(rec.Data, &q); err != nil || q.Answered || q.Flow == "" || q.Until <= qs.now().UnixMilli() {
		return Question{}, false
	}
	return q, true
}

// take marks q answered, if it still is the question read at rev: of
// two hops that read it, one takes it. It returns the record it wrote.
func (qs Questions) take(ctx context.Context, phone string, q Question, rev uint64) (sessions.Record, bool, error) {
	ttl := time.UnixMilli(q.Until).Sub(qs.now())
	if ttl <= 0 {
		return sessions.Record{}, false, nil
	}
	q.Answered = true
	data, err := json.Marshal(q)
	if err != nil {
		return sessions.Record{}, false, err
	}
	next, err := qs.Store.Put(ctx, keys.Question(phone), data, rev, ttl)
	switch {
	case err == nil:
		return sessions.Record{Data: data, Rev: next}, true, nil
	case errors.Is(err, sessions.ErrConflict):
		return sessions.Record{}, false, nil
	}
	return sessions.Record{}, false, err
}

// questionVar keeps, in a conversation a question's answer started, the
// question, for what its end comes to (Answers.Settled).
const questionVar = "$question"

// ReplyVar is the variable a reply flow finds the citizen's answer in.
const ReplyVar = "reply"

// question returns the question a text message answers, taken for this
// hop: the number has one waiting, and it was asked after the last
// screen of the conversation in progress, if any — the answer is to the
// last thing the citizen was asked. A hop run again after losing a race
// for its session keeps the question it took.
func (g *Gateway) question(ctx context.Context, st *state, in carrier.Inbound) (Question, bool, error) {
	st.info.mu.Lock()
	taken := st.info.question
	st.info.mu.Unlock()
	if taken != nil {
		// Run again: unless the conversation stored now is the one the
		// question started (another hop carried it on), it starts again.
		if st.found && !st.s.Ended && answering(&st.s, *taken) {
			return Question{}, false, nil
		}
		return *taken, true, nil
	}
	if !g.asks(in) {
		return Question{}, false, nil
	}
	var q Question
	var rev uint64
	var ok bool
	if st.questionRead {
		q, ok = g.Questions.waitingIn(st.question)
		rev = st.question.Rev
	} else {
		var err error
		if q, rev, ok, err = g.Questions.waiting(ctx, in.Phone); err != nil {
			g.storeError("reading the question kept for the citizen", err)
			return Question{}, false, nil
		}
	}
	if !ok {
		return Question{}, false, nil
	}
	inProgress := st.found && !st.s.Ended
	if inProgress && st.s.Updated > q.Asked {
		return Question{}, false, nil
	}
	if st.question.Local && st.confirm != nil {
		// Read from this instance's copy, which may be stale, and taking
		// the question cannot be run again: confirm the copy first.
		if err := st.confirm(ctx); errors.Is(err, sessions.ErrConflict) {
			return Question{}, false, err
		} else if err != nil {
			g.storeError("reading the question kept for the citizen", err)
			return Question{}, false, nil
		}
	}
	rec, won, err := g.Questions.take(ctx, in.Phone, q, rev)
	if err != nil {
		g.storeError("taking the answer to a question", err)
		return Question{}, false, nil
	}
	if !won {
		return Question{}, false, nil // another hop answered it
	}
	if st.questionRead {
		st.question = rec
	}
	st.info.set(func(i *hopInfo) { i.question = &q })
	a := Answer{Text: strings.TrimSpace(in.Input), Channel: in.Channel, Carrier: in.Carrier, At: g.now()}
	for _, h := range g.Answers {
		h.Answered(ctx, q, a)
	}
	return q, true, nil
}

// asks reports whether in may answer a question the gateway asked: a
// text with something in it, from a number, when questions are kept.
func (g *Gateway) asks(in carrier.Inbound) bool {
	return g.Questions != nil && in.Phone != "" && in.Channel != "ussd" && strings.TrimSpace(in.Input) != ""
}

// answering reports whether s is a conversation q's answer started.
func answering(s *conversation.State, q Question) bool {
	raw, ok := s.Vars[questionVar].(string)
	if !ok {
		return false
	}
	var had Question
	return json.Unmarshal([]byte(raw), &had) == nil && had.ID == q.ID && had.Kind == q.Kind && had.Asked == q.Asked
}

// answerQuestion starts q's flow with its variables and the answer, in
// the question's language; the conversation in progress, if any, is
// left for it, as a keyword leaves it.
func (g *Gateway) answerQuestion(ctx context.Context, st *state, in carrier.Inbound, q Question) (carrier.Reply, error) {
	if st.found {
		g.abandoned(&st.s)
	}
	vars := make(map[string]any, len(q.Vars)+2)
	for k, v := range q.Vars {
		vars[k] = v
	}
	vars[ReplyVar] = strings.TrimSpace(in.Input)
	data, err := json.Marshal(q)
	if err != nil {
		return g.failure(g.defaultLocale(), i18n.TryAgain), err
	}
	vars[questionVar] = string(data)
	// Every run of the flow for this question calls the back-end under
	// the same idempotency keys: a hop run again after a lost race, or
	// the same message on another instance, cancels a turno once.
	conv := "question\x00" + q.Kind + "\x00" + q.ID + "\x00" + strconv.FormatInt(q.Asked, 10)
	return g.begin(ctx, st, in, q.Flow, nil, start{vars: vars, locale: q.Locale, conversation: conv})
}

// settled tells the Answers what the conversation s, which ends, came
// to, when an answer to a question started it and its end step says.
// The question's record says it once: two runs of the flow (a hop run
// again after a lost race) count as one.
func (g *Gateway) settled(ctx context.Context, s *conversation.State) {
	raw, ok := s.Vars[questionVar].(string)
	outcome := flows.ReminderOutcome(s)
	if !ok || outcome == "" || len(g.Answers) == 0 || g.Questions == nil {
		return
	}
	var q Question
	if json.Unmarshal([]byte(raw), &q) != nil {
		return
	}
	first, err := g.Questions.settle(ctx, s.Phone, q, outcome)
	if err != nil {
		g.storeError("recording what an answer came to", err)
		return
	}
	if !first {
		return
	}
	for _, h := range g.Answers {
		h.Settled(ctx, q, outcome)
	}
}

// settle records what the answer to q came to, and reports whether it
// is the first to: false when it was recorded before, or the record is
// gone (its time is over, a newer question replaced it).
func (qs Questions) settle(ctx context.Context, phone string, q Question, outcome string) (bool, error) {
	key := keys.Question(phone)
	rec, err := qs.Store.Get(ctx, key)
	if errors.Is(err, sessions.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var had Question
	if json.Unmarshal(rec.Data, &had) != nil || had.ID != q.ID || had.Kind != q.Kind || had.Asked != q.Asked || had.Settled != "" {
		return false, nil
	}
	ttl := time.UnixMilli(had.Until).Sub(qs.now())
	if ttl <= 0 {
		return false, nil
	}
	had.Settled = outcome
	data, err := json.Marshal(had)
	if err != nil {
		return false, err
	}
	_, err = qs.Store.Put(ctx, key, data, rec.Rev, ttl)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sessions.ErrConflict):
		return false, nil
	}
	return false, err
}
