package flows_test

import (
	"testing"

	"github.com/ventanilla-gob/ventanilla/flows"
)

// A step that waits for the citizen on some routes only does not break a
// loop on the others: a list with nothing to list goes on to `empty`, and
// a rate step that does not ask goes on to `next`, without waiting. Found
// by TestLintCleanFlowsNeverFail: the loops below spun until the engine's
// step limit.
func TestLintSeesLoopsThroughStepsThatDoNotWait(t *testing.T) {
	head := "spec_version: 1\nid: t\nversion: 1\ninstitution: X\ntitle: {es: T}\nlocales: [es]\nstart: a\nsteps:\n"
	cases := map[string]string{
		"list with nothing to list": "  a:\n    kind: list\n    text: {es: Elija}\n    items: '[]'\n    label: {es: '{{item.name}}'}\n    save: o\n    next: b\n    empty: a\n  b:\n    kind: end\n    text: {es: Fin}\n",
		"rate not asked":            "  a:\n    kind: message\n    text: {es: Hola}\n    next: r\n  r:\n    kind: rate\n    text: {es: 'Califique de 1 a 5'}\n    sample: 1\n    next: a\n",
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			_, problems := flows.Load([]flows.Source{{Name: "t.yaml", Data: []byte(head + steps)}}, env(t))
			for _, p := range problems {
				if p.Code == "loop-without-input" {
					return
				}
			}
			t.Errorf("no loop-without-input; problems: %v", problems)
		})
	}
}
