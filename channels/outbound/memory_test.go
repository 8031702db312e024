package outbound_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

func newMemory(t *testing.T, opts outbound.Options) outbound.Queue {
	t.Helper()
	q, err := outbound.NewMemory(opts)
	if err != nil {
		t.Fatalf("NewMemory: %v", err)
	}
	return q
}

func TestMemoryContract(t *testing.T) {
	testQueue(t, newMemory)
}

func TestMemoryCloseDrainsTheQueue(t *testing.T) {
	release := make(chan struct{})
	s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
		if m.ID == "m0" {
			<-release // in flight when Close begins
		}
		if m.ID == "m3" && n == 1 {
			return &carrier.RetryableError{Err: errors.New("503")}
		}
		return nil
	})
	q := newMemory(t, outbound.Options{
		Senders: map[string]carrier.Sender{"twilio": s},
		Workers: 2,
		Backoff: func(int) time.Duration { return 5 * time.Millisecond },
		Log:     testLog(t),
	})
	const n = 10
	for i := range n {
		mustEnqueue(t, q, msg(fmt.Sprint("m", i)))
	}
	done := make(chan error, 1)
	go func() { done <- q.Run(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- q.Close(ctx) }()
	// A closing queue refuses new messages; those it took before Close
	// began are sent like the rest.
	probes := 0
	testutil.WaitFor(t, "Close to begin", func() bool {
		probes++
		_, err := q.Enqueue(t.Context(), msg(fmt.Sprint("probe", probes)))
		return errors.Is(err, outbound.ErrClosed)
	})
	close(release)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	for i := range n {
		if st := status(t, q, fmt.Sprint("m", i)); st.State != outbound.StateSent {
			t.Errorf("m%d: %s after Close, want sent", i, st.State)
		}
	}
	if got := s.Calls("m3"); got != 2 {
		t.Errorf("m3 sent %d times, want 2: the retry is part of the drain", got)
	}
	if d := depth(t, q); d != 0 {
		t.Errorf("Depth %d after Close, want 0", d)
	}
}

func TestMemoryCloseGivesUpAtItsDeadline(t *testing.T) {
	s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
		<-ctx.Done()
		return ctx.Err()
	})
	q := newMemory(t, outbound.Options{Senders: map[string]carrier.Sender{"twilio": s}, Workers: 1, Log: testLog(t)})
	mustEnqueue(t, q, msg("stuck"))
	mustEnqueue(t, q, msg("behind"))
	done := make(chan error, 1)
	go func() { done <- q.Run(context.Background()) }()
	testutil.WaitFor(t, "sending", stateIs(t, q, "stuck", outbound.StateSending))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := q.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "2 messages not sent") {
		t.Fatalf("Close: %v, want the deadline and the 2 messages it leaves", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v past its deadline", d)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestMemoryCloseWithoutRunDrainsToo(t *testing.T) {
	s := newSender(nil)
	q := newMemory(t, outbound.Options{Senders: map[string]carrier.Sender{"twilio": s}, Log: testLog(t)})
	if err := q.Close(context.Background()); err != nil {
		t.Fatalf("Close of an empty queue: %v", err)
	}
	q = newMemory(t, outbound.Options{Senders: map[string]carrier.Sender{"twilio": s}, Log: testLog(t)})
	mustEnqueue(t, q, msg("early"))
	if err := q.Close(context.Background()); err != nil {
		t.Fatalf("Close of a queue that never ran: %v", err)
	}
	if st := status(t, q, "early"); st.State != outbound.StateSent {
		t.Fatalf("after Close: %s, want sent", st.State)
	}
	if err := q.Run(context.Background()); err != nil {
		t.Fatalf("Run after Close: %v, want nil at once", err)
	}
}

func TestMemoryForgetsFinishedMessagesAfterRetain(t *testing.T) {
	clock := newClock()
	q := newMemory(t, outbound.Options{
		Senders: map[string]carrier.Sender{"twilio": newSender(nil)},
		Retain:  time.Hour,
		Now:     clock.Now,
		Sleep:   testutil.Sleep(clock),
		Log:     testLog(t),
	})
	mustEnqueue(t, q, msg("old"))
	run(t, q)
	testutil.WaitFor(t, "sent", stateIs(t, q, "old", outbound.StateSent))
	clock.Advance(2 * time.Hour)
	// The sweep runs once a minute on the real clock, at most every Retain;
	// call it through an export for tests instead of waiting.
	outbound.Sweep(q.(*outbound.Memory))
	if _, err := q.Status(context.Background(), "old"); !errors.Is(err, outbound.ErrNotFound) {
		t.Fatalf("Status after Retain: %v, want ErrNotFound", err)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts outbound.Options
		want string
	}{
		{"no senders", outbound.Options{}, "no senders"},
		{"nil sender", outbound.Options{Senders: map[string]carrier.Sender{"twilio": nil}}, "nil"},
		{"sender under another name", outbound.Options{Senders: map[string]carrier.Sender{"whatsapp": newSender(nil)}}, "calls itself"},
		{"odd carrier name", outbound.Options{Senders: map[string]carrier.Sender{"a:b": newSender(nil)}}, "plain word"},
		{"negative rate", outbound.Options{Senders: map[string]carrier.Sender{"twilio": newSender(nil)}, Rates: map[string]float64{"twilio": -1}}, "negative"},
		{"rate for a carrier without sender", outbound.Options{Senders: map[string]carrier.Sender{"twilio": newSender(nil)}, Rates: map[string]float64{"twillio": 1}}, "no sender"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := outbound.NewMemory(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewMemory: %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for i, w := range want {
		attempt := i + 1
		if got := outbound.BackoffInterval(attempt); got != w {
			t.Errorf("interval after attempt %d: %v, want %v", attempt, got, w)
		}
		lo, hi := w/2, w+w/2+1
		seen := map[time.Duration]bool{}
		for range 100 {
			d := outbound.Backoff(attempt)
			if d < lo || d > hi {
				t.Fatalf("Backoff(%d) = %v, want in [%v, %v]", attempt, d, lo, hi)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("Backoff(%d) took %d values in 100 draws: the jitter is missing", attempt, len(seen))
		}
	}
	if got := outbound.BackoffInterval(1000); got != 5*time.Minute {
		t.Errorf("interval after attempt 1000: %v", got)
	}
}

func TestScrub(t *testing.T) {
	m := carrier.Message{To: "+593991234567", Text: "Su cédula 1712345678 está lista"}
	for _, tc := range []struct{ in, want string }{
		{"400: +593991234567 is not valid", "400: [to] is not valid"},
		{"rejected: Su cédula 1712345678 está lista", "rejected: [text]"},
		{"unknown subscriber 0991234567 (error 21211)", "unknown subscriber [digits] (error 21211)"},
		{strings.Repeat("é", 150), strings.Repeat("é", 100) + "…"},
	} {
		if got := outbound.Scrub(tc.in, m); got != tc.want {
			t.Errorf("Scrub(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
