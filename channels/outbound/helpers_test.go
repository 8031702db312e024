package outbound_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// newClock is the queue's clock in tests, a fake one: time moves only
// when the test advances it. The queue takes it as Now and Sleep:
// opts.Now, opts.Sleep = clock.Now, testutil.Sleep(clock).
func newClock() *clockwork.FakeClock {
	return testutil.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
}

// fakeSender is a carrier: each call runs the script for that message's
// n-th send (1-based); by default the carrier accepts and names the
// message "pid-<id>".
type fakeSender struct {
	name   string
	mu     sync.Mutex
	calls  map[string]int
	script func(ctx context.Context, m carrier.Message, n int) error
}

var (
	_ carrier.Sender    = (*fakeSender)(nil)
	_ outbound.IDSender = (*fakeSender)(nil)
)

func newSender(script func(ctx context.Context, m carrier.Message, n int) error) *fakeSender {
	return &fakeSender{name: "twilio", calls: map[string]int{}, script: script}
}

// newNamedSender is newSender for another carrier than "twilio".
func newNamedSender(name string, script func(ctx context.Context, m carrier.Message, n int) error) *fakeSender {
	s := newSender(script)
	s.name = name
	return s
}

func (s *fakeSender) Name() string { return s.name }

func (s *fakeSender) Send(ctx context.Context, m carrier.Message) error {
	_, err := s.SendID(ctx, m)
	return err
}

func (s *fakeSender) SendID(ctx context.Context, m carrier.Message) (string, error) {
	s.mu.Lock()
	s.calls[m.ID]++
	n := s.calls[m.ID]
	s.mu.Unlock()
	if s.script != nil {
		if err := s.script(ctx, m, n); err != nil {
			return "", err
		}
	}
	return "pid-" + m.ID, nil
}

func (s *fakeSender) Calls(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

func (s *fakeSender) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// countingLimiter records what each message costs and never waits.
type countingLimiter struct {
	mu    sync.Mutex
	burst int
	bites []int
}

func (l *countingLimiter) WaitN(ctx context.Context, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > l.burst {
		return fmt.Errorf("WaitN(%d) over the burst %d", n, l.burst)
	}
	l.bites = append(l.bites, n)
	return ctx.Err()
}

func (l *countingLimiter) Burst() int { return l.burst }

func (l *countingLimiter) Bites() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.bites...)
}

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func msg(id string) carrier.Message {
	return carrier.Message{ID: id, Channel: "sms", Carrier: "twilio", To: "+593991234567", Text: "Su trámite 123 está listo para retirar."}
}

// run runs q until the test ends, then closes it.
func run(t *testing.T, q outbound.Queue) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		_ = q.Close(cctx)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// drive advances the clock a second at a time until cond holds.
func drive(t *testing.T, c *clockwork.FakeClock, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, what, func() bool {
		if cond() {
			return true
		}
		c.Advance(time.Second)
		return false
	})
}

func status(t *testing.T, q outbound.Queue, id string) outbound.Status {
	t.Helper()
	st, err := q.Status(context.Background(), id)
	if err != nil && !errors.Is(err, outbound.ErrNotFound) {
		t.Fatalf("Status(%s): %v", id, err)
	}
	return st
}

func stateIs(t *testing.T, q outbound.Queue, id, state string) func() bool {
	return func() bool { return status(t, q, id).State == state }
}

func depth(t *testing.T, q outbound.Queue) int64 {
	t.Helper()
	n, err := q.Depth(context.Background())
	if err != nil {
		t.Fatalf("Depth: %v", err)
	}
	return n
}
