package flows_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
)

// childWords are the system messages of the child flow's institution.
const childWords = `messages:
  auth.code_prompt: {es: "Hijo: escriba el código que le enviamos:"}
  auth.code_sms: {es: "Hijo: su código es {{Code}}."}
  auth.code_wrong: {es: "Hijo: código incorrecto."}
  validate.range: {es: "Hijo: del {{Min}} al {{Max}}."}
  nav.back: {es: Volver}
  nav.home: {es: Portada}
  error.too_many_attempts: {es: "Hijo: demasiados intentos."}
`

// loadWithOverrides loads parent and a level 2 child whose flow file has
// the overrides above, as a package's flows are loaded.
func loadWithOverrides(t *testing.T) (*flows.Registry, flows.Messages) {
	t.Helper()
	o, ps := i18n.ParseOverrides("hijo/messages.yaml", []byte(childWords))
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	own := catalog(t).With(o)
	env := env(t)
	env.MessagesOf = func(file string) flows.Messages {
		if file == "child.yaml" {
			return own
		}
		return nil
	}
	guarded := strings.Replace(child, "locales: [es]", "locales: [es]\nlevel: 2", 1)
	reg, ps := flows.Load([]flows.Source{{Name: "parent.yaml", Data: []byte(nested)}, {Name: "child.yaml", Data: []byte(guarded)}}, env)
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	return reg, own
}

// A flow loaded with its institution's messages says them — the gate of
// its level, its validation, its navigation, its endings — and the flow
// that called it says the engine's, before and after.
func TestFlowSaysItsOwnSystemMessages(t *testing.T) {
	reg, own := loadWithOverrides(t)
	e := newEngine(t, &reg)
	e.Root = "parent"
	box := &smsBox{}
	e.OTP = box
	e.Codes = func() string { return "135790" }
	ctx := context.Background()
	s := &conversation.State{Locale: "es", Channel: "ussd", Phone: "+593991234567"}
	for _, st := range []struct{ in, want, nav string }{
		{"", "Padre", ""},
		{"1", "Hijo: escriba el código que le enviamos:", ""},
		{"000000", "Hijo: código incorrecto.\nHijo: escriba el código", ""},
		{"135790", "Escriba un número del 1 al 5", "Volver Portada"},
		{"9", "Hijo: del 1 al 5.\nEscriba un número del 1 al 5", "Volver Portada"},
		{"0", "Padre", "Atrás"},
	} {
		sc, err := e.Apply(ctx, s, flows.Input{Text: st.in})
		if err != nil || !strings.HasPrefix(sc.Text, st.want) {
			t.Fatalf("%q: %q (%v), want %q", st.in, sc.Text, err, st.want)
		}
		if nav := sc.Nav.Prev.Label + " " + sc.Nav.Home.Label; st.nav != "" && strings.TrimSpace(nav) != st.nav {
			t.Errorf("%q: navigation %q, want %q", st.in, nav, st.nav)
		}
		if got := e.MessagesFor(s); (s.Current().Flow == "child") != (got == own) {
			t.Errorf("%q: MessagesFor in %s", st.in, s.Current().Flow)
		}
	}
	if len(box.sent) != 1 || box.sent[0] != "+593991234567: Hijo: su código es 135790." {
		t.Errorf("sms: %q", box.sent)
	}
	// Retries run out in the child's words.
	s = &conversation.State{Locale: "es", Channel: "ussd", Phone: "+593991234567", Vars: map[string]any{}}
	e.Apply(ctx, s, flows.Input{})
	e.Apply(ctx, s, flows.Input{Text: "1"})
	e.Apply(ctx, s, flows.Input{Text: "135790"})
	e.Apply(ctx, s, flows.Input{Text: "9"})
	if sc, _ := e.Apply(ctx, s, flows.Input{Text: "9"}); !sc.End || sc.Text != "Hijo: demasiados intentos." {
		t.Errorf("retries: %q", sc.Text)
	}
	if got := e.FailureFor(s, i18n.TooManyAttempts).Text; got != "Hijo: demasiados intentos." {
		t.Errorf("FailureFor: %q", got)
	}
}

// The lint measures a flow's screens with its own messages: a validation
// message made long in the overrides makes its question's screen too
// long for one USSD page.
func TestLintMeasuresScreensWithTheFlowsMessages(t *testing.T) {
	long := "Hijo: " + strings.Repeat("x", 100) + " {{Min}}-{{Max}}."
	o, _ := i18n.ParseOverrides("hijo/messages.yaml", []byte("messages:\n  validate.range: {es: \""+long+"\"}\n"))
	env := env(t)
	src := flows.Source{Name: "child.yaml", Data: []byte(strings.Replace(child, `"Escriba un número del 1 al 5"`, `"`+strings.Repeat("Escriba un número del 1 al 5. ", 2)+`"`, 1))}
	tooLong := func(ps flows.Problems) bool {
		for _, p := range ps {
			if p.Code == "screen-too-long" {
				return true
			}
		}
		return false
	}
	if _, ps := flows.Load([]flows.Source{src}, env); tooLong(ps) {
		t.Fatalf("with the catalogue's messages: %v", ps)
	}
	env.MessagesOf = func(string) flows.Messages { return catalog(t).With(o) }
	if _, ps := flows.Load([]flows.Source{src}, env); !tooLong(ps) {
		t.Errorf("with the overrides: %v", ps)
	}
}
