package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// A Redis that stops answering costs a hop its budget and no more: every
// client the gateway builds (sessions over --redis-url or --redis-addrs,
// with or without batching, and the queue's own Redis) ends a command at
// its context's deadline, with that deadline as the error, instead of
// waiting out its own timeouts, retries and dials after the hop has
// already given up.
func TestRedisCommandsEndAtTheHopsDeadline(t *testing.T) {
	addr, _ := redistest.StartServer(t)
	nothing := func(string) (string, bool) { return "", false }
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := func(c *config) func(ctx context.Context) error {
		s, err := c.store(nothing, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.(*sessions.Redis).Close() })
		return func(ctx context.Context) error {
			_, err := s.Get(ctx, "citizen")
			if errors.Is(err, sessions.ErrNotFound) {
				return nil
			}
			return err
		}
	}
	for _, tc := range []struct {
		name   string
		client func(proxy string) func(ctx context.Context) error
	}{
		{"redis-url batched", func(p string) func(context.Context) error {
			return store(&config{RedisURL: "redis://" + p + "/0", RedisBatch: true})
		}},
		{"redis-url", func(p string) func(context.Context) error {
			return store(&config{RedisURL: "redis://" + p + "/0"})
		}},
		{"redis-addrs batched", func(p string) func(context.Context) error {
			return store(&config{RedisAddrs: p, RedisBatch: true})
		}},
		{"queue-redis-url", func(p string) func(context.Context) error {
			c, err := redisClient("redis://" + p + "/0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			return func(ctx context.Context) error {
				err := c.Get(ctx, "citizen").Err()
				if errors.Is(err, redis.Nil) {
					return nil
				}
				return err
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newHangingProxy(t, addr)
			call := tc.client(p.addr())
			if err := call(context.Background()); err != nil {
				t.Fatalf("with Redis answering: %v", err)
			}
			p.hang()
			// Several hops at once, as under a carrier's traffic: each
			// ends at its own deadline, also those that queued behind
			// another's batch.
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
					defer cancel()
					errs[i] = call(ctx)
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("call %d with Redis hanging returned %v, want the context's deadline", i, err)
				}
			}
		})
	}
}

// hangingProxy passes connections through to a Redis until hang is
// called; from then on it drops the connections it passed and holds every
// new one open without answering, as a Redis host that has died
// behind a network that still accepts.
type hangingProxy struct {
	ln      net.Listener
	target  string
	hanging atomic.Bool
	mu      sync.Mutex
	conns   []net.Conn
}

func newHangingProxy(t *testing.T, target string) *hangingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &hangingProxy{ln: ln, target: target}
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			_ = c.Close()
		}
	})
	go p.serve()
	return p
}

func (p *hangingProxy) addr() string { return p.ln.Addr().String() }

func (p *hangingProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		if p.hanging.Load() {
			go func() { _, _ = io.Copy(io.Discard, c) }()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

func (p *hangingProxy) hang() {
	p.hanging.Store(true)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}
