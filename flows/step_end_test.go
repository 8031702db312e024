package flows_test

import (
	"context"
	"testing"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
)

const replyFlow = `spec_version: 1
id: respuesta
version: 1
institution: Example
title: {es: Respuesta}
locales: [es]
params: [reply]
start: answer
steps:
  answer:
    kind: branch
    cases:
      - when: reply == "1"
        next: confirmed
      - when: reply == "2"
        next: cancelled
    default: ask
  ask:
    kind: menu
    text: {es: "Responda 1 o 2."}
    options:
      - label: {es: Confirmar}
        next: confirmed
      - label: {es: Anular}
        next: cancelled
  confirmed:
    kind: end
    text: {es: "Confirmado."}
    reminder: confirmed
  cancelled:
    kind: end
    text: {es: "Anulado."}
    reminder: cancelled
`

// The end step a reply flow reaches says what the citizen's answer came
// to; an end that says nothing leaves it empty.
func TestEndStepSaysWhatAnAnswerCameTo(t *testing.T) {
	reg := load(t, flows.Source{Name: "respuesta.yaml", Data: []byte(replyFlow)})
	e := newEngine(t, &reg)
	e.Root = "respuesta"
	for _, tc := range []struct {
		name    string
		reply   string
		answers []string
		want    string
	}{
		{"1 confirms", "1", nil, flows.ReminderConfirmed},
		{"2 cancels", "2", nil, flows.ReminderCancelled},
		{"another answer is asked again, then 2 cancels", "x", []string{"2"}, flows.ReminderCancelled},
		{"asked again, not answered yet", "x", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &conversation.State{Locale: "es", Phone: "+593990000001", Channel: "sms"}
			sc, err := e.Apply(context.Background(), s, flows.Input{Vars: map[string]any{"reply": tc.reply}})
			for _, a := range tc.answers {
				if err != nil {
					break
				}
				sc, err = e.Apply(context.Background(), s, flows.Input{Text: a})
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := flows.ReminderOutcome(s); got != tc.want {
				t.Errorf("outcome %q, want %q (screen %q)", got, tc.want, sc.Text)
			}
			if tc.want != "" && !sc.End {
				t.Errorf("screen %+v did not end the conversation", sc)
			}
		})
	}
}
