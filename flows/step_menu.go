package flows

import (
	"strconv"
)

var menuKind = KindSpec{
	Name:   "menu",
	Doc:    "Shows a text and numbered options; the citizen answers with the number of one. An option with `when` is shown only while its condition holds; the shown options are numbered 1, 2, 3… in order.",
	Waits:  true,
	Events: []string{"option:N"},
	Fields: []FieldSpec{
		{Name: "text", Type: TypeText, Required: true, Doc: "The text above the options.", bind: bind(func(b *menuStep) any { return &b.Text })},
		{Name: "options", Type: TypeOptions, Required: true, Doc: "The options: each has a `label` (text), a `next` step and an optional `when` condition.", bind: bind(func(b *menuStep) any { return &b.Options })},
	},
	Example: `spec_version: 1
id: example-menu
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: main
steps:
  main:
    kind: menu
    text: {es: "Elija una opción", en: "Choose an option"}
    options:
      - label: {es: Reservar turno, en: Book an appointment}
        next: booked
      - label: {es: Ver mis datos, en: See my details}
        when: 'phone != ""'
        next: booked
  booked:
    kind: end
    text: {es: Gracias., en: Thank you.}
`,
	new: func() body { return &menuStep{} },
}

type menuStep struct {
	Text    Text
	Options []*MenuOption
	// shown holds, per locale, the options as a hop shows them, when no
	// option has a condition and every label is literal text: the hop
	// then shares them instead of building them, so that a long menu (the
	// national one lists every institution's entries) costs a hop no more
	// than a short one.
	shown map[string][]Option
}

func (b *menuStep) compile(c *compiler, s *Step) {
	c.text(&b.Text, true)
	if len(b.Options) == 0 {
		c.r.errorf(s.Pos, s.Path+".options", "missing-field", "a menu needs at least one option")
	}
	for i, o := range b.Options {
		c.text(&o.Label, true)
		c.ref(o.Next, true)
		c.condition(&o.When)
		c.edge(s, "option:"+strconv.Itoa(i+1), o.Next)
	}
	b.precompute(c.f.Locales)
}

// precompute fills shown for locales (and for a locale a label lacks,
// with the first locale's text, as a hop renders it), or leaves it nil.
func (b *menuStep) precompute(locales []string) {
	if len(locales) == 0 {
		return
	}
	shown := make(map[string][]Option, len(locales))
	for _, loc := range locales {
		opts := make([]Option, len(b.Options))
		for i, o := range b.Options {
			label, ok := o.Label.literal(loc, locales[0])
			if !ok || o.When.prog != nil || o.When.Src != "" {
				return
			}
			opts[i] = NewOption(strconv.Itoa(i+1), label)
		}
		shown[loc] = opts
	}
	b.shown = shown
}

func (b *menuStep) next() []Ref {
	out := make([]Ref, len(b.Options))
	for i, o := range b.Options {
		out[i] = o.Next
	}
	return out
}

func (b *menuStep) texts() []*Text {
	out := []*Text{&b.Text}
	for _, o := range b.Options {
		out = append(out, &o.Label)
	}
	return out
}

func (b *menuStep) prompt() *Text { return &b.Text }

func (b *menuStep) run(h *hop, cf *Compiled, s *Step) (Screen, exit, error) {
	sc, err := h.show(cf, s, "")
	return sc, exit{}, err
}

// options are those whose condition holds now, numbered from 1.
func (b *menuStep) options(h *hop, cf *Compiled, _ *Step) ([]Option, error) {
	if opts, ok := b.shown[h.s.Locale]; ok {
		return opts, nil // shared: a screen's options are only read
	}
	n := 0
	out := make([]Option, 0, len(b.Options))
	for _, o := range b.Options {
		if !h.holds(&o.When) {
			continue
		}
		n++
		out = append(out, NewOption(strconv.Itoa(n), h.render(cf, &o.Label, nil)))
	}
	return out, nil
}

func (b *menuStep) answer(h *hop, cf *Compiled, s *Step, text string) (Screen, error) {
	k, err := strconv.Atoi(text)
	if err != nil || k < 1 {
		return h.invalidOption(cf, s)
	}
	n := 0
	for i, o := range b.Options {
		if !h.holds(&o.When) {
			continue
		}
		n++
		if n == k {
			return h.advance(cf, s, "option:"+strconv.Itoa(i+1))
		}
	}
	return h.invalidOption(cf, s)
}

// fit counts every option, whatever its condition.
func (b *menuStep) fit(c *compiler, _ *Step, loc string) Screen {
	opts := make([]Option, len(b.Options))
	for i, o := range b.Options {
		opts[i] = Option{Key: strconv.Itoa(i + 1), Label: c.worstCase(&o.Label, loc, "")}
	}
	return c.fitScreen(loc, c.invalidOption(loc), &b.Text, opts)
}
