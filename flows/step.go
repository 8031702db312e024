package flows

// Each step kind of the flow language is one file, step_<kind>.go: its
// description (a KindSpec: fields, events, docs, example), the struct
// its fields load into, and what the kind does at each stage — lint and
// compile, screen length, run, answer. The engine, the lint and the docs
// know kinds only through the interfaces below and the list in spec.go.

// body is a step's own part: the fields of its kind, which the loader
// fills in through the kind's FieldSpecs, and what the kind does.
type body interface {
	// compile checks the step's fields, reporting problems through c,
	// builds what runs (expressions, templates, validators) and adds the
	// step's edges to the flow's graph (c.edge).
	compile(c *compiler, s *Step)
	// next lists the steps it can go to, in order, for the walks of the
	// graph: reachability, loops without input, late results.
	next() []Ref
	// texts are the texts it shows or sends a citizen, for the lint's
	// personal data check.
	texts() []*Text
	// run does the step when the conversation reaches it and says where
	// the hop goes: on, along an exit, or nowhere (the zero exit) with sc,
	// the screen the hop ends on.
	run(h *hop, cf *Compiled, s *Step) (sc Screen, on exit, err error)
}

// waiting is a body that shows a screen and waits for the citizen.
type waiting interface {
	body
	// prompt is the text above the options.
	prompt() *Text
	// options are the numbered options the screen shows now.
	options(h *hop, cf *Compiled, s *Step) ([]Option, error)
	// answer takes what the citizen typed (never a navigation key).
	answer(h *hop, cf *Compiled, s *Step, text string) (Screen, error)
	// fit is the largest screen the step can show in loc, every hole of
	// its texts filled to its longest, with the longest error above the
	// prompt: what the lint measures against one USSD page.
	fit(c *compiler, s *Step, loc string) Screen
}

// passing is a waiting body that goes on without waiting on some routes,
// which therefore do not break a loop: a list with nothing to list, a
// rate step that does not ask.
type passing interface {
	waiting
	// passes are the routes taken without waiting for the citizen.
	passes() []Ref
}

// exit is where a hop goes after a step that does not stop it: along
// event from the step from of flow cf — the step itself, or the goto that
// opened a flow that has just ended — or, when event is "", straight to
// the step to of cf (the start of a flow a goto enters).
type exit struct {
	cf    *Compiled
	from  *Step
	event string
	to    string
}

// along is the exit along event from step s of cf.
func along(cf *Compiled, s *Step, event string) exit { return exit{cf: cf, from: s, event: event} }

// bind returns the FieldSpec binder of a field of kind body B: where the
// loader puts the field's value.
func bind[B any](field func(*B) any) func(body) any {
	return func(b body) any { return field(any(b).(*B)) }
}

// stepBody returns the body of s when s is a step of the kind whose body
// is a B.
func stepBody[B body](s *Step) (B, bool) {
	if s == nil {
		var zero B
		return zero, false
	}
	b, ok := s.body.(B)
	return b, ok
}
