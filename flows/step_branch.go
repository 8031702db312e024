package flows

import "strconv"

var branchKind = KindSpec{
	Name:   "branch",
	Doc:    "Goes to the `next` of the first case whose condition holds, or to `default`. Shows nothing.",
	Events: []string{"case:N", "default"},
	Fields: []FieldSpec{
		{Name: "cases", Type: TypeCases, Required: true, Doc: "Ordered `{when, next}` pairs.", bind: bind(func(b *branchStep) any { return &b.Cases })},
		{Name: "default", Type: TypeStep, Required: true, Doc: "Where to go when no case holds.", bind: bind(func(b *branchStep) any { return &b.Default })},
	},
	Example: `spec_version: 1
id: example-branch
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: check
steps:
  check:
    kind: branch
    cases:
      - when: 'locale == "en"'
        next: english
    default: other
  english:
    kind: end
    text: {es: Inglés., en: English.}
  other:
    kind: end
    text: {es: Otro idioma., en: Another language.}
`,
	new: func() body { return &branchStep{} },
}

type branchStep struct {
	Cases   []*Case
	Default Ref
}

func (b *branchStep) compile(c *compiler, s *Step) {
	for i, cs := range b.Cases {
		c.condition(&cs.When)
		c.ref(cs.Next, true)
		c.edge(s, "case:"+strconv.Itoa(i+1), cs.Next)
	}
	c.ref(b.Default, true)
	c.edge(s, "default", b.Default)
}

func (b *branchStep) next() []Ref {
	out := make([]Ref, 0, len(b.Cases)+1)
	for _, cs := range b.Cases {
		out = append(out, cs.Next)
	}
	return append(out, b.Default)
}

func (b *branchStep) texts() []*Text { return nil }

func (b *branchStep) run(h *hop, cf *Compiled, s *Step) (Screen, exit, error) {
	for i, c := range b.Cases {
		if h.holds(&c.When) {
			return Screen{}, along(cf, s, "case:"+strconv.Itoa(i+1)), nil
		}
	}
	return Screen{}, along(cf, s, "default"), nil
}
