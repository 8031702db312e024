package outbound_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

func newRedis(t *testing.T, client redis.UniversalClient, opts outbound.Options, ro outbound.RedisOptions) *outbound.Redis {
	t.Helper()
	if ro.Consumer == "" {
		ro.Consumer = "test"
	}
	if ro.Block == 0 {
		ro.Block = 50 * time.Millisecond
	}
	q, err := outbound.NewRedis(client, opts, ro)
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	return q
}

func TestRedisContract(t *testing.T) {
	testQueue(t, func(t *testing.T, opts outbound.Options) outbound.Queue {
		return newRedis(t, redistest.Start(t), opts, outbound.RedisOptions{})
	})
}

func TestRedisKeepsNoMessageContentOnceFinal(t *testing.T) {
	client := redistest.Start(t)
	q := newRedis(t, client, outbound.Options{
		Senders: map[string]carrier.Sender{"twilio": newSender(nil)},
		Retain:  time.Hour,
		Log:     testLog(t),
	}, outbound.RedisOptions{})
	mustEnqueue(t, q, msg("private"))
	key := "{ventanilla:outbound}:msg:private"
	if body := client.HGet(t.Context(), key, "msg").Val(); !strings.Contains(body, "+593991234567") {
		t.Fatalf("queued message body %q: want the message kept until it is sent", body)
	}
	run(t, q)
	testutil.WaitFor(t, "sent", stateIs(t, q, "private", outbound.StateSent))
	h := client.HGetAll(t.Context(), key).Val()
	for f, v := range h {
		if strings.Contains(v, "593991234567") || strings.Contains(v, "trámite") {
			t.Errorf("field %s keeps personal data after the send: %q", f, v)
		}
	}
	if ttl := client.PTTL(t.Context(), key).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("status TTL %v, want within Retain (1h)", ttl)
	}
	if n := client.XLen(t.Context(), "{ventanilla:outbound}:stream:twilio").Val(); n != 0 {
		t.Errorf("stream holds %d entries after the send, want 0", n)
	}
}

func TestRedisCloseLeavesTheRestForTheNextRun(t *testing.T) {
	client := redistest.Start(t)
	release := make(chan struct{})
	s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
		if m.ID == "m0" {
			<-release
		}
		return nil
	})
	opts := outbound.Options{Senders: map[string]carrier.Sender{"twilio": s}, Workers: 1, Log: testLog(t)}
	q := newRedis(t, client, opts, outbound.RedisOptions{Consumer: "first"})
	for i := range 3 {
		mustEnqueue(t, q, msg(fmt.Sprint("m", i)))
	}
	done := make(chan error, 1)
	go func() { done <- q.Run(context.Background()) }()
	testutil.WaitFor(t, "m0 sending", stateIs(t, q, "m0", outbound.StateSending))
	closed := make(chan error, 1)
	go func() { closed <- q.Close(context.Background()) }()
	// m0 is released once Close has begun, which a closing queue's
	// refusal of new messages shows.
	testutil.WaitFor(t, "Close to begin", func() bool {
		_, err := q.Enqueue(t.Context(), msg("m0"))
		return errors.Is(err, outbound.ErrClosed)
	})
	close(release)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st := status(t, q, "m0"); st.State != outbound.StateSent {
		t.Fatalf("m0 %s after Close, want sent: Close finishes the send in flight", st.State)
	}
	if d := depth(t, q); d != 2 {
		t.Fatalf("Depth %d after Close, want 2 left in Redis", d)
	}

	next := newRedis(t, client, opts, outbound.RedisOptions{Consumer: "second"})
	run(t, next)
	for i := range 3 {
		testutil.WaitFor(t, "sent", stateIs(t, next, fmt.Sprint("m", i), outbound.StateSent))
		if n := s.Calls(fmt.Sprint("m", i)); n != 1 {
			t.Errorf("m%d sent %d times, want 1", i, n)
		}
	}
}

// blockingLimiter lets through the first allow waits and holds the rest
// until ctx is done.
type blockingLimiter struct {
	mu    sync.Mutex
	allow int
}

func (l *blockingLimiter) WaitN(ctx context.Context, n int) error {
	l.mu.Lock()
	if l.allow > 0 {
		l.allow--
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	<-ctx.Done()
	return ctx.Err()
}

func (l *blockingLimiter) Burst() int { return 100 }

func TestRedisCloseGivesBackWhatWaitsForTheRate(t *testing.T) {
	client := redistest.Start(t)
	s := newSender(nil)
	q := newRedis(t, client, outbound.Options{
		Senders:  map[string]carrier.Sender{"twilio": s},
		Limiters: map[string]outbound.Limiter{"twilio": &blockingLimiter{}},
		Workers:  1,
		Log:      testLog(t),
	}, outbound.RedisOptions{Consumer: "first"})
	mustEnqueue(t, q, msg("waiting"))
	done := make(chan error, 1)
	go func() { done <- q.Run(context.Background()) }()
	testutil.WaitFor(t, "the message to be taken", func() bool {
		p := client.XPending(t.Context(), "{ventanilla:outbound}:stream:twilio", "senders").Val()
		return p != nil && p.Count == 1
	})
	if err := q.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	<-done
	// Given back, the next process sends it at once, not after the
	// two-minute visibility.
	next := newRedis(t, client, outbound.Options{Senders: map[string]carrier.Sender{"twilio": s}, Log: testLog(t)}, outbound.RedisOptions{Consumer: "second"})
	run(t, next)
	testutil.WaitFor(t, "sent", stateIs(t, next, "waiting", outbound.StateSent))
	if n := s.Calls("waiting"); n != 1 {
		t.Errorf("sent %d times, want 1", n)
	}
}

func TestRedisInstancesShareTheWorkAndSendEachOnce(t *testing.T) {
	shareTheWork(t, redistest.Start(t), 0)
}

func TestRedisOptionsAreChecked(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	opts := outbound.Options{Senders: map[string]carrier.Sender{"twilio": newSender(nil)}, SendTimeout: time.Minute}
	if _, err := outbound.NewRedis(client, opts, outbound.RedisOptions{Visibility: 30 * time.Second}); err == nil || !strings.Contains(err.Error(), "must exceed the send timeout") {
		t.Errorf("visibility under the send timeout: %v", err)
	}
	if _, err := outbound.NewRedis(client, opts, outbound.RedisOptions{Stream: "{x}"}); err == nil {
		t.Errorf("stream name with braces accepted")
	}
}
