package flows_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
)

const nineOffices = `spec_version: 1
id: nueve
version: 1
institution: X
title: {es: Nueve}
locales: [es]
start: pick
steps:
  pick:
    kind: menu
    text: {es: "Elija la oficina:"}
    options:
      - {label: {es: Quito Norte}, next: ask}
      - {label: {es: Quito Sur}, next: ask}
      - {label: {es: Guayaquil Centro}, next: ask}
      - {label: {es: Cuenca}, next: ask}
      - {label: {es: Ambato}, next: ask}
      - {label: {es: Loja}, next: ask}
      - {label: {es: Manta}, next: ask}
      - {label: {es: Ibarra}, next: ask}
      - {label: {es: Esmeraldas}, next: ask}
  ask:
    kind: input
    text: {es: "Escriba un número del 1 al 5:"}
    validate: {kind: range, min: 1, max: 5}
    save: n
    next: done
  done:
    kind: end
    text: {es: "Listo."}
`

// pager hops an engine the way the gateway does on USSD at a limit.
type pager struct {
	t     *testing.T
	e     *flows.Engine
	s     *conversation.State
	limit int
}

func (p *pager) send(in string) (text string, sc flows.Screen) {
	p.t.Helper()
	sc, err := p.e.Apply(context.Background(), p.s, flows.Input{Text: in, Pages: func(s *flows.Screen) int { return ussd.Pages(s, p.limit) }})
	if err != nil {
		p.t.Fatalf("send %q: %v", in, err)
	}
	text, _ = ussd.Render(&sc, p.limit)
	return text, sc
}

var optionLine = regexp.MustCompile(`(?m)^([1-9][0-9]*)\. `)

func optionKeys(page string) []string {
	var keys []string
	for _, m := range optionLine.FindAllStringSubmatch(page, -1) {
		if m[1] != "98" {
			keys = append(keys, m[1])
		}
	}
	return keys
}

// The pages of a split screen show every option once, in order, whichever
// page the citizen is on: More on the last page does not lay the screen out
// again, and Back from page k returns exactly page k−1.
func TestPagesOfAScreenAreStable(t *testing.T) {
	reg := load(t, flows.Source{Name: "nueve.yaml", Data: []byte(nineOffices)})
	e := newEngine(t, &reg)
	e.Root = "nueve"
	p := &pager{t: t, e: e, s: &conversation.State{Locale: "es"}, limit: 60}
	text, _ := p.send("")
	pages := []string{text}
	for strings.Contains(text, "\n98. ") {
		if len(pages) > 9 {
			t.Fatalf("More never stops: %q", pages)
		}
		text, _ = p.send("98")
		pages = append(pages, text)
	}
	if len(pages) < 3 {
		t.Fatalf("want the nine offices on several pages at 60 characters, got %q", pages)
	}
	var keys []string
	for _, pg := range pages {
		keys = append(keys, optionKeys(pg)...)
	}
	if want := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}; !slices.Equal(keys, want) {
		t.Errorf("options over the pages: got %v, want each of %v once, in order\n%q", keys, want, pages)
	}
	if text, _ := p.send("98"); !strings.HasPrefix(text, "No hay más páginas.\n") || len(optionKeys(text)) == 0 || optionKeys(text)[0] != "1" {
		t.Errorf("98 on the last page: want the note and the screen from its start, got %q", text)
	}
	// From the note screen, page forward to the end and back to the start.
	text, _ = p.send("98")
	var noted []string
	noted = append(noted, text)
	for strings.Contains(text, "\n98. ") {
		if len(noted) > 9 {
			t.Fatalf("More never stops: %q", noted)
		}
		text, _ = p.send("98")
		noted = append(noted, text)
	}
	for k := len(noted) - 1; k > 0; k-- {
		if text, _ := p.send("0"); text != noted[k-1] {
			t.Fatalf("0 from page %d: got %q, want page %d %q", k+1, text, k, noted[k-1])
		}
	}
}

// The navigation keys are never answers: on a screen where one does not
// apply, the screen comes back (with a note for More and Back) and nothing
// counts as a wrong answer.
func TestNavigationKeysAreNotAnswers(t *testing.T) {
	const flow = `spec_version: 1
id: pregunta
version: 1
institution: X
title: {es: Pregunta}
locales: [es]
start: ask
steps:
  ask:
    kind: input
    text: {es: "Escriba un número del 0 al 99:"}
    validate: {kind: range, min: 0, max: 99}
    save: n
    retries: 2
    next: done
  done:
    kind: end
    text: {es: "Recibido."}
`
	reg := load(t, flows.Source{Name: "pregunta.yaml", Data: []byte(flow)})
	e := newEngine(t, &reg)
	e.Root = "pregunta"
	p := &pager{t: t, e: e, s: &conversation.State{Locale: "es"}, limit: 182}
	p.send("")
	for _, tc := range []struct{ in, want string }{
		{"98", "No hay más páginas.\nEscriba un número del 0 al 99:"},
		{"0", "No hay pantalla anterior.\nEscriba un número del 0 al 99:"},
		{"00", "Escriba un número del 0 al 99:"},
		{"98", "No hay más páginas.\nEscriba un número del 0 al 99:"},
	} {
		text, sc := p.send(tc.in)
		if text != tc.want || sc.End {
			t.Errorf("%s: got %q (end %v), want %q", tc.in, text, sc.End, tc.want)
		}
	}
	if text, _ := p.send("7"); text != "Recibido." {
		t.Errorf("a real answer after the keys: %q", text)
	}
}

// A wrong answer on a later page of a split screen shows the screen again
// from its first page, where the error is: not a later page of a layout the
// citizen has never seen.
func TestWrongAnswerOnALaterPage(t *testing.T) {
	reg := load(t, flows.Source{Name: "nueve.yaml", Data: []byte(nineOffices)})
	e := newEngine(t, &reg)
	e.Root = "nueve"
	p := &pager{t: t, e: e, s: &conversation.State{Locale: "es"}, limit: 60}
	p.send("")
	p.send("98")
	first, _ := p.send("98")
	for _, in := range []string{"x", "42"} {
		text, sc := p.send(in)
		if !strings.HasPrefix(text, "Opción no válida.\n") || sc.Page != 0 {
			t.Errorf("%q on page 3: want page 1 under the error, got page %d %q (was %q)", in, sc.Page+1, text, first)
		}
		if keys := optionKeys(text); len(keys) > 0 && keys[0] != "1" {
			t.Errorf("%q on page 3: the page shown starts at option %s", in, keys[0])
		}
	}
	p.send("1")
	p.send("98")
	if text, sc := p.send("9"); !strings.HasPrefix(text, "Escriba un número entre 1 y 5.\n") || sc.Page != 0 {
		t.Errorf("wrong answer after paging a question: page %d %q", sc.Page+1, text)
	}
}

// BenchmarkPageTurn: a hop that turns a page of a split screen (98, then
// 0), session decoded and encoded as a store would.
func BenchmarkPageTurn(b *testing.B) {
	reg := load(b, flows.Source{Name: "nueve.yaml", Data: []byte(nineOffices)})
	e := newEngine(b, &reg)
	e.Root = "nueve"
	ctx := context.Background()
	pages := func(s *flows.Screen) int { return ussd.Pages(s, 60) }
	s := &conversation.State{Key: "ussd:bench:1", Phone: "+593991234567", Channel: "ussd", Locale: "es"}
	if _, err := e.Apply(ctx, s, flows.Input{Pages: pages}); err != nil {
		b.Fatal(err)
	}
	data, _ := s.MarshalBinary()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		var cur conversation.State
		if err := cur.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
		in := "98"
		if i%2 == 1 {
			in = "0"
		}
		sc, err := e.Apply(ctx, &cur, flows.Input{Text: in, Pages: pages})
		if err != nil || sc.Page != (i+1)%2 {
			b.Fatalf("%s: page %d, %v", in, sc.Page, err)
		}
		if data, err = cur.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}
