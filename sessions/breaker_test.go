package sessions

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

func TestBreakerKeepsCapabilities(t *testing.T) {
	b := NewBreaker(BreakerOptions{Probe: func(context.Context) error { return nil }})
	t.Cleanup(b.Close)
	m, _ := newTestMemory(t, MemoryOptions{})
	if _, ok := b.Wrap(m).(MultiGetter); ok {
		t.Error("a memory store behind the breaker claims MultiGetter, which it is not")
	}
	r := b.Wrap(NewRedis(redistest.Client(t, "127.0.0.1:1"), RedisOptions{}))
	if _, ok := r.(MultiGetter); !ok {
		t.Error("Redis behind the breaker lost MultiGetter")
	}
	near := b.Wrap(NewNear(NewRedis(redistest.Client(t, "127.0.0.1:1"), RedisOptions{}), NearOptions{}))
	if _, ok := near.(Verifier); !ok {
		t.Error("Near behind the breaker lost Verifier")
	}
	if _, ok := near.(Watcher); !ok {
		t.Error("Near behind the breaker lost Watcher")
	}
	if _, ok := r.(Watcher); ok {
		t.Error("Redis behind the breaker claims Watcher, which it is not")
	}
}

// TestBreakerRedisStoppedAndRestarted stops a real redis-server under the
// store: once the breaker has seen it fail, calls fail with ErrUnavailable
// without sending Redis anything (so none waits for a timeout), and the
// probe closes the breaker once the server is back.
func TestBreakerRedisStoppedAndRestarted(t *testing.T) {
	addr, stop := redistest.StartServer(t)
	client := redistest.Client(t, addr)
	var sent redistest.Commands
	client.AddHook(&sent)
	probe := redistest.Client(t, addr) // the probe's own commands are not the hops'
	var changes []string
	b := NewBreaker(BreakerOptions{
		Failures: 3,
		OpenFor:  10 * time.Millisecond,
		Probe:    func(ctx context.Context) error { return probe.Ping(ctx).Err() },
		// Runs under the breaker's lock; read after the breaker has settled.
		OnStateChange: func(from, to string) { changes = append(changes, to) },
	})
	t.Cleanup(b.Close)
	s := b.Wrap(NewRedis(client, RedisOptions{}))
	ctx := t.Context()

	mustPut(t, s, "ussd:+59170000001", "v", 0)
	stop()
	for i := range 3 {
		if _, err := s.Get(ctx, "ussd:+59170000001"); err == nil || errors.Is(err, ErrUnavailable) {
			t.Fatalf("call %d with Redis stopped: %v, want Redis's own error", i+1, err)
		}
	}
	if got := b.State(); got != "open" && got != "half-open" {
		t.Fatalf("after 3 failures the breaker is %s, want open", got)
	}
	before := sent.N()
	for range 100 {
		if _, err := s.Get(ctx, "ussd:+59170000001"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Get with the breaker open: %v, want ErrUnavailable", err)
		}
		if _, err := s.Put(ctx, "ussd:+59170000002", []byte("v"), 0, time.Minute); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Put with the breaker open: %v, want ErrUnavailable", err)
		}
		if err := s.Ping(ctx); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Ping with the breaker open: %v, want ErrUnavailable", err)
		}
	}
	if n := sent.N() - before; n != 0 {
		t.Fatalf("with the breaker open the store sent Redis %d commands, want 0", n)
	}

	redistest.StartServerAt(t, addr)
	testutil.WaitFor(t, "the breaker to close", func() bool { return b.State() == "closed" })
	if _, err := s.Get(ctx, "ussd:+59170000001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after the restart (no persistence): %v, want ErrNotFound", err)
	}
	mustPut(t, s, "ussd:+59170000001", "again", 0)
	if changes[0] != "open" || changes[len(changes)-1] != "closed" {
		t.Errorf("state changes %v, want open first and closed last", changes)
	}
}

// TestBreakerIgnoresAnswers: not found, conflicts and a caller's own
// deadline say nothing about the store's health.
func TestBreakerIgnoresAnswers(t *testing.T) {
	b := NewBreaker(BreakerOptions{Failures: 1, Probe: func(context.Context) error { return nil }})
	t.Cleanup(b.Close)
	m, _ := newTestMemory(t, MemoryOptions{})
	s := b.Wrap(m)
	ctx := t.Context()
	for range 5 {
		if _, err := s.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, "k", nil, 7, 0); !errors.Is(err, ErrConflict) {
			t.Fatal(err)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(done, "k"); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if b.State() != "closed" {
		t.Fatalf("breaker %s after answers and a cancelled call, want closed", b.State())
	}
}

// BenchmarkBreakerOpen is what a call costs once the breaker is open: the
// whole answer a hop waits for while Redis is down.
func BenchmarkBreakerOpen(b *testing.B) {
	br := NewBreaker(BreakerOptions{Failures: 1, OpenFor: time.Hour, Probe: func(context.Context) error { return errors.New("down") }})
	b.Cleanup(br.Close)
	s := br.Wrap(NewRedis(redistest.Client(b, "127.0.0.1:1"), RedisOptions{}))
	ctx := context.Background()
	_, _ = s.Get(ctx, "k") // connection refused: opens it
	if !br.Open() {
		b.Fatal("breaker not open")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
			b.Fatal(err)
		}
	}
}

// scripted answers every call with its err, and Get with a local record
// when local is set: the breaker's bookkeeping, apart from any store.
type scripted struct {
	Store
	err   error
	local bool
	wait  bool // wait for the caller's deadline
}

func (s *scripted) Get(ctx context.Context, _ string) (Record, error) {
	if s.wait {
		<-ctx.Done()
		return Record{}, ctx.Err()
	}
	return Record{Local: s.local}, s.err
}

func TestBreakerCounts(t *testing.T) {
	newBreaker := func(t *testing.T) *Breaker {
		b := NewBreaker(BreakerOptions{Failures: 2, OpenFor: time.Hour, SlowCall: 20 * time.Millisecond,
			Probe: func(context.Context) error { return errors.New("down") }})
		t.Cleanup(b.Close)
		return b
	}
	down := &scripted{err: errors.New("connection refused")}
	local := &scripted{local: true, err: ErrNotFound}

	t.Run("answers from a local copy do not reset the count", func(t *testing.T) {
		b := newBreaker(t)
		for _, s := range []Store{b.Wrap(down), b.Wrap(local), b.Wrap(down)} {
			_, _ = s.Get(t.Context(), "k")
		}
		if !b.Open() {
			t.Errorf("breaker %s after failure, local answer, failure; want open", b.State())
		}
	})
	t.Run("a store that hangs past a fair deadline fails", func(t *testing.T) {
		b := newBreaker(t)
		s := b.Wrap(&scripted{wait: true})
		for range 2 {
			ctx, cancel := context.WithTimeout(t.Context(), 40*time.Millisecond)
			_, _ = s.Get(ctx, "k")
			cancel()
		}
		if !b.Open() {
			t.Errorf("breaker %s after two calls that hung for their 40ms, want open", b.State())
		}
	})
	t.Run("a call left too little time says nothing", func(t *testing.T) {
		b := newBreaker(t)
		s := b.Wrap(&scripted{wait: true})
		for range 3 {
			ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
			_, _ = s.Get(ctx, "k")
			cancel()
		}
		if b.Open() {
			t.Error("breaker open after calls given 1ms each, want closed")
		}
	})
}
