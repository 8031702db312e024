package channels_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ventanilla/channels"
	"ventanilla/channels/ussd"
	"ventanilla/flows"
	"ventanilla/flows/catalogue"
	"ventanilla/i18n"
	"ventanilla/interop"
	"ventanilla/sessions"
	"ventanilla/sessions/redistest"
)

type noCalls struct{}

func (noCalls) Call(context.Context, string, map[string]any) interop.Response {
	return interop.Response{Outcome: interop.Unavailable}
}

func measure(s *flows.Screen) int { return len([]rune(ussd.Paginate(s, 1<<20)[0])) }

func newGateway(t testing.TB, store sessions.Store) *channels.Gateway {
	t.Helper()
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	reg, ps := flows.Load(catalogue.Sources(), flows.Env{Messages: msgs, Measure: measure})
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	engine := &flows.Engine{
		Flows:    func() *flows.Registry { return reg },
		Messages: msgs,
		Caller:   noCalls{},
		Now:      func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) },
		Nav:      flows.DefaultNav,
		Root:     "inicio",
	}
	return &channels.Gateway{Engine: engine, Store: store}
}

func at(session, text string) channels.Inbound {
	return channels.Inbound{Channel: "ussd", Carrier: "africastalking", SessionID: session, Phone: "+593991234567", ServiceCode: "*384#", Input: text, Cumulative: true}
}

func hop(t testing.TB, g *channels.Gateway, in channels.Inbound) channels.Reply {
	t.Helper()
	r, err := g.Hop(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A carrier retrying a hop it already sent gets the same screen, and the
// flow does not advance twice.
func TestRetriedHopDoesNotAdvance(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	hop(t, g, at("s", ""))
	first := hop(t, g, at("s", "1"))
	again := hop(t, g, at("s", "1"))
	if first != again {
		t.Errorf("retry changed the screen:\n%q\n%q", first.Text, again.Text)
	}
	next := hop(t, g, at("s", "1*1"))
	if !strings.HasPrefix(next.Text, "Turnos") {
		t.Errorf("after the retry the flow should be at the turnos menu: %q", next.Text)
	}
}

// The language chosen on one session is used on the next, on any carrier.
func TestLanguageRememberedPerNumber(t *testing.T) {
	store := sessions.NewMemory(sessions.MemoryOptions{})
	g := newGateway(t, store)
	hop(t, g, at("a", ""))
	if r := hop(t, g, at("a", "2")); !strings.HasPrefix(r.Text, "Citizen services") {
		t.Fatalf("after choosing English: %q", r.Text)
	}
	in := at("b", "")
	in.Carrier = "another"
	if r := hop(t, g, in); !strings.HasPrefix(r.Text, "Citizen services") {
		t.Errorf("second session did not remember English: %q", r.Text)
	}
}

type downStore struct{ sessions.Store }

func (downStore) Get(context.Context, string) (sessions.Record, error) {
	return sessions.Record{}, errors.New("connection refused")
}

// With the store down, the citizen still gets a localised END, and the
// carrier adapter gets an error to log.
func TestStoreDownEndsPolitely(t *testing.T) {
	g := newGateway(t, downStore{})
	r, err := g.Hop(context.Background(), at("s", ""))
	if err == nil || !r.End || r.Text != "Servicio no disponible. Intente más tarde." {
		t.Errorf("got %+v, %v", r, err)
	}
}

// An ended session is freed at once.
func TestEndedSessionIsDeleted(t *testing.T) {
	store := sessions.NewMemory(sessions.MemoryOptions{})
	g := newGateway(t, store)
	in := at("s", "")
	in.ServiceCode = "*384*2#"
	g.Routes = map[string]string{"*384*2#": "estado-tramite"}
	hop(t, g, in)
	if store.Len() != 1 {
		t.Fatalf("records: %d", store.Len())
	}
	in.Input = "12345"
	if r := hop(t, g, in); !r.End {
		t.Fatalf("not ended: %q", r.Text)
	}
	if _, err := store.Get(context.Background(), "ussd:africastalking:s"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("ended session still stored: %v", err)
	}
}

// Many hops for one session at once, against a real Redis: the store's
// compare-and-set serialises them, so exactly one advances the flow and
// the others see a retry of the same hop.
func TestConcurrentHopsOnRedis(t *testing.T) {
	client := redistest.Start(t)
	g := newGateway(t, sessions.NewRedis(client, sessions.RedisOptions{Prefix: "test:"}))
	hop(t, g, at("c", ""))
	hop(t, g, at("c", "1")) // Español → services
	var wg sync.WaitGroup
	replies := make([]channels.Reply, 8)
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = hop(t, g, at("c", "1*1"))
		}()
	}
	wg.Wait()
	for i, r := range replies {
		if r != replies[0] {
			t.Errorf("reply %d differs:\n%q\n%q", i, r.Text, replies[0].Text)
		}
	}
	if !strings.HasPrefix(replies[0].Text, "Turnos") {
		t.Errorf("want the turnos menu, got %q", replies[0].Text)
	}
	// One more hop proves the flow advanced once: "1" is now "book".
	next := hop(t, g, at("c", "1*1*2"))
	if !strings.HasPrefix(next.Text, "Escriba su número de cédula") {
		t.Errorf("after the concurrent hops: %q", next.Text)
	}
}

func benchHops(b *testing.B, store sessions.Store) {
	g := newGateway(b, store)
	ctx := context.Background()
	b.ReportAllocs()
	// Each iteration is one hop: a citizen walks services → turnos → back →
	// turnos → back…, so every hop reads, advances and writes the session.
	// Every 100 hops a new session starts, keeping the history realistic.
	var id, trail string
	for i := range b.N {
		if i%100 == 0 {
			id, trail = "bench-"+strconv.Itoa(i), "1"
			if _, err := g.Hop(ctx, at(id, "")); err != nil {
				b.Fatal(err)
			}
			if _, err := g.Hop(ctx, at(id, trail)); err != nil {
				b.Fatal(err)
			}
		}
		if i%2 == 0 {
			trail += "*1"
		} else {
			trail += "*0"
		}
		if _, err := g.Hop(ctx, at(id, trail)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHopMemory: one whole hop (session read, decode, engine, render,
// encode, write) with the memory store.
func BenchmarkHopMemory(b *testing.B) {
	benchHops(b, sessions.NewMemory(sessions.MemoryOptions{}))
}

// BenchmarkHopRedis: the same hop with sessions in a real redis-server.
func BenchmarkHopRedis(b *testing.B) {
	client := redistest.Start(b)
	benchHops(b, sessions.NewRedis(client, sessions.RedisOptions{}))
}
