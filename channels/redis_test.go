package channels_test

import (
	"context"
	"strings"
	"testing"

	"ventanilla/sessions"
	"ventanilla/sessions/redistest"
)

// When Redis goes away mid-conversation, hops answer a localised END and
// nothing panics; when it comes back, service resumes without a restart.
func TestRedisOutageAndRecovery(t *testing.T) {
	addr, stop := redistest.StartServer(t)
	g := newGateway(t, sessions.NewRedis(redistest.Client(t, addr), sessions.RedisOptions{}))
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

// Two gateway instances sharing one Redis: a conversation started on one
// continues on the other, hop by hop.
func TestTwoInstancesShareOneRedis(t *testing.T) {
	client := redistest.Start(t)
	a := newGateway(t, sessions.NewRedis(client, sessions.RedisOptions{}))
	b := newGateway(t, sessions.NewRedis(client, sessions.RedisOptions{}))
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
