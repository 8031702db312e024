package flows_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
)

// asked remembers who was asked, as the session store does.
type asked map[string]bool

func (a asked) Ask(_ context.Context, phone, flow string, _ time.Duration) (bool, error) {
	k := phone + " " + flow
	if a[k] {
		return false, nil
	}
	a[k] = true
	return true, nil
}

type rated struct {
	heard
	scores []int
}

func (r *rated) Rated(_ flows.Conversation, flow, _ string, score int) {
	r.scores = append(r.scores, score)
}

func rateKindExample(t *testing.T) string {
	for _, k := range flows.Kinds() {
		if k.Name == "rate" {
			return k.Example
		}
	}
	t.Fatal("no rate kind")
	return ""
}

func TestRate(t *testing.T) {
	reg := load(t, flows.Source{Name: "example-rate.yaml", Data: []byte(rateKindExample(t))})
	e := newEngine(t, &reg)
	e.Root = "example-rate"
	who := asked{}
	e.Ratings = who
	draw := 0.1
	e.Sample = func() float64 { return draw }
	var r rated
	e.Counter = &r
	talk := func(phone, channel string, answers ...string) (flows.Screen, *conversation.State) {
		t.Helper()
		s := &conversation.State{Locale: "es", Phone: phone, Channel: channel}
		var sc flows.Screen
		for _, in := range append([]string{""}, answers...) {
			var err error
			if sc, err = e.Apply(context.Background(), s, flows.Input{Text: in}); err != nil {
				t.Fatal(err)
			}
		}
		return sc, s
	}
	for _, tc := range []struct {
		name, phone, channel string
		answers              []string
		draw                 float64
		want                 string
		saved                any
	}{
		{"asked, a good score", "+593990000001", "ussd", []string{"4"}, 0.1, "Gracias.", int64(4)},
		{"asked again within the period: not asked", "+593990000001", "ussd", nil, 0.1, "Gracias.", nil},
		{"a low score goes to on_low", "+593990000002", "sms", []string{"1"}, 0.1, "Lamentamos su experiencia.", int64(1)},
		{"another answer skips", "+593990000003", "ussd", []string{"x"}, 0.1, "Gracias.", nil},
		{"out of the sample: not asked", "+593990000004", "ussd", nil, 0.7, "Gracias.", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			draw = tc.draw
			sc, s := talk(tc.phone, tc.channel, tc.answers...)
			if !sc.End || !strings.Contains(sc.Text, tc.want) {
				t.Errorf("ended on %q (end %v), want %q", sc.Text, sc.End, tc.want)
			}
			if got := s.Vars["rating"]; fmt.Sprint(got) != fmt.Sprint(tc.saved) {
				t.Errorf("rating = %v, want %v", got, tc.saved)
			}
		})
	}
	if fmt.Sprint(r.scores) != "[4 1]" {
		t.Errorf("counted %v, want [4 1]", r.scores)
	}
	// A rate step declared completed counts the trámite completed where
	// it stands, asked or not, and the end after it does not count again.
	var ends []string
	for _, h := range r.heard {
		if strings.HasPrefix(h, "ended ") {
			ends = append(ends, h[:strings.Index(h, " hop ")])
		}
	}
	if len(ends) != 5 || slices.ContainsFunc(ends, func(e string) bool { return e != "ended example-rate at rate completed=true" }) {
		t.Errorf("five conversations ended as %q; want each completed once, at the question", ends)
	}
	draw = 0.1
	s := &conversation.State{Locale: "es", Phone: "+593990000009", Channel: "chat"}
	sc, err := e.Apply(context.Background(), s, flows.Input{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Options) != 5 || sc.Options[4].Key != "5" {
		t.Errorf("on chat the question has buttons 1 to 5: %+v", sc.Options)
	}
}
