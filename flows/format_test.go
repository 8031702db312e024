package flows_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
)

// A fines lookup shows what the back-end answers formatted per locale:
// amounts in US dollars, dates and times as citizens read them.
const finesFlow = `spec_version: 1
id: multas
version: 1
institution: X
title: {es: Multas, en: Fines, qu: Multakuna}
locales: [es, en, qu]
start: lookup
steps:
  lookup:
    kind: call
    service: svc
    save: {fine: fine, fines: fines}
    on: {ok: pick}
  pick:
    kind: list
    text: {es: "Multa {{fine.amount | money}} ({{fine.points | number}} p.), vence {{fine.due | date}} {{fine.at | time}}:", en: "Fine {{fine.amount | money}} ({{fine.points | number}} pts), due {{fine.due | date}} {{fine.at | time}}:"}
    items: fines
    label: {es: "{{item.due | date}} {{item.amount | money}}", en: "{{item.due | date}} {{item.amount | money}}"}
    save: chosen
    next: bye
  bye:
    kind: end
    text: {es: "Pague {{chosen.amount | money}}.", en: "Pay {{chosen.amount | money}}."}
`

type jsonCaller struct{ body string }

func (c jsonCaller) Call(context.Context, flows.Request) flows.Response {
	var v map[string]any
	if err := json.Unmarshal([]byte(c.body), &v); err != nil {
		panic(err)
	}
	return flows.Response{Outcome: flows.OK, Get: func(path string) any { return v[path] }}
}

func TestTextsFormatValues(t *testing.T) {
	reg := load(t, flows.Source{Name: "multas.yaml", Data: []byte(finesFlow)})
	body := `{"fine": {"amount": 225.0, "points": 1500, "due": "2027-03-12", "at": "9:30"},
		"fines": [{"amount": 22.5, "due": "2027-03-12T00:00:00-05:00"}, {"amount": "1234567.891", "due": "pronto"}]}`
	for _, tc := range []struct{ locale, first, last string }{
		{"es", "Multa USD 225,00 (1.500 p.), vence 12 mar 2027 09:30:\n1. 12 mar 2027 USD 22,50\n2. pronto USD 1.234.567,89", "Pague USD 1.234.567,89."},
		{"en", "Fine USD 225.00 (1,500 pts), due 12 Mar 2027 09:30:\n1. 12 Mar 2027 USD 22.50\n2. pronto USD 1,234,567.89", "Pay USD 1,234,567.89."},
		// No Kichwa text: the Spanish one, with its numbers written as
		// Spanish writes them.
		{"qu", "Multa USD 225,00 (1.500 p.), vence 12 mar 2027 09:30:\n1. 12 mar 2027 USD 22,50\n2. pronto USD 1.234.567,89", "Pague USD 1.234.567,89."},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			e := newEngine(t, &reg)
			e.Root = "multas"
			e.Caller = jsonCaller{body}
			s := &conversation.State{Phone: "+593991234567", Locale: tc.locale}
			sc, err := e.Apply(t.Context(), s, flows.Input{})
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			lines = append(lines, sc.Text)
			for _, o := range sc.Options {
				lines = append(lines, o.Key+". "+o.Label)
			}
			if got := strings.Join(lines, "\n"); got != tc.first {
				t.Errorf("screen:\n%s\nwant:\n%s", got, tc.first)
			}
			sc, err = e.Apply(t.Context(), s, flows.Input{Text: "2"})
			if err != nil || sc.Text != tc.last {
				t.Errorf("last screen %q, %v; want %q", sc.Text, err, tc.last)
			}
		})
	}
}

// A misspelt format stops the flow at its text, with the formats there are.
func TestLintRefusesUnknownFormat(t *testing.T) {
	src := strings.Replace(finesFlow, "{{fine.due | date}}", "{{fine.due | dat}}", 1)
	_, ps := flows.Load([]flows.Source{{Name: "multas.yaml", Data: []byte(src)}}, env(t))
	want := `steps.pick.text.es: error: {{fine.due | dat}}: "dat" is not a format (did you mean "date"?); formats: number, money, date, time [bad-template]`
	for _, p := range ps {
		if strings.HasPrefix(p.String(), "multas.yaml:16:") && strings.HasSuffix(p.String(), want) {
			return
		}
	}
	t.Errorf("want %s\ngot %v", want, ps)
}

// The lint measures a formatted hole as its format writes it: a screen
// that fits with "225" may not fit with "USD 1.234.567,89".
func TestScreenLengthCountsFormats(t *testing.T) {
	head := "spec_version: 1\nid: pago\nversion: 1\ninstitution: X\ntitle: {es: Pago}\nlocales: [es]\nstart: ask\n"
	prompt := strings.Repeat("Texto del aviso de pago. ", 4) // 100 characters; 53 more around it
	for _, tc := range []struct {
		name, vars, hole string
		long             bool
	}{
		{"plain, 225", "vars:\n  amount: {max_length: 3}\n", "{{amount}}", false},
		{"money of 225: USD 999,00", "vars:\n  amount: {max_length: 3}\n", "{{amount | money}}", false},
		{"money, the default amount: USD -9.999.999,99", "", "{{amount | money}}", true},
		{"money of 10 characters: USD 9.999.999.999,00", "vars:\n  amount: {max_length: 10}\n", "{{amount | money}}", true},
		{"number of 8 characters: 99.999.999", "vars:\n  amount: {max_length: 8}\n", "{{amount | number}}", false},
		{"date declared as ISO: 30 sept 2027", "vars:\n  due: {max_length: 10}\n", "{{due | date}}", false},
		{"date declared too long", "vars:\n  due: {max_length: 14}\n", "{{due | date}}", true},
		{"time", "", "{{at | time}}", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := head + tc.vars + "steps:\n  ask:\n    kind: set\n    vars: {amount: '225', due: '\"2027-03-12\"', at: '\"09:30\"'}\n    next: show\n" +
				"  show:\n    kind: menu\n    text: {es: \"" + prompt + "Total " + tc.hole + "\"}\n    options:\n      - {label: {es: Pagar}, next: bye}\n" +
				"  bye:\n    kind: end\n    text: {es: Fin}\n"
			e := env(t)
			e.Limit = 165
			_, ps := flows.Load([]flows.Source{{Name: "pago.yaml", Data: []byte(src)}}, e)
			long := false
			for _, p := range ps {
				if p.Code == "screen-too-long" && p.Path == "steps.show.text.es" {
					long = true
				} else {
					t.Errorf("unexpected: %v", p)
				}
			}
			if long != tc.long {
				t.Errorf("screen-too-long %v, want %v", long, tc.long)
			}
		})
	}
}

// Where the lint knows a variable's type, a format that cannot read it
// is warned of: the citizen would see the value as it is.
func TestLintWarnsOfAFormatThatCannotRead(t *testing.T) {
	head := "spec_version: 1\nid: f\nversion: 1\ninstitution: X\ntitle: {es: F}\nlocales: [es]\nstart: ask\nsteps:\n" +
		"  ask:\n    kind: input\n    text: {es: '¿Cuántos?'}\n    validate: {kind: range, min: 1, max: 9}\n    save: n\n    next: set\n" +
		"  set:\n    kind: set\n    vars: {paid: 'true', due: '\"2027-03-12\"', total: '225.5', label: '\"x\"'}\n    next: bye\n" +
		"  bye:\n    kind: end\n    text: {es: \"%s\"}\n"
	for _, tc := range []struct{ hole, want string }{
		{"{{total | money}} {{n | number}} {{due | date}} {{label | time}} {{total}}", ""},
		{"{{paid | money}}", "{{paid | money}} shows paid as it is: it is true or false (set step \"set\" gives it `true`), and money reads numbers and numerals [format-mismatch]"},
		{"{{n | date}}", "{{n | date}} shows n as it is: it is a number"},
	} {
		_, ps := flows.Load([]flows.Source{{Name: "f.yaml", Data: []byte(strings.Replace(head, "%s", tc.hole, 1))}}, env(t))
		var got string
		for _, p := range ps {
			got += p.String() + "\n"
		}
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s: got\n%s\nwant %s", tc.hole, got, tc.want)
		}
		if tc.want != "" && !strings.Contains(got, "f.yaml:21:") {
			t.Errorf("%s: want the warning at the text's line: %s", tc.hole, got)
		}
	}
}
