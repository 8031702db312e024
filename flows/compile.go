package flows

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/looplab/fsm"

	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/tmpl"
)

// Messages is what the engine and the lint need of the system messages.
// *i18n.Catalog implements it.
type Messages interface {
	Text(locale, id string) string
	Format(locale, id string, data map[string]any) string
	Has(locale, id string) bool
}

// Env is what compiling a flow checks against.
type Env struct {
	Messages Messages
	// MessagesOf returns the system messages of the flow read from file
	// when they are not Messages (an institution's own texts laid over
	// them), or nil. Such a flow is checked against them and carries
	// them: the engine says them in conversations in that flow.
	MessagesOf func(file string) Messages
	// Service reports whether a back-end service is declared; nil skips the check.
	Service func(id string) bool
	// ServiceIDs lists the declared services, for "did you mean"; nil
	// suggests none.
	ServiceIDs func() []string
	// Flow reports whether a flow exists; nil skips the check (the registry
	// checks gotos once every flow is loaded).
	Flow func(id string) bool
	// Limit is the screen size the lint measures against (default 182).
	Limit int
	// Measure returns the characters a screen takes on one USSD page,
	// navigation included; nil uses the engine's own estimate.
	Measure func(*Screen) int
	// LateResults is how the results of async calls reach citizens where
	// the flows will run (LateBySMS, LateAtNextContact); "" skips the check.
	LateResults string
	// Reuse returns the flow compiled before from this very source, to be
	// taken as it is rather than parsed and compiled again, or nil. A
	// per-package reload passes the flows of the packages it leaves as
	// they run; they must not depend on what changed.
	Reuse func(src Source) *Compiled

	// flowWrites lists the variables a flow, and the flows it goes to,
	// can set; writtenBy names another flow that sets a variable. Load
	// fills them in from every flow it loads.
	flowWrites func(flow string) []string
	writtenBy  func(name, notFlow string) string
	// callerWrites lists the variables the flows that can go to a flow
	// can set.
	callerWrites func(flow string) []string
}

// DefaultVarLength is how many characters the lint assumes an interpolated
// variable adds when the flow does not declare its max_length.
const DefaultVarLength = 20

// Compiled is a flow ready to run: expressions compiled, templates parsed,
// validators built, transitions read off a looplab/fsm state machine into
// a table. It is immutable and shared by every conversation on that flow
// version.
type Compiled struct {
	*Flow
	events []fsm.EventDesc
	// next is the transition table, step → event → step, that hops look
	// up: a map read costs a fraction of a borrowed machine's Event (see
	// docs/performance.md) and needs no pool.
	next map[string]map[string]string
	// msgs are the flow's own system messages (Env.MessagesOf), nil
	// when it says the engine's.
	msgs Messages
}

var exprOptions = []expr.Option{
	expr.Env(map[string]any{}),
	expr.AllowUndefinedVariables(),
	expr.MaxNodes(500),
	// Conversations must replay exactly: no clock inside expressions.
	expr.DisableBuiltin("now"),
}

// guardedOptions compile what runs: exprOptions with the budget guards.
var guardedOptions = append(slices.Clip(exprOptions), budgetOptions()...)

// Compile checks a parsed flow and builds its runnable form. Problems hold
// every error and warning; the flow is nil when any is an error.
func Compile(f *Flow, env Env) (*Compiled, Problems) {
	c := &compiler{f: f, env: env, r: newReport(f.File)}
	for path := range f.unread {
		c.r.unread[path] = true
	}
	if env.Limit <= 0 {
		c.env.Limit = 182
	}
	c.run()
	if c.r.Problems.HasErrors() {
		return nil, c.r.Problems
	}
	return &Compiled{Flow: f, events: c.events, next: table(f.Start.ID, c.events)}, c.r.Problems
}

type compiler struct {
	f      *Flow
	env    Env
	r      *report
	events []fsm.EventDesc
	cur    *Step // the step being compiled
	// dangling: some step goes to a step that does not exist, so which
	// steps it was meant to reach is unknown.
	dangling bool
	reads    []read // what each step reads, for definedVars
}

func (c *compiler) run() {
	f := c.f
	for i, loc := range f.Locales {
		if c.env.Messages != nil && !c.env.Messages.Has(loc, i18n.LanguageName) {
			at := f.fieldPos["locales"]
			if i < len(f.localePos) {
				at = f.localePos[i]
			}
			c.r.warnf(at, fmt.Sprintf("locales[%d]", i), "unknown-locale", "locale %q has no system messages; citizens will see them in %s%s", loc, "es", suggest(loc, c.env.locales()))
		}
	}
	if len(f.Locales) == 0 && f.fieldPos["locales"] != (Pos{}) {
		c.r.errorf(f.fieldPos["locales"], "locales", "wrong-type", "declare at least one locale")
	}
	for _, m := range f.Messages {
		if m.MsgID != "" {
			c.r.errorf(m.Pos, m.Path, "wrong-type", "a message of the messages section is written out per locale, not another id")
			continue
		}
		c.text(m, false)
	}
	c.text(&f.Title, false)
	if f.Start.ID != "" && slices.Contains(f.broken, f.Start.ID) {
		c.dangling = true
	} else if f.Start.ID != "" {
		if _, ok := f.Steps[f.Start.ID]; !ok {
			c.r.errorf(f.Start.Pos, "start", "missing-start", "entry step %q does not exist%s", f.Start.ID, suggest(f.Start.ID, f.Order))
		}
	}
	for _, id := range f.Order {
		c.step(f.Steps[id])
		if f.Steps[id].misspelt {
			// The steps its misspelt next was meant to reach are not
			// unreachable because of it.
			c.dangling = true
		}
	}
	c.cur = nil
	c.reachability()
	c.definedVars()
	c.typeCheck()
	c.loops()
	c.growth()
	c.authLevel()
}

// personalVars are the variables that identify a citizen: the number the
// carrier gives, and what inputs validated as national ids or phones save.
func (c *compiler) personalVars() map[string]bool {
	vars := map[string]bool{"phone": true, "cedula": true, "citizen_id": true}
	for _, id := range c.f.Order {
		if p, ok := c.f.Steps[id].body.(interface{ personal() string }); ok {
			if v := p.personal(); v != "" {
				vars[v] = true
			}
		}
	}
	return vars
}

var identifier = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// authLevel enforces that a flow which shows or sends a citizen's personal
// data declares authentication level 1 or more (the number verified by the
// carrier).
func (c *compiler) authLevel() {
	f := c.f
	if f.Level >= 1 {
		return
	}
	personal := c.personalVars()
	uses := func(t *Text) bool {
		for _, tp := range t.tmpl {
			for _, h := range tp.holes() {
				if personal[h[0]] {
					return true
				}
			}
		}
		return false
	}
	for _, id := range f.Order {
		s := f.Steps[id]
		for _, t := range s.body.texts() {
			if uses(t) {
				c.r.errorf(t.Pos, t.Path, "auth-level", "this text shows personal data; declare level: 1 (the number verified by the carrier) or more")
				return
			}
		}
		sender, ok := s.body.(interface{ sent() []*Assign })
		if !ok {
			continue
		}
		for _, p := range sender.sent() {
			for _, name := range identifier.FindAllString(p.Expr.Src, -1) {
				if personal[name] {
					c.r.errorf(p.Pos, p.Path, "auth-level", "this call sends personal data (%s); declare level: 1 (the number verified by the carrier) or more", name)
					return
				}
			}
		}
	}
}

func (c *compiler) ref(r Ref, required bool) bool {
	if r.ID == "" {
		return !required
	}
	if _, ok := c.f.Steps[r.ID]; !ok {
		// A step that could not be read has its own error already.
		if !slices.Contains(c.f.broken, r.ID) {
			c.r.errorf(r.Pos, r.Path, "dangling-next", "unknown step %q%s", r.ID, suggest(r.ID, c.f.Order))
		}
		c.dangling = true
		return false
	}
	return true
}

func (c *compiler) edge(s *Step, event string, to Ref) {
	if to.ID == "" || c.f.Steps[to.ID] == nil {
		return
	}
	c.events = append(c.events, fsm.EventDesc{Name: event, Src: []string{s.ID}, Dst: to.ID})
}

func (c *compiler) step(s *Step) {
	c.cur = s
	s.body.compile(c, s)
	if w, ok := s.body.(waiting); ok {
		c.screenLength(s, w)
	}
}

func (c *compiler) variable(r Ref) {
	if r.ID != "" && !validPath(r.ID) {
		c.r.errorf(r.Pos, r.Path, "bad-id", "variable name %q: use letters, digits and _", r.ID)
		return
	}
	// An expression reading it would get the function, not the value.
	if _, fn := slices.BinarySearch(functions(), r.ID); fn {
		c.r.errorf(r.Pos, r.Path, "bad-id", "variable name %q is the name of a function, which expressions would read instead of the value; choose another name", r.ID)
	}
}

func (c *compiler) expression(e *Expr, cond bool) {
	if e.Src == "" {
		return
	}
	// "$" names are the gateway's own: its budget, a pending one-time
	// code's hash, a kept final screen. No flow reads them.
	for _, name := range readVars(e.Src) {
		if strings.HasPrefix(name, "$") {
			c.r.errorf(e.Pos, e.Path, "bad-expression", "%s: names starting with $ belong to the gateway", name)
			return
		}
	}
	// The guards turn "+" into a call, which hides type errors such as
	// "a" + 1: the expression is checked as written first.
	check, run := exprOptions, guardedOptions
	if cond {
		check = append(slices.Clip(check), expr.AsBool())
		run = append(slices.Clip(run), expr.AsBool())
	}
	if _, err := expr.Compile(e.Src, append(slices.Clip(check), expr.Optimize(false))...); err != nil {
		c.exprError(e, err, "bad-expression", nil)
		return
	}
	if !c.functionCalls(e) {
		return
	}
	if c.cur != nil {
		c.reads = append(c.reads, read{step: c.cur, e: e, cond: cond})
	}
	prog, err := expr.Compile(e.Src, run...)
	if err != nil {
		c.r.errorf(e.Pos, e.Path, "bad-expression", "%s", firstLine(err.Error()))
		return
	}
	// What an expression builds from its own constants is known now: run
	// it once with no variables, and refuse it if that is over budget.
	if _, err := runBounded(prog, map[string]any{budgetVar: newBuildBudget()}); overBudget(err) {
		c.r.errorf(e.Pos, e.Path, "over-budget", "%s", firstLine(err.Error()))
		return
	}
	e.prog = prog
}

func (c *compiler) condition(e *Expr) { c.expression(e, true) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// text resolves a text: parses each locale's template, resolves message ids
// and warns about declared locales it lacks.
func (c *compiler) text(t *Text, shown bool) {
	if !t.set {
		return
	}
	if c.cur != nil {
		defer func() {
			if t.tmpl != nil {
				c.reads = append(c.reads, read{step: c.cur, t: t})
			}
		}()
	}
	if t.MsgID != "" {
		if m, ok := c.f.Messages[t.MsgID]; ok {
			t.ByLocale, t.tmpl, t.msg = m.ByLocale, m.tmpl, m
			if t.tmpl == nil {
				c.parseTemplates(t)
			}
			return
		}
		if c.env.Messages != nil && c.env.Messages.Has("es", t.MsgID) {
			return
		}
		var ids []string
		for id := range c.f.Messages {
			ids = append(ids, id)
		}
		c.r.errorf(t.Pos, t.Path, "unknown-message", "unknown message id %q%s; write the text as {es: …, en: …} or declare it under messages", t.MsgID, suggest(t.MsgID, ids))
		return
	}
	c.parseTemplates(t)
	for _, loc := range c.f.Locales {
		if _, ok := t.ByLocale[loc]; !ok {
			c.r.warnf(t.Pos, t.Path, "missing-translation", "no %s text; citizens using %s will see %s", loc, loc, c.fallbackLocale())
		}
	}
	locs := make([]string, 0, len(t.ByLocale))
	for loc := range t.ByLocale {
		locs = append(locs, loc)
	}
	sort.Strings(locs)
	for _, loc := range locs {
		if len(c.f.Locales) > 0 && !slices.Contains(c.f.Locales, loc) {
			at, _ := t.localePos(loc)
			c.r.warnf(at, t.Path+"."+loc, "undeclared-locale", "locale %q is not in the flow's locales %v", loc, c.f.Locales)
		}
	}
}

func (c *compiler) fallbackLocale() string {
	if len(c.f.Locales) > 0 {
		return c.f.Locales[0]
	}
	return "es"
}

func (c *compiler) parseTemplates(t *Text) {
	t.tmpl = make(map[string]template, len(t.ByLocale))
	for loc, src := range t.ByLocale {
		tp, err := parseTemplate(src)
		if err != nil {
			// At the fault, in the locale's own text.
			at, off := t.Pos, 0
			var te *tmpl.Error
			if errors.As(err, &te) && te.At >= 0 && te.At <= len(src) {
				off = utf8.RuneCountInString(src[:te.At])
			}
			if sp, ok := t.at[loc]; ok {
				at = sp.at(t.Pos, off)
			}
			c.r.errorf(at, t.Path+"."+loc, "bad-template", "%v", err)
			continue
		}
		t.tmpl[loc] = tp
	}
}

// lateResult checks what the rest of a flow can do after an async call:
// it may run once the citizen has gone, so it must end in a final text —
// message, set, branch, call and end steps — never a question nobody can
// answer by SMS, nor another flow. A rate step may follow: a late result
// goes out without its question. And it says where the text will go
// when no SMS carrier can send it.
func (c *compiler) lateResult(call *Step) {
	at, path := call.fieldPos["async"], call.Path+".async"
	if c.env.LateResults == LateAtNextContact {
		c.r.warnf(at, path, "async-without-sms", "no SMS carrier is configured: a result that outlasts the hop is shown at the top of the citizen's next conversation, and the citizen is told so")
	}
	seen := map[string]bool{call.ID: true}
	queue := successors(call)
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		s, ok := c.f.Steps[r.ID]
		if !ok || seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		if _, rates := s.body.(*rateStep); rates {
			// A late result goes out without the question (rateStep.run).
			queue = append(queue, successors(s)...)
			continue
		}
		if _, asks := s.body.(waiting); asks {
			c.r.errorf(at, path, "late-result", "after an async call the flow must end in a text, which may go out by SMS once the citizen has gone; it reaches %s, %s that asks the citizen: end with a message or end step, and ask before the call", s.Path, article(s.Kind))
			return
		}
		if _, leaves := s.body.(*gotoStep); leaves {
			c.r.errorf(at, path, "late-result", "after an async call the flow must end in a text, which may go out by SMS once the citizen has gone; it reaches %s, a goto to another flow: end with a message or end step", s.Path)
			return
		}
		queue = append(queue, successors(s)...)
	}
}

// successors lists the steps a step can go to within its flow.
func successors(s *Step) []Ref {
	return slices.DeleteFunc(s.body.next(), func(r Ref) bool { return r.ID == "" })
}

func (c *compiler) reachability() {
	if _, ok := c.f.Steps[c.f.Start.ID]; !ok {
		return
	}
	if c.dangling {
		// The steps behind a dangling next are unreachable because of
		// it: its error is the one to fix, not a warning for each.
		return
	}
	seen := map[string]bool{c.f.Start.ID: true}
	queue := []string{c.f.Start.ID}
	for len(queue) > 0 {
		s := c.f.Steps[queue[0]]
		queue = queue[1:]
		for _, r := range successors(s) {
			if _, ok := c.f.Steps[r.ID]; ok && !seen[r.ID] {
				seen[r.ID] = true
				queue = append(queue, r.ID)
			}
		}
	}
	for _, id := range c.f.Order {
		if !seen[id] {
			s := c.f.Steps[id]
			c.r.warnf(s.Pos, s.Path, "unreachable", "step %q cannot be reached from the entry step %q", id, c.f.Start.ID)
		}
	}
}

// loops warns about cycles made only of steps that do not wait for input:
// such a conversation would spin until the engine's step limit stops it.
func (c *compiler) loops() {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var visit func(id string) bool
	visit = func(id string) bool {
		s := c.f.Steps[id]
		succ := successors(s)
		if _, waits := s.body.(waiting); waits {
			p, ok := s.body.(passing)
			if !ok {
				return false
			}
			succ = slices.DeleteFunc(p.passes(), func(r Ref) bool { return r.ID == "" })
		}
		color[id] = grey
		for _, r := range succ {
			if _, ok := c.f.Steps[r.ID]; !ok {
				continue
			}
			switch color[r.ID] {
			case grey:
				c.r.warnf(r.Pos, r.Path, "loop-without-input", "going to %q closes a loop with no step that waits for the citizen", r.ID)
				return true
			case white:
				if visit(r.ID) {
					return true
				}
			}
		}
		color[id] = black
		return false
	}
	for _, id := range c.f.Order {
		if color[id] == white {
			visit(id)
		}
	}
}

// growth has each set step check that no variable grows from its own
// value on a step that can run again.
func (c *compiler) growth() {
	for _, id := range c.f.Order {
		if set, ok := c.f.Steps[id].body.(*setStep); ok {
			set.growth(c, c.f.Steps[id])
		}
	}
}

// onCycle reports whether a step can be reached again from itself.
func (c *compiler) onCycle(id string) bool {
	seen := map[string]bool{}
	queue := []string{id}
	for len(queue) > 0 {
		s := c.f.Steps[queue[0]]
		queue = queue[1:]
		for _, r := range successors(s) {
			if r.ID == id {
				return true
			}
			if _, ok := c.f.Steps[r.ID]; ok && !seen[r.ID] {
				seen[r.ID] = true
				queue = append(queue, r.ID)
			}
		}
	}
	return false
}

// screenLength warns when a waiting step's screen may not fit one USSD page
// in some locale, counting the longest error that can precede it, the
// options, the navigation and the declared (or default) length of every
// interpolated variable.
func (c *compiler) screenLength(s *Step, w waiting) {
	for _, loc := range c.f.Locales {
		sc := w.fit(c, s, loc)
		sc.Locale = loc
		if c.env.Messages != nil {
			sc.Nav.Back = Option{Key: "0", Label: c.env.Messages.Text(loc, i18n.NavBack)}
			sc.Nav.Home = Option{Key: "00", Label: c.env.Messages.Text(loc, i18n.NavHome)}
		}
		measure := c.env.Measure
		if measure == nil {
			measure = estimate
		}
		if n := measure(&sc); n > c.env.Limit {
			// The prompt is what an author shortens: its own line.
			at, path := w.prompt().localePos(loc)
			c.r.warnf(at, path, "screen-too-long", "in %s the screen can reach %d characters, over the %d of one USSD page; shorten it or it will be split into pages", loc, n, c.env.Limit)
		}
	}
}

// fitScreen is a waiting step's largest screen in loc: the error above
// the prompt, each filled to its longest, and the options.
func (c *compiler) fitScreen(loc, errText string, prompt *Text, opts []Option) Screen {
	var b strings.Builder
	if errText != "" {
		b.WriteString(errText)
		b.WriteString("\n")
	}
	b.WriteString(c.worstCase(prompt, loc, ""))
	return Screen{Text: b.String(), Options: opts, Locale: loc}
}

// invalidOption is the error above a screen of options after an answer
// that is none of them.
func (c *compiler) invalidOption(loc string) string {
	if c.env.Messages == nil {
		return ""
	}
	return c.env.Messages.Text(loc, i18n.InvalidOption)
}

// worstCase renders a text with every hole filled to its maximum length.
func (c *compiler) worstCase(t *Text, loc, itemPrefix string) string {
	if t.MsgID != "" && t.tmpl == nil {
		if c.env.Messages != nil {
			return c.env.Messages.Text(loc, t.MsgID)
		}
		return ""
	}
	tp, ok := t.tmpl[loc]
	if !ok {
		loc = c.fallbackLocale() // whose numbers and dates it writes
		if tp, ok = t.tmpl[loc]; !ok {
			return ""
		}
	}
	var b strings.Builder
	_ = tp.Execute(&b, func(b *strings.Builder, h *tmpl.Hole) error {
		n := 0 // a formatted hole's own default
		if d, ok := c.f.Vars[h.Name]; ok && d.MaxLength > 0 {
			n = d.MaxLength
		} else if h.Format == tmpl.Plain {
			n = DefaultVarLength
		}
		// max_length bounds the value; its format may widen it
		// (USD 1.234.567,89 from 1234567.89).
		b.WriteString(strings.Repeat("x", h.Format.Widest(loc, n)))
		return nil
	})
	return b.String()
}

// estimate is the length of a one-page USSD layout: the body, a line
// "N. label" per option and the navigation lines.
func estimate(s *Screen) int {
	n := utf8.RuneCountInString(s.Text)
	line := func(o Option) {
		if o.Key != "" {
			n += 1 + len(o.Key) + 2 + utf8.RuneCountInString(o.Label)
		}
	}
	for _, o := range s.Options {
		line(o)
	}
	line(s.Nav.Back)
	line(s.Nav.Home)
	return n
}

// table reads a flow's transitions off a looplab/fsm machine built from its
// events, once, at compile time: for every step with an edge, every event
// the machine makes available there, and the step the machine moves to. The
// machine stays the authority on the graph (which pair wins, what a
// self-loop does); hops only look the answer up.
//
// The events run without a deadline: the table is built once, and with no
// callbacks an event can only move, or stay (NoTransitionError, a loop to
// the same step).
func table(start string, events []fsm.EventDesc) map[string]map[string]string {
	m := fsm.NewFSM(start, events, nil)
	next := make(map[string]map[string]string)
	for _, e := range events {
		for _, src := range e.Src {
			if next[src] != nil {
				continue
			}
			m.SetState(src)
			row := make(map[string]string)
			for _, event := range m.AvailableTransitions() {
				m.SetState(src)
				err := m.Event(context.Background(), event)
				if err != nil && !errors.As(err, new(fsm.NoTransitionError)) {
					continue
				}
				row[event] = m.Current()
			}
			next[src] = row
		}
	}
	return next
}

// transition returns the step an event leads to from step, from the
// flow's transition table; ok is false when the event has no route there.
// It is pure and takes no context: a hop past its deadline must still
// reach the step that tells the citizen so.
func (cf *Compiled) transition(step, event string) (string, bool) {
	to, ok := cf.next[step][event]
	return to, ok
}

// Graph returns the flow as a Mermaid diagram drawn by looplab/fsm.
func (cf *Compiled) Graph() (string, error) {
	m := fsm.NewFSM(cf.Start.ID, cf.events, nil)
	return fsm.VisualizeWithType(m, fsm.MERMAID)
}

func (cf *Compiled) String() string { return fmt.Sprintf("%s@%d", cf.ID, cf.Version) }

// locales lists the locales the system messages have, when they say.
func (e Env) locales() []string {
	if l, ok := e.Messages.(interface{ Locales() []string }); ok {
		return l.Locales()
	}
	return nil
}
