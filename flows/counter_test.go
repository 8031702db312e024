package flows_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
)

type heard []string

func (h *heard) Entered(c flows.Conversation, flow, institution string) {
	*h = append(*h, fmt.Sprintf("entered %s (%s) %s/%s/%s hop %d", flow, institution, c.Channel, c.Carrier, c.Locale, c.Hops))
}

func (h *heard) Ended(c flows.Conversation, flow, _, step string, completed bool) {
	*h = append(*h, fmt.Sprintf("ended %s at %s completed=%v hop %d", flow, step, completed, c.Hops))
}

const counted = `spec_version: 1
id: home
version: 1
institution: Ventanilla
title: {es: Inicio}
locales: [es]
start: menu
steps:
  menu:
    kind: menu
    text: {es: Servicios}
    options:
      - label: {es: Turno}
        next: go
      - label: {es: Salir}
        next: bye
  go:
    kind: goto
    flow: book
  bye:
    kind: end
    text: {es: Adiós}
`

const countedChild = `spec_version: 1
id: book
version: 1
institution: Registro Civil
title: {es: Turno}
locales: [es]
start: ask
steps:
  ask:
    kind: menu
    text: {es: "¿Reservar?"}
    options:
      - label: {es: Sí}
        next: booked
      - label: {es: No}
        next: no
  booked:
    kind: end
    text: {es: Reservado}
    completed: true
  no:
    kind: end
    text: {es: No reservado}
`

// The counter hears each flow a conversation enters, by its start or a
// goto, and each end step with whether the flow counts it as completed.
func TestCounterHearsFlowsEnteredAndEnded(t *testing.T) {
	reg := load(t, flows.Source{Name: "home.yaml", Data: []byte(counted)}, flows.Source{Name: "book.yaml", Data: []byte(countedChild)})
	e := newEngine(t, &reg)
	e.Root = "home"
	var h heard
	e.Counter = &h
	for _, answers := range [][]string{{"", "1", "1"}, {"", "1", "2"}, {"", "2"}} {
		s := &conversation.State{Locale: "es", Channel: "ussd", Carrier: "africastalking"}
		for _, in := range answers {
			if _, err := e.Apply(context.Background(), s, flows.Input{Text: in}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []string{
		"entered home (Ventanilla) ussd/africastalking/es hop 1",
		"entered book (Registro Civil) ussd/africastalking/es hop 2",
		"ended book at booked completed=true hop 3",
		"entered home (Ventanilla) ussd/africastalking/es hop 1",
		"entered book (Registro Civil) ussd/africastalking/es hop 2",
		"ended book at no completed=false hop 3",
		"entered home (Ventanilla) ussd/africastalking/es hop 1",
		"ended home at bye completed=false hop 2",
	}
	if !slices.Equal(h, want) {
		t.Errorf("heard\n  %v\nwant\n  %v", h, want)
	}
}

func TestCompletedIsTrueOrFalse(t *testing.T) {
	head := "spec_version: 1\nid: t\nversion: 1\ninstitution: X\ntitle: {es: T}\nlocales: [es]\nstart: a\nsteps:\n"
	_, problems := flows.Load([]flows.Source{{Name: "t.yaml", Data: []byte(head + "  a:\n    kind: end\n    text: {es: x}\n    completed: yes\n")}}, env(t))
	want := `t.yaml:12:16: steps.a.completed: error: expected true or false, found "yes" [wrong-type]`
	for _, p := range problems {
		if p.String() == want {
			return
		}
	}
	t.Errorf("problems %v; want %s", problems, want)
}
