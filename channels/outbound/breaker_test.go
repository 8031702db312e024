package outbound_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// TestBreakerQueueRedisStoppedAndRestarted: with the queue's redis-server
// stopped, Enqueue fails at once (no command sent) once the breaker has
// seen the store fail, and queues again once the server is back.
func TestBreakerQueueRedisStoppedAndRestarted(t *testing.T) {
	addr, stop := redistest.StartServer(t)
	client := redistest.Client(t, addr)
	var sent redistest.Commands
	client.AddHook(&sent)
	probe := redistest.Client(t, addr)
	b := sessions.NewBreaker(sessions.BreakerOptions{
		Name:     "outbound queue",
		Failures: 2,
		OpenFor:  10 * time.Millisecond,
		Probe:    func(ctx context.Context) error { return probe.Ping(ctx).Err() },
		Log:      testLog(t),
	})
	t.Cleanup(b.Close)
	q := outbound.WithBreaker(newRedis(t, client, outbound.Options{
		Senders: map[string]carrier.Sender{"twilio": newSender(nil)},
		Log:     testLog(t),
	}, outbound.RedisOptions{}), b)
	ctx := t.Context()

	mustEnqueue(t, q, msg("before"))
	if _, err := q.Status(ctx, "unknown"); !errors.Is(err, outbound.ErrNotFound) {
		t.Fatalf("Status of an unknown id: %v", err)
	}
	stop()
	for range 2 {
		if _, err := q.Enqueue(ctx, msg("down")); err == nil || errors.Is(err, outbound.ErrUnavailable) {
			t.Fatalf("Enqueue with Redis stopped: %v, want Redis's own error", err)
		}
	}
	if !b.Open() {
		t.Fatalf("breaker %s after 2 failures, want open", b.State())
	}
	before := sent.N()
	for range 50 {
		if _, err := q.Enqueue(ctx, msg("down")); !errors.Is(err, outbound.ErrUnavailable) {
			t.Fatalf("Enqueue with the breaker open: %v, want ErrUnavailable", err)
		}
	}
	if n := sent.N() - before; n != 0 {
		t.Fatalf("with the breaker open the queue sent Redis %d commands, want 0", n)
	}

	redistest.StartServerAt(t, addr)
	testutil.WaitFor(t, "breaker closed", func() bool { return !b.Open() })
	mustEnqueue(t, q, msg("after"))
}
