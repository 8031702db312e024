package flows

import (
	"fmt"
	"strconv"
)

var listKind = KindSpec{
	Name:   "list",
	Doc:    "Numbered options built from a variable holding an array (for example the offices a back-end returned). The citizen's choice saves the whole item; the channel pages long lists by whole options.",
	Waits:  true,
	Events: []string{"selected", "empty"},
	Fields: []FieldSpec{
		{Name: "text", Type: TypeText, Required: true, Doc: "The text above the options.", bind: bind(func(b *listStep) any { return &b.Text })},
		{Name: "items", Type: TypeExpr, Required: true, Doc: "An expression yielding the array, usually a variable name.", bind: bind(func(b *listStep) any { return &b.Items })},
		{Name: "label", Type: TypeText, Required: true, Doc: "The label of each option; `{{item.field}}` refers to the item.", bind: bind(func(b *listStep) any { return &b.Label })},
		{Name: "save", Type: TypeVar, Required: true, Doc: "The variable that receives the chosen item.", bind: bind(func(b *listStep) any { return &b.Save })},
		{Name: "next", Type: TypeStep, Required: true, Doc: "Where to go after a choice.", bind: bind(func(b *listStep) any { return &b.Next })},
		{Name: "empty", Type: TypeStep, Doc: "Where to go when the array is empty; without it the list ends the conversation with the text alone.", bind: bind(func(b *listStep) any { return &b.Empty })},
		{Name: "max", Type: TypeInt, Doc: "Most options shown at once (default 9, at most 20); longer lists are truncated and should be filtered by the back-end.", bind: bind(func(b *listStep) any { return &b.Max })},
	},
	Example: `spec_version: 1
id: example-list
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: offices
steps:
  offices:
    kind: set
    vars:
      offices: '[{"name": "Quito Norte"}, {"name": "Cuenca"}]'
    next: pick
  pick:
    kind: list
    text: {es: "Elija la oficina", en: "Choose the office"}
    items: offices
    label: {es: "{{item.name}}", en: "{{item.name}}"}
    save: office
    next: done
  done:
    kind: end
    text: {es: "Oficina {{office.name}}.", en: "Office {{office.name}}."}
`,
	new: func() body { return &listStep{} },
}

const defaultListMax = 9

type listStep struct {
	Text  Text
	Items Expr // the expression yielding the array
	Label Text // each item's label; the item is "item"
	Save  Ref
	Next  Ref
	Empty Ref
	Max   int // most options on one page
}

func (b *listStep) compile(c *compiler, s *Step) {
	c.text(&b.Text, true)
	c.expression(&b.Items, false)
	c.text(&b.Label, true)
	c.ref(b.Next, true)
	c.ref(b.Empty, false)
	c.variable(b.Save)
	if b.Max < 0 || b.Max > MaxOptions {
		c.r.errorf(s.fieldPos["max"], s.Path+".max", "wrong-type", "max must be between 1 and %d", MaxOptions)
	}
	c.edge(s, "selected", b.Next)
	c.edge(s, "empty", b.Empty)
}

func (b *listStep) next() []Ref { return []Ref{b.Next, b.Empty} }

func (b *listStep) texts() []*Text { return []*Text{&b.Text, &b.Label} }

func (b *listStep) prompt() *Text { return &b.Text }

// run shows the list, or, when the array is empty, goes to empty or ends
// the conversation with the text alone.
func (b *listStep) run(h *hop, cf *Compiled, s *Step) (Screen, exit, error) {
	if items, _ := b.items(h); len(items) > 0 {
		sc, err := h.show(cf, s, "")
		return sc, exit{}, err
	}
	if b.Empty.ID == "" {
		h.say(h.render(cf, &b.Text, nil))
		return h.finish(), exit{}, nil
	}
	return Screen{}, along(cf, s, "empty"), nil
}

// items evaluates the array, cut to the most options shown at once.
func (b *listStep) items(h *hop) ([]any, error) {
	v, err := h.eval(&b.Items)
	if err != nil {
		return nil, err
	}
	items, _ := v.([]any)
	max := b.Max
	if max <= 0 {
		max = defaultListMax
	}
	if len(items) > max {
		items = items[:max]
	}
	return items, nil
}

func (b *listStep) options(h *hop, cf *Compiled, s *Step) ([]Option, error) {
	items, err := b.items(h)
	if err != nil {
		return nil, fmt.Errorf("%s step %q: items: %w", cf, s.ID, err)
	}
	out := make([]Option, len(items))
	for i, it := range items {
		out[i] = Option{Key: strconv.Itoa(i + 1), Label: h.render(cf, &b.Label, it)}
	}
	return out, nil
}

func (b *listStep) answer(h *hop, cf *Compiled, s *Step, text string) (Screen, error) {
	items, err := b.items(h)
	if err != nil {
		return Screen{}, fmt.Errorf("%s step %q: items: %w", cf, s.ID, err)
	}
	k, err := strconv.Atoi(text)
	if err != nil || k < 1 || k > len(items) {
		return h.invalidOption(cf, s)
	}
	h.s.Vars[b.Save.ID] = items[k-1]
	return h.advance(cf, s, "selected")
}

// fit: lists page by whole options, so one option must fit with the text.
func (b *listStep) fit(c *compiler, _ *Step, loc string) Screen {
	return c.fitScreen(loc, c.invalidOption(loc), &b.Text, []Option{{Key: "20", Label: c.worstCase(&b.Label, loc, "item")}})
}

func (b *listStep) writes(event string) []string {
	if event == "selected" {
		return []string{b.Save.ID}
	}
	return nil
}

// passes: with nothing to list the step goes on to empty at once.
func (b *listStep) passes() []Ref { return []Ref{b.Empty} }
