package testutil

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// The tests' fake clock is clockwork's FakeClock: time moves only when a
// test calls Advance, timers and sleepers on it wake as it passes their
// deadline, and BlockUntilContext tells when the code under test waits on
// it. Code takes it as its Now (clock.Now), or as Sleep (Sleep(clock)).

// NewClock returns a fake clock stopped at t.
func NewClock(t time.Time) *clockwork.FakeClock { return clockwork.NewFakeClockAt(t) }

// Sleep waits for d on c or until ctx is done, as the Sleep options of
// the code under test do on the real clock: it returns ctx's error when
// ctx ends first, and at once for d <= 0.
func Sleep(c clockwork.Clock) func(ctx context.Context, d time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		if d <= 0 {
			return ctx.Err()
		}
		t := c.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.Chan():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Asleep waits until at least n timers or sleepers wait on c, and fails
// the test when they do not within WaitTimeout. After an Advance it is how
// a test knows that the goroutines the Advance woke have done their work
// and wait again, so that "nothing happened" is a fact, not a guess.
func Asleep(t testing.TB, c *clockwork.FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	if err := c.BlockUntilContext(ctx, n); err != nil {
		t.Fatalf("timed out waiting for %d timers or sleepers on the fake clock: the code under test did not go back to waiting on it", n)
	}
}

// SetClock moves c to t, forwards or back.
func SetClock(c *clockwork.FakeClock, t time.Time) { c.Advance(t.Sub(c.Now())) }
