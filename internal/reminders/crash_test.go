package reminders_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

const (
	crashHelperEnv = "VENTANILLA_REMINDERS_CRASH_HELPER"
	crashCarrier   = "local"
	// stuck is the reminder the doomed process hands to the queue and
	// dies before forgetting.
	stuck = "T-3/2h"
)

// provider is an SMS carrier reached over HTTP: the test's server stands
// in for it. The message id travels as the idempotency key.
type provider struct {
	url    string
	client *http.Client
}

func (p provider) Name() string { return crashCarrier }

func (p provider) Send(ctx context.Context, m carrier.Message) error {
	body, _ := json.Marshal(map[string]string{"id": m.ID, "text": m.Text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return &carrier.RetryableError{Err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return &carrier.RetryableError{Err: errors.New(resp.Status)}
	}
	return nil
}

// queueSender hands reminders to the outbound queue under their id, as
// the gateway does; the queue does not take an id twice.
type queueSender struct {
	q    outbound.Queue
	hang string // the id after whose handover the process hangs
}

func (s queueSender) Send(ctx context.Context, r reminders.Reminder) error {
	_, err := s.q.Enqueue(ctx, carrier.Message{ID: "reminder:" + r.ID, Channel: "sms", Carrier: crashCarrier, To: r.Phone, Text: r.Text})
	if err == nil && r.ID == s.hang {
		select {} // handed over, never forgotten: the kill comes here
	}
	return err
}

// TestCrashHelperProcess is the process TestKilledGatewaySendsEveryReminderOnce
// kills: it hands due reminders to an outbound queue whose provider never
// answers, and hangs after handing over one of them. It does nothing in a
// normal test run.
func TestCrashHelperProcess(t *testing.T) {
	if os.Getenv(crashHelperEnv) != "1" {
		return
	}
	client := redis.NewClient(&redis.Options{Addr: os.Getenv("HELPER_REDIS")})
	q, err := outbound.NewRedis(client, outbound.Options{
		Senders: map[string]carrier.Sender{crashCarrier: provider{url: os.Getenv("HELPER_URL"), client: &http.Client{}}},
		Workers: 2,
	}, outbound.RedisOptions{Consumer: "doomed", Block: 50 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	go func() { _ = q.Run(context.Background()) }()
	s := &reminders.Scheduler{Store: reminders.NewRedis(client), Sender: queueSender{q: q, hang: stuck},
		Every: 20 * time.Millisecond, Visibility: time.Second, Batch: 1}
	_ = s.Run(context.Background()) // until killed
	os.Exit(3)
}

// TestKilledGatewaySendsEveryReminderOnce kills with SIGKILL a process
// that has due reminders in every state — handed to the queue and in
// flight to the provider, handed over but not forgotten, not yet claimed
// — while others are not due yet; a second process on the same Redis then
// sends every reminder, each exactly once.
func TestKilledGatewaySendsEveryReminderOnce(t *testing.T) {
	if os.Getenv(crashHelperEnv) == "1" {
		t.Skip("inside the helper process")
	}
	addr, _ := redistest.StartServer(t)
	client := redistest.Client(t, addr)

	var (
		afterCrash atomic.Bool
		doomed     atomic.Int32
		mu         sync.Mutex
		delivered  = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ ID string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if !afterCrash.Load() {
			doomed.Add(1)
			<-r.Context().Done() // never answers: the client dies waiting
			return
		}
		mu.Lock()
		delivered[body.ID]++
		mu.Unlock()
	}))
	defer srv.Close()

	now := time.Now()
	store := reminders.NewRedis(client)
	var all []string
	for i := range 8 {
		due := now.Add(-time.Duration(8-i) * time.Second) // due, oldest first: T-3 is the fourth taken
		if i >= 6 {
			due = now.Add(3 * time.Second) // not due at the crash
		}
		r := reminder(fmt.Sprintf("T-%d/2h", i), fmt.Sprintf("T-%d", i), due)
		all = append(all, "reminder:"+r.ID)
		if err := store.Schedule(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}

	child := testutil.StartChild(t, "TestCrashHelperProcess", crashHelperEnv+"=1", "HELPER_REDIS="+addr, "HELPER_URL="+srv.URL)
	// The helper is stuck once it handed T-3 over: two sends in flight,
	// T-3 queued, T-4 and T-5 due and not claimed.
	testutil.WaitFor(t, "the doomed process to hand "+stuck+" over with two sends in flight", func() bool {
		child.Alive(t)
		return doomed.Load() == 2 && client.Exists(context.Background(), "{ventanilla:outbound}:msg:reminder:"+stuck).Val() == 1
	})
	child.Kill(t)
	afterCrash.Store(true)

	q, err := outbound.NewRedis(client, outbound.Options{
		Senders:     map[string]carrier.Sender{crashCarrier: provider{url: srv.URL, client: srv.Client()}},
		Workers:     2,
		SendTimeout: 2 * time.Second,
	}, outbound.RedisOptions{Consumer: "survivor", Visibility: 3 * time.Second, ClaimEvery: 100 * time.Millisecond, Block: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = q.Run(ctx) }()
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		_ = q.Close(cctx)
	}()
	s := &reminders.Scheduler{Store: store, Sender: queueSender{q: q}, Every: 20 * time.Millisecond, Visibility: time.Second}
	go func() { _ = s.Run(ctx) }()

	testutil.WaitFor(t, "every reminder delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) == len(all)
	})
	testutil.WaitFor(t, "every reminder forgotten", func() bool {
		return client.ZCard(context.Background(), "{ventanilla:reminders}:due").Val() == 0
	})
	mu.Lock()
	defer mu.Unlock()
	for _, id := range all {
		if delivered[id] != 1 {
			t.Errorf("%s delivered %d times, want exactly 1", id, delivered[id])
		}
	}
}
