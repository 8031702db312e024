package gateway_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/internal/channelstest"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/keys"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// lateWrites lands the conversation writes made once late is set only
// after the hop's deadline, as a store that stalled does: the write
// lands, and the hop does not hear of it in time.
type lateWrites struct {
	sessions.Store
	late atomic.Bool
}

func (l *lateWrites) Put(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration) (uint64, error) {
	if !l.late.Load() {
		return l.Store.Put(ctx, key, data, rev, ttl)
	}
	<-ctx.Done()
	if _, err := l.Store.Put(context.WithoutCancel(ctx), key, data, rev, ttl); err != nil {
		return 0, err
	}
	return 0, ctx.Err()
}

// The hop that books a turno by SMS or chat comes back too late: the
// booking and the satisfaction question under it were stored, the
// citizen was told to try again, and the result was kept for the next
// contact. The citizen's next text answers nothing they saw: it gets the
// booking and then the question, and is not taken as a rating (a "1"
// typed again would rate the service 1). A keyword instead opens its
// flow, under the booking. On a Telegram chat that never shared its
// number too, where the result is kept for the chat. With the memory
// store, and with Redis behind each instance's own copy as in production.
func TestLateResultOnTextChannels(t *testing.T) {
	const phone = "+593991234567"
	// who the result is kept for: the number, or the chat without one.
	who := func(p protocol) string {
		if in := p.in("s", nil); in.Phone == "" {
			return in.Carrier + ":" + in.SessionID
		}
		return phone
	}
	type setup struct {
		name string
		// new returns a gateway whose store lands late the writes made
		// after the booking, once late() was called, until back().
		new func(t *testing.T, caller *cutAfter, kept string) (g *gateway.Gateway, late, back func())
	}
	setups := []setup{
		{"memory", func(t *testing.T, caller *cutAfter, kept string) (*gateway.Gateway, func(), func()) {
			store := sessions.NewMemory(sessions.MemoryOptions{})
			g := channelstest.Gateway(t, store, caller)
			lw := &lateWrites{Store: store}
			g.Conversations = lw
			return g, func() { lw.late.Store(true) }, func() { lw.late.Store(false) }
		}},
		{"redis", func(t *testing.T, caller *cutAfter, kept string) (*gateway.Gateway, func(), func()) {
			addr, _ := redistest.StartServer(t)
			admin := redistest.Client(t, addr)
			store := sessions.NewRedis(redistest.Client(t, addr), sessions.RedisOptions{})
			g := channelstest.Gateway(t, store, caller)
			g.Conversations = sessions.NewNear(store, sessions.NearOptions{})
			pid := redisPID(t, admin)
			return g, func() { signal(t, pid, syscall.SIGSTOP) }, func() {
				signal(t, pid, syscall.SIGCONT)
				testutil.WaitFor(t, "the result kept in Redis", func() bool {
					return admin.Exists(context.Background(), "ventanilla:"+keys.Pending(kept)).Val() == 1
				})
			}
		}},
	}
	textProtocols := []protocol{protocols[4], protocols[5], protocols[6], {"telegram-without-number", func(session string, answers []string) carrier.Inbound {
		in := textHop("chat", "telegram", "4242", session, answers)
		in.Phone = ""
		return in
	}}}
	for _, su := range setups {
		for _, p := range textProtocols {
			for _, next := range []string{"1", "TURNO"} {
				if su.name == "redis" && next == "TURNO" {
					continue // what a keyword does is the store's alike
				}
				t.Run(su.name+"/"+p.name+"/"+next, func(t *testing.T) {
					if su.name == "redis" {
						t.Parallel() // each waits for its own stopped server
					}
					inst := newInstitution(t)
					var once sync.Once
					caller := &cutAfter{institution: inst, let: make(chan struct{})}
					close(caller.let)
					g, late, back := su.new(t, caller, who(p))
					withKeywords(g)
					g.Keywords["TURNO"] = gateway.Keyword{Flow: "turnos"}
					if p.in("s", nil).Phone == "" {
						unverifiedTurnos(t, g)
					}
					caller.then = func() { once.Do(late) }
					answers := strings.Split(bookingUpToConfirm, "*")
					if _, r := converse(t, p, "s", answers, g); !strings.HasPrefix(r.Text, "Confirme su turno") {
						t.Fatalf("not at the confirmation: %q", r.Text)
					}
					answers = append(answers, "1")
					g.Budget = time.Second
					r, _ := g.Hop(context.Background(), p.in("s", answers))
					if strings.Contains(r.Text, "Turno reservado") {
						t.Fatalf("the booking hop was not late: %q", r.Text)
					}
					back()
					g.Budget = 0
					if _, err := g.Store.Get(context.Background(), keys.Pending(who(p))); err != nil {
						t.Fatalf("no result kept for the next contact: %v", err)
					}
					list := inst.bookings(t)
					if len(list) != 1 {
						t.Fatalf("%d turnos booked", len(list))
					}

					answers = append(answers, next)
					r = hop(t, g, p.in("s", answers))
					if want := "Resultado de su consulta anterior:\nTurno reservado. Código " + list[0].Code; !strings.HasPrefix(r.Text, want) {
						t.Fatalf("the next text %q: %+v, want %q…", next, r, want)
					}
					if next == "TURNO" {
						if !strings.Contains(r.Text, "\nTurnos") || strings.Contains(r.Text, "¿Cómo fue su atención?") {
							t.Errorf("a keyword after the late result: %q, want the Turnos menu under the booking", r.Text)
						}
						return
					}
					if !strings.Contains(r.Text, "Lleve su cédula.\n¿Cómo fue su atención?") || r.End {
						t.Errorf("the next text does not ask the question under the booking: %+v", r)
					}
					// Now the question was seen: the answer rates.
					answers = append(answers, "4")
					if r := hop(t, g, p.in("s", answers)); r.Text != "Gracias. Le esperamos." || !r.End {
						t.Errorf("the rating: %+v", r)
					}
					if n := len(inst.bookings(t)); n != 1 {
						t.Errorf("%d turnos", n)
					}
					// Told once: a later conversation is an ordinary one.
					answers = append(answers, "hola")
					if r := hop(t, g, p.in("s", answers)); strings.Contains(r.Text, "Turno reservado") {
						t.Errorf("the result shown again: %q", r.Text)
					}
				})
			}
		}
	}
}

// unverifiedTurnos lets g's citizens book turnos without a verified
// number, as an institution's level 0 flow with a booking would (the
// document typed is any ten digits, not a cédula): a chat that never
// shared its number can then book.
func unverifiedTurnos(t *testing.T, g *gateway.Gateway) {
	t.Helper()
	srcs := catalogue.Sources()
	for i, src := range srcs {
		if strings.HasSuffix(src.Name, "turnos.yaml") {
			// Level 0, the document typed being any ten digits.
			data := strings.NewReplacer("\nlevel: 1 ", "\nlevel: 0 ", "{kind: cedula}", "{kind: digits, min: 10, max: 10}",
				"  cedula: {max_length", "  documento: {max_length").Replace(string(src.Data))
			data = cedulaVar.ReplaceAllString(data, "${1}documento$2")
			if !strings.Contains(data, "\nlevel: 0 ") {
				t.Fatalf("%s: not lowered to level 0", src.Name)
			}
			srcs[i].Data = []byte(data)
		}
	}
	reg, ps := flows.Load(srcs, flows.Env{Messages: g.Engine.Messages, Measure: measure})
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	g.Engine.Flows = func() *flows.Registry { return reg }
}

// cedulaVar is the variable cedula in a flow, not the parameter of
// that name.
var cedulaVar = regexp.MustCompile(`(^|[^A-Za-z_.])cedula([^:A-Za-z_]|$)`)

// redisPID is the process id of the redis-server admin talks to.
func redisPID(t *testing.T, admin *redis.Client) int {
	t.Helper()
	info, err := admin.Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(info, "process_id:")
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(after, "\n", 2)[0]))
	if err != nil {
		t.Fatalf("redis-server's pid: %v", err)
	}
	return pid
}

// signal sends sig to pid; a stopped process is let go on at the end.
func signal(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatal(err)
	}
	if sig == syscall.SIGSTOP {
		t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	}
}
