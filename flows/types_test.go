package flows

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// typeProblems lints flows and lists their type-mismatch errors as
// "file:line:col".
func typeProblems(t *testing.T, files map[string]string) []string {
	t.Helper()
	var srcs []Source
	for name, data := range files {
		srcs = append(srcs, Source{Name: name, Data: []byte(data)})
	}
	slices.SortFunc(srcs, func(a, b Source) int { return strings.Compare(a.Name, b.Name) })
	_, ps := Load(srcs, Env{})
	var out []string
	for _, p := range ps {
		if p.Code == "type-mismatch" {
			out = append(out, fmt.Sprintf("%s:%d:%d", p.File, p.Pos.Line, p.Pos.Col))
		}
	}
	return out
}

const typesHead = `spec_version: 1
id: %s
version: 1
institution: Example
title: {es: Ejemplo}
locales: [es]
`

// TestTypesFollowSetSteps: a set step's type comes from its expression
// and the types it reads, whatever the order of the steps in the file,
// also for a counter set from its own value.
func TestTypesFollowSetSteps(t *testing.T) {
	flow := fmt.Sprintf(typesHead, "counter") + `start: init
steps:
  more:
    kind: set
    vars: {n: 'n + 1', double: 'n * 2'}
    next: ask
  init:
    kind: set
    vars: {n: '0'}
    next: ask
  ask:
    kind: menu
    text: {es: "{{n}}"}
    options:
      - {label: {es: Otra}, next: more}
      - {label: {es: Fin}, next: done}
  done:
    kind: set
    vars: {shout: 'upper(double)'}
    next: bye
  bye:
    kind: end
    text: {es: "{{shout}}"}
`
	got := typeProblems(t, map[string]string{"counter.yaml": flow})
	want := []string{"counter.yaml:25:26"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestTypesOfAnyAreNeverErrors: a variable given two types, one a flow
// gone to also sets, and a flow's params are of any type.
func TestTypesOfAnyAreNeverErrors(t *testing.T) {
	twoTypes := fmt.Sprintf(typesHead, "two-types") + `start: m
steps:
  m:
    kind: menu
    text: {es: Elija}
    options:
      - {label: {es: Uno}, next: num}
      - {label: {es: Dos}, next: txt}
  num:
    kind: set
    vars: {x: '1'}
    next: show
  txt:
    kind: set
    vars: {x: '"uno"'}
    next: show
  show:
    kind: set
    vars: {y: 'upper(x)'}
    next: bye
  bye:
    kind: end
    text: {es: "{{y}}"}
`
	caller := fmt.Sprintf(typesHead, "caller") + `start: ask
steps:
  ask:
    kind: input
    text: {es: "Código:"}
    save: code
    next: run
  run:
    kind: goto
    flow: callee
    next: done
  done:
    kind: set
    vars: {next_code: 'code + 1'}
    next: bye
  bye:
    kind: end
    text: {es: "{{next_code}}"}
`
	callee := fmt.Sprintf(typesHead, "callee") + `start: s
steps:
  s:
    kind: set
    vars: {code: '7'}
    next: bye
  bye:
    kind: end
    text: {es: "{{code}}"}
`
	reply := fmt.Sprintf(typesHead, "reply") + `params: [answer]
start: ask
steps:
  ask:
    kind: input
    text: {es: "Número:"}
    validate: {kind: range, min: 1, max: 9}
    save: answer
    next: show
  show:
    kind: set
    vars: {loud: 'upper(answer)'}
    next: bye
  bye:
    kind: end
    text: {es: "{{loud}}"}
`
	got := typeProblems(t, map[string]string{"two-types.yaml": twoTypes, "caller.yaml": caller, "callee.yaml": callee, "reply.yaml": reply})
	if len(got) != 0 {
		t.Errorf("type errors where the type is not known: %v", got)
	}
}
