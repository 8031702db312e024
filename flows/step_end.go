package flows

import (
	"fmt"

	"github.com/ventanilla-gob/ventanilla/conversation"
)

var endKind = KindSpec{
	Name: "end",
	Doc:  "Shows a final text. In a flow entered with `goto`, the text is carried over and the calling flow goes on at the goto's `next`; otherwise the conversation ends.",
	Fields: []FieldSpec{
		{Name: "text", Type: TypeText, Required: true, Doc: "The final text.", bind: bind(func(b *endStep) any { return &b.Text })},
		{Name: "completed", Type: TypeBool, Doc: "`true` when reaching this end means the trámite was done (a turno booked, a ticket opened): the indicators count it as completed (see docs/indicators.md). Default false.", bind: bind(func(b *endStep) any { return &b.Completed })},
		{Name: "reminder", Type: TypeString, Values: []string{ReminderConfirmed, ReminderCancelled}, Doc: "In a flow that answers a reminder or a notification (its `reply` flow, see docs/notifications.md): what the citizen's answer came to, `confirmed` or `cancelled`, counted in the indicators' reminder outcomes.", bind: bind(func(b *endStep) any { return &b.Reminder })},
	},
	Example: `spec_version: 1
id: example-end
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: bye
steps:
  bye:
    kind: end
    text: {es: "Gracias por su visita.", en: "Thank you for your visit."}
    completed: true
`,
	new: func() body { return &endStep{} },
}

type endStep struct {
	Text      Text
	Completed bool   // the trámite was done, for the indicators
	Reminder  string // what an answer to a reminder came to: ReminderConfirmed, ReminderCancelled
}

// What an answer to a reminder (or a notification) came to: an end
// step's `reminder`.
const (
	ReminderConfirmed = "confirmed"
	ReminderCancelled = "cancelled"
)

// reminderVar keeps the `reminder` of the end step a conversation
// reached, for the gateway (see ReminderOutcome).
const reminderVar = "$reminder"

// ReminderOutcome is the `reminder` of the end step the conversation s
// reached ("" when it said none): what a citizen's answer to a reminder
// came to.
func ReminderOutcome(s *conversation.State) string {
	o, _ := s.Vars[reminderVar].(string)
	return o
}

func (b *endStep) compile(c *compiler, s *Step) {
	c.text(&b.Text, true)
	switch b.Reminder {
	case "", ReminderConfirmed, ReminderCancelled:
	default:
		c.r.errorf(s.fieldPos["reminder"], s.Path+".reminder", "unknown-outcome", "reminder is %q or %q, not %q%s",
			ReminderConfirmed, ReminderCancelled, b.Reminder, suggest(b.Reminder, []string{ReminderConfirmed, ReminderCancelled}))
	}
}

func (b *endStep) next() []Ref { return nil }

func (b *endStep) texts() []*Text { return []*Text{&b.Text} }

// run ends the conversation, or the flow a goto opened: then the calling
// flow goes on at the goto's next, with the text carried over.
func (b *endStep) run(h *hop, cf *Compiled, st *Step) (Screen, exit, error) {
	s := h.s
	h.say(h.render(cf, &b.Text, nil))
	if b.Reminder != "" {
		s.Vars[reminderVar] = b.Reminder
	}
	if o := h.e.Observer; o != nil {
		o.StepCompleted(cf.ID, st.ID)
	}
	if c := h.e.Counter; c != nil && s.Vars[completedVar] != cf.ID {
		// A conversation counted completed at a rate step before this
		// end was counted there.
		c.Ended(h.counted(), cf.ID, cf.Institution, st.ID, b.Completed)
	}
	if len(s.Frames) == 1 {
		return h.finish(), exit{}, nil
	}
	ret := s.Current().Return
	s.Frames = s.Frames[:len(s.Frames)-1]
	depth := len(s.Frames)
	for len(s.History) > 0 && s.History[len(s.History)-1].Depth > depth {
		s.History = s.History[:len(s.History)-1]
	}
	parent := s.Current()
	pf := h.reg.Version(parent.Flow, parent.Version)
	if pf == nil {
		return Screen{}, exit{}, fmt.Errorf("returning to %s@%d: %w", parent.Flow, parent.Version, ErrNoFlow)
	}
	from := pf.Steps[ret]
	if g, ok := stepBody[*gotoStep](from); !ok || g.Next.ID == "" {
		return h.finish(), exit{}, nil
	}
	return Screen{}, along(pf, from, "return"), nil
}
