package flows

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

var rateKind = KindSpec{
	Name: "rate",
	Doc: "Asks the citizen to rate the service from 1 to 5: digits on USSD and SMS, buttons on chat. Any other answer skips the question — nobody is made to rate. " +
		"Only a sample of conversations is asked (`sample`), and a number at most once per `once_every_days` for the flow, on every instance; otherwise the step goes on to `next` without a word. " +
		"The score is counted in the indicators without the number (docs/indicators.md) and saved in a variable; a score at or under `low` goes to `on_low` when there is one — to ask for a comment and open a buzón ticket with it, say. " +
		"Put the trámite's result in a `message` step before it: the result and the question share one screen. After an `async: sms` call whose answer outlasted the hop, the result goes out by SMS without the question.",
	Waits:  true,
	Events: []string{"next", "low"},
	Fields: []FieldSpec{
		{Name: "text", Type: TypeText, Required: true, Doc: "The question; say that 1 to 5 are the answers.", bind: bind(func(b *rateStep) any { return &b.Text })},
		{Name: "next", Type: TypeStep, Required: true, Doc: "Where to go after a score, a skipped question, or a conversation not asked.", bind: bind(func(b *rateStep) any { return &b.Next })},
		{Name: "save", Type: TypeVar, Doc: "The variable that receives the score (1–5); default `rating`. Not set when the question was skipped or not asked.", bind: bind(func(b *rateStep) any { return &b.Save })},
		{Name: "sample", Type: TypeInt, Doc: "Percentage of conversations asked, 1 to 100 (default 100).", bind: bind(func(b *rateStep) any { return &b.Sample })},
		{Name: "once_every_days", Type: TypeInt, Doc: "A number is asked about this flow at most once in this many days (default 30).", bind: bind(func(b *rateStep) any { return &b.OnceEvery })},
		{Name: "low", Type: TypeInt, Doc: "Scores at or under this go to `on_low` (default 2).", bind: bind(func(b *rateStep) any { return &b.Low })},
		{Name: "on_low", Type: TypeStep, Doc: "Where a low score goes; without it, to `next`.", bind: bind(func(b *rateStep) any { return &b.OnLow })},
		{Name: "completed", Type: TypeBool, Doc: "`true` when reaching the question means the trámite was done (the turno booked, shown above it): the indicators count it completed here, asked or not, and a citizen who leaves without answering has not abandoned it; the end step after it does not count again. Default false.", bind: bind(func(b *rateStep) any { return &b.Completed })},
	},
	Example: `spec_version: 1
id: example-rate
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: done
steps:
  done:
    kind: message
    text: {es: "Trámite registrado.", en: "Request registered."}
    next: rate
  rate:
    kind: rate
    text: {es: "¿Cómo fue su atención? Responda de 1 (mala) a 5 (excelente).", en: "How was the service? Answer 1 (poor) to 5 (excellent)."}
    sample: 50
    completed: true
    on_low: sorry
    next: bye
  sorry:
    kind: end
    text: {es: "Lamentamos su experiencia.", en: "We are sorry to hear that."}
  bye:
    kind: end
    text: {es: "Gracias.", en: "Thank you."}
`,
	new: func() body { return &rateStep{} },
}

// Ratings remembers which numbers were asked to rate a flow, so that a
// number is asked at most once a period, on every instance. Ask records
// the question and reports whether it is the first within period; an
// error means it cannot say, and the question is not asked.
type Ratings interface {
	Ask(ctx context.Context, phone, flow string, period time.Duration) (bool, error)
}

// Rater is a Counter that also counts ratings.
type Rater interface {
	Rated(c Conversation, flow, institution string, score int)
}

type rateStep struct {
	Text      Text
	Next      Ref
	Save      Ref
	Sample    int
	OnceEvery int
	Low       int
	OnLow     Ref
	Completed bool // reaching the question means the trámite was done
}

const (
	defaultRateDays = 30
	defaultRateLow  = 2
)

func (b *rateStep) compile(c *compiler, s *Step) {
	c.text(&b.Text, true)
	c.ref(b.Next, true)
	c.edge(s, "next", b.Next)
	if b.OnLow.ID != "" {
		c.ref(b.OnLow, true)
		c.edge(s, "low", b.OnLow)
	}
	if b.Save.ID != "" {
		c.variable(b.Save)
	}
	if b.Sample < 0 || b.Sample > 100 {
		c.r.errorf(s.Pos, s.Path+".sample", "wrong-type", "sample is a percentage, 1 to 100")
	}
	if b.OnceEvery < 0 || b.OnceEvery > 3660 {
		c.r.errorf(s.Pos, s.Path+".once_every_days", "wrong-type", "once_every_days is 1 to 3660 days")
	}
	if b.Low < 0 || b.Low > 4 {
		c.r.errorf(s.Pos, s.Path+".low", "wrong-type", "low is a score from 1 to 4")
	}
}

func (b *rateStep) next() []Ref {
	if b.OnLow.ID != "" {
		return []Ref{b.Next, b.OnLow}
	}
	return []Ref{b.Next}
}

// passes: a conversation not asked (out of the sample, or asked within
// the period) goes on to next at once.
func (b *rateStep) passes() []Ref { return []Ref{b.Next} }

func (b *rateStep) texts() []*Text { return []*Text{&b.Text} }

func (b *rateStep) prompt() *Text { return &b.Text }

func (b *rateStep) save() string {
	if b.Save.ID != "" {
		return b.Save.ID
	}
	return "rating"
}

// run asks, or goes on to next without a word when the conversation is
// not in the sample, the number was asked within the period, or the
// citizen has gone: after an async call that outlasted the hop, the
// result goes out by SMS, where a question could not be answered.
func (b *rateStep) run(h *hop, cf *Compiled, s *Step) (Screen, exit, error) {
	if b.Completed {
		h.complete(cf, s.ID)
	}
	if h.late {
		delete(h.s.Vars, b.save())
		return Screen{}, along(cf, s, "next"), nil
	}
	if !b.ask(h, cf) {
		return Screen{}, along(cf, s, "next"), nil
	}
	// The question comes after the trámite: "back" would lead into it
	// again (a booking's confirmation), so it is not offered.
	h.s.History = h.s.History[:0]
	sc, err := h.show(cf, s, "")
	return sc, exit{}, err
}

func (b *rateStep) ask(h *hop, cf *Compiled) bool {
	s := h.s
	delete(s.Vars, b.save())
	if b.Sample > 0 && b.Sample < 100 {
		draw := h.e.Sample
		if draw == nil {
			draw = rand.Float64
		}
		if draw()*100 >= float64(b.Sample) {
			return false
		}
	}
	if r := h.e.Ratings; r != nil && s.Phone != "" {
		days := b.OnceEvery
		if days <= 0 {
			days = defaultRateDays
		}
		first, err := r.Ask(h.ctx, s.Phone, cf.ID, time.Duration(days)*24*time.Hour)
		if err != nil || !first {
			return false
		}
	}
	return true
}

// options are buttons on chat; USSD and SMS answer with a digit.
func (b *rateStep) options(h *hop, _ *Compiled, _ *Step) ([]Option, error) {
	if h.s.Channel != "chat" {
		return nil, nil
	}
	out := make([]Option, 5)
	for i := range out {
		k := strconv.Itoa(i + 1)
		out[i] = Option{Key: k, Label: k}
	}
	return out, nil
}

// answer takes a score of 1 to 5; anything else skips the question.
func (b *rateStep) answer(h *hop, cf *Compiled, s *Step, text string) (Screen, error) {
	score, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil || score < 1 || score > 5 {
		return h.advance(cf, s, "next")
	}
	if r, ok := h.e.Counter.(Rater); ok {
		r.Rated(h.counted(), cf.ID, cf.Institution, score)
	}
	h.s.Vars[b.save()] = int64(score)
	low := b.Low
	if low <= 0 {
		low = defaultRateLow
	}
	if b.OnLow.ID != "" && score <= low {
		return h.advance(cf, s, "low")
	}
	return h.advance(cf, s, "next")
}

func (b *rateStep) fit(c *compiler, _ *Step, loc string) Screen {
	return c.fitScreen(loc, "", &b.Text, nil)
}

// writes: a low score always sets the variable; next may come after a
// skipped question, which sets nothing (mayWrite).
func (b *rateStep) writes(event string) []string {
	if event == "low" {
		return []string{b.save()}
	}
	return nil
}

func (b *rateStep) mayWrite(event string) []string {
	if event == "next" {
		return []string{b.save()}
	}
	return nil
}

// savedTypes: the score is a whole number.
func (b *rateStep) savedTypes(s *Step) map[string]vtype {
	return map[string]vtype{b.save(): {intType, "rate step " + strconv.Quote(s.ID) + " saves the score, 1 to 5"}}
}
