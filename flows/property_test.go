package flows_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/flows/validate"
	"github.com/ventanilla-gob/ventanilla/interop"
)

// The lint's promise to flow authors: a flow that lints clean in strict
// mode never fails at run time for a reason visible in its files. This
// property test generates flows from the step kinds' descriptions (every
// kind, every field by its type, right and wrong on purpose), keeps those
// that lint clean in strict mode, and runs random conversations through
// them with random back-end answers of the services' declared shape; no
// hop may end in an engine error ("No pudimos atenderle").
//
// It is seeded and runs a fixed number of cases. A failure prints the
// case's seed: `go test ./flows -run TestLintCleanFlowsNeverFail -seed=N -cases=1`
// runs that case alone; -seed=N -cases=5000 explores further.
var (
	propSeed  = flag.Uint64("seed", 20261206, "first seed of TestLintCleanFlowsNeverFail; case i uses seed+i")
	propCases = flag.Int("cases", 1000, "generated flows TestLintCleanFlowsNeverFail tries")
)

// The services the generated flows call, and the shape of the bodies
// they answer with (the "declared mocks"): the lint cannot know the types
// of a back-end's fields, so the generator uses them as this shape says,
// and the fake back-end keeps to it.
var (
	propServices = []string{"svc", "tramites.status"}
	backendShape = map[string]string{"status": "str", "code": "str", "total": "num", "items": "list", "paid": "bool"}
)

func TestLintCleanFlowsNeverFail(t *testing.T) {
	e := env(t)
	e.Service = func(id string) bool { return slices.Contains(propServices, id) }
	kept, conversations := 0, 0
	rejected := map[string]int{}
	for i := range *propCases {
		seed := *propSeed + uint64(i)
		g := newFlowGen(seed)
		srcs := g.sources()
		reg, problems := flows.Load(srcs, e)
		if len(problems) > 0 {
			rejected[problems[0].Code]++
			continue
		}
		kept++
		for c := range 6 {
			conversations++
			if err := g.converse(e.Messages, reg, c); err != nil {
				var b strings.Builder
				for _, s := range srcs {
					fmt.Fprintf(&b, "--- %s\n%s", s.Name, s.Data)
				}
				t.Fatalf("a lint-clean flow failed at run time (rerun: go test ./flows -run TestLintCleanFlowsNeverFail -seed=%d -cases=1)\n%v\n%s", seed, err, b.String())
			}
		}
	}
	t.Logf("%d flows generated, %d lint clean, %d conversations; first problem of the others: %v", *propCases, kept, conversations, rejected)
	// A generator whose flows the lint always refuses tests nothing.
	if min := *propCases / 20; kept < min {
		t.Fatalf("only %d of %d generated flows lint clean, want at least %d: the generator lost its way", kept, *propCases, min)
	}
}

// flowGen makes one case: a main flow, the flow its gotos run, and the
// conversations through them, all from one seed.
type flowGen struct {
	seed uint64
	r    *rand.Rand
	vars map[string]string // variables written so far and their types: str, num, bool, list, item; "" unknown
	// backend are the variables saved from a back-end's answer: their
	// types are the services' (backendShape), which the lint cannot know,
	// so they are only used as that shape says.
	backend map[string]bool
	n       int // names drawn
}

func newFlowGen(seed uint64) *flowGen {
	return &flowGen{seed: seed, r: rand.New(rand.NewPCG(seed, 0x5eed))}
}

func (g *flowGen) sources() []flows.Source {
	sub := g.flow("sub", 2+g.r.IntN(3), false)
	g.vars = nil
	main := g.flow("main", 3+g.r.IntN(8), true)
	return []flows.Source{{Name: "main.yaml", Data: main}, {Name: "sub.yaml", Data: sub}}
}

func (g *flowGen) flow(id string, n int, gotos bool) []byte {
	g.vars = map[string]string{"channel": "str", "locale": "str"}
	g.backend = map[string]bool{}
	steps := map[string]any{}
	for i := range n {
		steps[stepID(i)] = g.step(i, n, gotos)
	}
	doc := map[string]any{
		"spec_version": 1,
		"id":           id,
		"version":      1,
		"institution":  "Prueba",
		"title":        map[string]any{"es": "Prueba " + id, "en": "Test " + id},
		"locales":      []string{"es", "en"},
		"start":        stepID(0),
		"steps":        steps,
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return out
}

func stepID(i int) string { return "s" + strconv.Itoa(i) }

// step makes step i of n: of a random kind, with each required field and
// some optional ones, filled by the field's type. Its first route goes to
// the next step, so that the steps are reachable; the last step is one
// that needs no route.
func (g *flowGen) step(i, n int, gotos bool) map[string]any {
	last := i == n-1
	var candidates []flows.KindSpec
	for _, k := range flows.Kinds() {
		if k.Name == "goto" && !gotos {
			continue
		}
		if last != !routes(k) {
			continue
		}
		candidates = append(candidates, k)
	}
	if len(candidates) == 0 {
		candidates = flows.Kinds()
	}
	k := candidates[g.r.IntN(len(candidates))]
	s := map[string]any{"kind": k.Name}
	nextUsed := false
	to := func() string {
		if !nextUsed && !last {
			nextUsed = true
			return stepID(i + 1)
		}
		if g.r.IntN(6) == 0 {
			return stepID(g.r.IntN(n)) // back, or on: loops
		}
		if last {
			return stepID(i)
		}
		return stepID(i + 1 + g.r.IntN(n-i-1))
	}
	var saves []func() // variables written become readable after the step's own fields
	// A kind with a `cancel` switch (remind) takes few fields with it and
	// needs those "required unless cancel" without it.
	cancel := false
	for _, f := range k.Fields {
		if f.Name == "cancel" && f.Type == flows.TypeBool {
			cancel = g.r.IntN(4) == 0
		}
	}
	for _, f := range k.Fields {
		unlessCancel := strings.Contains(f.Doc, "Required unless `cancel`")
		switch {
		case f.Name == "cancel" && f.Type == flows.TypeBool:
			if cancel {
				s["cancel"] = true
			}
			continue
		case cancel && !f.Required && f.Name != "on_fail":
			continue
		case unlessCancel:
		// Optional fields half of the time; a goto's next always, but
		// at the end, so that the steps after it are reachable.
		case !f.Required && g.r.IntN(2) == 0 && !(k.Name == "goto" && f.Type == flows.TypeStep && !last):
			continue
		}
		if v, ok := g.value(k.Name, f, s, to, &saves); ok {
			s[f.Name] = v
		}
	}
	for _, save := range saves {
		save()
	}
	return s
}

// routes reports whether a kind has a required way on.
func routes(k flows.KindSpec) bool {
	for _, f := range k.Fields {
		if f.Required && (f.Type == flows.TypeStep || f.Type == flows.TypeOptions || f.Type == flows.TypeCases || f.Type == flows.TypeOutcomes) {
			return true
		}
	}
	return k.Name == "goto" // its next is optional, and the generator gives it one
}

func (g *flowGen) value(kind string, f flows.FieldSpec, s map[string]any, to func() string, saves *[]func()) (any, bool) {
	if len(f.Values) > 0 {
		return f.Values[g.r.IntN(len(f.Values))], true
	}
	switch f.Type {
	case flows.TypeText:
		item := kind == "list" && f.Name == "label"
		return g.text(item), true
	case flows.TypeStep:
		return to(), true
	case flows.TypeFlow:
		return "sub", true
	case flows.TypeService:
		return propServices[g.r.IntN(len(propServices))], true
	case flows.TypeVar:
		name := g.name("v")
		typ := ""
		switch kind {
		case "list":
			typ = "item"
		case "rate":
			typ = "num"
		case "input":
			typ = "str"
			if v, ok := s["validate"].(map[string]any); ok && v["kind"] == "range" {
				typ = "num"
			}
		}
		*saves = append(*saves, func() { g.vars[name] = typ })
		return name, true
	case flows.TypeExpr:
		if kind == "list" && f.Name == "items" {
			return g.expr("list", 1), true
		}
		return g.expr(g.anyType(), 2), true
	case flows.TypeCondition:
		return g.expr("bool", 2), true
	case flows.TypeInt:
		if g.r.IntN(8) == 0 {
			return g.r.IntN(200) - 10, true // out of range, now and then
		}
		return 1 + g.r.IntN(4), true
	case flows.TypeBool:
		return g.r.IntN(2) == 0, true
	case flows.TypeString:
		return g.word(), true
	case flows.TypeOptions:
		var out []any
		for range 1 + g.r.IntN(3) {
			o := map[string]any{"label": g.text(false), "next": to()}
			if g.r.IntN(3) == 0 {
				o["when"] = g.expr("bool", 2)
			}
			out = append(out, o)
		}
		return out, true
	case flows.TypeCases:
		var out []any
		for range 1 + g.r.IntN(3) {
			out = append(out, map[string]any{"when": g.expr("bool", 2), "next": to()})
		}
		return out, true
	case flows.TypeAssigns:
		out := map[string]any{}
		for range 1 + g.r.IntN(3) {
			if kind == "set" {
				typ := g.anyType()
				src := g.expr(typ, 2)
				name := g.name("v")
				if again := g.readable(typ); again != "" && g.r.IntN(4) == 0 {
					name = again // a variable set again, perhaps from itself
				}
				out[name] = src
				*saves = append(*saves, func() { g.vars[name] = typ })
			} else {
				out[g.name("p")] = g.expr(g.anyType(), 2)
			}
		}
		return out, true
	case flows.TypeMapping:
		out := map[string]any{}
		fields := []string{"status", "code", "total", "items", "paid"}
		for range 1 + g.r.IntN(3) {
			field := fields[g.r.IntN(len(fields))]
			name := g.name("r")
			out[name] = field
			*saves = append(*saves, func() { g.vars[name], g.backend[name] = backendShape[field], true })
		}
		return out, true
	case flows.TypeValidators:
		return g.validator(), true
	case flows.TypeDurations:
		return []string{"24h", "2h", "30m"}[:1+g.r.IntN(3)], true
	case flows.TypeOutcomes:
		out := map[string]any{"ok": to()}
		for _, o := range flows.Outcomes()[1:] {
			if g.r.IntN(3) == 0 {
				out[string(o)] = to()
			}
		}
		return out, true
	}
	return nil, false // a field type the generator does not know: left out
}

func (g *flowGen) validator() map[string]any {
	kinds := validate.Kinds()
	k := kinds[g.r.IntN(len(kinds))]
	v := map[string]any{"kind": k.Name}
	for _, a := range k.Args {
		if !a.Required && g.r.IntN(2) == 0 {
			continue
		}
		switch a.Type {
		case validate.TypeInt:
			v[a.Name] = 1 + g.r.IntN(8)
		case validate.TypeBool:
			v[a.Name] = g.r.IntN(2) == 0
		case validate.TypeDate:
			v[a.Name] = []string{"today", "today+30d", "today-18y", "2026-01-31"}[g.r.IntN(4)]
		default:
			v[a.Name] = map[string]string{"pattern": "[A-Z0-9]{3,7}", "case": "upper", "strip": " -", "format": "DD/MM/YYYY", "region": "EC"}[a.Name]
		}
	}
	return v
}

func (g *flowGen) name(prefix string) string {
	g.n++
	return prefix + strconv.Itoa(g.n)
}

func (g *flowGen) word() string {
	return []string{"uno", "dos", "listo", "A12", "Quito", "sms", ""}[g.r.IntN(7)]
}

func (g *flowGen) anyType() string { return []string{"str", "num", "bool"}[g.r.IntN(3)] }

// readable is a variable to read, of type typ when there is one: written
// by an earlier step, or now and then a name nothing writes. Only
// variables whose type the flow shows are read where typ is wrong on
// purpose (backend false).
func (g *flowGen) readable(typ string, backend ...bool) string {
	if g.r.IntN(25) == 0 {
		return "plate_typd" // a misspelt name
	}
	var names []string
	for name, t := range g.vars {
		if t == typ && (len(backend) == 0 || backend[0] || !g.backend[name]) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	return names[g.r.IntN(len(names))]
}

// text is a text in both locales with, now and then, holes.
func (g *flowGen) text(item bool) any {
	if g.r.IntN(12) == 0 {
		return "call.error"
	}
	hole := func() string {
		if item && g.r.IntN(2) == 0 {
			return " {{item.name}}"
		}
		if g.r.IntN(2) == 0 {
			return ""
		}
		name := g.readable([]string{"str", "num", "bool", "item"}[g.r.IntN(4)])
		if name == "" {
			return ""
		}
		if g.vars[name] == "item" {
			name += ".name"
		}
		return " {{" + name + "}}"
	}
	h := hole()
	return map[string]any{"es": "Texto" + h, "en": "Text" + h}
}

// expr makes an expression of type typ — now and then of another type on
// purpose, which the lint must refuse where it matters.
func (g *flowGen) expr(typ string, depth int) string {
	wrong := false
	if g.r.IntN(12) == 0 {
		typ, wrong = []string{"str", "num", "bool", "list"}[g.r.IntN(4)], true
	}
	leaf := depth <= 0 || g.r.IntN(3) == 0
	if v := g.readable(typ, !wrong); v != "" && (leaf || g.r.IntN(3) == 0) {
		return v
	}
	sub := func(t string) string { return g.expr(t, depth-1) }
	switch typ {
	case "str":
		if leaf {
			return strconv.Quote(g.word())
		}
		switch g.r.IntN(5) {
		case 0:
			return "(" + sub("str") + " + " + sub("str") + ")"
		case 1:
			return "upper(" + sub("str") + ")"
		case 2:
			return "trim(" + sub("str") + ")"
		case 3:
			return "string(" + sub("num") + ")"
		default:
			if v := g.readable("item"); v != "" {
				return v + ".name"
			}
			return "lower(" + sub("str") + ")"
		}
	case "num":
		if leaf {
			return strconv.Itoa(g.r.IntN(100))
		}
		switch g.r.IntN(4) {
		case 0:
			return "(" + sub("num") + " + " + sub("num") + ")"
		case 1:
			return "(" + sub("num") + " * " + sub("num") + ")"
		case 2:
			return "len(" + sub("str") + ")"
		default:
			return "len(" + sub("list") + ")"
		}
	case "bool":
		if leaf {
			return []string{"true", "false"}[g.r.IntN(2)]
		}
		switch g.r.IntN(6) {
		case 0:
			t := g.anyType()
			return "(" + sub(t) + " == " + sub(t) + ")"
		case 1:
			return "(" + sub("num") + " > " + sub("num") + ")"
		case 2:
			return "(" + sub("bool") + " and " + sub("bool") + ")"
		case 3:
			return "not (" + sub("bool") + ")"
		case 4:
			return "(" + sub("str") + " startsWith " + sub("str") + ")"
		default:
			return "count(" + sub("list") + ", true) > 0"
		}
	case "list":
		if leaf || g.r.IntN(2) == 0 {
			return "[]"
		}
		return "filter(" + sub("list") + ", " + sub("bool") + ")"
	}
	return "nil"
}

// converse runs conversation c through the main flow: random answers
// (the options shown, navigation keys, digits, words, dates), a back-end
// that answers by the services' shape or fails or times out on a fake
// clock, an SMS queue that sometimes refuses.
func (g *flowGen) converse(msgs flows.Messages, reg *flows.Registry, c int) error {
	r := rand.New(rand.NewPCG(g.seed, uint64(c)))
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	e := &flows.Engine{
		Flows:     func() *flows.Registry { return reg },
		Messages:  msgs,
		Caller:    &propBackend{r: r, now: &now},
		Now:       func() time.Time { return now },
		Nav:       flows.DefaultNav,
		Root:      "main",
		Sample:    r.Float64,
		SMS:       propSMS{r: r},
		Reminders: propReminders{r: r},
	}
	s := &conversation.State{Key: "k" + strconv.Itoa(c), Locale: []string{"es", "en"}[r.IntN(2)], Phone: "+593991234567", Channel: "ussd"}
	var said []string
	in := ""
	for hop := range 16 {
		sc, err := e.Apply(context.Background(), s, flows.Input{Text: in})
		if err != nil {
			return fmt.Errorf("conversation %d, hop %d, after %q: %w", c, hop, said, err)
		}
		if sc.End {
			return nil
		}
		said = append(said, in)
		in = answer(r, sc)
		now = now.Add(time.Duration(1+r.IntN(30)) * time.Second)
	}
	return nil
}

func answer(r *rand.Rand, sc flows.Screen) string {
	switch n := r.IntN(10); {
	case n < 4 && len(sc.Options) > 0:
		return sc.Options[r.IntN(len(sc.Options))].Key
	case n == 4:
		return []string{"0", "00", "98"}[r.IntN(3)]
	case n == 5:
		return []string{"1710034065", "15/03/2027", "pba-1234", "ABC1234", "1790011674001", "0991234567"}[r.IntN(6)]
	case n == 6:
		return []string{"", "hola", "x", "ñandú"}[r.IntN(4)]
	}
	return strconv.Itoa(r.IntN(1000))
}

type propBackend struct {
	r   *rand.Rand
	now *time.Time
}

func (b *propBackend) Call(_ context.Context, req flows.Request) flows.Response {
	outcomes := flows.Outcomes()
	o := flows.OK
	if b.r.IntN(2) == 0 {
		o = outcomes[b.r.IntN(len(outcomes))]
	}
	if o == flows.Timeout {
		*b.now = b.now.Add(5 * time.Second)
		return flows.Response{Outcome: o, Elapsed: 5 * time.Second, Err: errors.New("timeout")}
	}
	if o != flows.OK {
		return flows.Response{Outcome: o, Err: errors.New(string(o))}
	}
	var items []any
	for i := range b.r.IntN(4) {
		items = append(items, map[string]any{"name": "Oficina " + strconv.Itoa(i), "id": strconv.Itoa(i)})
	}
	body := map[string]any{"status": "listo", "code": "A" + strconv.Itoa(b.r.IntN(99)), "total": int64(b.r.IntN(500)), "items": items, "paid": b.r.IntN(2) == 0}
	return flows.Response{Outcome: o, Get: func(path string) any {
		if path == "@this" {
			return body
		}
		return body[path]
	}}
}

type propSMS struct{ r *rand.Rand }

func (s propSMS) SendSMS(context.Context, string, string, string, string) error {
	if s.r.IntN(4) == 0 {
		return errors.New("queue full")
	}
	return nil
}

var propMutants = flag.Int("mutants", 400, "mutated catalogue flows TestLintCleanCatalogueMutantsNeverFail tries")

// The same promise on the catalogue's flows, mutated: a route sent
// elsewhere or dropped, an expression swapped for another of the flow or
// one over its variables, a hole added to a text. The back-end answers
// with the bodies the catalogue's own transcripts mock for each service,
// or fails, or times out.
func TestLintCleanCatalogueMutantsNeverFail(t *testing.T) {
	base := catalogue.Sources()
	bodies := mockBodies(t)
	var services []string
	var svcDoc struct {
		Services map[string]any `yaml:"services"`
	}
	if err := yaml.Unmarshal(catalogue.Services(), &svcDoc); err != nil {
		t.Fatal(err)
	}
	for id := range svcDoc.Services {
		services = append(services, id)
	}
	e := env(t)
	e.Service = func(id string) bool { return slices.Contains(services, id) }
	// The national menu is left out: it goes to every flow, and no flow
	// goes to it.
	base = slices.DeleteFunc(slices.Clone(base), func(s flows.Source) bool { return strings.Contains(s.Name, "inicio") })
	if _, problems := flows.Load(base, e); len(problems) > 0 {
		t.Fatalf("the catalogue does not lint clean: %v", problems)
	}
	kept, conversations := 0, 0
	rejected := map[string]int{}
	for i := range *propMutants {
		seed := *propSeed + uint64(i)
		r := rand.New(rand.NewPCG(seed, 0xca7))
		srcs := slices.Clone(base)
		j := r.IntN(len(srcs))
		var doc map[string]any
		if err := yaml.Unmarshal(srcs[j].Data, &doc); err != nil {
			t.Fatal(err)
		}
		var did []string
		for range 1 + r.IntN(3) {
			did = append(did, mutate(r, doc))
		}
		data, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		srcs[j] = flows.Source{Name: srcs[j].Name, Data: data}
		reg, problems := flows.Load(srcs, e)
		if len(problems) > 0 {
			rejected[problems[0].Code]++
			continue
		}
		kept++
		for c := range 6 {
			conversations++
			if err := converseMutant(e.Messages, reg, doc, bodies, r, c); err != nil {
				t.Fatalf("a lint-clean mutant of %s failed at run time (rerun: go test ./flows -run TestLintCleanCatalogueMutantsNeverFail -seed=%d -mutants=1)\nmutations: %s\n%v\n%s", srcs[j].Name, seed, strings.Join(did, "; "), err, data)
			}
		}
	}
	t.Logf("%d mutants, %d lint clean, %d conversations; first problem of the others: %v", *propMutants, kept, conversations, rejected)
	if min := *propMutants / 10; kept < min {
		t.Fatalf("only %d of %d mutants lint clean, want at least %d: the mutations lost their way", kept, *propMutants, min)
	}
}

// mockBodies are the bodies the catalogue's transcripts answer each
// service's successful calls with.
func mockBodies(t *testing.T) map[string][][]byte {
	files, err := filepath.Glob("../testdata/conversations/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	out := map[string][][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tr struct {
			Mocks map[string][]struct {
				Body    any    `yaml:"body"`
				Status  int    `yaml:"status"`
				Outcome string `yaml:"outcome"`
			} `yaml:"mocks"`
		}
		if err := yaml.Unmarshal(data, &tr); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for svc, mocks := range tr.Mocks {
			for _, m := range mocks {
				if m.Body == nil || (m.Outcome != "" && m.Outcome != "ok") || m.Status >= 300 {
					continue
				}
				b, err := json.Marshal(m.Body)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				out[svc] = append(out[svc], b)
			}
		}
	}
	return out
}

// mutate changes one thing of a flow document and says what.
func mutate(r *rand.Rand, doc map[string]any) string {
	steps, _ := doc["steps"].(map[string]any)
	ids := make([]string, 0, len(steps))
	for id := range steps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var vars []string
	var refs, exprs, texts []slot
	for _, id := range ids {
		s, _ := steps[id].(map[string]any)
		collect(s, "steps."+id, &refs, &exprs, &texts, &vars)
	}
	slices.Sort(vars)
	vars = slices.Compact(vars)
	pickVar := func() string {
		if len(vars) == 0 || r.IntN(20) == 0 {
			return "plate_typd"
		}
		return vars[r.IntN(len(vars))]
	}
	switch n := r.IntN(10); {
	case n < 4 && len(refs) > 0:
		s := refs[r.IntN(len(refs))]
		to := ids[r.IntN(len(ids))]
		s.set(to)
		return s.path + " -> " + to
	case n < 5 && len(refs) > 0:
		s := refs[r.IntN(len(refs))]
		if s.drop == nil {
			return "nothing"
		}
		s.drop()
		return "drop " + s.path
	case n < 8 && len(exprs) > 0:
		s := exprs[r.IntN(len(exprs))]
		var src string
		switch r.IntN(5) {
		case 0:
			src, _ = exprs[r.IntN(len(exprs))].get().(string)
		case 1:
			src = pickVar() + ` == "1"`
		case 2:
			src = pickVar() + " != nil"
		case 3:
			old, _ := s.get().(string)
			src = "not (" + old + ")"
		default:
			src = pickVar()
		}
		s.set(src)
		return s.path + " = " + src
	case len(texts) > 0:
		s := texts[r.IntN(len(texts))]
		hole := " {{" + pickVar() + "}}"
		if m, ok := s.get().(map[string]any); ok {
			for loc, v := range m {
				m[loc] = fmt.Sprint(v) + hole
			}
			return s.path + " +" + hole
		}
	}
	return "nothing"
}

// slot is a place in a flow document a mutation can change.
type slot struct {
	path string
	get  func() any
	set  func(any)
	drop func() // nil when the place is required
}

func collect(s map[string]any, path string, refs, exprs, texts *[]slot, vars *[]string) {
	at := func(m map[string]any, k, p string) slot {
		return slot{path: p, get: func() any { return m[k] }, set: func(v any) { m[k] = v }, drop: func() { delete(m, k) }}
	}
	for _, k := range []string{"next", "default", "on_fail", "empty", "on_low"} {
		if _, ok := s[k]; ok {
			sl := at(s, k, path+"."+k)
			if k == "next" || k == "default" {
				sl.drop = nil
			}
			*refs = append(*refs, sl)
		}
	}
	if on, ok := s["on"].(map[string]any); ok {
		for _, k := range sortedKeys(on) {
			sl := at(on, k, path+".on."+k)
			if k == "ok" {
				sl.drop = nil
			}
			*refs = append(*refs, sl)
		}
	}
	for _, list := range []string{"options", "cases"} {
		entries, _ := s[list].([]any)
		for i, e := range entries {
			m, _ := e.(map[string]any)
			if m == nil {
				continue
			}
			p := fmt.Sprintf("%s.%s[%d]", path, list, i)
			*refs = append(*refs, slot{path: p + ".next", get: func() any { return m["next"] }, set: func(v any) { m["next"] = v }})
			if _, ok := m["when"]; ok || list == "options" {
				*exprs = append(*exprs, at(m, "when", p+".when"))
			}
			if _, ok := m["label"]; ok {
				*texts = append(*texts, at(m, "label", p+".label"))
			}
		}
	}
	if _, ok := s["items"]; ok {
		*exprs = append(*exprs, at(s, "items", path+".items"))
	}
	for _, k := range []string{"vars", "params"} {
		if m, ok := s[k].(map[string]any); ok {
			for _, name := range sortedKeys(m) {
				*exprs = append(*exprs, at(m, name, path+"."+k+"."+name))
				if k == "vars" {
					*vars = append(*vars, name)
				}
			}
		}
	}
	if m, ok := s["save"].(map[string]any); ok {
		for _, name := range sortedKeys(m) {
			*vars = append(*vars, name)
		}
	} else if name, ok := s["save"].(string); ok {
		*vars = append(*vars, name)
	}
	for _, k := range []string{"text", "error", "label"} {
		if _, ok := s[k]; ok {
			*texts = append(*texts, at(s, k, path+"."+k))
		}
	}
}

// sortedKeys keeps the mutations, and so the cases, the same for a seed.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func converseMutant(msgs flows.Messages, reg *flows.Registry, doc map[string]any, bodies map[string][][]byte, seed *rand.Rand, c int) error {
	r := rand.New(rand.NewPCG(seed.Uint64(), uint64(c)))
	flow, _ := doc["id"].(string)
	// A flow with params is started with them, as the gateway does (a
	// reply to a reminder: the answer, the booking's code…).
	start := map[string]any{}
	params, _ := doc["params"].([]any)
	for _, p := range params {
		start[fmt.Sprint(p)] = []string{"1", "2", "T-4F7K2", "1710034065", "hola"}[r.IntN(5)]
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	e := &flows.Engine{
		Flows:     func() *flows.Registry { return reg },
		Messages:  msgs,
		Caller:    &mockBackend{r: r, now: &now, bodies: bodies},
		Now:       func() time.Time { return now },
		Nav:       flows.DefaultNav,
		Root:      flow,
		Sample:    r.Float64,
		SMS:       propSMS{r: r},
		Reminders: propReminders{r: r},
	}
	s := &conversation.State{Key: "k" + strconv.Itoa(c), Locale: []string{"es", "en", "qu"}[r.IntN(3)], Phone: "+593991234567", Channel: "ussd"}
	var said []string
	in := ""
	for hop := range 20 {
		sc, err := e.Apply(context.Background(), s, flows.Input{Text: in, Start: flow, Vars: start})
		if err != nil {
			return fmt.Errorf("conversation %d, hop %d, after %q: %w", c, hop, said, err)
		}
		if sc.End {
			return nil
		}
		said = append(said, in)
		in = answer(r, sc)
		now = now.Add(time.Duration(1+r.IntN(30)) * time.Second)
	}
	return nil
}

// mockBackend answers a call with one of the bodies the transcripts mock
// for its service, or fails, or times out.
type mockBackend struct {
	r      *rand.Rand
	now    *time.Time
	bodies map[string][][]byte
}

func (b *mockBackend) Call(_ context.Context, req flows.Request) flows.Response {
	mocks := b.bodies[req.Service]
	if len(mocks) == 0 || b.r.IntN(3) == 0 {
		outcomes := flows.Outcomes()[1:]
		o := outcomes[b.r.IntN(len(outcomes))]
		if o == flows.Timeout {
			*b.now = b.now.Add(5 * time.Second)
		}
		return flows.Response{Outcome: o, Err: errors.New(string(o))}
	}
	res := interop.Response{Outcome: interop.OK, Status: 200, Body: mocks[b.r.IntN(len(mocks))]}
	return flows.Response{Outcome: flows.OK, Get: res.Get}
}

// propReminders keeps nothing and now and then fails, as a store that
// cannot be reached does.
type propReminders struct{ r *rand.Rand }

func (p propReminders) Remind(context.Context, flows.Booking, []flows.Reminder) error {
	if p.r.IntN(4) == 0 {
		return errors.New("store down")
	}
	return nil
}

func (p propReminders) CancelReminders(context.Context, flows.Booking) (int, error) {
	if p.r.IntN(4) == 0 {
		return 0, errors.New("store down")
	}
	return p.r.IntN(3), nil
}
