package flows

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/looplab/fsm"

	"github.com/ventanilla-gob/ventanilla/flows/validate"
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
	// Service reports whether a back-end service is declared; nil skips the check.
	Service func(id string) bool
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
}

func (c *compiler) run() {
	f := c.f
	for _, loc := range f.Locales {
		if c.env.Messages != nil && !c.env.Messages.Has(loc, i18n.LanguageName) {
			c.r.warnf(f.fieldPos["locales"], "locales", "unknown-locale", "locale %q has no system messages; citizens will see them in %s", loc, "es")
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
	if f.Start.ID != "" {
		if _, ok := f.Steps[f.Start.ID]; !ok {
			c.r.errorf(f.Start.Pos, "start", "missing-start", "entry step %q does not exist%s", f.Start.ID, suggest(f.Start.ID, f.Order))
		}
	}
	for _, id := range f.Order {
		c.step(f.Steps[id])
	}
	c.reachability()
	c.loops()
	c.growth()
	c.authLevel()
}

// personalVars are the variables that identify a citizen: the number the
// carrier gives, and what inputs validated as national ids or phones save.
func (c *compiler) personalVars() map[string]bool {
	vars := map[string]bool{"phone": true, "cedula": true, "citizen_id": true}
	for _, id := range c.f.Order {
		s := c.f.Steps[id]
		for _, v := range s.Validate {
			switch v.Spec.Kind {
			case "cedula", "ruc", "phone":
				vars[s.Save.ID] = true
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
		texts := []*Text{&s.Text, &s.Label, &s.Error}
		for _, o := range s.Options {
			texts = append(texts, &o.Label)
		}
		for _, t := range texts {
			if uses(t) {
				c.r.errorf(t.Pos, t.Path, "auth-level", "this text shows personal data; declare level: 1 (the number verified by the carrier) or more")
				return
			}
		}
		for _, p := range s.Params {
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
		c.r.errorf(r.Pos, r.Path, "dangling-next", "unknown step %q%s", r.ID, suggest(r.ID, c.f.Order))
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
	switch s.Kind {
	case "menu":
		c.text(&s.Text, true)
		if len(s.Options) == 0 {
			c.r.errorf(s.Pos, s.Path+".options", "missing-field", "a menu needs at least one option")
		}
		for i, o := range s.Options {
			c.text(&o.Label, true)
			c.ref(o.Next, true)
			c.condition(&o.When)
			c.edge(s, "option:"+strconv.Itoa(i+1), o.Next)
		}
	case "list":
		c.text(&s.Text, true)
		c.expression(&s.Items, false)
		c.text(&s.Label, true)
		c.ref(s.Next, true)
		c.ref(s.Empty, false)
		c.variable(s.Save)
		if s.Max < 0 || s.Max > MaxOptions {
			c.r.errorf(s.fieldPos["max"], s.Path+".max", "wrong-type", "max must be between 1 and %d", MaxOptions)
		}
		c.edge(s, "selected", s.Next)
		c.edge(s, "empty", s.Empty)
	case "input":
		c.text(&s.Text, true)
		c.text(&s.Error, true)
		c.ref(s.Next, true)
		c.ref(s.OnFail, false)
		c.variable(s.Save)
		if _, ok := s.fieldPos["retries"]; ok && (s.Retries < 1 || s.Retries > 10) {
			c.r.errorf(s.fieldPos["retries"], s.Path+".retries", "wrong-type", "retries must be between 1 and 10")
		}
		for _, v := range s.Validate {
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
			s.checks = append(s.checks, chk)
		}
		c.edge(s, "valid", s.Next)
		c.edge(s, "exhausted", s.OnFail)
	case "branch":
		for i, cs := range s.Cases {
			c.condition(&cs.When)
			c.ref(cs.Next, true)
			c.edge(s, "case:"+strconv.Itoa(i+1), cs.Next)
		}
		c.ref(s.Default, true)
		c.edge(s, "default", s.Default)
	case "set":
		for _, a := range s.Assign {
			c.expression(&a.Expr, false)
			if a.Name == "locale" {
				continue
			}
			c.variable(Ref{ID: a.Name, Pos: a.Pos, Path: a.Path})
		}
		c.ref(s.Next, true)
		c.edge(s, "next", s.Next)
	case "call":
		if c.env.Service != nil && s.Service != "" && !c.env.Service(s.Service) {
			c.r.errorf(s.fieldPos["service"], s.Path+".service", "unknown-service", "service %q is not declared in the services configuration", s.Service)
		}
		for _, a := range s.Params {
			c.expression(&a.Expr, false)
		}
		for _, m := range s.Map {
			c.variable(Ref{ID: m.Name, Pos: m.Pos, Path: m.Path})
			if m.Expr.Src == "" {
				c.r.errorf(m.Expr.Pos, m.Path, "wrong-type", "give the JSON path of the response field, or @this")
			}
		}
		var outcomes []string
		for _, o := range Outcomes() {
			outcomes = append(outcomes, string(o))
		}
		if _, ok := s.On["ok"]; !ok && s.On != nil {
			c.r.errorf(s.fieldPos["on"], s.Path+".on", "missing-field", "a call needs an ok route")
		}
		keys := make([]string, 0, len(s.On))
		for k := range s.On {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			r := s.On[k]
			if !slices.Contains(outcomes, k) {
				c.r.errorf(r.Pos, r.Path, "unknown-outcome", "unknown outcome %q%s; outcomes are %s", k, suggest(k, outcomes), strings.Join(outcomes, ", "))
				continue
			}
			c.ref(r, true)
			c.edge(s, k, r)
		}
		if s.Async != "" && s.Async != "sms" {
			c.r.errorf(s.fieldPos["async"], s.Path+".async", "wrong-type", "async is \"sms\" or absent")
		}
		if s.Async == "sms" {
			c.lateResult(s)
		}
	case "message":
		c.text(&s.Text, true)
		c.ref(s.Next, true)
		c.edge(s, "next", s.Next)
	case "end":
		c.text(&s.Text, true)
	case "goto":
		if s.Flow.ID == c.f.ID {
			c.r.errorf(s.Flow.Pos, s.Flow.Path, "unknown-flow", "a flow cannot goto itself; use a step of the flow instead")
		} else if c.env.Flow != nil && s.Flow.ID != "" && !c.env.Flow(s.Flow.ID) {
			c.r.errorf(s.Flow.Pos, s.Flow.Path, "unknown-flow", "unknown flow %q", s.Flow.ID)
		}
		c.ref(s.Next, false)
		c.edge(s, "return", s.Next)
	}
	if spec, _ := kindByName(s.Kind); spec != nil && spec.Waits {
		c.screenLength(s)
	}
}

func (c *compiler) variable(r Ref) {
	if r.ID != "" && !validPath(r.ID) {
		c.r.errorf(r.Pos, r.Path, "bad-id", "variable name %q: use letters, digits and _", r.ID)
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
		c.r.errorf(e.Pos, e.Path, "bad-expression", "%s", firstLine(err.Error()))
		return
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
	if t.MsgID != "" {
		if m, ok := c.f.Messages[t.MsgID]; ok {
			t.ByLocale, t.tmpl = m.ByLocale, m.tmpl
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
			c.r.warnf(t.Pos, t.Path+"."+loc, "undeclared-locale", "locale %q is not in the flow's locales %v", loc, c.f.Locales)
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
			c.r.errorf(t.Pos, t.Path+"."+loc, "bad-template", "%v", err)
			continue
		}
		t.tmpl[loc] = tp
	}
}

// lateResult checks what the rest of a flow can do after an async call:
// it may run once the citizen has gone, so it must end in a final text —
// message, set, branch, call and end steps — never a question nobody can
// answer by SMS, nor another flow. And it says where the text will go
// when no SMS carrier can send it.
func (c *compiler) lateResult(call *Step) {
	at, path := c.f.Steps[call.ID].fieldPos["async"], call.Path+".async"
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
		switch s.Kind {
		case "menu", "input", "list":
			c.r.errorf(at, path, "late-result", "after an async call the flow must end in a text, which may go out by SMS once the citizen has gone; it reaches %s, %s that asks the citizen: end with a message or end step, and ask before the call", s.Path, article(s.Kind))
			return
		case "goto":
			c.r.errorf(at, path, "late-result", "after an async call the flow must end in a text, which may go out by SMS once the citizen has gone; it reaches %s, a goto to another flow: end with a message or end step", s.Path)
			return
		}
		queue = append(queue, successors(s)...)
	}
}

// successors lists the steps a step can go to within its flow.
func successors(s *Step) []Ref {
	var out []Ref
	for _, o := range s.Options {
		out = append(out, o.Next)
	}
	for _, cs := range s.Cases {
		out = append(out, cs.Next)
	}
	keys := make([]string, 0, len(s.On))
	for k := range s.On {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, s.On[k])
	}
	out = append(out, s.Next, s.Empty, s.OnFail, s.Default)
	return slices.DeleteFunc(out, func(r Ref) bool { return r.ID == "" })
}

func (c *compiler) reachability() {
	if _, ok := c.f.Steps[c.f.Start.ID]; !ok {
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
		if spec, _ := kindByName(s.Kind); spec == nil || spec.Waits {
			return false
		}
		color[id] = grey
		for _, r := range successors(s) {
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

// growth warns about a variable set from its own value on a step that
// can run again (x: x + …, concat(x, …)): each pass makes the session
// larger, and a conversation that outgrows MaxSessionSize is ended.
func (c *compiler) growth() {
	for _, id := range c.f.Order {
		s := c.f.Steps[id]
		if s.Kind != "set" || !c.onCycle(id) {
			continue
		}
		for _, a := range s.Assign {
			if a.Expr.prog != nil && slices.Contains(readVars(a.Expr.Src), a.Name) {
				c.r.warnf(a.Pos, a.Path, "session-growth", "%s grows from its own value each time step %q runs again; a conversation whose session outgrows %d KiB is ended with an apology", a.Name, id, MaxSessionSize>>10)
			}
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
func (c *compiler) screenLength(s *Step) {
	for _, loc := range c.f.Locales {
		sc := &Screen{Locale: loc}
		var b strings.Builder
		if s.Kind == "input" || s.Kind == "menu" || s.Kind == "list" {
			if e := c.longestError(s, loc); e != "" {
				b.WriteString(e)
				b.WriteString("\n")
			}
		}
		b.WriteString(c.worstCase(&s.Text, loc, ""))
		sc.Text = b.String()
		switch s.Kind {
		case "menu":
			for i, o := range s.Options {
				sc.Options = append(sc.Options, Option{Key: strconv.Itoa(i + 1), Label: c.worstCase(&o.Label, loc, "")})
			}
		case "list":
			// Lists page by whole options; one option must fit with the text.
			sc.Options = []Option{{Key: "20", Label: c.worstCase(&s.Label, loc, "item")}}
		}
		if c.env.Messages != nil {
			sc.Nav.Back = Option{Key: "0", Label: c.env.Messages.Text(loc, i18n.NavBack)}
			sc.Nav.Home = Option{Key: "00", Label: c.env.Messages.Text(loc, i18n.NavHome)}
		}
		measure := c.env.Measure
		if measure == nil {
			measure = estimate
		}
		if n := measure(sc); n > c.env.Limit {
			c.r.warnf(s.Pos, s.Path, "screen-too-long", "in %s the screen can reach %d characters, over the %d of one USSD page; shorten it or it will be split into pages", loc, n, c.env.Limit)
		}
	}
}

func (c *compiler) longestError(s *Step, loc string) string {
	longest := ""
	pick := func(t string) {
		if utf8.RuneCountInString(t) > utf8.RuneCountInString(longest) {
			longest = t
		}
	}
	if c.env.Messages == nil {
		return ""
	}
	if s.Kind != "input" {
		pick(c.env.Messages.Text(loc, i18n.InvalidOption))
		return longest
	}
	if !s.Error.IsZero() {
		pick(c.worstCase(&s.Error, loc, ""))
		return longest
	}
	pick(c.env.Messages.Text(loc, i18n.ValidateRequired))
	for _, v := range s.Validate {
		id := "validate." + v.Spec.Kind
		if c.env.Messages.Has(loc, id) {
			pick(c.env.Messages.Format(loc, id, map[string]any{"Min": 9999, "Max": 9999}))
		}
	}
	return longest
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
		tp, ok = t.tmpl[c.fallbackLocale()]
		if !ok {
			return ""
		}
	}
	var b strings.Builder
	_ = tp.Execute(&b, func(b *strings.Builder, h *tmpl.Hole) error {
		n := DefaultVarLength
		if d, ok := c.f.Vars[h.Name]; ok && d.MaxLength > 0 {
			n = d.MaxLength
		}
		b.WriteString(strings.Repeat("x", n))
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
