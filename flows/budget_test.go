package flows_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
)

const budgetHead = "spec_version: 1\nid: b\nversion: 1\ninstitution: X\ntitle: {es: T}\nlocales: [es]\nstart: ask\nsteps:\n" +
	"  ask:\n    kind: input\n    text: {es: Escriba}\n    save: y\n    next: grow\n" +
	"  done:\n    kind: end\n    text: {es: Listo}\n"

// An expression whose cost shows in its own constants is refused by the
// lint, before any citizen dials.
func TestLintRefusesExpressionsOverBudget(t *testing.T) {
	for _, src := range []string{
		`len(repeat(repeat("a", 100000), 100000))`,
		`join(map(1..5000, "abcdefgh"), ",")`,
		`len(map(1..1000000, #))`,
		`replace(repeat("a", 4000), "a", "aaaaaaaaaa")`,
	} {
		t.Run(src, func(t *testing.T) {
			f := budgetHead + "  grow:\n    kind: set\n    vars: {x: '" + src + "'}\n    next: done\n"
			_, ps := flows.Load([]flows.Source{{Name: "b.yaml", Data: []byte(f)}}, env(t))
			for _, p := range ps {
				if p.Code == "over-budget" && p.Severity == flows.Error && p.Path == "steps.grow.vars.x" {
					return
				}
			}
			t.Errorf("want an over-budget error at steps.grow.vars.x, got %v", ps)
		})
	}
}

// The gateway's own variables ($budget, a one-time code's hash) are out
// of every flow's reach.
func TestLintRefusesGatewayVariables(t *testing.T) {
	for _, src := range []string{`$budget`, `toJSON($otp)`, `$env["$otp"]`} {
		f := budgetHead + "  grow:\n    kind: set\n    vars: {x: '" + src + "'}\n    next: done\n"
		_, ps := flows.Load([]flows.Source{{Name: "b.yaml", Data: []byte(f)}}, env(t))
		if !ps.HasErrors() {
			t.Errorf("%s: loads: %v", src, ps)
		}
	}
}

// Expressions that stay within the bounds still work as written.
func TestExpressionsWithinBudget(t *testing.T) {
	f := budgetHead + "  grow:\n    kind: set\n    vars: {x: 'y + \"-\" + repeat(\"ab\", 3) + string(1 + 2)', n: '1 + 2 * 3', l: 'join(map(1..3, string(#)), \",\")'}\n    next: show\n" +
		"  show:\n    kind: end\n    text: {es: '{{x}} {{n}} {{l}}'}\n"
	reg := load(t, flows.Source{Name: "b.yaml", Data: []byte(f)})
	e := newEngine(t, &reg)
	e.Root = "b"
	s := &conversation.State{Locale: "es"}
	if _, err := e.Apply(context.Background(), s, flows.Input{}); err != nil {
		t.Fatal(err)
	}
	sc, err := e.Apply(context.Background(), s, flows.Input{Text: "hola"})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Text != "hola-ababab3 7 1,2,3" {
		t.Errorf("screen %q", sc.Text)
	}
	if _, ok := s.Vars["$budget"]; ok {
		t.Error("the budget was left in the session")
	}
}

// What a variable makes an expression build is counted before it is
// built: a citizen's answer repeated a million times is refused with
// ErrBudget, and the hop allocates next to nothing.
func TestExpressionMemoryIsBounded(t *testing.T) {
	cases := []struct{ name, vars string }{
		{"repeat of a variable", `{x: 'repeat(y, 1000000)'}`},
		{"join of a variable", `{x: 'join(map(1..2000, y), "")'}`},
		{"doubling", `{x: 'y+y+y+y+y+y+y+y+y+y+y+y+y+y+y+y+y+y+y+y'}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := budgetHead + "  grow:\n    kind: set\n    vars: " + c.vars + "\n    next: done\n"
			reg := load(t, flows.Source{Name: "b.yaml", Data: []byte(f)})
			e := newEngine(t, &reg)
			e.Root = "b"
			s := &conversation.State{Locale: "es"}
			if _, err := e.Apply(context.Background(), s, flows.Input{}); err != nil {
				t.Fatal(err)
			}
			answer := strings.Repeat("a", 300)
			alloc := allocated(func() {
				_, err := e.Apply(context.Background(), s, flows.Input{Text: answer})
				if !errors.Is(err, flows.ErrBudget) {
					t.Errorf("want ErrBudget, got %v", err)
				}
			})
			if alloc > 1<<20 {
				t.Errorf("the hop allocated %d bytes", alloc)
			}
		})
	}
}

// A loop of set steps, each building a string within the limit, stops
// at the hop's budget rather than piling up memory until the step limit.
func TestHopBuildBudget(t *testing.T) {
	f := budgetHead + "  grow:\n    kind: set\n    vars: {x: 'repeat(\"a\", 4000) + \"\"'}\n    next: grow\n"
	reg := load(t, flows.Source{Name: "b.yaml", Data: []byte(f)})
	e := newEngine(t, &reg)
	e.Root = "b"
	e.MaxAutoSteps = 64
	s := &conversation.State{Locale: "es"}
	if _, err := e.Apply(context.Background(), s, flows.Input{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(context.Background(), s, flows.Input{Text: "a"}); !errors.Is(err, flows.ErrBudget) {
		t.Errorf("want ErrBudget, got %v", err)
	}
}

// allocated returns the bytes the heap allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A variable set from its own value on a step that runs again can grow
// the session without end: the lint says so.
func TestLintWarnsOfSessionGrowth(t *testing.T) {
	f := budgetHead + "  grow:\n    kind: set\n    vars: {acc: 'acc + y', other: 'y'}\n    next: ask\n"
	_, ps := flows.Load([]flows.Source{{Name: "b.yaml", Data: []byte(f)}}, env(t))
	var found []string
	for _, p := range ps {
		if p.Code == "session-growth" {
			found = append(found, p.Path)
		}
	}
	if len(found) != 1 || found[0] != "steps.grow.vars.acc" {
		t.Errorf("want one session-growth warning at steps.grow.vars.acc, got %v in %v", found, ps)
	}
	once := budgetHead + "  grow:\n    kind: set\n    vars: {acc: 'acc + y'}\n    next: done\n"
	_, ps = flows.Load([]flows.Source{{Name: "b.yaml", Data: []byte(once)}}, env(t))
	for _, p := range ps {
		if p.Code == "session-growth" {
			t.Errorf("a step that runs once cannot grow the session: %v", p)
		}
	}
}

// BenchmarkCostliestHop is the most a flow can make one hop cost: a loop
// of set steps whose every expression spends its whole item budget, until
// the hop's evaluation limit stops it. Its time per op bounds a hop's
// processor time, whatever the flow.
func BenchmarkCostliestHop(b *testing.B) {
	var vars strings.Builder
	for i := range 5 {
		vars.WriteString("v" + itoa(i) + ": 'len(filter(1..2490, # % 7 == 0))', ")
	}
	f := budgetHead + "  grow:\n    kind: set\n    vars: {" + vars.String() + "}\n    next: grow\n"
	reg, _ := flows.Load([]flows.Source{{Name: "b.yaml", Data: []byte(f)}}, env(b))
	if reg.Latest("b") == nil {
		b.Fatal("the flow did not load")
	}
	e := newEngine(b, &reg)
	e.Root = "b"
	e.MaxAutoSteps = 64
	b.ReportAllocs()
	for b.Loop() {
		s := &conversation.State{Locale: "es"}
		e.Apply(context.Background(), s, flows.Input{})
		if _, err := e.Apply(context.Background(), s, flows.Input{Text: "a"}); !errors.Is(err, flows.ErrBudget) {
			b.Fatalf("want ErrBudget, got %v", err)
		}
	}
}
