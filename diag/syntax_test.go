package diag_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/diag"
)

// Each broken file is reported where its mistake is written, in words.
func TestSyntaxErrorPositions(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"tab indents a key", "id: a\nsteps:\n\tone:\n    say: hi\n", "3:1: tabs cannot indent YAML; use spaces"},
		{"tab after spaces", "id: a\nsteps:\n  one:\n  \tsay: hi\n", "4:3: tabs cannot indent YAML; use spaces"},
		{"tab deep in a flow", "id: a\nsteps:\n  ask:\n    kind: input\n\ttext:\n      es: hola\n", "5:1: tabs cannot indent YAML; use spaces"},
		{"unclosed double quote", "id: a\ntitle: \"hola\nsteps:\n  one: {}\n", "2:8: this `\"` is never closed; end the text with another `\"`"},
		{"unclosed single quote", "id: a\ntitle: 'hola\n", "2:8: this `'` is never closed; end the text with another `'`"},
		{"unclosed bracket", "id: a\nlocales: [es, en\nsteps:\n  one: {}\n", "2:10: this `[` is never closed; end the list with `]`, its items separated by `,`"},
		{"unclosed brace", "id: a\ntitle: {es: \"Consulta\", en: \"x\"\nsteps: {}\n", "2:8: this `{` is never closed; end it with `}`, its pairs separated by `,`"},
		{"quote unclosed in a brace", "id: a\ntitle: {es: \"Consulta, en: \"x\"}\nsteps: {}\n", "2:8: this `{` is never closed; end it with `}`, its pairs separated by `,`; or a `\"` on this line lacks its closing `\"`"},
		{"stray closing bracket", "id: a\nlocales: [es]]\n", "2:14: this `]` closes nothing"},
		{"key: value: other", "id: a\ntitle: Paso 1: elija\nsteps: {}\n", "2:8: this value holds `: `, and a value cannot itself hold `key: value`; put quotes around it: \"Paso 1: elija\""},
		{"value continues deeper", "id: a\nsteps:\n  one:\n    say: hi\n      next: two\n", "5:7: this line is indented deeper than `say:` above it, which already has a value; line it up with `say:`"},
		{"indent between levels", "id: a\nsteps:\n  one:\n    say: hi\n   next: two\n", "5:4: this line is indented 3 spaces, which lines up with no key above it (the keys above are indented 0, 2 or 4 spaces)"},
		{"indent after block text", "id: a\nsay: |\n  hi\n bad: x\n", "4:2: this line is indented 1 space, which lines up with no key above it (the keys above are indented 0 spaces)"},
		{"stray dash among keys", "id: a\nsteps:\n  one:\n    say: hi\n  - two\n", "5:3: a list item (`- …`) among `key: value` lines; indent it under the key whose list it is, or write it as `key: value`"},
		{"dash at the top", "id: a\n- b\n", "2:1: a list item (`- …`) among `key: value` lines; indent it under the key whose list it is, or write it as `key: value`"},
		{"text after a quote", "id: a\ntitle: \"hola\" mundo\n", "2:15: text after the closing quote; put the whole value inside the quotes"},
		{"at sign", "id: a\nemail: @soporte\n", "2:8: a value cannot start with `@`; put quotes around it"},
		{"backtick", "id: `a`\n", "1:5: a value cannot start with a backtick; put quotes around it"},
		{"percent", "id: a\ncode: %20\n", "2:7: a value cannot start with `%`; put quotes around it"},
		{"list and keys mixed", "a:\n  - 1\n  b: 2\n", "3:3: a `key: value` line among list items (`- …`); start it with `- `, or indent it under an item"},
		{"unknown alias", "a: 1\nb: *nope\n", "2:4: `*nope` names no anchor: write `&nope` on the value it stands for, before it"},
		{"accents before the mistake", "título: \"Constancia de año\nb: 2\n", "1:9: this `\"` is never closed; end the text with another `\"`"},
		{"duplicate key then a tab", "a: 1\na: 2\nb:\n\tc: 3\n", "4:1: tabs cannot indent YAML; use spaces"},
		{"quote closed lines later", "hops:\n  - send: \"12\n  - send: \"1002\"\n", "2:11: this `\"` is closed only on line 3, so the lines between are its text; end the text with `\"` on this line"},
		{"colon key", "id: a\n: b\n", "2:1: a `:` with no key before it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, p := diag.Parse("f.yaml", []byte(c.src))
			if p == nil {
				t.Fatalf("no problem for\n%s", c.src)
			}
			got := fmt.Sprintf("%d:%d: %s", p.Pos.Line, p.Pos.Col, p.Message)
			if got != c.want {
				t.Errorf("\n%s\ngot  %s\nwant %s", c.src, got, c.want)
			}
		})
	}
}

// A file nested deeper than the second parser is given keeps yaml.v3's
// line, at its first character.
func TestSyntaxErrorTooDeep(t *testing.T) {
	src := "a: 1\nb: " + strings.Repeat("[", 1100) + "\n"
	_, p := diag.Parse("f.yaml", []byte(src))
	if p == nil || p.Pos.Line != 2 || p.Pos.Col != 1 || p.Code != "yaml" {
		t.Errorf("got %+v, want line 2, column 1", p)
	}
}

// Whatever the bytes, a broken file is reported at a place inside it,
// without a panic.
func FuzzSyntaxError(f *testing.F) {
	for _, s := range []string{"a: [\n", "a:\n\tb: 1\n", "t: \"x\n", "a: b: c\n", "- a\nb: 1\n", "a: {b: [c}\n", "x: *y\n", "a: |\n  b\n c: d\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, p := diag.Parse("f.yaml", data)
		if p == nil {
			return
		}
		lines := 1 + strings.Count(string(data), "\n") + strings.Count(string(data), "\r") +
			strings.Count(string(data), "\u0085") + strings.Count(string(data), "\u2028") + strings.Count(string(data), "\u2029")
		if p.Pos.Line < 0 || p.Pos.Line > lines || p.Message == "" {
			t.Errorf("%q: problem %+v outside the file's %d lines", data, p, lines)
		}
	})
}
