package flows

import (
	"slices"
	"testing"

	"github.com/ventanilla-gob/ventanilla/conversation"
)

const menuFlow = `spec_version: 1
id: m
version: 1
institution: X
title: {es: M, en: M}
locales: [es, en]
start: fixed
steps:
  fixed:
    kind: menu
    text: {es: "Elija:", en: "Choose:"}
    options:
      - {label: {es: Uno, en: One}, next: done}
      - {label: {es: Dos}, next: done}
  held:
    kind: menu
    text: {es: "Elija:", en: "Choose:"}
    options:
      - {label: {es: Uno, en: One}, next: done}
      - {label: {es: Dos, en: Two}, when: 'phone != ""', next: done}
  named:
    kind: menu
    text: {es: "Elija:", en: "Choose:"}
    options:
      - {label: {es: "Uno {{n}}", en: "One {{n}}"}, next: done}
  done:
    kind: end
    text: {es: Fin., en: End.}
`

// A menu of literal labels without conditions shows, in each locale, the
// options a hop would build (a label missing in a locale in the first
// locale's words); one with a condition or a hole is built every hop.
func TestMenuOptionsPrecomputed(t *testing.T) {
	reg, ps := Load([]Source{{Name: "m.yaml", Data: []byte(menuFlow)}}, Env{})
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	cf := reg.Latest("m")
	menu := func(step string) *menuStep { return cf.Steps[step].body.(*menuStep) }
	if menu("held").shown != nil || menu("named").shown != nil {
		t.Error("a menu with a condition or a hole is precomputed")
	}
	fixed := menu("fixed")
	for _, loc := range []string{"es", "en"} {
		h := &hop{s: &conversation.State{Locale: loc, Vars: map[string]any{}}}
		got, _ := fixed.options(h, cf, nil)
		shown := fixed.shown
		fixed.shown = nil
		want, _ := fixed.options(h, cf, nil)
		fixed.shown = shown
		if !slices.Equal(got, want) || len(got) != 2 {
			t.Errorf("%s: precomputed %v, built %v", loc, got, want)
		}
	}
	if en := fixed.shown["en"]; en[0].Label != "One" || en[1].Label != "Dos" {
		t.Errorf("en: %v", en)
	}
}
