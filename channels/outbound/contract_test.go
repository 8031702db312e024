package outbound_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// newQueueFunc returns an empty queue with opts; the suite fills in the
// senders, the clock and the log.
type newQueueFunc func(t *testing.T, opts outbound.Options) outbound.Queue

// testQueue is the contract the memory and the Redis queue both pass.
func testQueue(t *testing.T, newQueue newQueueFunc) {
	setup := func(t *testing.T, s *fakeSender, opts outbound.Options) (outbound.Queue, *clockwork.FakeClock) {
		clock := newClock()
		opts.Senders = map[string]carrier.Sender{"twilio": s}
		opts.Now, opts.Sleep, opts.Log = clock.Now, testutil.Sleep(clock), testLog(t)
		return newQueue(t, opts), clock
	}

	t.Run("a message is sent once and its status says so", func(t *testing.T) {
		s := newSender(nil)
		q, clock := setup(t, s, outbound.Options{})
		id, err := q.Enqueue(t.Context(), msg("m1"))
		if err != nil || id != "m1" {
			t.Fatalf("Enqueue: %q, %v", id, err)
		}
		run(t, q)
		testutil.WaitFor(t, "sent", stateIs(t, q, "m1", outbound.StateSent))
		st := status(t, q, "m1")
		want := outbound.Status{ID: "m1", State: "sent", Attempts: 1, Updated: clock.Now(), Deadline: clock.Now().Add(outbound.DefaultValidFor), ProviderID: "pid-m1", Carrier: "twilio", Channel: "sms"}
		if !st.Updated.Equal(want.Updated) {
			t.Errorf("Updated %v, want %v", st.Updated, want.Updated)
		}
		if !st.Deadline.Equal(want.Deadline) {
			t.Errorf("Deadline %v, want the default validity after Enqueue, %v", st.Deadline, want.Deadline)
		}
		st.Updated, st.Deadline = want.Updated, want.Deadline
		if st != want {
			t.Errorf("status\n got %+v\nwant %+v", st, want)
		}
		if n := s.Calls("m1"); n != 1 {
			t.Errorf("sent %d times, want 1", n)
		}
		if n := depth(t, q); n != 0 {
			t.Errorf("Depth %d after the send, want 0", n)
		}
	})

	t.Run("enqueueing a known ID neither queues nor sends it again", func(t *testing.T) {
		s := newSender(nil)
		q, _ := setup(t, s, outbound.Options{})
		for i := range 3 {
			m := msg("dup")
			m.Text = fmt.Sprint("version ", i)
			if id, err := q.Enqueue(t.Context(), m); err != nil || id != "dup" {
				t.Fatalf("Enqueue #%d: %q, %v", i+1, id, err)
			}
		}
		if n := depth(t, q); n != 1 {
			t.Fatalf("Depth %d after three enqueues of one ID, want 1", n)
		}
		run(t, q)
		testutil.WaitFor(t, "sent", stateIs(t, q, "dup", outbound.StateSent))
		if id, err := q.Enqueue(t.Context(), msg("dup")); err != nil || id != "dup" {
			t.Fatalf("Enqueue after the send: %q, %v", id, err)
		}
		if n := depth(t, q); n != 0 {
			t.Fatalf("Depth %d after enqueueing a sent ID, want 0", n)
		}
		if n := s.Calls("dup"); n != 1 {
			t.Errorf("sent %d times, want 1", n)
		}
	})

	t.Run("retryable failures are retried after the backoff", func(t *testing.T) {
		s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
			if m.ID == "r1" && n <= 3 {
				return &carrier.RetryableError{Err: errors.New("twilio: 503 service unavailable")}
			}
			return nil
		})
		var mu sync.Mutex
		var asked []int
		q, clock := setup(t, s, outbound.Options{Workers: 1, Backoff: func(attempt int) time.Duration {
			mu.Lock()
			asked = append(asked, attempt)
			mu.Unlock()
			return time.Duration(attempt) * 10 * time.Second
		}})
		mustEnqueue(t, q, msg("r1"))
		run(t, q)
		for k := 1; k <= 3; k++ {
			testutil.WaitFor(t, fmt.Sprintf("attempt %d to fail", k), func() bool {
				st := status(t, q, "r1")
				return st.State == outbound.StateQueued && st.Attempts == k
			})
			st := status(t, q, "r1")
			if got, want := st.Next.Sub(st.Updated), time.Duration(k)*10*time.Second; got != want {
				t.Errorf("after attempt %d the retry is due in %v, want %v", k, got, want)
			}
			if !strings.Contains(st.LastError, "503") {
				t.Errorf("LastError %q, want the carrier's 503", st.LastError)
			}
			// A second before the retry is due: the queue's one waiter on
			// the clock (the memory queue's worker, the Redis queue's mover)
			// has looked at that time and waits again, and a message
			// queued after that goes out; the retry, had it been due, would
			// have gone out before it.
			testutil.Asleep(t, clock, 1)
			clock.Advance(time.Duration(k)*10*time.Second - time.Second)
			testutil.Asleep(t, clock, 1)
			probe := fmt.Sprint("probe", k)
			mustEnqueue(t, q, msg(probe))
			testutil.WaitFor(t, probe+" sent", stateIs(t, q, probe, outbound.StateSent))
			if n := s.Calls("r1"); n != k {
				t.Fatalf("sent %d times a second before the retry was due, want %d", n, k)
			}
			drive(t, clock, fmt.Sprintf("attempt %d", k+1), func() bool { return s.Calls("r1") > k })
		}
		testutil.WaitFor(t, "sent", stateIs(t, q, "r1", outbound.StateSent))
		if st := status(t, q, "r1"); st.Attempts != 4 || !st.Next.IsZero() {
			t.Errorf("status %+v, want 4 attempts and no retry due", st)
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(asked, []int{1, 2, 3}) {
			t.Errorf("Backoff asked for attempts %v, want [1 2 3]", asked)
		}
	})

	for _, tc := range []struct {
		name         string
		backoff, ra  time.Duration
		wantDelay    time.Duration
		pauseCarrier bool
	}{
		{"a Retry-After longer than the backoff is honoured", time.Second, 30 * time.Second, 30 * time.Second, true},
		{"a backoff longer than the Retry-After wins", time.Minute, 5 * time.Second, time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
				if m.ID == "throttled" && n == 1 {
					return &carrier.RetryableError{Err: errors.New("twilio: 429 too many requests"), After: tc.ra}
				}
				return nil
			})
			// One worker, so that "next" is taken once "throttled" had its
			// 429, and then waits on the clock for the carrier.
			q, clock := setup(t, s, outbound.Options{Workers: 1, Backoff: func(int) time.Duration { return tc.backoff }})
			// The carrier asked the whole account to wait: another message
			// waits too.
			mustEnqueue(t, q, msg("throttled"))
			mustEnqueue(t, q, msg("next"))
			run(t, q)
			testutil.WaitFor(t, "the 429", func() bool {
				st := status(t, q, "throttled")
				return st.Attempts == 1 && st.State == outbound.StateQueued
			})
			st := status(t, q, "throttled")
			if got := st.Next.Sub(st.Updated); got != tc.wantDelay {
				t.Fatalf("retry due in %v, want %v", got, tc.wantDelay)
			}
			// A second before the Retry-After ends, every goroutine that
			// could send waits on the clock: the worker holding "next",
			// and the Redis queue's mover, which has looked at that time.
			// Nothing can be sent until the clock moves again.
			sleepers := 1
			if _, ok := q.(*outbound.Redis); ok {
				sleepers = 2
			}
			testutil.Asleep(t, clock, sleepers)
			clock.Advance(tc.ra - time.Second)
			testutil.Asleep(t, clock, sleepers)
			if s.Calls("throttled") != 1 || s.Calls("next") != 0 {
				t.Fatalf("sent during the Retry-After: throttled %d, next %d", s.Calls("throttled"), s.Calls("next"))
			}
			drive(t, clock, "both sent", func() bool {
				return status(t, q, "throttled").State == outbound.StateSent && status(t, q, "next").State == outbound.StateSent
			})
			if got := status(t, q, "throttled").Attempts; got != 2 {
				t.Errorf("attempts %d, want 2", got)
			}
		})
	}

	t.Run("a failure that is not retryable fails at once, without personal data", func(t *testing.T) {
		s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
			return fmt.Errorf("twilio: 400: 'To' number %s is not a valid phone number (text %q, ref 593991234567)", m.To, m.Text)
		})
		q, _ := setup(t, s, outbound.Options{})
		mustEnqueue(t, q, msg("bad"))
		run(t, q)
		testutil.WaitFor(t, "failed", stateIs(t, q, "bad", outbound.StateFailed))
		st := status(t, q, "bad")
		if st.Attempts != 1 || s.Calls("bad") != 1 {
			t.Errorf("attempts %d, calls %d, want 1 and 1", st.Attempts, s.Calls("bad"))
		}
		for _, secret := range []string{"593991234567", "trámite"} {
			if strings.Contains(st.LastError, secret) {
				t.Errorf("LastError %q contains %q", st.LastError, secret)
			}
		}
		if !strings.Contains(st.LastError, "not a valid phone number") {
			t.Errorf("LastError %q lost the carrier's reason", st.LastError)
		}
	})

	t.Run("a sender that panics fails the message, not the process", func(t *testing.T) {
		s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
			panic("index out of range in the carrier adapter")
		})
		q, _ := setup(t, s, outbound.Options{})
		mustEnqueue(t, q, msg("boom"))
		run(t, q)
		testutil.WaitFor(t, "failed", stateIs(t, q, "boom", outbound.StateFailed))
		if st := status(t, q, "boom"); st.LastError != "sender panicked" || st.Attempts != 1 {
			t.Errorf("status %+v, want one attempt failed by the panic", st)
		}
	})

	t.Run("retries stop after MaxAttempts", func(t *testing.T) {
		s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
			return &carrier.RetryableError{Err: errors.New("twilio: 500")}
		})
		q, clock := setup(t, s, outbound.Options{MaxAttempts: 3, Backoff: func(int) time.Duration { return time.Second }})
		mustEnqueue(t, q, msg("doomed"))
		run(t, q)
		drive(t, clock, "failed", stateIs(t, q, "doomed", outbound.StateFailed))
		st := status(t, q, "doomed")
		if st.Attempts != 3 || s.Calls("doomed") != 3 || !strings.Contains(st.LastError, "gave up after 3 attempts") {
			t.Errorf("status %+v after %d calls, want 3 attempts and a gave-up error", st, s.Calls("doomed"))
		}
	})

	t.Run("retries go on until the message's deadline, and stop there", func(t *testing.T) {
		var mu sync.Mutex
		var at []time.Duration
		var clock *clockwork.FakeClock
		start := time.Time{}
		s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
			mu.Lock()
			at = append(at, clock.Now().Sub(start))
			mu.Unlock()
			return &carrier.RetryableError{Err: errors.New("twilio: 500")}
		})
		var q outbound.Queue
		q, clock = setup(t, s, outbound.Options{Backoff: func(int) time.Duration { return time.Minute }})
		start = clock.Now()
		m := msg("otp")
		m.Deadline = start.Add(5*time.Minute + 30*time.Second)
		mustEnqueue(t, q, m)
		run(t, q)
		done := func(k int) func() bool {
			return func() bool {
				st := status(t, q, "otp")
				return st.Attempts == k && (st.State == outbound.StateQueued || st.State == outbound.StateFailed)
			}
		}
		for k := 1; k <= 10; k++ {
			testutil.WaitFor(t, fmt.Sprintf("attempt %d", k), done(k))
			if status(t, q, "otp").State == outbound.StateFailed {
				break
			}
			// Advance once a waiter on the clock (a memory queue's worker,
			// a Redis queue's mover) sleeps, so that the minute wakes it.
			testutil.Asleep(t, clock, 1)
			clock.Advance(time.Minute)
			testutil.WaitFor(t, fmt.Sprintf("attempt %d", k+1), func() bool { return s.Calls("otp") > k })
		}
		st := status(t, q, "otp")
		if st.State != outbound.StateFailed || !strings.Contains(st.LastError, "deadline") || !strings.Contains(st.LastError, "500") {
			t.Errorf("status %+v, want failed, naming the deadline and the carrier's last answer", st)
		}
		if !st.Deadline.Equal(m.Deadline) {
			t.Errorf("Deadline %v, want the message's own %v", st.Deadline, m.Deadline)
		}
		mu.Lock()
		defer mu.Unlock()
		ok := len(at) == 6 && st.Attempts == 6
		for i := range at {
			// Each attempt a minute after the last.
			ok = ok && at[i] >= time.Duration(i)*time.Minute && at[i] < time.Duration(i)*time.Minute+20*time.Second
		}
		if !ok {
			t.Errorf("sent at %v (%d attempts), want every minute from 0 to 5m: until the deadline at 5m30s, none after", at, st.Attempts)
		}
	})

	t.Run("a message whose deadline passed while it waited is not sent", func(t *testing.T) {
		s := newSender(nil)
		q, clock := setup(t, s, outbound.Options{ValidFor: 5 * time.Minute})
		mustEnqueue(t, q, msg("late"))
		clock.Advance(10 * time.Minute) // the queue was not running
		run(t, q)
		testutil.WaitFor(t, "failed", stateIs(t, q, "late", outbound.StateFailed))
		if st := status(t, q, "late"); s.Calls("late") != 0 || !strings.Contains(st.LastError, "deadline") {
			t.Errorf("status %+v after %d sends, want failed for its deadline without a send", st, s.Calls("late"))
		}
	})

	t.Run("a carrier that keeps failing hands the message to its failover, and back", func(t *testing.T) {
		down := func(ctx context.Context, m carrier.Message, n int) error {
			return &carrier.RetryableError{Err: errors.New("500 internal server error")}
		}
		primary := newSender(func(ctx context.Context, m carrier.Message, n int) error {
			if n <= 3 {
				return down(ctx, m, n)
			}
			return nil
		})
		other := newNamedSender("africastalking-sms", down)
		clock := newClock()
		q := newQueue(t, outbound.Options{
			Senders:  map[string]carrier.Sender{"twilio": primary, "africastalking-sms": other},
			Failover: map[string]string{"twilio": "africastalking-sms", "africastalking-sms": "twilio"},
			Backoff:  func(int) time.Duration { return time.Second },
			Now:      clock.Now, Sleep: testutil.Sleep(clock), Log: testLog(t),
		})
		mustEnqueue(t, q, msg("fo"))
		run(t, q)
		drive(t, clock, "at the failover", func() bool { return other.Calls("fo") > 0 })
		if st := status(t, q, "fo"); primary.Calls("fo") != 3 || st.Carrier != "africastalking-sms" {
			t.Fatalf("moved after %d failures on twilio, status %+v; want 3 and the other carrier", primary.Calls("fo"), st)
		}
		drive(t, clock, "sent", stateIs(t, q, "fo", outbound.StateSent))
		st := status(t, q, "fo")
		if primary.Calls("fo") != 4 || other.Calls("fo") != 3 || st.Attempts != 7 || st.Carrier != "twilio" || st.ProviderID != "pid-fo" {
			t.Errorf("twilio %d, other %d calls, status %+v; want 3 + 3 failures, then sent through twilio again in 7 attempts", primary.Calls("fo"), other.Calls("fo"), st)
		}
		if n := depth(t, q); n != 0 {
			t.Errorf("Depth %d after the send, want 0", n)
		}
	})

	t.Run("a send that outlasts SendTimeout is retried", func(t *testing.T) {
		s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
			if n == 1 {
				<-ctx.Done()
				return ctx.Err() // a sender that does not classify its timeout
			}
			return nil
		})
		q, clock := setup(t, s, outbound.Options{SendTimeout: 20 * time.Millisecond, Backoff: func(int) time.Duration { return time.Second }})
		mustEnqueue(t, q, msg("slow"))
		run(t, q)
		drive(t, clock, "sent", stateIs(t, q, "slow", outbound.StateSent))
		if st := status(t, q, "slow"); st.Attempts != 2 {
			t.Errorf("attempts %d, want 2", st.Attempts)
		}
	})

	t.Run("the rate is counted in segments", func(t *testing.T) {
		long := strings.Repeat("Su cita es mañana ✓ ", 8) // ✓ is not GSM: UCS-2
		longSegs, enc := sms.Segments(long)
		if enc != sms.UCS2 || longSegs < 3 {
			t.Fatalf("fixture: %d segments %v, want UCS-2 and at least 3", longSegs, enc)
		}
		for _, tc := range []struct {
			name  string
			burst int
			want  []int
		}{
			{"one wait per message", 100, []int{1, longSegs}},
			{"a message larger than the burst waits in bites", 2, append([]int{1}, bites(longSegs, 2)...)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				lim := &countingLimiter{burst: tc.burst}
				s := newSender(nil)
				q, _ := setup(t, s, outbound.Options{Workers: 1, Limiters: map[string]outbound.Limiter{"twilio": lim}})
				mustEnqueue(t, q, msg("short"))
				m := msg("long")
				m.Text = long
				mustEnqueue(t, q, m)
				run(t, q)
				testutil.WaitFor(t, "both sent", func() bool {
					return status(t, q, "short").State == outbound.StateSent && status(t, q, "long").State == outbound.StateSent
				})
				if got := lim.Bites(); !slices.Equal(got, tc.want) {
					t.Errorf("tokens taken %v, want %v", got, tc.want)
				}
			})
		}
	})

	t.Run("Rates pace a carrier without dropping", func(t *testing.T) {
		s := newSender(nil)
		// 4 messages × 3 segments at 100 segments/s with a burst of 3:
		// 3 at once, then 9 more take at least 90ms.
		q, _ := setup(t, s, outbound.Options{Rates: map[string]float64{"twilio": 100}, Burst: 3})
		text := strings.Repeat("Turno confirmado ✓ ", 8)
		if n, _ := sms.Segments(text); n != 3 {
			t.Fatalf("fixture: %d segments, want 3", n)
		}
		for i := range 4 {
			m := msg(fmt.Sprint("p", i))
			m.Text = text
			mustEnqueue(t, q, m)
		}
		start := time.Now()
		run(t, q)
		testutil.WaitFor(t, "all sent", func() bool { return s.Total() == 4 })
		if d := time.Since(start); d < 80*time.Millisecond {
			t.Errorf("12 segments at 100/s with a burst of 3 went out in %v, want at least 90ms", d)
		}
	})

	t.Run("statuses follow the message, and delivery reports update them", func(t *testing.T) {
		release := make(chan struct{})
		s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
			if m.ID == "life" {
				select {
				case <-release:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
		q, clock := setup(t, s, outbound.Options{})
		if _, err := q.Status(t.Context(), "life"); !errors.Is(err, outbound.ErrNotFound) {
			t.Fatalf("Status of an unknown ID: %v, want ErrNotFound", err)
		}
		mustEnqueue(t, q, msg("life"))
		if st := status(t, q, "life"); st.State != outbound.StateQueued || st.Attempts != 0 {
			t.Fatalf("after Enqueue: %+v, want queued with no attempts", st)
		}
		run(t, q)
		testutil.WaitFor(t, "sending", stateIs(t, q, "life", outbound.StateSending))
		if st := status(t, q, "life"); st.Attempts != 1 {
			t.Errorf("sending with %d attempts, want 1", st.Attempts)
		}
		clock.Advance(time.Second)
		close(release)
		testutil.WaitFor(t, "sent", stateIs(t, q, "life", outbound.StateSent))
		ctx := t.Context()
		for _, report := range []struct{ state, want string }{
			{"queued", "sent"}, // not final: changes nothing
			{"sent", "sent"},
			{"delivered", "delivered"},
			{"undelivered", "delivered"}, // late and contradictory: the first final report stands
		} {
			if err := q.MarkDelivered(ctx, "pid-life", report.state); err != nil {
				t.Fatalf("MarkDelivered(%s): %v", report.state, err)
			}
			if got := status(t, q, "life").State; got != report.want {
				t.Errorf("after a %q report: %s, want %s", report.state, got, report.want)
			}
		}
		if err := q.MarkDelivered(ctx, "pid-nobody", "delivered"); !errors.Is(err, outbound.ErrNotFound) {
			t.Errorf("MarkDelivered of an unknown provider id: %v, want ErrNotFound", err)
		}

		mustEnqueue(t, q, msg("lost"))
		testutil.WaitFor(t, "sent", stateIs(t, q, "lost", outbound.StateSent))
		if err := q.MarkDelivered(ctx, "pid-lost", "undelivered"); err != nil {
			t.Fatal(err)
		}
		if st := status(t, q, "lost"); st.State != outbound.StateFailed || !strings.Contains(st.LastError, "undelivered") {
			t.Errorf("after an undelivered report: %+v, want failed, saying so", st)
		}
	})

	t.Run("Finished hears each message that ends, once", func(t *testing.T) {
		var mu sync.Mutex
		var heard []string
		s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
			if m.ID == "refused" {
				return errors.New("invalid number")
			}
			return nil
		})
		q, _ := setup(t, s, outbound.Options{Finished: func(_ context.Context, st outbound.Status) error {
			mu.Lock()
			defer mu.Unlock()
			heard = append(heard, st.ID+" "+st.State+" "+st.LastError)
			return nil
		}})
		got := func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(heard)
		}
		run(t, q)
		ctx := t.Context()
		for _, id := range []string{"ok", "lost", "refused"} {
			mustEnqueue(t, q, msg(id))
		}
		testutil.WaitFor(t, "the refused message failed", stateIs(t, q, "refused", outbound.StateFailed))
		testutil.WaitFor(t, "the others sent", func() bool {
			return stateIs(t, q, "ok", outbound.StateSent)() && stateIs(t, q, "lost", outbound.StateSent)()
		})
		for _, report := range [][2]string{{"pid-ok", "sent"}, {"pid-ok", "delivered"}, {"pid-ok", "delivered"}, {"pid-lost", "undelivered"}, {"pid-lost", "delivered"}} {
			if err := q.MarkDelivered(ctx, report[0], report[1]); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"refused failed invalid number", "ok delivered ", "lost failed carrier reported undelivered"}
		testutil.WaitFor(t, "three finished messages heard", func() bool { return len(got()) >= len(want) })
		if h := got(); !slices.Equal(h, want) {
			t.Errorf("Finished heard %q, want %q", h, want)
		}
	})

	t.Run("a Finished that fails hears the message again until it does not", func(t *testing.T) {
		var mu sync.Mutex
		heard := map[string]int{}
		s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
			if m.ID == "refused" {
				return errors.New("invalid number")
			}
			return nil
		})
		q, clock := setup(t, s, outbound.Options{FinishedEvery: time.Minute, Finished: func(_ context.Context, st outbound.Status) error {
			mu.Lock()
			defer mu.Unlock()
			heard[st.ID+" "+st.State]++
			if heard[st.ID+" "+st.State] < 3 {
				return errors.New("the callbacks' store is down")
			}
			return nil
		}})
		count := func(k string) int {
			mu.Lock()
			defer mu.Unlock()
			return heard[k]
		}
		run(t, q)
		mustEnqueue(t, q, msg("refused"))
		mustEnqueue(t, q, msg("ok"))
		testutil.WaitFor(t, "the refused message heard once", func() bool { return count("refused failed") == 1 })
		testutil.WaitFor(t, "the other sent", stateIs(t, q, "ok", outbound.StateSent))
		if err := q.MarkDelivered(t.Context(), "pid-ok", "delivered"); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, "both heard three times, the clock moving a minute at a time", func() bool {
			if count("refused failed") >= 3 && count("ok delivered") >= 3 {
				return true
			}
			clock.Advance(time.Minute)
			return false
		})
		// Heard: no more hearings, however long the queue runs.
		for range 5 {
			clock.Advance(time.Hour)
		}
		if err := q.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if a, b := count("refused failed"), count("ok delivered"); a != 3 || b != 3 {
			t.Errorf("heard the refused message %d times and the delivered one %d times, want 3 each (two failures, then heard)", a, b)
		}
	})

	t.Run("invalid messages are refused at Enqueue", func(t *testing.T) {
		q, _ := setup(t, newSender(nil), outbound.Options{})
		for _, tc := range []struct {
			name string
			edit func(*carrier.Message)
			want error
		}{
			{"no ID", func(m *carrier.Message) { m.ID = "" }, outbound.ErrInvalid},
			{"no recipient", func(m *carrier.Message) { m.To = "" }, outbound.ErrInvalid},
			{"no text", func(m *carrier.Message) { m.Text = "" }, outbound.ErrInvalid},
			{"unknown carrier", func(m *carrier.Message) { m.Carrier = "pigeon" }, outbound.ErrUnknownCarrier},
		} {
			m := msg("x")
			tc.edit(&m)
			if _, err := q.Enqueue(t.Context(), m); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
	})

	t.Run("a closed queue takes no more messages", func(t *testing.T) {
		q, _ := setup(t, newSender(nil), outbound.Options{})
		run(t, q)
		if err := q.Close(t.Context()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if _, err := q.Enqueue(t.Context(), msg("late")); !errors.Is(err, outbound.ErrClosed) {
			t.Errorf("Enqueue after Close: %v, want ErrClosed", err)
		}
	})
}

func mustEnqueue(t *testing.T, q outbound.Queue, m carrier.Message) {
	t.Helper()
	if _, err := q.Enqueue(context.Background(), m); err != nil {
		t.Fatalf("Enqueue(%s): %v", m.ID, err)
	}
}

// bites splits n tokens into burst-sized waits.
func bites(n, burst int) []int {
	var out []int
	for n > 0 {
		b := min(n, burst)
		out = append(out, b)
		n -= b
	}
	return out
}
