package flows

import (
	"fmt"

	"github.com/ventanilla-gob/ventanilla/conversation"
)

var gotoKind = KindSpec{
	Name:   "goto",
	Doc:    "Runs another flow from its start, in the same conversation and variables. When that flow ends, this flow goes on at `next`; without `next` the conversation ends there. A conversation holds at most 8 flows open at once: the lint refuses gotos that lead back to a flow already open (a cycle) or nest deeper; to come back to the caller, end the called flow.",
	Events: []string{"return"},
	Fields: []FieldSpec{
		{Name: "flow", Type: TypeFlow, Required: true, Doc: "The id of the flow to run.", bind: bind(func(b *gotoStep) any { return &b.Flow })},
		{Name: "next", Type: TypeStep, Doc: "Where to go on when the other flow ends.", bind: bind(func(b *gotoStep) any { return &b.Next })},
	},
	Example: `spec_version: 1
id: example-goto
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: run
steps:
  run:
    kind: goto
    flow: example-end
    next: after
  after:
    kind: end
    text: {es: "De vuelta.", en: "Back again."}
`,
	new: func() body { return &gotoStep{} },
}

type gotoStep struct {
	Flow Ref
	Next Ref
}

func (b *gotoStep) compile(c *compiler, s *Step) {
	if b.Flow.ID == c.f.ID {
		c.r.errorf(b.Flow.Pos, b.Flow.Path, "unknown-flow", "a flow cannot goto itself; use a step of the flow instead")
	} else if c.env.Flow != nil && b.Flow.ID != "" && !c.env.Flow(b.Flow.ID) {
		c.r.errorf(b.Flow.Pos, b.Flow.Path, "unknown-flow", "unknown flow %q", b.Flow.ID)
	}
	c.ref(b.Next, false)
	c.edge(s, "return", b.Next)
}

func (b *gotoStep) next() []Ref { return []Ref{b.Next} }

func (b *gotoStep) texts() []*Text { return nil }

// run enters the other flow at its start, once the citizen has the level
// it requires.
func (b *gotoStep) run(h *hop, cf *Compiled, st *Step) (Screen, exit, error) {
	s := h.s
	child := h.reg.Latest(b.Flow.ID)
	if child == nil {
		return Screen{}, exit{}, fmt.Errorf("%s step %q: goto %q: %w", cf, st.ID, b.Flow.ID, ErrNoFlow)
	}
	if len(s.Frames) >= MaxNesting {
		return Screen{}, exit{}, fmt.Errorf("%s step %q: gotos nested deeper than %d", cf, st.ID, MaxNesting)
	}
	if sc, stop, err := h.gate(child, st.ID); err != nil || stop {
		return sc, exit{}, err
	}
	s.Frames = append(s.Frames, conversation.Frame{Flow: child.ID, Version: child.Version, Step: child.Start.ID, Return: st.ID})
	h.entered(child)
	return Screen{}, exit{cf: child, to: child.Start.ID}, nil
}
