package gateway_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/ventanilla-gob/ventanilla/interop/flowcall"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/internal/channelstest"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/interop"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// When Redis goes away mid-conversation, hops answer a localised END and
// nothing panics; when it comes back, service resumes without a restart.
func TestRedisOutageAndRecovery(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		outage(t, func(c redis.UniversalClient) *gateway.Gateway {
			return newGateway(t, sessions.NewRedis(c, sessions.RedisOptions{}))
		})
	})
	t.Run("near", func(t *testing.T) {
		outage(t, func(c redis.UniversalClient) *gateway.Gateway { return nearGateway(t, c) })
	})
}

func outage(t *testing.T, newGateway func(redis.UniversalClient) *gateway.Gateway) {
	addr, stop := redistest.StartServer(t)
	g := newGateway(redistest.Client(t, addr))
	hop(t, g, at("r", ""))
	hop(t, g, at("r", "1"))

	stop()
	r, err := g.Hop(context.Background(), at("r", "1*1"))
	if err == nil || !r.End || r.Text != "Servicio no disponible. Intente más tarde." {
		t.Fatalf("with Redis down: %+v, %v", r, err)
	}
	if err := g.Store.Ping(context.Background()); err == nil {
		t.Error("Ping succeeds with Redis down; readiness would not fail")
	}

	redistest.StartServerAt(t, addr) // an empty Redis, as after a failover without persistence
	if err := g.Store.Ping(context.Background()); err != nil {
		t.Fatalf("Ping after Redis returned: %v", err)
	}
	// The restarted Redis is empty: the citizen is a first contact again.
	if r := hop(t, g, at("r2", "")); !strings.HasPrefix(r.Text, "Bienvenido a Ventanilla") {
		t.Errorf("after Redis returned: %q", r.Text)
	}
}

// nearGateway is an instance as serve builds it on Redis: conversations
// in a Near in front of the Redis store, the rest in the store.
func nearGateway(t testing.TB, client redis.UniversalClient) *gateway.Gateway {
	store := sessions.NewRedis(client, sessions.RedisOptions{})
	g := newGateway(t, store)
	g.Conversations = sessions.NewNear(store, sessions.NearOptions{})
	return g
}

// Two gateway instances sharing one Redis: a conversation started on one
// continues on the other, hop by hop — with each instance's own copy of
// the conversations it served (Near) as in production, and without.
func TestTwoInstancesShareOneRedis(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		client := redistest.Start(t)
		a := newGateway(t, sessions.NewRedis(client, sessions.RedisOptions{}))
		b := newGateway(t, sessions.NewRedis(client, sessions.RedisOptions{}))
		alternate(t, a, b)
	})
	t.Run("near", func(t *testing.T) {
		client := redistest.Start(t)
		alternate(t, nearGateway(t, client), nearGateway(t, client))
	})
}

func alternate(t *testing.T, a, b *gateway.Gateway) {
	hop(t, a, at("x", ""))
	if r := hop(t, b, at("x", "2")); !strings.HasPrefix(r.Text, "Citizen services") {
		t.Fatalf("second instance: %q", r.Text)
	}
	if r := hop(t, a, at("x", "2*1")); !strings.HasPrefix(r.Text, "Appointments") {
		t.Fatalf("back on the first: %q", r.Text)
	}
	if r := hop(t, b, at("x", "2*1*0")); !strings.HasPrefix(r.Text, "Citizen services") {
		t.Fatalf("back key on the second: %q", r.Text)
	}
}

// Every hop of a conversation this instance served makes exactly one
// Redis round trip: its compare-and-set write, or the delete that ends it.
func TestOneRedisRoundTripPerHop(t *testing.T) {
	addr := redistest.Start(t).Options().Addr
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { client.Close() })
	g := nearGateway(t, client)
	count := new(redistest.Commands)
	client.AddHook(count)
	// The first contact of the run also loads the write script.
	hop(t, g, at("warm", ""))
	hop(t, g, at("warm", "1"))

	// A new conversation reads the citizen's language and any result
	// kept for them (one MGET), then writes.
	before := count.N()
	hop(t, g, at("y", ""))
	if got := count.N() - before; got != 2 {
		t.Errorf("the first hop of a conversation made %d Redis round trips, want 2", got)
	}
	for _, text := range []string{"1", "1*0", "1*0*2", "1*0*2*0", "1*0*2*0*1", "1*0*2*0*1*00"} {
		before := count.N()
		r := hop(t, g, at("y", text))
		if got := count.N() - before; got != 1 {
			t.Errorf("hop %q (%q) made %d Redis round trips, want 1", text, firstLine(r.Text), got)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// countedCalls is the test back-end, counting the calls that reach it.
type countedCalls struct{ n atomic.Int64 }

func (c *countedCalls) Call(ctx context.Context, service string, params map[string]any) interop.Response {
	c.n.Add(1)
	return channelstest.Backend{}.Call(ctx, service, params)
}

// An instance whose copy of a conversation is stale (another instance
// served the hop in between) must not act on it: on the stale copy the
// citizen's "1" would ask the back-end for offices; on the real
// conversation it opens the Turnos menu, which calls nothing.
func TestStaleCopyMakesNoBackendCall(t *testing.T) {
	client := redistest.Start(t)
	var calls [2]countedCalls
	instance := func(c *countedCalls) *gateway.Gateway {
		store := sessions.NewRedis(client, sessions.RedisOptions{})
		g := channelstest.Gateway(t, store, c)
		g.Conversations = sessions.NewNear(store, sessions.NearOptions{})
		return g
	}
	a, b := instance(&calls[0]), instance(&calls[1])
	// Without the cumulative text, which would give the stale copy away.
	typed := func(text string) carrier.Inbound {
		in := at("z", text)
		in.Cumulative = false
		return in
	}
	hop(t, a, typed(""))
	hop(t, a, typed("1")) // Español → the services menu
	if r := hop(t, a, typed("1")); !strings.HasPrefix(r.Text, "Turnos") {
		t.Fatalf("on a: %q", r.Text)
	}
	// The citizen goes back; the hop reaches b. a's copy still shows Turnos.
	if r := hop(t, b, typed("0")); !strings.HasPrefix(r.Text, "Ventanilla ciudadana") {
		t.Fatalf("on b: %q", r.Text)
	}
	r := hop(t, a, typed("1"))
	if !strings.HasPrefix(r.Text, "Turnos") {
		t.Errorf("back on a: %q, want the Turnos menu", r.Text)
	}
	if n := calls[0].n.Load() + calls[1].n.Load(); n != 0 {
		t.Errorf("%d back-end calls made on a stale copy of the conversation", n)
	}
	// And the stale copy is gone: the next "1" books from Turnos.
	if r := hop(t, a, typed("1")); !strings.HasPrefix(r.Text, "Elija la oficina") || calls[0].n.Load() != 1 {
		t.Errorf("booking on a: %q after %d calls", r.Text, calls[0].n.Load())
	}
}

// When Redis fails just as a hop on a local copy confirms it before a
// back-end call, the citizen is told the service is unavailable — a
// store failure, not the flow's — and no call is made.
func TestConfirmFailsWithRedis(t *testing.T) {
	addr, stop := redistest.StartServer(t)
	store := sessions.NewRedis(redistest.Client(t, addr), sessions.RedisOptions{})
	var calls countedCalls
	g := channelstest.Gateway(t, store, &calls)
	g.Conversations = sessions.NewNear(store, sessions.NearOptions{})
	hop(t, g, at("f", ""))
	hop(t, g, at("f", "1"))   // Español → the services menu
	hop(t, g, at("f", "1*1")) // Turnos
	stop()
	// "Reservar" calls the back-end for the offices: the copy must be
	// confirmed first, and Redis is gone.
	r, err := g.Hop(context.Background(), at("f", "1*1*1"))
	if err == nil || !r.End || r.Text != "Servicio no disponible. Intente más tarde." {
		t.Fatalf("hop with Redis gone before its call: %+v, %v", r, err)
	}
	if n := calls.n.Load(); n != 0 {
		t.Errorf("%d back-end calls made without confirming the conversation", n)
	}
}

// institution is the sample back-end served over HTTP and called through
// the real interop client with the catalogue's services file: what a
// gateway in production calls, Idempotency-Key included.
type institution struct {
	client *interop.Client
	store  sample.Store
}

func newInstitution(t *testing.T) *institution {
	t.Helper()
	store := sample.NewMemoryStore()
	srv := httptest.NewServer(sample.New(sample.Options{Now: channelstest.Now, Store: store}))
	t.Cleanup(srv.Close)
	getenv := func(name string) (string, bool) {
		if name == "VENTANILLA_SAMPLE_URL" {
			return srv.URL, true
		}
		return "", false
	}
	reg, err := interop.ParseRegistry("services.yaml", catalogue.Services(), getenv)
	if err != nil {
		t.Fatal(err)
	}
	return &institution{client: interop.NewClient(reg, srv.Client()), store: store}
}

// bookings are the citizen's turnos at the back-end.
func (i *institution) bookings(t *testing.T) []sample.Appointment {
	t.Helper()
	list, err := i.store.ByCedula(context.Background(), "1714307103")
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// cutAfter passes calls to the institution; after a booking has reached
// it, it runs then() and hands the answer back only when let is closed:
// the instance that made the call is gone, or its store is.
type cutAfter struct {
	*institution
	then func()
	let  chan struct{}
}

func (c *cutAfter) Effects(service string) bool { return c.client.Effects(service) }

func (c *cutAfter) Call(ctx context.Context, service string, params map[string]any) interop.Response {
	r := c.client.Call(ctx, service, params)
	if service == "turnos.book" {
		c.then()
		<-c.let
	}
	return r
}

// bookingUpToConfirm is Africa's Talking's cumulative text of a first
// contact up to the confirmation screen; "*1" confirms.
const bookingUpToConfirm = "1*1*1*1*1*1714307103"

// An instance dies during the booking call, after the back-end booked;
// the carrier repeats the request and it reaches the other instance. One
// turno is booked, and the citizen is shown it: the hop before the call
// stored the conversation as waiting for it, and the other instance makes
// the call again with the same Idempotency-Key, which the back-end answers
// with the booking it made.
func TestInstanceDiesDuringTheBookingCall(t *testing.T) {
	client := redistest.Start(t)
	inst := newInstitution(t)
	booked := make(chan struct{})
	dying := &cutAfter{institution: inst, then: func() { close(booked) }, let: make(chan struct{})}
	instance := func(caller flowcall.Backend) *gateway.Gateway {
		store := sessions.NewRedis(client, sessions.RedisOptions{})
		g := channelstest.Gateway(t, store, caller)
		g.Conversations = sessions.NewNear(store, sessions.NearOptions{})
		return g
	}
	a, b := instance(dying), instance(inst.client)
	trail := ""
	for _, answer := range strings.Split(bookingUpToConfirm, "*") {
		hop(t, a, at("k", trail))
		trail = strings.TrimPrefix(trail+"*"+answer, "*")
	}
	if r := hop(t, a, at("k", trail)); !strings.HasPrefix(r.Text, "Confirme su turno") {
		t.Fatalf("before confirming: %q", r.Text)
	}
	confirm := at("k", trail+"*1")
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = a.Hop(context.Background(), confirm) // never answers the carrier
	}()
	t.Cleanup(func() { close(dying.let); <-done })
	<-booked

	r := hop(t, b, confirm) // the carrier's retry, on the other instance
	list := inst.bookings(t)
	if len(list) != 1 {
		t.Fatalf("%d turnos booked: %+v", len(list), list)
	}
	if r.End || !strings.HasPrefix(r.Text, "Turno reservado. Código "+list[0].Code) {
		t.Errorf("the retry on the other instance: %+v, want the booking %s above the satisfaction question", r, list[0].Code)
	}
	if again := hop(t, b, confirm); again.Text != r.Text || len(inst.bookings(t)) != 1 {
		t.Errorf("a further retry: %q, %d turnos", again.Text, len(inst.bookings(t)))
	}
}

// Redis stops while the booking call is under way, after the back-end
// booked: the hop cannot store what came of it in time, and the citizen
// is told to try again. The next contact tells them the turno is booked,
// and books nothing more. When the writes that were under way are lost
// (Redis went down with them), the conversation stored before the call
// is found waiting for it and is finished with the same Idempotency-Key,
// under a note that the request had been sent; when they land late (Redis
// was only stopped), the result is kept for the next contact. Either way
// the conversation is never offered at its confirmation step, where "1"
// would book again. The satisfaction question the late reply carried
// under the booking is asked then, under it.
func TestStoreStopsAfterTheBackendBooked(t *testing.T) {
	for _, tt := range []struct {
		name string
		// stop and start act on the server at addr; admin is its client
		stop, start func(t *testing.T, admin *redis.Client)
		want        string
	}{
		{"writes lost", func(t *testing.T, admin *redis.Client) {
			if err := admin.Do(context.Background(), "CLIENT", "PAUSE", "60000", "WRITE").Err(); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, admin *redis.Client) {
			ctx := context.Background()
			// The gateway's writes die with its connections, as when
			// Redis goes down; what Redis held before stays.
			if err := admin.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Err(); err != nil {
				t.Fatal(err)
			}
			if err := admin.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
				t.Fatal(err)
			}
		}, "Su solicitud ya se había enviado. Resultado:\nTurno reservado. Código "},
		{"stopped", func(t *testing.T, admin *redis.Client) {
			redisSignal(t, admin, syscall.SIGSTOP)
		}, func(t *testing.T, admin *redis.Client) {
			redisSignal(t, admin, syscall.SIGCONT)
			testutil.WaitFor(t, "the pending conversation in Redis", func() bool {
				return admin.Exists(context.Background(), "ventanilla:"+keys.Pending("+593991234567")).Val() == 1
			})
		}, "Resultado de su consulta anterior:\nTurno reservado. Código "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := redistest.StartServer(t)
			admin := redistest.Client(t, addr)
			inst := newInstitution(t)
			var once sync.Once
			stopping := &cutAfter{institution: inst, then: func() { once.Do(func() { tt.stop(t, admin) }) }, let: make(chan struct{})}
			close(stopping.let)
			store := sessions.NewRedis(redistest.Client(t, addr), sessions.RedisOptions{})
			g := channelstest.Gateway(t, store, stopping)
			g.Conversations = sessions.NewNear(store, sessions.NearOptions{})
			trail := ""
			for _, answer := range strings.Split(bookingUpToConfirm, "*") {
				hop(t, g, at("c", trail))
				trail = strings.TrimPrefix(trail+"*"+answer, "*")
			}
			hop(t, g, at("c", trail))
			g.Budget = time.Second
			r, _ := g.Hop(context.Background(), at("c", trail+"*1"))
			if strings.Contains(r.Text, "Turno reservado") {
				t.Fatalf("the hop stored its result with Redis stopped: %q", r.Text)
			}
			tt.start(t, admin)
			g.Budget = 0

			list := inst.bookings(t)
			if len(list) != 1 {
				t.Fatalf("%d turnos booked: %+v", len(list), list)
			}
			next := hop(t, g, at("d", ""))
			if want := tt.want + list[0].Code; !strings.HasPrefix(next.Text, want) {
				t.Errorf("the next contact: %+v, want %q…", next, want)
			}
			// The booking first, then the satisfaction question the late
			// reply did not show.
			if !strings.Contains(next.Text, "Lleve su cédula.\n¿Cómo fue su atención?") || next.End {
				t.Errorf("the next contact does not ask the question under the booking: %+v", next)
			}
			hop(t, g, at("d", "1"))
			hop(t, g, at("d", "1*1"))
			if n := len(inst.bookings(t)); n != 1 {
				t.Errorf("%d turnos after the next contact", n)
			}
			// Told once: the contact after that is an ordinary one.
			advance(g, 10*time.Minute)
			if r := hop(t, g, at("e", "")); strings.Contains(r.Text, "Turno reservado") {
				t.Errorf("the result shown again: %q", r.Text)
			}
		})
	}
}

// redisSignal sends sig to the process of the redis-server admin talks to.
func redisSignal(t *testing.T, admin *redis.Client, sig syscall.Signal) {
	t.Helper()
	info, err := admin.Info(context.Background(), "server").Result()
	if sig == syscall.SIGCONT {
		info = redisPIDs[admin]
		err = nil
	}
	if err != nil {
		t.Fatal(err)
	}
	redisPIDs[admin] = info
	_, after, _ := strings.Cut(info, "process_id:")
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(after, "\n", 2)[0]))
	if err != nil {
		t.Fatalf("redis-server's pid: %v", err)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatal(err)
	}
	if sig == syscall.SIGSTOP {
		t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	}
}

// redisPIDs keeps each stopped server's INFO, which it cannot give while
// stopped.
var redisPIDs = map[*redis.Client]string{}

// The end of a conversation must not depend on deleting it: with a Redis
// user that may not DEL (a hiccup, an ACL), a booked conversation is not
// left at its confirmation step, so dialling again offers no "trámite sin
// terminar" whose "1" would book a second turno.
func TestEndDoesNotNeedDelete(t *testing.T) {
	admin := redistest.Start(t)
	ctx := context.Background()
	if err := admin.Do(ctx, "ACL", "SETUSER", "gateway", "on", ">secret", "~*", "&*", "+@all", "-del", "-unlink").Err(); err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(&redis.Options{Addr: admin.Options().Addr, Username: "gateway", Password: "secret"})
	t.Cleanup(func() { client.Close() })
	if err := client.Del(ctx, "x").Err(); err == nil {
		t.Fatal("the ACL lets the gateway DEL")
	}
	inst := newInstitution(t)
	g := channelstest.Gateway(t, sessions.NewRedis(client, sessions.RedisOptions{}), inst.client)
	trail := ""
	for _, answer := range strings.Split(bookingUpToConfirm+"*1", "*") {
		hop(t, g, at("a", trail))
		trail = strings.TrimPrefix(trail+"*"+answer, "*")
	}
	if r := hop(t, g, at("a", trail)); !strings.HasPrefix(r.Text, "Turno reservado") {
		t.Fatalf("booking: %q", r.Text)
	}
	advance(g, time.Minute)
	if r := hop(t, g, at("b", "")); !strings.HasPrefix(r.Text, "Ventanilla ciudadana") {
		t.Errorf("dialling again: %q", r.Text)
	}
	hop(t, g, at("b", "1"))
	hop(t, g, at("b", "1*1"))
	if n := len(inst.bookings(t)); n != 1 {
		t.Errorf("%d turnos booked", n)
	}
}

// What exactly-once costs in Redis round trips, on a conversation this
// instance served (Near): the hop that confirms a booking makes three —
// confirming its copy, storing the conversation as waiting for the call,
// and the record of the last reply that ends it — and the carrier's
// repeat of it none: the ended conversation's record is this instance's.
func TestBookingRoundTrips(t *testing.T) {
	addr := redistest.Start(t).Options().Addr
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { client.Close() })
	inst := newInstitution(t)
	store := sessions.NewRedis(client, sessions.RedisOptions{})
	g := channelstest.Gateway(t, store, inst.client)
	g.Conversations = sessions.NewNear(store, sessions.NearOptions{})
	count := new(redistest.Commands)
	client.AddHook(count)
	trail := ""
	for _, answer := range strings.Split(bookingUpToConfirm, "*") {
		hop(t, g, at("r", trail))
		trail = strings.TrimPrefix(trail+"*"+answer, "*")
	}
	hop(t, g, at("r", trail))
	for _, tt := range []struct {
		name string
		want int64
	}{{"confirming the booking", 3}, {"the carrier repeating it", 0}} {
		before := count.N()
		r := hop(t, g, at("r", trail+"*1"))
		if got := count.N() - before; got != tt.want || !strings.HasPrefix(r.Text, "Turno reservado") {
			t.Errorf("%s: %d Redis round trips (want %d): %q", tt.name, got, tt.want, r.Text)
		}
	}
}
