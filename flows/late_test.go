package flows_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
)

const lateHead = "spec_version: 1\nid: l\nversion: 1\ninstitution: X\ntitle: {es: T}\nlocales: [es]\nstart: lookup\nsteps:\n" +
	"  lookup:\n    kind: call\n    service: svc\n    async: sms\n    on: {ok: check, error: sorry}\n" +
	"  sorry:\n    kind: end\n    text: {es: Error}\n"

// A late result may go out by SMS once the citizen has gone: the flow
// after an async call must end in a text, never ask anything.
func TestLintLateResultIsAFinalText(t *testing.T) {
	cases := []struct{ name, steps, want string }{
		{"list", "  check:\n    kind: set\n    vars: {offices: '[]'}\n    next: pick\n  pick:\n    kind: list\n    text: {es: Elija}\n    items: offices\n    label: {es: '{{item.name}}'}\n    save: office\n    next: sorry\n",
			"l.yaml:12:5: steps.lookup.async: error: after an async call the flow must end in a text, which may go out by SMS once the citizen has gone; it reaches steps.pick, a list that asks the citizen"},
		{"menu behind a branch", "  check:\n    kind: branch\n    cases: [{when: 'true', next: sorry}]\n    default: ask\n  ask:\n    kind: menu\n    text: {es: Elija}\n    options: [{label: {es: Uno}, next: sorry}]\n",
			"it reaches steps.ask, a menu that asks the citizen: end with a message or end step, and ask before the call [late-result]"},
		{"goto", "  check:\n    kind: goto\n    flow: other\n", "it reaches steps.check, a goto to another flow"},
	}
	other := flows.Source{Name: "other.yaml", Data: []byte("spec_version: 1\nid: other\nversion: 1\ninstitution: X\ntitle: {es: T}\nlocales: [es]\nstart: a\nsteps:\n  a:\n    kind: end\n    text: {es: x}\n")}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ps := flows.Load([]flows.Source{{Name: "l.yaml", Data: []byte(lateHead + c.steps)}, other}, env(t))
			for _, p := range ps {
				if strings.Contains(p.String(), c.want) {
					return
				}
			}
			t.Errorf("want a problem containing %q, got:\n%v", c.want, ps)
		})
	}
	final := lateHead + "  check:\n    kind: message\n    text: {es: Listo}\n    next: bye\n  bye:\n    kind: end\n    text: {es: Gracias}\n"
	if _, ps := flows.Load([]flows.Source{{Name: "l.yaml", Data: []byte(final)}}, env(t)); len(ps) > 0 {
		t.Errorf("a late result that is a text: %v", ps)
	}
}

// The lint says what the engine will tell the citizen: without an SMS
// carrier, a late result waits for the next contact.
func TestLintSaysWhereLateResultsGo(t *testing.T) {
	final := lateHead + "  check:\n    kind: end\n    text: {es: Listo}\n"
	for _, c := range []struct {
		late string
		want bool
	}{{flows.LateAtNextContact, true}, {flows.LateBySMS, false}, {"", false}} {
		e := env(t)
		e.LateResults = c.late
		_, ps := flows.Load([]flows.Source{{Name: "l.yaml", Data: []byte(final)}}, e)
		got := len(ps) == 1 && ps[0].Code == "async-without-sms" && ps[0].Severity == flows.Warning && ps[0].Path == "steps.lookup.async"
		if got != c.want {
			t.Errorf("late results %q: problems %v", c.late, ps)
		}
	}
}

// A Caller that keeps its own clock may answer at once what took longer
// than the hop could wait: the answer is a late result all the same, and
// the rest of the flow runs where Later says, after the hop.
func TestLateByTheCallersClock(t *testing.T) {
	src := lateHead + "  check:\n    kind: end\n    text: {es: 'Listo: {{status}}'}\n"
	src = strings.Replace(src, "    async: sms\n", "    async: sms\n    save: {status: status}\n", 1)
	reg := load(t, flows.Source{Name: "l.yaml", Data: []byte(src)})
	for _, tc := range []struct {
		name    string
		elapsed time.Duration
		screen  string
		sent    []string
	}{
		{"in time", time.Second, "Listo: ok", nil},
		{"later than the hop could wait", 6 * time.Second, "Su consulta tarda más de lo normal. Le enviaremos el resultado por SMS.", []string{"+593991234567: Listo: ok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, &reg)
			e.Root = "l"
			e.Caller = fakeCaller{flows.Response{Outcome: flows.OK, Elapsed: tc.elapsed, Get: func(string) any { return "ok" }}}
			box := &smsBox{}
			e.Notifier = box
			var later []func()
			e.Later = func(f func()) { later = append(later, f) }
			ctx, cancel := context.WithTimeout(t.Context(), 4*time.Second)
			defer cancel()
			sc, err := e.Apply(ctx, &conversation.State{Locale: "es", Phone: "+593991234567"}, flows.Input{})
			if err != nil || sc.Text != tc.screen || !sc.End {
				t.Fatalf("screen %q (end %v), %v; want %q", sc.Text, sc.End, err, tc.screen)
			}
			if len(box.sent) > 0 {
				t.Fatalf("sent during the hop: %q", box.sent)
			}
			for _, f := range later {
				f()
			}
			if !slices.Equal(box.sent, tc.sent) {
				t.Errorf("sent %q, want %q", box.sent, tc.sent)
			}
		})
	}
}
