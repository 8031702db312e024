package flows

import "fmt"

var endKind = KindSpec{
	Name: "end",
	Doc:  "Shows a final text. In a flow entered with `goto`, the text is carried over and the calling flow goes on at the goto's `next`; otherwise the conversation ends.",
	Fields: []FieldSpec{
		{Name: "text", Type: TypeText, Required: true, Doc: "The final text.", bind: bind(func(b *endStep) any { return &b.Text })},
		{Name: "completed", Type: TypeBool, Doc: "`true` when reaching this end means the trámite was done (a turno booked, a ticket opened): the indicators count it as completed (see docs/indicators.md). Default false.", bind: bind(func(b *endStep) any { return &b.Completed })},
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
	Completed bool // the trámite was done, for the indicators
}

func (b *endStep) compile(c *compiler, _ *Step) { c.text(&b.Text, true) }

func (b *endStep) next() []Ref { return nil }

func (b *endStep) texts() []*Text { return []*Text{&b.Text} }

// run ends the conversation, or the flow a goto opened: then the calling
// flow goes on at the goto's next, with the text carried over.
func (b *endStep) run(h *hop, cf *Compiled, st *Step) (Screen, exit, error) {
	s := h.s
	h.say(h.render(cf, &b.Text, nil))
	if o := h.e.Observer; o != nil {
		o.StepCompleted(cf.ID, st.ID)
	}
	if c := h.e.Counter; c != nil {
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
