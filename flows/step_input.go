package flows

import (
	"errors"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/flows/validate"
	"github.com/ventanilla-gob/ventanilla/i18n"
)

var inputKind = KindSpec{
	Name:   "input",
	Doc:    "Asks for a typed answer, checks it with the built-in validators and saves the normalised value. A wrong answer shows the error and asks again, up to `retries` times; then the flow goes to `on_fail`.",
	Waits:  true,
	Events: []string{"valid", "exhausted"},
	Fields: []FieldSpec{
		{Name: "text", Type: TypeText, Required: true, Doc: "The question.", bind: bind(func(b *inputStep) any { return &b.Text })},
		{Name: "validate", Type: TypeValidators, Doc: "One validator `{kind: cedula}` or a list; all must pass. See the validators table.", bind: bind(func(b *inputStep) any { return &b.Validate })},
		{Name: "error", Type: TypeText, Doc: "Shown above the question after a wrong answer; defaults to the validator's own message.", bind: bind(func(b *inputStep) any { return &b.Error })},
		{Name: "retries", Type: TypeInt, Doc: "After this many wrong answers in a row the flow goes to `on_fail` (default 3, at most 10).", bind: bind(func(b *inputStep) any { return &b.Retries })},
		{Name: "on_fail", Type: TypeStep, Doc: "Where to go after too many wrong answers; without it the conversation ends with a localised message.", bind: bind(func(b *inputStep) any { return &b.OnFail })},
		{Name: "save", Type: TypeVar, Required: true, Doc: "The variable that receives the answer.", bind: bind(func(b *inputStep) any { return &b.Save })},
		{Name: "next", Type: TypeStep, Required: true, Doc: "Where to go after a valid answer.", bind: bind(func(b *inputStep) any { return &b.Next })},
	},
	Example: `spec_version: 1
id: example-input
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: ask
steps:
  ask:
    kind: input
    text: {es: "Escriba su cédula", en: "Type your ID number"}
    validate: {kind: cedula}
    retries: 2
    on_fail: bye
    save: cedula
    next: bye
  bye:
    kind: end
    text: {es: Gracias., en: Thank you.}
`,
	new: func() body { return &inputStep{} },
}

const defaultRetries = 3

type inputStep struct {
	Text     Text
	Validate []ValidatorSpec
	checks   []validate.Validator
	Error    Text // the message after a wrong answer
	Retries  int  // wrong answers allowed before on_fail
	OnFail   Ref
	Save     Ref
	Next     Ref
}

func (b *inputStep) compile(c *compiler, s *Step) {
	c.text(&b.Text, true)
	c.text(&b.Error, true)
	c.ref(b.Next, true)
	c.ref(b.OnFail, false)
	c.variable(b.Save)
	if _, ok := s.fieldPos["retries"]; ok && (b.Retries < 1 || b.Retries > 10) {
		c.r.errorf(s.fieldPos["retries"], s.Path+".retries", "wrong-type", "retries must be between 1 and 10")
	}
	for _, v := range b.Validate {
		chk, err := validate.Compile(v.Spec)
		if err != nil {
			code, at, path := "bad-validator", v.Pos, v.Path
			var ce *validate.CompileError
			if errors.As(err, &ce) && ce.Arg != "" {
				if p, ok := v.ArgPos[ce.Arg]; ok {
					at, path = p, v.Path+"."+ce.Arg
				}
				if ce.Arg == "kind" {
					code = "unknown-validator"
				}
			}
			c.r.errorf(at, path, code, "%v", err)
			continue
		}
		b.checks = append(b.checks, chk)
	}
	c.edge(s, "valid", b.Next)
	c.edge(s, "exhausted", b.OnFail)
}

func (b *inputStep) next() []Ref { return []Ref{b.Next, b.OnFail} }

func (b *inputStep) texts() []*Text { return []*Text{&b.Text, &b.Error} }

// personal names the variable the answer goes to when it is validated as
// a national id, a RUC or a phone number: personal data.
func (b *inputStep) personal() string {
	for _, v := range b.Validate {
		switch v.Spec.Kind {
		case "cedula", "ruc", "phone":
			return b.Save.ID
		}
	}
	return ""
}

func (b *inputStep) prompt() *Text { return &b.Text }

func (b *inputStep) run(h *hop, cf *Compiled, s *Step) (Screen, exit, error) {
	sc, err := h.show(cf, s, "")
	return sc, exit{}, err
}

func (b *inputStep) options(*hop, *Compiled, *Step) ([]Option, error) { return nil, nil }

func (b *inputStep) answer(h *hop, cf *Compiled, st *Step, text string) (Screen, error) {
	s := h.s
	var value any = text
	var fail string
	if text == "" {
		fail = h.e.messages(cf).Text(s.Locale, i18n.ValidateRequired)
	}
	for _, chk := range b.checks {
		if fail != "" {
			break
		}
		v, f := chk.Check(text)
		if f != nil {
			fail = h.e.messages(cf).Format(s.Locale, f.MessageID, f.Data)
			break
		}
		value = v
	}
	if fail == "" {
		s.Vars[b.Save.ID] = value
		return h.advance(cf, st, "valid")
	}
	if !b.Error.IsZero() {
		fail = h.render(cf, &b.Error, nil)
	}
	retries := s.Retries + 1
	limit := b.Retries
	if limit <= 0 {
		limit = defaultRetries
	}
	if retries >= limit {
		if b.OnFail.ID == "" {
			h.say(h.e.messages(cf).Text(s.Locale, i18n.TooManyAttempts))
			return h.finish(), nil
		}
		return h.next(cf, st, "exhausted")
	}
	s.Page = 0 // the error is at the top of the first page
	sc, err := h.show(cf, st, fail)
	s.Retries = retries
	sc.Retry = true
	return sc, err
}

// fit puts the longest error the question can come back with above it:
// its own, or the longest message of its validators.
func (b *inputStep) fit(c *compiler, _ *Step, loc string) Screen {
	return c.fitScreen(loc, b.longestError(c, loc), &b.Text, nil)
}

func (b *inputStep) longestError(c *compiler, loc string) string {
	if c.env.Messages == nil {
		return ""
	}
	if !b.Error.IsZero() {
		return c.worstCase(&b.Error, loc, "")
	}
	longest := c.env.Messages.Text(loc, i18n.ValidateRequired)
	for _, v := range b.Validate {
		id := "validate." + v.Spec.Kind
		if c.env.Messages.Has(loc, id) {
			if m := c.env.Messages.Format(loc, id, map[string]any{"Min": 9999, "Max": 9999}); utf8.RuneCountInString(m) > utf8.RuneCountInString(longest) {
				longest = m
			}
		}
	}
	return longest
}

func (b *inputStep) writes(event string) []string {
	if event == "valid" {
		return []string{b.Save.ID}
	}
	return nil
}

// savedTypes: the answer is text, or what its last validator saves.
func (b *inputStep) savedTypes(s *Step) map[string]vtype {
	return map[string]vtype{b.Save.ID: validatedType(s.ID, b.Validate)}
}
