package flows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
)

func measure(s *flows.Screen) int { return len([]rune(ussd.Paginate(s, 1<<20)[0])) }

func catalog(t testing.TB) *i18n.Catalog {
	t.Helper()
	c, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func env(t testing.TB) flows.Env {
	return flows.Env{
		Messages:   catalog(t),
		Measure:    measure,
		Service:    func(id string) bool { return id == "tramites.status" || id == "svc" },
		ServiceIDs: func() []string { return []string{"svc", "tramites.status"} },
	}
}

// Every step kind has an example in its description, and every example
// loads without a single problem. docs/flows-reference.md shows them.
func TestEveryKindHasALintCleanExample(t *testing.T) {
	var srcs []flows.Source
	for _, k := range flows.Kinds() {
		if strings.TrimSpace(k.Example) == "" {
			t.Errorf("step kind %q has no example", k.Name)
			continue
		}
		srcs = append(srcs, flows.Source{Name: "example-" + k.Name + ".yaml", Data: []byte(k.Example)})
	}
	reg, problems := flows.Load(srcs, env(t))
	for _, p := range problems {
		t.Error(p.String())
	}
	for _, k := range flows.Kinds() {
		if reg.Latest("example-"+k.Name) == nil {
			t.Errorf("example of %q did not load", k.Name)
		}
	}
}

// Each broken file gets the problem an author needs, at the right place.
func TestLintReportsProblemsWithPositions(t *testing.T) {
	head := "spec_version: 1\nid: t\nversion: 1\ninstitution: X\ntitle: {es: T}\nlocales: [es]\nstart: a\nsteps:\n"
	cases := []struct {
		name, steps string
		want        string // substring of one problem's String()
	}{
		{"dangling next", "  a:\n    kind: message\n    text: {es: hola}\n    next: confrim\n  confirm:\n    kind: end\n    text: {es: x}\n",
			`t.yaml:12:11: steps.a.next: error: unknown step "confrim" (did you mean "confirm"?) [dangling-next]`},
		{"unknown kind", "  a:\n    kind: manu\n", `t.yaml:10:11: steps.a.kind: error: unknown step kind "manu" (did you mean "menu"?)`},
		{"unknown field", "  a:\n    kind: end\n    txt: {es: x}\n", `t.yaml:11:5: steps.a.txt: error: an end step has no field "txt" (did you mean "text"?) [unknown-field]`},
		{"missing field", "  a:\n    kind: end\n", `t.yaml:10:5: steps.a: error: an end step needs "text"`},
		{"wrong type", "  a:\n    kind: input\n    text: {es: x}\n    retries: many\n    save: v\n    next: a\n", `t.yaml:12:14: steps.a.retries: error: expected a whole number, found "many" [wrong-type]`},
		{"bad expression", "  a:\n    kind: branch\n    cases:\n      - when: 'x =='\n        next: b\n    default: b\n  b:\n    kind: end\n    text: {es: x}\n", "t.yaml:12:18: steps.a.cases[0].when: error: the expression ends too early: something is missing after `==` [bad-expression]"},
		{"misspelt function", "  a:\n    kind: set\n    vars: {p: 'upperr(replace(x, \"-\", \"\"))'}\n    next: b\n  b:\n    kind: end\n    text: {es: x}\n",
			`t.yaml:11:16: steps.a.vars.p: error: unknown function upperr (did you mean "upper"?); the functions are listed in docs/flows.md [unknown-function]`},
		{"sprintf", "  a:\n    kind: branch\n    cases:\n      - when: 'sprintf(\"%d\", n) == \"1\"'\n        next: b\n    default: b\n  b:\n    kind: end\n    text: {es: x}\n",
			`t.yaml:12:16: steps.a.cases[0].when: error: unknown function sprintf; the functions are listed in docs/flows.md [unknown-function]`},
		{"no clock", "  a:\n    kind: set\n    vars: {t: 'now()'}\n    next: b\n  b:\n    kind: end\n    text: {es: x}\n",
			`steps.a.vars.t: error: unknown function now: there is no clock in expressions, so that conversations replay exactly [unknown-function]`},
		{"bad regex", "  a:\n    kind: input\n    text: {es: x}\n    validate: {kind: regex, pattern: '(['}\n    save: v\n    next: b\n  b:\n    kind: end\n    text: {es: x}\n", `t.yaml:12:29: steps.a.validate.pattern: error:`},
		{"unknown validator", "  a:\n    kind: input\n    text: {es: x}\n    validate: {kind: dni}\n    save: v\n    next: b\n  b:\n    kind: end\n    text: {es: x}\n", `[unknown-validator]`},
		{"unknown service", "  a:\n    kind: call\n    service: nope\n    on: {ok: b}\n  b:\n    kind: end\n    text: {es: x}\n", `t.yaml:11:14: steps.a.service: error: service "nope" is not declared`},
		{"misspelt service", "  a:\n    kind: call\n    service: tramites.stauts\n    on: {ok: b}\n  b:\n    kind: end\n    text: {es: x}\n", `t.yaml:11:14: steps.a.service: error: service "tramites.stauts" is not declared in the services configuration (did you mean "tramites.status"?) [unknown-service]`},
		{"duplicate step", "  a:\n    kind: end\n    text: {es: x}\n  a:\n    kind: end\n    text: {es: y}\n", `t.yaml:12:3: steps.a: error: "a" is defined twice (first at 9:3) [duplicate-id]`},
		{"missing entry", "  b:\n    kind: end\n    text: {es: x}\n", `t.yaml:7:8: start: error: entry step "a" does not exist`},
		{"unreachable", "  a:\n    kind: end\n    text: {es: x}\n  b:\n    kind: end\n    text: {es: y}\n", `t.yaml:12:3: steps.b: warning: step "b" cannot be reached`},
		{"missing translation", "  a:\n    kind: end\n    text: {en: x}\n", `t.yaml:11:11: steps.a.text: warning: no es text`},
		{"loop without input", "  a:\n    kind: set\n    vars: {n: n + 1}\n    next: b\n  b:\n    kind: message\n    text: {es: x}\n    next: a\n", `[loop-without-input]`},
		{"screen too long", "  a:\n    kind: menu\n    text: {es: '" + strings.Repeat("palabra ", 20) + "{{nombre}}'}\n    options:\n      - label: {es: " + strings.Repeat("x", 40) + "}\n        next: a\n", "t.yaml:11:16: steps.a.text.es: warning: in es the screen can reach"},
		{"bad template", "  a:\n    kind: end\n    text: {es: 'hola {{ nombre'}\n", `t.yaml:11:22: steps.a.text.es: error: unclosed {{`},
		{"yaml syntax", "  a: [\n", "t.yaml:9:6: (file): error: this `[` is never closed"},
		{"anchors refused", "  a: &x\n    kind: end\n    text: {es: x}\n", `anchors and aliases`},
		{"personal data needs level 1", "  a:\n    kind: input\n    text: {es: x}\n    validate: {kind: cedula}\n    save: ced\n    next: b\n  b:\n    kind: end\n    text: {es: 'Cédula {{ced}}'}\n", `t.yaml:17:11: steps.b.text: error: this text shows personal data; declare level: 1`},
		{"personal data sent needs level 1", "  a:\n    kind: call\n    service: svc\n    params: {who: phone}\n    on: {ok: b}\n  b:\n    kind: end\n    text: {es: x}\n", `steps.a.params.who: error: this call sends personal data (phone)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, problems := flows.Load([]flows.Source{{Name: "t.yaml", Data: []byte(head + c.steps)}}, env(t))
			var all []string
			for _, p := range problems {
				all = append(all, p.String())
				if strings.Contains(p.String(), c.want) {
					return
				}
			}
			t.Errorf("want a problem containing\n  %s\ngot:\n  %s", c.want, strings.Join(all, "\n  "))
		})
	}
}

func TestHostileFilesAreBounded(t *testing.T) {
	huge := make([]byte, flows.MaxFileSize+1)
	_, ps := flows.Parse("huge.yaml", huge)
	if !ps.HasErrors() || ps[0].Code != "too-large" {
		t.Errorf("huge file: %v", ps)
	}
	deep := "a: " + strings.Repeat("[", 40) + strings.Repeat("]", 40)
	if _, ps := flows.Parse("deep.yaml", []byte(deep)); !ps.HasErrors() {
		t.Error("deep nesting accepted")
	}
	var b strings.Builder
	b.WriteString("spec_version: 1\nid: t\nversion: 1\ninstitution: X\ntitle: {es: T}\nlocales: [es]\nstart: s0\nsteps:\n")
	for i := 0; i <= flows.MaxSteps; i++ {
		b.WriteString("  s" + itoa(i) + ": {kind: end, text: {es: x}}\n")
	}
	if _, ps := flows.Parse("many.yaml", []byte(b.String())); !ps.HasErrors() {
		t.Error("too many steps accepted")
	}
	long := "spec_version: 1\nid: t\nversion: 1\ninstitution: X\ntitle: {es: T}\nlocales: [es]\nstart: a\nsteps:\n  a:\n    kind: branch\n    cases: [{when: '" + strings.Repeat("1+", flows.MaxExprLen) + "1', next: a}]\n    default: a\n"
	if _, ps := flows.Parse("long.yaml", []byte(long)); !ps.HasErrors() {
		t.Error("huge expression accepted")
	}
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for i > 0 {
		d = append([]byte{byte('0' + i%10)}, d...)
		i /= 10
	}
	return string(d)
}

// FuzzParse: no input makes the loader panic or hang, and every problem
// has a position.
func FuzzParse(f *testing.F) {
	for _, k := range flows.Kinds() {
		f.Add([]byte(k.Example))
	}
	f.Add([]byte("steps: {a: {kind: menu, options: [{label: x}]}}"))
	f.Add([]byte("{{{{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, ps := flows.Parse("f.yaml", data)
		for _, p := range ps {
			if p.Pos.Line < 1 {
				t.Fatalf("problem without a line: %v", p)
			}
		}
		if fl != nil && !ps.HasErrors() {
			flows.Compile(fl, flows.Env{})
		}
	})
}

const versioned = `spec_version: 1
id: v
version: %d
institution: X
title: {es: V}
locales: [es]
start: ask
steps:
  ask:
    kind: menu
    text: {es: "Versión %d"}
    options:
      - label: {es: Seguir}
        next: bye
  bye:
    kind: end
    text: {es: "Fin de la versión %d"}
`

type fakeCaller struct{ resp flows.Response }

func (f fakeCaller) Call(context.Context, flows.Request) flows.Response { return f.resp }

func newEngine(t testing.TB, reg **flows.Registry) *flows.Engine {
	return &flows.Engine{
		Flows:    func() *flows.Registry { return *reg },
		Messages: catalog(t),
		Caller:   fakeCaller{},
		Now:      func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) },
		Nav:      flows.DefaultNav,
		Root:     "v",
	}
}

func load(t testing.TB, srcs ...flows.Source) *flows.Registry {
	t.Helper()
	reg, ps := flows.Load(srcs, env(t))
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	return reg
}

func version(n int) flows.Source {
	return flows.Source{Name: "v.yaml", Data: []byte(strings.ReplaceAll(versioned, "%d", fmtInt(n)))}
}

// A conversation started on version 1 finishes on version 1 after version
// 2 is loaded; new conversations start on version 2.
func TestSessionFinishesOnItsVersion(t *testing.T) {
	reg := load(t, version(1))
	e := newEngine(t, &reg)
	ctx := context.Background()
	old := &conversation.State{Locale: "es"}
	sc, err := e.Apply(ctx, old, flows.Input{})
	if err != nil || !strings.Contains(sc.Text, "Versión 1") {
		t.Fatalf("start: %q %v", sc.Text, err)
	}
	reg = load(t, version(2)).Carry(reg)
	fresh := &conversation.State{Locale: "es"}
	if sc, _ := e.Apply(ctx, fresh, flows.Input{}); !strings.Contains(sc.Text, "Versión 2") {
		t.Errorf("new conversation: %q", sc.Text)
	}
	sc, err = e.Apply(ctx, old, flows.Input{Text: "1"})
	if err != nil || sc.Text != "Fin de la versión 1" || !sc.End {
		t.Errorf("old conversation finished with %q (end %v, err %v)", sc.Text, sc.End, err)
	}
}

const nested = `spec_version: 1
id: parent
version: 1
institution: X
title: {es: P}
locales: [es]
start: menu
steps:
  menu:
    kind: menu
    text: {es: Padre}
    options:
      - label: {es: Hijo}
        next: child
  child:
    kind: goto
    flow: child
    next: after
  after:
    kind: menu
    text: {es: "De vuelta con {{answer}}"}
    options:
      - label: {es: Salir}
        next: bye
  bye:
    kind: end
    text: {es: Adiós}
`

const child = `spec_version: 1
id: child
version: 1
institution: X
title: {es: C}
locales: [es]
start: ask
steps:
  ask:
    kind: input
    text: {es: "Escriba un número del 1 al 5"}
    validate: {kind: range, min: 1, max: 5}
    retries: 2
    save: answer
    next: done
  done:
    kind: end
    text: {es: "Hijo terminado"}
`

// goto runs the child flow and returns; back crosses into the child; the
// retry limit ends the conversation with a localised message.
func TestGotoBackAndRetries(t *testing.T) {
	reg := load(t, flows.Source{Name: "parent.yaml", Data: []byte(nested)}, flows.Source{Name: "child.yaml", Data: []byte(child)})
	e := newEngine(t, &reg)
	e.Root = "parent"
	ctx := context.Background()
	s := &conversation.State{Locale: "es"}
	steps := []struct{ in, want string }{
		{"", "Padre\n"},
		{"1", "Escriba un número del 1 al 5"},
		{"9", "Escriba un número entre 1 y 5.\nEscriba un número del 1 al 5"},
		{"0", "Padre"},
		{"1", "Escriba un número del 1 al 5"},
		{"3", "Hijo terminado\nDe vuelta con 3"},
		{"0", "Padre"},
	}
	for i, st := range steps {
		sc, err := e.Apply(ctx, s, flows.Input{Text: st.in})
		if err != nil {
			t.Fatalf("hop %d: %v", i, err)
		}
		if !strings.HasPrefix(sc.Text, strings.TrimSuffix(st.want, "\n")) {
			t.Fatalf("hop %d (%q): got %q, want prefix %q", i, st.in, sc.Text, st.want)
		}
	}
	if len(s.Frames) != 1 || s.Current().Step != "menu" {
		t.Errorf("frames after back: %+v", s.Frames)
	}
	s = &conversation.State{Locale: "es"}
	for _, in := range []string{"", "1", "x", "y"} {
		sc, err := e.Apply(ctx, s, flows.Input{Text: in})
		if err != nil {
			t.Fatal(err)
		}
		if in == "y" && (!sc.End || !strings.Contains(sc.Text, "Demasiados intentos")) {
			t.Errorf("after the retries: %q end=%v", sc.Text, sc.End)
		}
	}
}

// Two conversations with the same inputs on the same clock produce the
// same sessions byte for byte: replays are exact.
func TestDeterministic(t *testing.T) {
	reg := load(t, flows.Source{Name: "parent.yaml", Data: []byte(nested)}, flows.Source{Name: "child.yaml", Data: []byte(child)})
	e := newEngine(t, &reg)
	e.Root = "parent"
	var encoded [2][]byte
	for i := range encoded {
		s := &conversation.State{Key: "k", Locale: "es"}
		for _, in := range []string{"", "1", "4"} {
			if _, err := e.Apply(context.Background(), s, flows.Input{Text: in}); err != nil {
				t.Fatal(err)
			}
		}
		encoded[i], _ = s.MarshalBinary()
	}
	if string(encoded[0]) != string(encoded[1]) {
		t.Error("same conversation, different sessions")
	}
}

// The reference in docs/ is generated from the kind descriptions.
func TestReferenceListsEveryKind(t *testing.T) {
	ref := flows.Reference()
	for _, k := range flows.Kinds() {
		if !strings.Contains(ref, "#### `"+k.Name+"`") {
			t.Errorf("reference lacks %q", k.Name)
		}
	}
}

const longEnd = `spec_version: 1
id: long
version: 1
institution: X
title: {es: L}
locales: [es]
start: bye
steps:
  bye:
    kind: end
    text: {es: "Uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciséis diecisiete dieciocho diecinueve veinte."}
`

// A final text longer than one page is paged, not cut: the conversation
// stays open until the citizen reaches its last page.
func TestLongFinalTextIsPaged(t *testing.T) {
	reg := load(t, flows.Source{Name: "long.yaml", Data: []byte(longEnd)})
	e := newEngine(t, &reg)
	e.Root = "long"
	pages := func(s *flows.Screen) int { return ussd.Pages(s, 60) }
	s := &conversation.State{Locale: "es"}
	var seen []string
	for i, in := range []string{"", "98", "98", "98", "98"} {
		sc, err := e.Apply(context.Background(), s, flows.Input{Text: in, Pages: pages})
		if err != nil {
			t.Fatal(err)
		}
		text, n := ussd.Render(&sc, 60)
		seen = append(seen, text)
		if sc.Page == n-1 {
			if !strings.Contains(text, "veinte.") {
				t.Errorf("last page %q lacks the end of the text", text)
			}
			return
		}
		if i > 0 && seen[i] == seen[i-1] {
			t.Fatalf("98 did not move to the next page: %q", text)
		}
	}
	t.Errorf("never reached the last page: %q", seen)
}

// BenchmarkApply: the engine's part of a hop — decode the session, apply
// an answer, run to the next screen, encode — without store or rendering.
func BenchmarkApply(b *testing.B) {
	reg := load(b, flows.Source{Name: "parent.yaml", Data: []byte(nested)}, flows.Source{Name: "child.yaml", Data: []byte(child)})
	e := newEngine(b, &reg)
	e.Root = "parent"
	ctx := context.Background()
	s := &conversation.State{Key: "ussd:bench:1", Phone: "+593991234567", Channel: "ussd", Locale: "es"}
	if _, err := e.Apply(ctx, s, flows.Input{}); err != nil {
		b.Fatal(err)
	}
	data, _ := s.MarshalBinary()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		var cur conversation.State
		if err := cur.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
		in := "1" // parent menu → child input
		if i%2 == 1 {
			in = "0" // back to the menu
		}
		if _, err := e.Apply(ctx, &cur, flows.Input{Text: in}); err != nil {
			b.Fatal(err)
		}
		out, err := cur.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		data = out
	}
}

const personal = `spec_version: 1
id: personal
version: 1
institution: X
title: {es: P}
locales: [es]
level: 1
start: bye
steps:
  bye:
    kind: end
    text: {es: "Su número {{phone}}"}
`

// A level 1 flow runs only with a number the carrier verified: a chat
// without a shared number is told so.
func TestAuthLevelOne(t *testing.T) {
	reg := load(t, flows.Source{Name: "personal.yaml", Data: []byte(personal)})
	e := newEngine(t, &reg)
	e.Root = "personal"
	sc, err := e.Apply(context.Background(), &conversation.State{Locale: "es", Channel: "chat"}, flows.Input{})
	if err != nil || !sc.End || !strings.HasPrefix(sc.Text, "Este trámite necesita su número verificado") {
		t.Errorf("without a number: %q %v", sc.Text, err)
	}
	sc, err = e.Apply(context.Background(), &conversation.State{Locale: "es", Channel: "ussd", Phone: "+593991234567"}, flows.Input{})
	if err != nil || sc.Text != "Su número +593991234567" {
		t.Errorf("with a number: %q %v", sc.Text, err)
	}
}

// smsBox keeps the texts a Notifier was asked to send.
type smsBox struct{ sent []string }

func (b *smsBox) Notify(_ context.Context, phone, _ string, text string) error {
	b.sent = append(b.sent, phone+": "+text)
	return nil
}

// A level 2 flow starts only after the one-time code sent by SMS is typed
// back; wrong codes are counted, and the third ends the conversation.
func TestAuthLevelTwo(t *testing.T) {
	two := strings.Replace(personal, "level: 1", "level: 2", 1)
	reg := load(t, flows.Source{Name: "two.yaml", Data: []byte(two)})
	e := newEngine(t, &reg)
	e.Root = "personal"
	box := &smsBox{}
	e.OTP = box
	e.Codes = func() string { return "424242" }
	ctx := context.Background()
	s := &conversation.State{Locale: "es", Channel: "ussd", Phone: "+593991234567"}
	sc, _ := e.Apply(ctx, s, flows.Input{})
	if sc.End || sc.Text != "Le enviamos un código por SMS. Escríbalo para continuar:" {
		t.Fatalf("prompt: %q", sc.Text)
	}
	if len(box.sent) != 1 || box.sent[0] != "+593991234567: Ventanilla: su código es 424242. No lo comparta con nadie." {
		t.Fatalf("sms: %q", box.sent)
	}
	if sc, _ = e.Apply(ctx, s, flows.Input{Text: "111111"}); !strings.HasPrefix(sc.Text, "Código incorrecto.") || sc.End {
		t.Errorf("wrong code: %q", sc.Text)
	}
	if sc, _ = e.Apply(ctx, s, flows.Input{Text: "424242"}); sc.Text != "Su número +593991234567" || !sc.End {
		t.Errorf("right code: %q", sc.Text)
	}
	// Three wrong codes end it.
	s = &conversation.State{Locale: "es", Channel: "ussd", Phone: "+593991234567"}
	e.Apply(ctx, s, flows.Input{})
	for range 3 {
		sc, _ = e.Apply(ctx, s, flows.Input{Text: "000000"})
	}
	if !sc.End || !strings.Contains(sc.Text, "Demasiados intentos") {
		t.Errorf("after three wrong codes: %q", sc.Text)
	}
	// Without a way to send SMS, level 2 is refused politely.
	e.OTP = nil
	sc, _ = e.Apply(ctx, &conversation.State{Locale: "es", Channel: "ussd", Phone: "+593991234567"}, flows.Input{})
	if !sc.End || !strings.HasPrefix(sc.Text, "Este trámite necesita verificación por SMS") {
		t.Errorf("without SMS: %q", sc.Text)
	}
}

// A goto into a level 2 flow asks for the code, then runs the flow and
// returns to the caller as usual.
func TestAuthLevelTwoThroughGoto(t *testing.T) {
	guarded := strings.Replace(child, "locales: [es]", "locales: [es]\nlevel: 2", 1)
	reg := load(t, flows.Source{Name: "parent.yaml", Data: []byte(nested)}, flows.Source{Name: "child.yaml", Data: []byte(guarded)})
	e := newEngine(t, &reg)
	e.Root = "parent"
	e.OTP = &smsBox{}
	e.Codes = func() string { return "135790" }
	ctx := context.Background()
	s := &conversation.State{Locale: "es", Channel: "ussd", Phone: "+593991234567"}
	for _, st := range []struct{ in, want string }{
		{"", "Padre"},
		{"1", "Le enviamos un código por SMS"},
		{"135790", "Escriba un número del 1 al 5"},
		{"2", "Hijo terminado\nDe vuelta con 2"},
	} {
		sc, err := e.Apply(ctx, s, flows.Input{Text: st.in})
		if err != nil || !strings.HasPrefix(sc.Text, st.want) {
			t.Fatalf("%q: %q (%v), want %q", st.in, sc.Text, err, st.want)
		}
	}
}

// memPINs is a PINs for engine tests.
type memPINs struct {
	pins  map[string]string
	fails int
}

func (m *memPINs) Has(_ context.Context, phone string) (bool, error) {
	_, ok := m.pins[phone]
	return ok, nil
}
func (m *memPINs) Set(_ context.Context, phone, pin string) error { m.pins[phone] = pin; return nil }
func (m *memPINs) Check(_ context.Context, phone, pin string) (bool, error) {
	if m.fails >= 2 {
		return false, flows.ErrPINLocked
	}
	if m.pins[phone] == pin {
		return true, nil
	}
	m.fails++
	return false, nil
}

// After a one-time code a citizen may set a PIN; the next conversation
// asks for the PIN instead of sending a code, and repeated wrong PINs lock.
func TestAuthLevelTwoWithPIN(t *testing.T) {
	two := strings.Replace(personal, "level: 1", "level: 2", 1)
	reg := load(t, flows.Source{Name: "two.yaml", Data: []byte(two)})
	e := newEngine(t, &reg)
	e.Root = "personal"
	box := &smsBox{}
	e.OTP = box
	e.Codes = func() string { return "424242" }
	pins := &memPINs{pins: map[string]string{}}
	e.PINs = pins
	ctx := context.Background()
	phone := "+593991234567"
	s := &conversation.State{Locale: "es", Channel: "ussd", Phone: phone}
	steps := []struct{ in, want string }{
		{"", "Le enviamos un código por SMS"},
		{"424242", "Cree un PIN de 4 dígitos"},
		{"12", "Dato no válido.\nCree un PIN"},
		{"4821", "PIN guardado.\nSu número +593991234567"},
	}
	for _, st := range steps {
		sc, err := e.Apply(ctx, s, flows.Input{Text: st.in})
		if err != nil || !strings.HasPrefix(sc.Text, st.want) {
			t.Fatalf("%q: %q (%v), want %q", st.in, sc.Text, err, st.want)
		}
	}
	if pins.pins[phone] != "4821" {
		t.Fatalf("PIN not kept: %v", pins.pins)
	}
	s = &conversation.State{Locale: "es", Channel: "ussd", Phone: phone}
	for _, st := range []struct{ in, want string }{
		{"", "Escriba su PIN de 4 dígitos"},
		{"0000", "PIN incorrecto.\nEscriba su PIN"},
		{"4821", "Su número +593991234567"},
	} {
		sc, err := e.Apply(ctx, s, flows.Input{Text: st.in})
		if err != nil || !strings.HasPrefix(sc.Text, st.want) {
			t.Fatalf("%q: %q (%v), want %q", st.in, sc.Text, err, st.want)
		}
	}
	if len(box.sent) != 1 {
		t.Errorf("a code was sent although the citizen has a PIN: %q", box.sent)
	}
	s = &conversation.State{Locale: "es", Channel: "ussd", Phone: phone}
	e.Apply(ctx, s, flows.Input{})
	e.Apply(ctx, s, flows.Input{Text: "9999"})
	sc, _ := e.Apply(ctx, s, flows.Input{Text: "9999"})
	if !sc.End || !strings.HasPrefix(sc.Text, "Demasiados intentos con el PIN") {
		t.Errorf("locked: %q", sc.Text)
	}
}

const twoCalls = `spec_version: 1
id: v
version: 1
institution: X
title: {es: V}
locales: [es]
start: ask
steps:
  ask:
    kind: menu
    text: {es: Consultar}
    options:
      - label: {es: Sí}
        next: first
  first:
    kind: call
    service: svc
    on: {ok: second}
  second:
    kind: call
    service: svc
    on: {ok: bye}
  bye:
    kind: end
    text: {es: Listo}
`

// countingCaller counts the calls that reach the back-end.
type countingCaller struct{ n *int }

func (c countingCaller) Call(context.Context, flows.Request) flows.Response {
	*c.n++
	return flows.Response{Outcome: flows.OK}
}

// Input.Confirm runs once before the hop's first back-end call, and when
// it fails no call is made and Apply returns its error.
func TestConfirmBeforeEffects(t *testing.T) {
	reg := load(t, flows.Source{Name: "v.yaml", Data: []byte(twoCalls)})
	stale := errors.New("stale copy")
	tests := []struct {
		name      string
		confirm   error
		wantCalls int
		wantErr   error
	}{
		{"confirmed", nil, 2, nil},
		{"stale", stale, 0, stale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls, confirms := 0, 0
			e := newEngine(t, &reg)
			e.Caller = countingCaller{&calls}
			s := &conversation.State{Locale: "es"}
			confirm := func(context.Context) error { confirms++; return tt.confirm }
			// The first screen has no effect: Confirm is not needed.
			if _, err := e.Apply(t.Context(), s, flows.Input{Confirm: confirm}); err != nil || confirms != 0 {
				t.Fatalf("first screen: err %v, %d confirmations; want none", err, confirms)
			}
			sc, err := e.Apply(t.Context(), s, flows.Input{Text: "1", Confirm: confirm})
			if !errors.Is(err, tt.wantErr) || calls != tt.wantCalls || confirms != 1 {
				t.Fatalf("got %q, err %v, %d calls, %d confirmations; want err %v, %d calls, 1 confirmation", sc.Text, err, calls, confirms, tt.wantErr, tt.wantCalls)
			}
		})
	}
}

// A file over one of the bounds gets the bound's error alone, not the
// consequences of the part left unread ("needs at least one option" next
// to "12000 options").
func TestOversizedPartsGetOneMessage(t *testing.T) {
	head := "spec_version: 1\nid: t\nversion: 1\ninstitution: X\ntitle: {es: T}\nlocales: [es]\nstart: a\nsteps:\n"
	var opts strings.Builder
	for range 12000 {
		opts.WriteString("      - {label: {es: x}, next: a}\n")
	}
	var steps strings.Builder
	for i := 0; i <= flows.MaxSteps; i++ {
		steps.WriteString("  s" + itoa(i) + ": {kind: end, text: {es: x}}\n")
	}
	cases := []struct{ name, file, want string }{
		{"12000 options", head + "  a:\n    kind: menu\n    text: {es: Elija}\n    options:\n" + opts.String(), "12000 options; the limit is 20"},
		{"too many steps", strings.Replace(head, "start: a", "start: s0", 1) + steps.String(), "steps; the limit is 500"},
		{"text too long", head + "  a:\n    kind: end\n    text: {es: '" + strings.Repeat("x", flows.MaxTextLen+1) + "'}\n", "the limit is 2000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ps := flows.Load([]flows.Source{{Name: "t.yaml", Data: []byte(c.file)}}, env(t))
			if len(ps) != 1 || ps[0].Code != "too-large" || !strings.Contains(ps[0].Message, c.want) {
				t.Errorf("want the one too-large error %q, got:\n%v", c.want, ps)
			}
		})
	}
}

// A goto cycle between flows nests one flow deeper on every pass and
// fails at run time; the lint refuses it, naming the cycle. So does a
// chain of gotos deeper than the engine allows.
func TestLintRefusesGotoCycles(t *testing.T) {
	flow := func(id, target string) flows.Source {
		src := "spec_version: 1\nid: " + id + "\nversion: 1\ninstitution: X\ntitle: {es: T}\nlocales: [es]\nstart: a\nsteps:\n" +
			"  a:\n    kind: menu\n    text: {es: Elija}\n    options:\n      - {label: {es: Ir}, next: go}\n      - {label: {es: Fin}, next: bye}\n" +
			"  go:\n    kind: goto\n    flow: " + target + "\n" +
			"  bye:\n    kind: end\n    text: {es: Fin}\n"
		return flows.Source{Name: id + ".yaml", Data: []byte(src)}
	}
	leaf := flows.Source{Name: "leaf.yaml", Data: []byte("spec_version: 1\nid: leaf\nversion: 1\ninstitution: X\ntitle: {es: T}\nlocales: [es]\nstart: bye\nsteps:\n  bye:\n    kind: end\n    text: {es: Fin}\n")}

	reg, ps := flows.Load([]flows.Source{flow("uno", "dos"), flow("dos", "uno"), flow("root", "uno")}, env(t))
	var msgs []string
	for _, p := range ps {
		if p.Code == "goto-cycle" {
			msgs = append(msgs, p.String())
		}
	}
	if len(msgs) != 2 || !strings.Contains(msgs[0], "dos.yaml:17:11: steps.go.flow: error:") || !strings.Contains(msgs[0], "dos → uno → dos") {
		t.Errorf("want a goto-cycle error on each flow of the cycle, got:\n%s\nall: %v", strings.Join(msgs, "\n"), ps)
	}
	if reg.Latest("uno") != nil || reg.Latest("dos") != nil {
		t.Error("flows of a goto cycle were loaded")
	}

	chain := []flows.Source{leaf}
	ids := []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "leaf"}
	for i := 0; i < len(ids)-1; i++ {
		chain = append(chain, flow(ids[i], ids[i+1]))
	}
	_, ps = flows.Load(chain, env(t))
	found := false
	for _, p := range ps {
		if p.Code == "goto-depth" && p.File == "c1.yaml" {
			found = true
		}
	}
	if !found {
		t.Errorf("a chain of 9 flows passes the lint: %v", ps)
	}
	if _, ps := flows.Load(append([]flows.Source{leaf}, chain[2:]...), env(t)); ps.HasErrors() {
		t.Errorf("a chain of 7 flows is refused: %v", ps)
	}
}
