package gateway_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// replyFlow answers a turno's reminder: 1 confirms, 2 cancels through
// the back-end; anything else is asked again with a menu.
const replyFlow = `spec_version: 1
id: respuesta-prueba
version: 1
institution: Registro Civil
title: {es: Respuesta, en: Reply}
locales: [es, en]
params: [reply, booking]
start: answer
steps:
  answer:
    kind: branch
    cases:
      - when: reply == "1"
        next: confirm
      - when: reply == "2"
        next: cancel
    default: ask
  ask:
    kind: menu
    text: {es: "Su turno {{booking}}:", en: "Your appointment {{booking}}:"}
    options:
      - label: {es: Confirmar, en: Confirm}
        next: confirm
      - label: {es: Anular, en: Cancel}
        next: cancel
  confirm:
    kind: call
    service: turnos.confirmar
    params: {booking: booking}
    on: {ok: confirmed}
  cancel:
    kind: call
    service: turnos.anular
    params: {booking: booking}
    on: {ok: cancelled}
  confirmed:
    kind: end
    text: {es: "Turno {{booking}} confirmado.", en: "Appointment {{booking}} confirmed."}
    reminder: confirmed
  cancelled:
    kind: end
    text: {es: "Turno {{booking}} anulado.", en: "Appointment {{booking}} cancelled."}
    reminder: cancelled
`

// backend keeps each idempotency key's first answer, as institutions'
// back-ends do, and counts what it did to turnos: one effect per key.
type backend struct {
	mu      sync.Mutex
	effects []string // service booking, once per key
	seen    map[string]bool
}

func (b *backend) Call(_ context.Context, req flows.Request) flows.Response {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	changes := req.Service == "turnos.confirmar" || req.Service == "turnos.anular"
	if changes && !b.seen[req.IdempotencyKey] {
		b.seen[req.IdempotencyKey] = true
		b.effects = append(b.effects, fmt.Sprintf("%s %v", req.Service, req.Params["booking"]))
	}
	return flows.Response{Outcome: flows.OK}
}

func (b *backend) did() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.effects)
}

// heard keeps what the Answers hear.
type heard struct {
	mu       sync.Mutex
	answered []string // question id: answer
	settled  []string // question id: outcome
}

func (h *heard) Answered(_ context.Context, q gateway.Question, a gateway.Answer) {
	h.mu.Lock()
	h.answered = append(h.answered, q.ID+": "+a.Text)
	h.mu.Unlock()
}

func (h *heard) Settled(_ context.Context, q gateway.Question, outcome string) {
	h.mu.Lock()
	h.settled = append(h.settled, q.ID+": "+outcome)
	h.mu.Unlock()
}

func (h *heard) get() (answered, settled []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.answered), slices.Clone(h.settled)
}

type replyRig struct {
	g     *gateway.Gateway
	clock func() time.Time
	back  *backend
	heard *heard
}

// replyGateway is a gateway with the catalogue, the reply flow and a
// back-end that keeps idempotency keys, on store.
func replyGateway(t testing.TB, store sessions.Store, back *backend) *replyRig {
	t.Helper()
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	reg, ps := flows.Load(append(catalogue.Sources(), flows.Source{Name: "respuesta-prueba.yaml", Data: []byte(replyFlow)}), flows.Env{Messages: msgs, Measure: measure})
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	clk := testutil.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	engine := &flows.Engine{Flows: func() *flows.Registry { return reg }, Messages: msgs, Caller: back, Now: clk.Now, Nav: flows.DefaultNav, Root: "inicio"}
	h := &heard{}
	g := &gateway.Gateway{Engine: engine, Store: store, Now: clk.Now,
		Keywords:  map[string]gateway.Keyword{"TURNO": {Flow: "turnos"}, "SALIR": {Stop: true}},
		Questions: &gateway.Questions{Store: store, Now: clk.Now},
		Answers:   []gateway.Answers{h},
	}
	return &replyRig{g: g, clock: clk.Now, back: back, heard: h}
}

// advance moves the rig's one clock by d.
func (r *replyRig) advance(d time.Duration) {
	clk := testutil.NewClock(r.clock().Add(d))
	r.clock = clk.Now
	r.g.Now, r.g.Engine.Now, r.g.Questions.Now = clk.Now, clk.Now, clk.Now
}

func (r *replyRig) ask(t testing.TB, phone, id, locale string) {
	t.Helper()
	q := gateway.Question{ID: id, Kind: "reminder", Key: "T-" + id, Flow: "respuesta-prueba", Vars: map[string]string{"booking": "T-" + id},
		Institution: "Registro Civil", Origin: "turnos", Locale: locale, Channel: "sms", Carrier: "kannel"}
	if err := r.g.Questions.Ask(context.Background(), phone, q, r.clock().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func textFrom(phone, body string, seq int) carrier.Inbound {
	return carrier.Inbound{Channel: "sms", Carrier: "kannel", Phone: phone, Input: body, Seq: seq}
}

// A citizen's answer to a reminder runs the reminder's flow with its
// variables and the answer: 1 confirms, 2 cancels, each once at the
// back-end, whatever the carrier repeats; the question, once answered,
// is not answered again.
func TestAnswerToAReminderRunsItsFlow(t *testing.T) {
	bothStores(t, func(t *testing.T, store sessions.Store) {
		r := replyGateway(t, store, &backend{})
		const ana, beto = "+593991000001", "+593991000002"
		r.ask(t, ana, "r1", "es")
		r.ask(t, beto, "r2", "es")
		r.advance(time.Minute)

		if got := hop(t, r.g, textFrom(ana, " 1 ", 101)); got.Text != "Turno T-r1 confirmado." || !got.End {
			t.Errorf("ana's 1: %+v", got)
		}
		if got := hop(t, r.g, textFrom(beto, "2", 201)); got.Text != "Turno T-r2 anulado." {
			t.Errorf("beto's 2: %+v", got)
		}
		// The carrier delivers beto's message again: the same reply,
		// nothing done twice.
		if got := hop(t, r.g, textFrom(beto, "2", 201)); got.Text != "Turno T-r2 anulado." {
			t.Errorf("beto's 2 again: %+v", got)
		}
		// A new 2 from beto answers nothing any more: the main menu.
		if got := hop(t, r.g, textFrom(beto, "2", 202)); strings.Contains(got.Text, "anulado") {
			t.Errorf("a second answer ran the reply flow again: %+v", got)
		}
		if got, want := r.back.did(), []string{"turnos.confirmar T-r1", "turnos.anular T-r2"}; !slices.Equal(got, want) {
			t.Errorf("back-end did %q, want %q", got, want)
		}
		answered, settled := r.heard.get()
		if want := []string{"r1: 1", "r2: 2"}; !slices.Equal(answered, want) {
			t.Errorf("answered %q, want %q", answered, want)
		}
		if want := []string{"r1: confirmed", "r2: cancelled"}; !slices.Equal(settled, want) {
			t.Errorf("settled %q, want %q", settled, want)
		}
	})
}

// An answer that is not one the flow expects gets the flow's own
// handling: here a menu, whose 2 then cancels. It is in the reminder's
// language, and the question is answered once: the menu's answer is the
// conversation's, not a second answer.
func TestAnAnswerTheFlowDoesNotExpectGetsItsMenu(t *testing.T) {
	r := replyGateway(t, memoryStore(t), &backend{})
	const phone = "+593991000003"
	r.ask(t, phone, "r3", "en")
	got := hop(t, r.g, textFrom(phone, "maybe", 1))
	if !strings.HasPrefix(got.Text, "Your appointment T-r3:") || got.End {
		t.Fatalf("an unexpected answer: %+v", got)
	}
	if got := hop(t, r.g, textFrom(phone, "2", 2)); got.Text != "Appointment T-r3 cancelled." {
		t.Errorf("2 on the menu: %+v", got)
	}
	answered, settled := r.heard.get()
	if !slices.Equal(answered, []string{"r3: maybe"}) || !slices.Equal(settled, []string{"r3: cancelled"}) {
		t.Errorf("heard %q and %q", answered, settled)
	}
}

// What comes first: a carrier's keyword opens its flow and the question
// still waits; a conversation in progress keeps an answer to its own
// screen when its screen came after the question, and loses it to the
// question when the question came after.
func TestWhatAnAnswerGoesTo(t *testing.T) {
	r := replyGateway(t, memoryStore(t), &backend{})
	const phone = "+593991000004"
	r.ask(t, phone, "r4", "es")
	r.advance(time.Minute)
	if got := hop(t, r.g, textFrom(phone, "TURNO", 1)); !strings.HasPrefix(got.Text, "Turnos") {
		t.Fatalf("the keyword: %+v", got)
	}
	r.advance(time.Minute)
	// The turnos menu came after the question: 1 is its answer.
	if got := hop(t, r.g, textFrom(phone, "1", 2)); strings.Contains(got.Text, "confirmado") {
		t.Errorf("an answer to the conversation's screen went to the question: %+v", got)
	}
	if answered, _ := r.heard.get(); len(answered) != 0 {
		t.Errorf("answered %q", answered)
	}
	// A new question after the conversation's last screen takes the
	// next answer.
	r.advance(time.Minute)
	r.ask(t, phone, "r5", "es")
	r.advance(time.Minute)
	if got := hop(t, r.g, textFrom(phone, "1", 3)); got.Text != "Turno T-r5 confirmado." {
		t.Errorf("the answer to the newer question: %+v", got)
	}
	// USSD never answers a question.
	r.ask(t, phone, "r6", "es")
	r.advance(time.Minute)
	if got := hop(t, r.g, at("u1", "")); strings.Contains(got.Text, "T-r6") {
		t.Errorf("a USSD dial answered the question: %+v", got)
	}
	if got, want := r.back.did(), []string{"turnos.confirmar T-r5"}; !slices.Equal(got, want) {
		t.Errorf("back-end did %q, want %q", got, want)
	}
}

// An answer after the question's time is an ordinary message; asking
// again a question already answered (a reminder handed over again after
// a crash) does not ask it anew.
func TestQuestionsExpireAndAreAskedOnce(t *testing.T) {
	r := replyGateway(t, memoryStore(t), &backend{})
	const late, twice = "+593991000005", "+593991000006"
	r.ask(t, late, "r7", "es")
	r.ask(t, twice, "r8", "es")
	r.advance(time.Minute)
	hop(t, r.g, textFrom(twice, "1", 1))
	r.ask(t, twice, "r8", "es")
	r.advance(25 * time.Hour)
	if got := hop(t, r.g, textFrom(late, "2", 1)); strings.Contains(got.Text, "anulado") {
		t.Errorf("an answer after the question's time: %+v", got)
	}
	if got := hop(t, r.g, textFrom(twice, "1", 2)); strings.Contains(got.Text, "confirmado") {
		t.Errorf("a question asked again after its answer: %+v", got)
	}
	if got, want := r.back.did(), []string{"turnos.confirmar T-r8"}; !slices.Equal(got, want) {
		t.Errorf("back-end did %q, want %q", got, want)
	}
}

// Two instances given the same message at once (a carrier retrying on
// another connection) cancel the turno once.
func TestAnAnswerDeliveredTwiceAtOnceCancelsOnce(t *testing.T) {
	client := redistest.Start(t)
	back := &backend{}
	const phone = "+593991000007"
	for round := range 20 {
		one := replyGateway(t, sessions.NewRedis(client, sessions.RedisOptions{}), back)
		two := replyGateway(t, sessions.NewRedis(client, sessions.RedisOptions{}), back)
		id := fmt.Sprint("c", round)
		one.ask(t, phone, id, "es")
		one.advance(time.Minute)
		two.advance(time.Minute)
		var wg sync.WaitGroup
		for _, g := range []*gateway.Gateway{one.g, two.g} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := g.Hop(context.Background(), textFrom(phone, "2", 1000+round)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	if got := back.did(); len(got) != 20 {
		t.Errorf("20 answers, each delivered twice at once, did %d things: %q", len(got), got)
	}
}

// BenchmarkTextHopNear is an SMS conversation's hop as serve runs it
// (Near in front of Redis), without and with the lookup of a question
// waiting for the citizen's answer, which every text hop makes: what the
// answers to reminders cost a text conversation.
func BenchmarkTextHopNear(b *testing.B) {
	for _, questions := range []bool{false, true} {
		b.Run(fmt.Sprint("questions=", questions), func(b *testing.B) {
			store := sessions.NewRedis(redistest.Start(b), sessions.RedisOptions{})
			r := replyGateway(b, store, &backend{})
			r.g.Conversations = sessions.NewNear(store, sessions.NearOptions{})
			if !questions {
				r.g.Questions = nil
			}
			ctx := context.Background()
			b.ReportAllocs()
			var phone string
			for i := range b.N {
				if i%100 == 0 {
					phone = "+5939" + fmt.Sprint(10_000_000+i)
					if _, err := r.g.Hop(ctx, textFrom(phone, "hola", i+1)); err != nil {
						b.Fatal(err)
					}
				}
				answer := "1"
				if i%2 == 1 {
					answer = "0"
				}
				if _, err := r.g.Hop(ctx, textFrom(phone, answer, 1_000_000+i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
