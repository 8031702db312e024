package flows

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/looplab/fsm"

	"github.com/ventanilla-gob/ventanilla/i18n"
)

// catalogue compiles the flows that ship in catalogue/, read from disk:
// the catalogue package imports this one.
func catalogue(tb testing.TB) []*Compiled {
	tb.Helper()
	names, err := filepath.Glob("catalogue/flows/*.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var srcs []Source
	for _, n := range names {
		if filepath.Base(n) == "services.yaml" {
			continue
		}
		data, err := os.ReadFile(n)
		if err != nil {
			tb.Fatal(err)
		}
		srcs = append(srcs, Source{Name: n, Data: data})
	}
	msgs, err := i18n.Load()
	if err != nil {
		tb.Fatal(err)
	}
	reg, problems := Load(srcs, Env{Messages: msgs})
	if problems.HasErrors() {
		tb.Fatal(problems)
	}
	var out []*Compiled
	for _, id := range reg.IDs() {
		out = append(out, reg.Latest(id))
	}
	if len(out) != len(srcs) {
		tb.Fatalf("compiled %d flows of %d files", len(out), len(srcs))
	}
	return out
}

// The transition table hops read answers, for every step and every event
// of every catalogue flow (and for a step and events the flow does not
// have), what a fresh looplab/fsm machine built from the same events does.
func TestTransitionTableIsTheMachine(t *testing.T) {
	ctx := context.Background()
	moves := 0
	for _, cf := range catalogue(t) {
		steps := append([]string{"no-such-step"}, cf.Order...)
		events := []string{"no-such-event", "option:99"}
		for _, e := range cf.events {
			if !slices.Contains(events, e.Name) {
				events = append(events, e.Name)
			}
		}
		for _, step := range steps {
			for _, event := range events {
				m := fsm.NewFSM(step, cf.events, nil)
				err := m.Event(ctx, event)
				wantOK := err == nil || errors.As(err, new(fsm.NoTransitionError))
				want := ""
				if wantOK {
					want = m.Current()
					moves++
				}
				got, ok := cf.transition(step, event)
				if got != want || ok != wantOK {
					t.Errorf("%s: %s --%s--> %q, %v; the machine: %q, %v", cf, step, event, got, ok, want, wantOK)
				}
			}
		}
	}
	if moves == 0 {
		t.Fatal("the catalogue has no transition to compare")
	}
}

// BenchmarkTransition: one step-to-step move, from the compiled table and
// through a pooled looplab/fsm machine as hops used to make it.
func BenchmarkTransition(b *testing.B) {
	var cf *Compiled
	for _, c := range catalogue(b) {
		if c.ID == "turnos" {
			cf = c
		}
	}
	e := cf.events[0]
	b.Run("table", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if to, ok := cf.transition(e.Src[0], e.Name); !ok || to != e.Dst {
				b.Fatal(to, ok)
			}
		}
	})
	b.Run("fsm", func(b *testing.B) {
		pool := sync.Pool{New: func() any { return fsm.NewFSM(cf.Start.ID, cf.events, nil) }}
		ctx := context.Background()
		b.ReportAllocs()
		for range b.N {
			m := pool.Get().(*fsm.FSM)
			m.SetState(e.Src[0])
			err := m.Event(ctx, e.Name)
			if err != nil && !errors.As(err, new(fsm.NoTransitionError)) || m.Current() != e.Dst {
				b.Fatal(err, m.Current())
			}
			pool.Put(m)
		}
	})
}
