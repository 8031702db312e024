package gateway_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/interop/flowcall"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/channelstest"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/interop"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

type noCalls struct{}

func (noCalls) Call(context.Context, string, map[string]any) interop.Response {
	return interop.Response{Outcome: interop.Unavailable}
}

// slowCalls answers only when the hop's deadline has passed.
type slowCalls struct{}

func (slowCalls) Call(ctx context.Context, _ string, _ map[string]any) interop.Response {
	<-ctx.Done()
	// A back-end that answers late, on purpose: past the deadline, not
	// at it. Its one user runs in a synctest bubble, where the sleep
	// passes on the bubble's fake clock.
	time.Sleep(20 * time.Millisecond)
	return interop.Response{Outcome: interop.Timeout}
}

func measure(s *flows.Screen) int { return len([]rune(ussd.Paginate(s, 1<<20)[0])) }

func newGateway(t testing.TB, store sessions.Store) *gateway.Gateway {
	t.Helper()
	clk := testutil.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
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
		Caller:   flowcall.Caller(noCalls{}),
		Now:      clk.Now,
		Nav:      flows.DefaultNav,
		Root:     "inicio",
	}
	return &gateway.Gateway{Engine: engine, Store: store, Now: clk.Now}
}

// advance moves a gateway's clock, shared with its engine, by d: both
// take a fake clock set d later.
func advance(g *gateway.Gateway, d time.Duration) {
	clk := testutil.NewClock(g.Now().Add(d))
	g.Now, g.Engine.Now = clk.Now, clk.Now
}

func at(session, text string) carrier.Inbound {
	return carrier.Inbound{Channel: "ussd", Carrier: "africastalking", SessionID: session, Phone: "+593991234567", ServiceCode: "*384#", Input: text, Cumulative: true}
}

func hop(t testing.TB, g *gateway.Gateway, in carrier.Inbound) carrier.Reply {
	t.Helper()
	r, err := g.Hop(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// bothStores runs a test against the memory store and a real redis-server.
func bothStores(t *testing.T, test func(t *testing.T, store sessions.Store)) {
	t.Run("memory", func(t *testing.T) { test(t, sessions.NewMemory(sessions.MemoryOptions{})) })
	t.Run("redis", func(t *testing.T) {
		test(t, sessions.NewRedis(redistest.Start(t), sessions.RedisOptions{Prefix: "test:"}))
	})
}

// A carrier retrying a hop it already sent gets the same screen, and the
// flow does not advance twice.
func TestRetriedHopDoesNotAdvance(t *testing.T) {
	bothStores(t, testRetriedHop)
}

func testRetriedHop(t *testing.T, store sessions.Store) {
	g := newGateway(t, store)
	hop(t, g, at("s", ""))
	first := hop(t, g, at("s", "1"))
	again := hop(t, g, at("s", "1"))
	if first.Text != again.Text || first.End != again.End {
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
	advance(g, time.Hour) // past the resume window: a fresh start
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

// An ended conversation leaves only the record of its last reply (for a
// carrier that repeats the request): no answers, no place in a flow.
func TestEndedSessionKeepsOnlyItsReply(t *testing.T) {
	store := sessions.NewMemory(sessions.MemoryOptions{})
	g := newGateway(t, store)
	in := at("s", "")
	in.ServiceCode = "*384*2#"
	g.Routes = map[string]string{"*384*2#": "estado-tramite"}
	hop(t, g, in)
	if store.Len() != 1 {
		t.Fatalf("records: %d", store.Len())
	}
	in.Input = "98765"
	if r := hop(t, g, in); !r.End {
		t.Fatalf("not ended: %q", r.Text)
	}
	rec, err := store.Get(context.Background(), gateway.Key(in))
	if err != nil {
		t.Fatal(err)
	}
	var s conversation.State
	if err := s.UnmarshalBinary(rec.Data); err != nil {
		t.Fatal(err)
	}
	if !s.Ended || len(s.Frames) != 0 || len(s.History) != 0 || len(s.Vars) != 1 || strings.Contains(string(rec.Data), "98765") {
		t.Errorf("ended conversation kept %+v", s)
	}
}

// A citizen whose session dropped mid-trámite and who dials again within
// the window is offered to continue or start over; after the window, or
// with a shortcut, the conversation starts afresh.
func TestResumeAfterADrop(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	hop(t, g, at("a", ""))
	hop(t, g, at("a", "1"))
	hop(t, g, at("a", "1*1")) // the turnos menu; then the network drops
	advance(g, 2*time.Minute)
	offer := hop(t, g, at("b", ""))
	if offer.End || !strings.HasPrefix(offer.Text, "Tiene un trámite sin terminar: Turnos.\n1. Continuar\n2. Empezar de nuevo") {
		t.Fatalf("offer: %q", offer.Text)
	}
	if r := hop(t, g, at("b", "7")); !strings.HasPrefix(r.Text, "Opción no válida.\nTiene un trámite") {
		t.Errorf("invalid answer to the offer: %q", r.Text)
	}
	if r := hop(t, g, at("b", "7*1")); !strings.HasPrefix(r.Text, "Turnos\n1. Reservar un turno") {
		t.Errorf("continue: %q", r.Text)
	}
	if r := hop(t, g, at("b", "7*1*2")); !strings.HasPrefix(r.Text, "Escriba su número de cédula") {
		t.Errorf("the flow goes on after resuming: %q", r.Text)
	}
	hop(t, g, at("c", ""))
	if r := hop(t, g, at("c", "2")); !strings.HasPrefix(r.Text, "Ventanilla ciudadana") {
		t.Errorf("start over: %q", r.Text)
	}
	if r := hop(t, g, at("c", "2*1")); !strings.HasPrefix(r.Text, "Turnos") {
		t.Errorf("the hop after starting over: %q", r.Text)
	}
	advance(g, 6*time.Minute)
	if r := hop(t, g, at("d", "")); !strings.HasPrefix(r.Text, "Ventanilla ciudadana") {
		t.Errorf("after the window: %q", r.Text)
	}
}

// A citizen who dialled a flow's own code, dropped and dials it again is
// offered to continue; starting over opens the flow that code opens, not
// the root menu.
func TestResumeRestartOpensTheDialledFlow(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	g.Routes = map[string]string{"*384*7#": "turnos", "*384*2#": "estado-tramite"}
	dial := func(session, code, text string) carrier.Inbound {
		in := at(session, text)
		in.ServiceCode = code
		return in
	}
	hop(t, g, dial("a", "*384*7#", ""))
	if r := hop(t, g, dial("a", "*384*7#", "2")); !strings.HasPrefix(r.Text, "Escriba su número de cédula") {
		t.Fatalf("my appointments: %q", r.Text)
	} // then the network drops
	advance(g, time.Minute)
	if r := hop(t, g, dial("b", "*384*7#", "")); !strings.HasPrefix(r.Text, "Tiene un trámite sin terminar: Turnos.") {
		t.Fatalf("offer: %q", r.Text)
	}
	if r := hop(t, g, dial("b", "*384*7#", "2")); !strings.HasPrefix(r.Text, "Turnos\n1. Reservar un turno") {
		t.Errorf("start over: %q", r.Text)
	}
	if r := hop(t, g, dial("b", "*384*7#", "2*2")); !strings.HasPrefix(r.Text, "Escriba su número de cédula") {
		t.Errorf("the hop after starting over: %q", r.Text)
	}
	// Another flow's code, with the booking still open: starting over
	// opens the flow that was dialled this time.
	advance(g, time.Minute)
	if r := hop(t, g, dial("c", "*384*2#", "")); !strings.HasPrefix(r.Text, "Tiene un trámite sin terminar: Turnos.") {
		t.Fatalf("offer on another code: %q", r.Text)
	}
	if r := hop(t, g, dial("c", "*384*2#", "2")); !strings.HasPrefix(r.Text, "Escriba el número de su trámite") {
		t.Errorf("start over on another code: %q", r.Text)
	}
}

// The carrier's end-of-session notice keeps the conversation for a resume.
func TestCarrierEndKeepsTheConversation(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	hop(t, g, at("a", ""))
	hop(t, g, at("a", "1"))
	hop(t, g, at("a", "1*3")) // the mailbox
	end := at("a", "")
	end.Event, end.EndStatus = carrier.EventEnd, "Incomplete"
	hop(t, g, end)
	if r := hop(t, g, at("b", "")); !strings.HasPrefix(r.Text, "Tiene un trámite sin terminar: Buzón ciudadano.") {
		t.Errorf("dialling again: %q", r.Text)
	}
}

// *384*1*1# answers 1 (Español) then 1 (Turnos); a shortcut stops at the
// first answer that is not accepted.
func TestShortcutDialling(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	in := at("a", "")
	in.ServiceCode = "*384*1*1#"
	if r := hop(t, g, in); !strings.HasPrefix(r.Text, "Turnos\n1. Reservar") {
		t.Errorf("shortcut: %q", r.Text)
	}
	in = at("b", "")
	in.Phone = "+593990000002"
	in.ServiceCode = "*384*9*1#"
	if r := hop(t, g, in); !strings.HasPrefix(r.Text, "Opción no válida.\nBienvenido") {
		t.Errorf("invalid shortcut: %q", r.Text)
	}
	// Operators that deliver the shortcut as text on the first hop.
	in = at("c", "1*2")
	in.Phone = "+593990000003"
	if r := hop(t, g, in); !strings.HasPrefix(r.Text, "Escriba el número de su trámite") {
		t.Errorf("shortcut as text: %q", r.Text)
	}
	if r := hop(t, g, at("c", "1*2*1002")); r.Text == "" {
		t.Errorf("the hop after a text shortcut: %q", r.Text)
	}
	g.Routes = map[string]string{"*384*2#": "estado-tramite"}
	in = at("d", "")
	in.Phone = "+593990000004"
	in.ServiceCode = "*384*2#"
	if r := hop(t, g, in); !strings.HasPrefix(r.Text, "Escriba el número de su trámite") {
		t.Errorf("routed code: %q", r.Text)
	}
}

// A hop that would outlast the carrier's budget ends with a localised
// "try again", never a carrier error.
//
// In a testing/synctest bubble the budget and the back-end's lateness
// pass on a fake clock: the test waits for neither.
func TestBudgetExceeded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := sessions.NewMemory(sessions.MemoryOptions{})
		defer store.Close()
		g := newGateway(t, store)
		g.Engine.Caller = flowcall.Caller(slowCalls{})
		hop(t, g, at("a", ""))
		hop(t, g, at("a", "1"))
		hop(t, g, at("a", "1*1"))
		g.Budget = 50 * time.Millisecond
		r, err := g.Hop(context.Background(), at("a", "1*1*1")) // calls turnos.offices
		if err != nil || !r.End || r.Text != "No pudimos atenderle. Intente de nuevo en unos minutos." {
			t.Errorf("got %+v %v", r, err)
		}
	})
}

// Protocols that number hops: a repeated number is a retry.
func TestRepeatedSequenceIsARetry(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	in := carrier.Inbound{Channel: "ussd", Carrier: "hubtel", SessionID: "h", Phone: "+593991234567", Seq: 1, Event: carrier.EventBegin}
	hop(t, g, in)
	in.Event, in.Seq, in.Input = carrier.EventContinue, 2, "1"
	first := hop(t, g, in)
	again := hop(t, g, in)
	if first.Text != again.Text || first.End != again.End || !strings.HasPrefix(again.Text, "Ventanilla ciudadana") {
		t.Errorf("retry: %q then %q", first.Text, again.Text)
	}
	in.Seq = 3
	if r := hop(t, g, in); !strings.HasPrefix(r.Text, "Turnos") {
		t.Errorf("next hop: %q", r.Text)
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
	replies := make([]carrier.Reply, 8)
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = hop(t, g, at("c", "1*1"))
		}()
	}
	wg.Wait()
	for i, r := range replies {
		if r.Text != replies[0].Text || r.End != replies[0].End {
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

func benchHops(b *testing.B, store, conversations sessions.Store) {
	g := newGateway(b, store)
	g.Conversations = conversations
	benchGatewayHops(b, g)
}

func benchGatewayHops(b *testing.B, g *gateway.Gateway) {
	w := &walker{g: g}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		w.hop(b, i)
	}
}

// walker is the benchmarks' citizen: each call of hop is one hop that
// reads, advances and writes the session, walking services → turnos →
// back → turnos → back… Every 100 hops a new conversation starts, by a
// new citizen (conversations are kept by number), who chooses a language
// and then walks the menus, keeping the history realistic.
type walker struct {
	g     *gateway.Gateway
	in    carrier.Inbound
	trail string
}

func (w *walker) hop(b *testing.B, i int) {
	ctx := context.Background()
	if i%100 == 0 {
		w.in = at("bench-"+strconv.Itoa(i), "")
		w.in.Phone = "+5939" + strconv.Itoa(10_000_000+i)
		w.trail = "1"
		if _, err := w.g.Hop(ctx, w.in); err != nil {
			b.Fatal(err)
		}
		w.in.Input = w.trail
		if _, err := w.g.Hop(ctx, w.in); err != nil {
			b.Fatal(err)
		}
	}
	if i%2 == 0 {
		w.trail += "*1"
	} else {
		w.trail += "*0"
	}
	w.in.Input = w.trail
	if _, err := w.g.Hop(ctx, w.in); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkHopMemory: one whole hop (session read, decode, engine, render,
// encode, write) with the memory store.
func BenchmarkHopMemory(b *testing.B) {
	benchHops(b, sessions.NewMemory(sessions.MemoryOptions{}), nil)
}

// BenchmarkHopRedis: the same hop with sessions in a real redis-server.
func BenchmarkHopRedis(b *testing.B) {
	client := redistest.Start(b)
	benchHops(b, sessions.NewRedis(client, sessions.RedisOptions{}), nil)
}

// BenchmarkHopNear is the Redis hop as serve runs it: this instance's
// copies (Near) in front of Redis, so the hop's write is its one round
// trip.
func BenchmarkHopNear(b *testing.B) {
	store := sessions.NewRedis(redistest.Start(b), sessions.RedisOptions{})
	benchHops(b, store, sessions.NewNear(store, sessions.NearOptions{}))
}

// A carrier resending the first hop of a session that is already running
// (protocols without hop numbers) gets the same screen, not an error.
func TestRetriedFirstHop(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	in := carrier.Inbound{Channel: "ussd", Carrier: "nalo", SessionID: "n1", Phone: "+593991234567", Event: carrier.EventBegin}
	first := hop(t, g, in)
	again := hop(t, g, in)
	if first.Text != again.Text || strings.Contains(again.Text, "no válida") {
		t.Errorf("retried first hop: %q then %q", first.Text, again.Text)
	}
}

// The same session id on another carrier is another conversation.
func TestSessionIDsDoNotCollideAcrossCarriers(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	hop(t, g, at("same", ""))
	hop(t, g, at("same", "1")) // services menu on Africa's Talking
	in := carrier.Inbound{Channel: "ussd", Carrier: "nalo", SessionID: "same", Phone: "+593991234567", Event: carrier.EventBegin}
	if r := hop(t, g, in); !strings.HasPrefix(r.Text, "Ventanilla ciudadana") {
		t.Errorf("a new dial on another carrier: %q", r.Text)
	}
}

// slowStatus answers the procedure status after a delay.
type slowStatus struct{ delay time.Duration }

func (c slowStatus) Call(ctx context.Context, service string, _ map[string]any) interop.Response {
	select {
	case <-time.After(c.delay):
	case <-ctx.Done():
		return interop.Response{Outcome: interop.Timeout}
	}
	return interop.Response{Outcome: interop.OK, Body: []byte(`{"number":"1002","status":"ready"}`)}
}

// A call marked async that outlasts the hop: the citizen is told the
// result will follow; the flow finishes in the background, and with no
// SMS carrier the result waits for the citizen's next contact.
func TestAsyncResultKeptForNextContact(t *testing.T) {
	store := sessions.NewMemory(sessions.MemoryOptions{})
	g := newGateway(t, store)
	// The call outlasts the half second the hop waits for it, whatever
	// the machine's load; the margin leaves the hop time to answer
	// within its budget even on a busy machine.
	g.Engine.Caller = flowcall.Caller(slowStatus{delay: time.Second})
	g.Engine.Notifier = gateway.Pending{Store: store}
	g.Engine.AsyncMargin = 1500 * time.Millisecond
	g.Routes = map[string]string{"*384*2#": "estado-tramite"}
	in := at("a", "")
	in.ServiceCode = "*384*2#"
	hop(t, g, in)
	g.Budget = 2 * time.Second // only the slow hop runs on a tight budget
	in.Input = "1002"
	r := hop(t, g, in)
	// No SMS carrier: the citizen is told where the result will be, not
	// promised an SMS.
	if !r.End || r.Text != "Su consulta tarda más de lo normal. Le mostraremos el resultado la próxima vez que nos contacte." {
		t.Fatalf("slow call: %+v", r)
	}
	testutil.WaitFor(t, "the result to arrive", func() bool {
		_, err := store.Get(context.Background(), keys.Pending("+593991234567"))
		return err == nil
	})
	g.Budget = 0
	next := hop(t, g, at("b", ""))
	if !strings.HasPrefix(next.Text, "Resultado de su consulta anterior:\nTrámite 1002: listo.") {
		t.Errorf("next contact: %q", next.Text)
	}
	// The satisfaction question after the status is not asked of a
	// result that went on without the citizen.
	if strings.Contains(next.Text, "¿Cómo fue su atención?") {
		t.Errorf("a late result asks a question: %q", next.Text)
	}
	if again := hop(t, g, at("c", "")); strings.Contains(again.Text, "Resultado") {
		t.Errorf("shown twice: %q", again.Text)
	}
}

// Carriers whose session ids repeat (SMPP USSD) mark their begins as new:
// a citizen who dials again is not shown the old screen as a retry.
func TestBeginIsNewWhenIDsRepeat(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	in := carrier.Inbound{Channel: "ussd", Carrier: "kannel", SessionID: "+593991234567", Phone: "+593991234567", Event: carrier.EventBegin, BeginIsNew: true}
	hop(t, g, in)
	hop(t, g, carrier.Inbound{Channel: "ussd", Carrier: "kannel", SessionID: "+593991234567", Phone: "+593991234567", Input: "1"})
	in.ServiceCode = "*384*3#" // dials again with a shortcut to the mailbox
	if r := hop(t, g, in); !strings.HasPrefix(r.Text, "Buzón ciudadano") {
		t.Errorf("a new dial with a repeated id: %q", r.Text)
	}
}

// A carrier that hangs up mid-hop cancels the request's context; the hop
// still finishes within its budget and saves what it did, so the
// citizen's conversation is where the hop left it.
func TestHopOutlivesTheCarriersConnection(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	hop(t, g, at("c", ""))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := g.Hop(ctx, at("c", "1"))
	if err != nil || r.End {
		t.Fatalf("hop with its connection gone: %+v, %v", r, err)
	}
	// The carrier retries the hop: the same screen, the flow did not move.
	if again := hop(t, g, at("c", "1")); again.Text != r.Text {
		t.Errorf("retried hop: %q, want %q", again.Text, r.Text)
	}
	if next := hop(t, g, at("c", "1*0")); next.Text == r.Text || next.End {
		t.Errorf("the conversation did not go on from the saved hop: %q", next.Text)
	}
}

// protocol builds the inbound hops of one carrier's protocol: hop n (0 is
// the dial) of a conversation whose answers so far are answers.
type protocol struct {
	name string
	in   func(session string, answers []string) carrier.Inbound
}

// protocols are the ways carriers deliver hops: cumulative text (Africa's
// Talking), numbered hops (Hubtel), bare answers (Nalo, generic), session
// ids that repeat (Kannel), and texts numbered by message id (SMS,
// WhatsApp, Telegram updates).
var protocols = []protocol{
	{"africastalking", func(session string, answers []string) carrier.Inbound {
		return at(session, strings.Join(answers, "*"))
	}},
	{"hubtel", func(session string, answers []string) carrier.Inbound {
		in := ussdHop("hubtel", session, answers)
		in.Seq = len(answers) + 1
		return in
	}},
	{"nalo", func(session string, answers []string) carrier.Inbound { return ussdHop("nalo", session, answers) }},
	{"kannel", func(session string, answers []string) carrier.Inbound {
		in := ussdHop("kannel", "+593991234567", answers)
		in.BeginIsNew = true
		return in
	}},
	{"sms", func(session string, answers []string) carrier.Inbound {
		return textHop("sms", "twilio", "", session, answers)
	}},
	{"whatsapp", func(session string, answers []string) carrier.Inbound {
		return textHop("chat", "whatsapp", "", session, answers)
	}},
	{"telegram", func(session string, answers []string) carrier.Inbound {
		return textHop("chat", "telegram", "4242", session, answers)
	}},
}

func ussdHop(carrierName, session string, answers []string) carrier.Inbound {
	in := carrier.Inbound{Channel: "ussd", Carrier: carrierName, SessionID: session, Phone: "+593991234567", ServiceCode: "*384#"}
	if len(answers) == 0 {
		in.Event = carrier.EventBegin
	} else {
		in.Input = answers[len(answers)-1]
	}
	return in
}

// textHop is a message of a text conversation; its id (Seq) is the
// session's name and the message's place in it, so each is new.
func textHop(channel, carrierName, chat, session string, answers []string) carrier.Inbound {
	in := carrier.Inbound{Channel: channel, Carrier: carrierName, SessionID: chat, Phone: "+593991234567", Input: "hola"}
	if len(answers) > 0 {
		in.Input = answers[len(answers)-1]
	}
	in.Seq = 1000*int(session[len(session)-1]) + len(answers) + 1
	return in
}

// converse runs a conversation of answers on the protocol, alternating
// between the gateways given, and returns the last hop and its reply.
func converse(t *testing.T, p protocol, session string, answers []string, gs ...*gateway.Gateway) (carrier.Inbound, carrier.Reply) {
	t.Helper()
	var in carrier.Inbound
	var r carrier.Reply
	for i := 0; i <= len(answers); i++ {
		in = p.in(session, answers[:i])
		r = hop(t, gs[i%len(gs)], in)
		if r.End && i < len(answers) {
			t.Fatalf("%s: ended at answer %d: %q", p.name, i, r.Text)
		}
	}
	return in, r
}

// A request the carrier repeats after the conversation ended — the final
// request of a booking, sent again as carriers do when a reply is late —
// gets the same reply and books nothing twice: on every protocol, with
// the memory store, with Redis, and on another instance sharing it. The
// citizen who chose their language in that very conversation (whose
// history, replayed as a new dial, would be shifted by one answer: "Cédula
// no válida") and the one whose language is remembered alike.
func TestRepeatedLastRequestActsOnce(t *testing.T) {
	// Booked, and the satisfaction question under the booking answered:
	// that answer is the last request.
	booking := []string{"1", "1", "1", "1", "1714307103", "1", "5"}
	type setup struct {
		name string
		new  func(t *testing.T, calls *countedCalls) (*gateway.Gateway, *gateway.Gateway)
	}
	setups := []setup{
		{"memory", func(t *testing.T, calls *countedCalls) (*gateway.Gateway, *gateway.Gateway) {
			g := channelstest.Gateway(t, sessions.NewMemory(sessions.MemoryOptions{}), calls)
			return g, g
		}},
		{"redis", func(t *testing.T, calls *countedCalls) (*gateway.Gateway, *gateway.Gateway) {
			g := channelstest.Gateway(t, sessions.NewRedis(redistest.Start(t), sessions.RedisOptions{}), calls)
			return g, g
		}},
		{"two-instances", func(t *testing.T, calls *countedCalls) (*gateway.Gateway, *gateway.Gateway) {
			client := redistest.Start(t)
			instance := func() *gateway.Gateway {
				store := sessions.NewRedis(client, sessions.RedisOptions{})
				g := channelstest.Gateway(t, store, calls)
				g.Conversations = sessions.NewNear(store, sessions.NearOptions{})
				return g
			}
			return instance(), instance()
		}},
	}
	for _, st := range setups {
		for _, p := range protocols {
			for _, first := range []bool{true, false} {
				name := st.name + "/" + p.name + "/remembered"
				if first {
					name = st.name + "/" + p.name + "/first-contact"
				}
				t.Run(name, func(t *testing.T) {
					var calls countedCalls
					a, b := st.new(t, &calls)
					script := booking
					if first {
						script = append([]string{"1"}, booking...) // Español
					} else {
						converse(t, p, "s0", []string{"1"}, a) // chose Español before
					}
					last, r := converse(t, p, "s1", script, a, b)
					if !r.End || !strings.HasPrefix(r.Text, "Gracias. Le esperamos.") {
						t.Fatalf("booking ended with %+v", r)
					}
					made := calls.n.Load()
					for _, g := range []*gateway.Gateway{a, b} {
						again := hop(t, g, last)
						if again.Text != r.Text || again.End != r.End {
							t.Errorf("repeated last request: %+v, want %+v", again, r)
						}
					}
					if n := calls.n.Load(); n != made {
						t.Errorf("the repeated request made %d more back-end calls", n-made)
					}
					// The next conversation starts afresh.
					if next := hop(t, b, p.in("s2", nil)); next.End || strings.Contains(next.Text, "reservado") {
						t.Errorf("the next conversation: %+v", next)
					}
				})
			}
		}
	}
}
