package flows

import (
	"fmt"
	"slices"
)

var setKind = KindSpec{
	Name:   "set",
	Doc:    "Assigns variables from expressions, in order. Setting `locale` changes the conversation's language and remembers it for the citizen's number.",
	Events: []string{"next"},
	Fields: []FieldSpec{
		{Name: "vars", Type: TypeAssigns, Required: true, Doc: "`variable: expression` pairs; strings in expressions are quoted: `status: '\"pending\"'`.", bind: bind(func(b *setStep) any { return &b.Assign })},
		{Name: "next", Type: TypeStep, Required: true, Doc: "The next step.", bind: bind(func(b *setStep) any { return &b.Next })},
	},
	Example: `spec_version: 1
id: example-set
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: init
steps:
  init:
    kind: set
    vars:
      attempts: "0"
      greeting: '"hola"'
    next: bye
  bye:
    kind: end
    text: {es: "Listo.", en: "Done."}
`,
	new: func() body { return &setStep{} },
}

type setStep struct {
	Assign []*Assign
	Next   Ref
}

func (b *setStep) compile(c *compiler, s *Step) {
	for _, a := range b.Assign {
		c.expression(&a.Expr, false)
		if a.Name == "locale" {
			continue
		}
		c.variable(Ref{ID: a.Name, Pos: a.Pos, Path: a.Path})
	}
	c.ref(b.Next, true)
	c.edge(s, "next", b.Next)
}

// growth warns about a variable set from its own value on a step that
// can run again (x: x + …, concat(x, …)): each pass makes the session
// larger, and a conversation that outgrows MaxSessionSize is ended. It
// runs once every step is compiled.
func (b *setStep) growth(c *compiler, s *Step) {
	if !c.onCycle(s.ID) {
		return
	}
	for _, a := range b.Assign {
		if a.Expr.prog != nil && slices.Contains(readVars(a.Expr.Src), a.Name) {
			c.r.warnf(a.Pos, a.Path, "session-growth", "%s grows from its own value each time step %q runs again; a conversation whose session outgrows %d KiB is ended with an apology", a.Name, s.ID, MaxSessionSize>>10)
		}
	}
}

func (b *setStep) next() []Ref { return []Ref{b.Next} }

func (b *setStep) texts() []*Text { return nil }

func (b *setStep) run(h *hop, cf *Compiled, s *Step) (Screen, exit, error) {
	for _, a := range b.Assign {
		v, err := h.eval(&a.Expr)
		if err != nil {
			return Screen{}, exit{}, fmt.Errorf("%s step %q: %s: %w", cf, s.ID, a.Name, err)
		}
		h.assign(a.Name, v)
	}
	return Screen{}, along(cf, s, "next"), nil
}

func (b *setStep) writes(string) []string {
	out := make([]string, 0, len(b.Assign))
	for _, a := range b.Assign {
		out = append(out, a.Name)
	}
	return out
}
