package flows

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/i18n"
)

// wantLine is an expected diagnostic written in a corpus file:
// "# want: LINE:COL code", and optionally words its message contains.
var wantLine = regexp.MustCompile(`(?m)^# want: (\d+:\d+ [a-z-]+)(?: (.+))?$`)

// TestLintCorpus lints each flow of testdata/lint, a typical author's
// mistake per file, and expects exactly the diagnostics the file lists
// at the top, each at its line and column.
func TestLintCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/lint/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			words := map[string]string{}
			for _, m := range wantLine.FindAllStringSubmatch(string(data), -1) {
				want = append(want, m[1])
				words[m[1]] = m[2]
			}
			_, ps := Load([]Source{{Name: file, Data: data}}, corpusEnv(t))
			var got []string
			for _, p := range ps {
				key := fmt.Sprintf("%d:%d %s", p.Pos.Line, p.Pos.Col, p.Code)
				got = append(got, key)
				if w := words[key]; w != "" && !strings.Contains(p.Message, w) {
					t.Errorf("%s: message %q does not say %q", key, p.Message, w)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("got\n  %v\nwant\n  %v\nproblems:\n%v", got, want, ps)
			}
		})
	}
}

// corpusEnv is what the corpus is linted against: the system messages
// and two declared services.
func corpusEnv(t *testing.T) Env {
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	services := []string{"fines.lookup", "tramites.status"}
	return Env{
		Messages:   msgs,
		Service:    func(id string) bool { return slices.Contains(services, id) },
		ServiceIDs: func() []string { return services },
	}
}

// TestLintVariablesAcrossGotos: a flow gone to shares the conversation's
// variables, so what one flow sets and another reads is a warning, not
// an error, on both sides of the goto.
func TestLintVariablesAcrossGotos(t *testing.T) {
	caller := `spec_version: 1
id: caller
version: 1
institution: Example
title: {es: Ejemplo}
locales: [es]
start: ask
steps:
  ask:
    kind: input
    text: {es: "Nombre:"}
    save: name
    next: run
  run:
    kind: goto
    flow: callee
    next: done
  done:
    kind: end
    text: {es: "Cita {{slot}}"}
`
	callee := `spec_version: 1
id: callee
version: 1
institution: Example
title: {es: Ejemplo}
locales: [es]
start: pick
steps:
  pick:
    kind: input
    text: {es: "Hola {{name}}, hora:"}
    save: slot
    next: bye
  bye:
    kind: end
    text: {es: "Listo."}
`
	_, ps := Load([]Source{{Name: "caller.yaml", Data: []byte(caller)}, {Name: "callee.yaml", Data: []byte(callee)}}, Env{})
	var got []string
	for _, p := range ps {
		got = append(got, fmt.Sprintf("%s:%d:%d %s %s", p.File, p.Pos.Line, p.Pos.Col, p.Severity, p.Code))
	}
	want := []string{"callee.yaml:11:22 warning maybe-unset", "caller.yaml:20:22 warning maybe-unset"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v\n%v", got, want, ps)
	}
}
