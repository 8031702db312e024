package flows

var messageKind = KindSpec{
	Name:   "message",
	Doc:    "Adds a text to what the citizen sees next and goes on without waiting: on USSD the text appears above the next screen.",
	Events: []string{"next"},
	Fields: []FieldSpec{
		{Name: "text", Type: TypeText, Required: true, Doc: "The text.", bind: bind(func(b *messageStep) any { return &b.Text })},
		{Name: "next", Type: TypeStep, Required: true, Doc: "The next step.", bind: bind(func(b *messageStep) any { return &b.Next })},
	},
	Example: `spec_version: 1
id: example-message
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: hello
steps:
  hello:
    kind: message
    text: {es: "Bienvenido.", en: "Welcome."}
    next: bye
  bye:
    kind: end
    text: {es: "Hasta pronto.", en: "Goodbye."}
`,
	new: func() body { return &messageStep{} },
}

type messageStep struct {
	Text Text
	Next Ref
}

func (b *messageStep) compile(c *compiler, s *Step) {
	c.text(&b.Text, true)
	c.ref(b.Next, true)
	c.edge(s, "next", b.Next)
}

func (b *messageStep) next() []Ref { return []Ref{b.Next} }

func (b *messageStep) texts() []*Text { return []*Text{&b.Text} }

func (b *messageStep) run(h *hop, cf *Compiled, s *Step) (Screen, exit, error) {
	h.say(h.render(cf, &b.Text, nil))
	return Screen{}, along(cf, s, "next"), nil
}
