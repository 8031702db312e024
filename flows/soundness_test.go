package flows_test

import (
	"context"
	"testing"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
)

// A variable the flow sets to values of two types — text in one step, a
// number in another, or a number over the gateway's text — cannot have
// its uses checked: upper(x) passes the lint and fails at run time on the
// path where x is a number. Found by TestLintCleanFlowsNeverFail (the
// gateway's channel set to a number, then lower(channel)). The lint
// warns where the type changes.
func TestLintWarnsOfAVariableThatChangesType(t *testing.T) {
	head := "spec_version: 1\nid: t\nversion: 1\ninstitution: X\ntitle: {es: T}\nlocales: [es]\nstart: a\nsteps:\n"
	cases := map[string]string{
		"two set steps":        "  a:\n    kind: set\n    vars: {x: '\"uno\"'}\n    next: b\n  b:\n    kind: set\n    vars: {x: '5', y: upper(x)}\n    next: c\n  c:\n    kind: end\n    text: {es: 'Fin {{y}}'}\n",
		"a gateway's variable": "  a:\n    kind: set\n    vars: {channel: '72', y: lower(channel)}\n    next: c\n  c:\n    kind: end\n    text: {es: 'Fin {{y}}'}\n",
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			src := head + steps
			reg, problems := flows.Load([]flows.Source{{Name: "t.yaml", Data: []byte(src)}}, env(t))
			for _, p := range problems {
				if p.Code == "type-change" {
					return
				}
			}
			// What a lint-clean flow must not do: fail at run time.
			if reg != nil && reg.Latest("t") != nil {
				e := newEngine(t, &reg)
				e.Root = "t"
				_, err := e.Apply(context.Background(), &conversation.State{Locale: "es", Channel: "ussd"}, flows.Input{})
				t.Errorf("no type-change problem (problems: %v); at run time: %v", problems, err)
			}
		})
	}
}
