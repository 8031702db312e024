package sessions

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// batchedClient is a fresh client of the test server with Batch on.
func batchedClient(t *testing.T) (*redis.Client, *batcher) {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: redistest.Start(t).Options().Addr})
	t.Cleanup(func() { client.Close() })
	return client, batch(client)
}

// gate holds the first pipeline of GETs until released, records the size
// of every such pipeline, and counts the commands sent on their own.
type gate struct {
	held      chan struct{} // closed once the first pipeline waits
	release   chan struct{}
	first     sync.Once
	mu        sync.Mutex
	pipelines []int
	alone     atomic.Int64
}

func (g *gate) DialHook(next redis.DialHook) redis.DialHook { return next }
func (g *gate) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		g.alone.Add(1)
		return next(ctx, cmd)
	}
}
func (g *gate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if cmds[0].Name() == "get" { // not a new connection's handshake
			g.first.Do(func() { close(g.held); <-g.release })
			g.mu.Lock()
			g.pipelines = append(g.pipelines, len(cmds))
			g.mu.Unlock()
		}
		return next(ctx, cmds)
	}
}

// Commands that arrive while a batch is on the wire leave together, in
// one pipeline, and each gets its own answer.
func TestBatchSendsConcurrentCommandsTogether(t *testing.T) {
	client, b := batchedClient(t)
	s := NewRedis(client, RedisOptions{Prefix: t.Name() + ":"})
	const n = 20
	for i := range n {
		mustSet(t, s, fmt.Sprint("k", i), fmt.Sprint("v", i))
	}
	g := &gate{held: make(chan struct{}), release: make(chan struct{})}
	client.AddHook(g)

	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	get := func(i int) {
		rec, err := s.Get(t.Context(), fmt.Sprint("k", i))
		if err == nil && string(rec.Data) != fmt.Sprint("v", i) {
			err = fmt.Errorf("k%d = %q", i, rec.Data)
		}
		errs <- err
	}
	wg.Go(func() { get(0) }) // the first batch, held at the gate
	<-g.held
	for i := 1; i < n; i++ {
		wg.Go(func() { get(i) })
	}
	testutil.WaitFor(t, "all calls but one to wait in the batch", func() bool { return len(b.calls) == n-1 })
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if want := []int{1, n - 1}; fmt.Sprint(g.pipelines) != fmt.Sprint(want) {
		t.Errorf("pipelines of %v commands, want %v", g.pipelines, want)
	}

	// Anything but the hop's commands goes out on its own.
	before := g.alone.Load()
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if g.alone.Load() == before {
		t.Error("PING was batched")
	}
}

// A batch that fails (Redis gone) fails each of its commands, and none
// waits for ever.
func TestBatchFailsEveryCommandOfAFailedBatch(t *testing.T) {
	addr, stop := redistest.StartServer(t)
	client := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	batch(client)
	s := NewRedis(client, RedisOptions{})
	mustSet(t, s, "k", "v")
	stop()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := s.Get(t.Context(), "k"); err == nil || errors.Is(err, ErrNotFound) {
				t.Errorf("Get with Redis gone: %v, want a connection error", err)
			}
		})
	}
	wg.Wait()
}

// timedOutPipelines fails every pipeline as a connection whose read
// deadline came: what a batch meets when Redis stops answering.
type timedOutPipelines struct{}

func (timedOutPipelines) DialHook(next redis.DialHook) redis.DialHook { return next }
func (timedOutPipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (timedOutPipelines) ProcessPipelineHook(redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(_ context.Context, cmds []redis.Cmder) error {
		err := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
		for _, c := range cmds {
			c.SetErr(err)
		}
		return err
	}
}

// timerNotFired is a context whose deadline is as given but whose timer
// has not yet run: its Err is still nil, as a context's is for a moment
// after its deadline.
type timerNotFired struct {
	context.Context
	deadline time.Time
}

func (c timerNotFired) Deadline() (time.Time, bool) { return c.deadline, true }

// A batched command whose connection timed out ends with the hop's own
// deadline once that has come, even before the context's timer has set
// its Err; before it has come, the connection's error is the answer.
func TestBatchedCommandEndsWithItsDeadline(t *testing.T) {
	client, _ := batchedClient(t)
	client.AddHook(timedOutPipelines{})

	past := timerNotFired{context.Background(), time.Now().Add(-time.Millisecond)}
	if err := client.Get(past, "k").Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past its deadline: %v, want the context's deadline", err)
	}
	future := timerNotFired{context.Background(), time.Now().Add(time.Hour)}
	if err := client.Get(future, "k").Err(); errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("before its deadline: %v, want the connection's timeout", err)
	}
}
