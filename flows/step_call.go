package flows

import (
	"slices"
	"sort"
	"strings"
)

var callKind = KindSpec{
	Name:   "call",
	Doc:    "Calls a back-end service declared in configuration (flows never hold URLs), saves fields of the JSON response into variables and goes on by outcome: `ok`, `not_found`, `rejected`, `error`, `timeout`, `unavailable`. An outcome without a route goes to the `error` route, or else ends the conversation with a localised message.",
	Events: []string{"ok", "not_found", "rejected", "error", "timeout", "unavailable"},
	Fields: []FieldSpec{
		{Name: "service", Type: TypeService, Required: true, Doc: "The id of the service.", bind: bind(func(b *callStep) any { return &b.Service })},
		{Name: "params", Type: TypeAssigns, Doc: "`name: expression` pairs: path parameters, then query (GET) or JSON body (POST).", bind: bind(func(b *callStep) any { return &b.Params })},
		{Name: "save", Type: TypeMapping, Doc: "`variable: json.path` pairs read from the response (`@this` is the whole body).", bind: bind(func(b *callStep) any { return &b.Map })},
		{Name: "on", Type: TypeOutcomes, Required: true, Doc: "`outcome: step` routes; `ok` is required.", bind: bind(func(b *callStep) any { return &b.On })},
		{Name: "async", Type: TypeString, Values: []string{"sms"}, Doc: "`sms`: when the back-end is slower than the hop allows, the conversation ends telling the citizen where the result will go, the flow finishes in the background once the back-end answers, and its final text goes out as one SMS — or, with no SMS carrier configured, is shown at the top of the citizen's next conversation, and the citizen is told that instead. What follows the call must end in a text (message, set, branch, call, sms and end steps; a rate step is passed by when the result is late): a menu, input, list or goto after it is an error, whether or not it reads the result. The service needs a timeout longer than the hop for the call to outlast it.", bind: bind(func(b *callStep) any { return &b.Async })},
	},
	Example: `spec_version: 1
id: example-call
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: lookup
steps:
  lookup:
    kind: call
    service: tramites.status
    params:
      number: '"1002"'
    save:
      status: status
    on:
      ok: show
      not_found: missing
  show:
    kind: end
    text: {es: "Estado: {{status}}", en: "Status: {{status}}"}
  missing:
    kind: end
    text: {es: No existe., en: Not found.}
`,
	new: func() body { return &callStep{} },
}

type callStep struct {
	Service string
	Params  []*Assign
	Map     []*Assign // variable ← path in the response
	On      map[string]Ref
	Async   string // "" or "sms": the result by SMS when the back-end is slow
}

func (b *callStep) compile(c *compiler, s *Step) {
	if c.env.Service != nil && b.Service != "" && !c.env.Service(b.Service) {
		var ids []string
		if c.env.ServiceIDs != nil {
			ids = c.env.ServiceIDs()
		}
		c.r.errorf(s.valuePos["service"], s.Path+".service", "unknown-service", "service %q is not declared in the services configuration%s", b.Service, suggest(b.Service, ids))
	}
	for _, a := range b.Params {
		c.expression(&a.Expr, false)
	}
	for _, m := range b.Map {
		c.variable(Ref{ID: m.Name, Pos: m.Pos, Path: m.Path})
		if m.Expr.Src == "" {
			c.r.errorf(m.Expr.Pos, m.Path, "wrong-type", "give the JSON path of the response field, or @this")
		}
	}
	var outcomes []string
	for _, o := range Outcomes() {
		outcomes = append(outcomes, string(o))
	}
	if _, ok := b.On["ok"]; !ok && b.On != nil {
		c.r.errorf(s.fieldPos["on"], s.Path+".on", "missing-field", "a call needs an ok route")
	}
	for _, k := range b.outcomes() {
		r := b.On[k]
		if !slices.Contains(outcomes, k) {
			// The outcome's name is the fault, not the step it goes to.
			c.r.errorf(r.key, r.Path, "unknown-outcome", "unknown outcome %q%s; outcomes are %s", k, suggest(k, outcomes), strings.Join(outcomes, ", "))
			continue
		}
		c.ref(r, true)
		c.edge(s, k, r)
	}
	if b.Async != "" && b.Async != "sms" {
		c.r.errorf(s.fieldPos["async"], s.Path+".async", "wrong-type", "async is \"sms\" or absent")
	}
	if b.Async == "sms" {
		c.lateResult(s)
	}
}

// outcomes are the routed outcomes, sorted.
func (b *callStep) outcomes() []string {
	keys := make([]string, 0, len(b.On))
	for k := range b.On {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (b *callStep) next() []Ref {
	var out []Ref
	for _, k := range b.outcomes() {
		out = append(out, b.On[k])
	}
	return out
}

func (b *callStep) texts() []*Text { return nil }

// sent are the values the call sends, for the lint's personal data check.
func (b *callStep) sent() []*Assign { return b.Params }

// run makes the call — after Input.Confirm and, for a call that changes
// something, once the conversation is stored as waiting for it — and
// follows its outcome's route; an outcome without one ends the
// conversation with its localised message.
func (b *callStep) run(h *hop, cf *Compiled, st *Step) (Screen, exit, error) {
	s := h.s
	if err := h.confirm(); err != nil {
		return Screen{}, exit{}, err
	}
	if err := h.checkpoint(st, b); err != nil {
		return Screen{}, exit{}, err
	}
	outcome, event := h.call(cf, st, b)
	if h.e.effects(b.Service) {
		delete(s.Vars, callVar)
		n, _ := s.Vars[callsVar].(int64)
		s.Vars[callsVar] = n + 1
	}
	if outcome == asyncOutcome {
		h.say(h.e.messages(cf).Text(s.Locale, h.e.promise()))
		return h.finish(), exit{}, nil
	}
	if event == "" {
		h.say(h.e.messages(cf).Text(s.Locale, "call."+outcome))
		return h.finish(), exit{}, nil
	}
	return Screen{}, along(cf, st, event), nil
}

// route is the event an outcome follows: its own route, else the error
// route for any outcome but ok, else "" (none).
func (b *callStep) route(outcome string) string {
	if _, ok := b.On[outcome]; ok {
		return outcome
	}
	if _, ok := b.On["error"]; ok && outcome != string(OK) {
		return "error"
	}
	return ""
}

// writes: the save keys are set when the back-end answers ok.
func (b *callStep) writes(event string) []string {
	if event != string(OK) {
		return nil
	}
	out := make([]string, 0, len(b.Map))
	for _, m := range b.Map {
		out = append(out, m.Name)
	}
	return out
}
