package channels_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"ventanilla/channels"
	"ventanilla/channels/channelstest"
	"ventanilla/interop"
	"ventanilla/sessions"
	"ventanilla/sessions/redistest"
)

// When Redis goes away mid-conversation, hops answer a localised END and
// nothing panics; when it comes back, service resumes without a restart.
func TestRedisOutageAndRecovery(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		outage(t, func(c redis.UniversalClient) *channels.Gateway {
			return newGateway(t, sessions.NewRedis(c, sessions.RedisOptions{}))
		})
	})
	t.Run("near", func(t *testing.T) {
		outage(t, func(c redis.UniversalClient) *channels.Gateway { return nearGateway(t, c) })
	})
}

func outage(t *testing.T, newGateway func(redis.UniversalClient) *channels.Gateway) {
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
func nearGateway(t testing.TB, client redis.UniversalClient) *channels.Gateway {
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

func alternate(t *testing.T, a, b *channels.Gateway) {
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
	instance := func(c *countedCalls) *channels.Gateway {
		store := sessions.NewRedis(client, sessions.RedisOptions{})
		g := channelstest.Gateway(t, store, c)
		g.Conversations = sessions.NewNear(store, sessions.NearOptions{})
		return g
	}
	a, b := instance(&calls[0]), instance(&calls[1])
	// Without the cumulative text, which would give the stale copy away.
	typed := func(text string) channels.Inbound {
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
