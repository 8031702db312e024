package outbound_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

const (
	helperEnv    = "VENTANILLA_OUTBOUND_CRASH_HELPER"
	crashStream  = "{ventanilla:outbound}:stream:local"
	crashCarrier = "local"
)

// httpSender is a carrier reached over HTTP: the test's local server
// stands in for the provider. It passes the message ID as the provider's
// idempotency key.
type httpSender struct {
	url    string
	client *http.Client
}

func (s httpSender) Name() string { return crashCarrier }

func (s httpSender) Send(ctx context.Context, m carrier.Message) error {
	body, _ := json.Marshal(map[string]string{"id": m.ID, "to": m.To, "text": m.Text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Idempotency-Key", m.ID)
	resp, err := s.client.Do(req)
	if err != nil {
		return &carrier.RetryableError{Err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return &carrier.RetryableError{Err: fmt.Errorf("provider: %s", resp.Status)}
	}
	return fmt.Errorf("provider: %s", resp.Status)
}

// TestHelperProcess is the process that crashes in TestRedisCrashMidSend:
// it queues the messages and sends them, two at a time, to a provider that
// never answers, with a third message held by the rate limiter, until it
// is killed. It does nothing in a normal test run.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	n, _ := strconv.Atoi(os.Getenv("HELPER_MESSAGES"))
	client := redis.NewClient(&redis.Options{Addr: os.Getenv("HELPER_REDIS")})
	q, err := outbound.NewRedis(client, outbound.Options{
		Senders:  map[string]carrier.Sender{crashCarrier: httpSender{url: os.Getenv("HELPER_URL"), client: &http.Client{}}},
		Limiters: map[string]outbound.Limiter{crashCarrier: &blockingLimiter{allow: 2}},
		Workers:  3,
	}, outbound.RedisOptions{Consumer: "doomed", Block: 50 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := range n {
		m := carrier.Message{ID: fmt.Sprint("c", i), Channel: "sms", Carrier: crashCarrier, To: "+593991234567", Text: "Su trámite está listo."}
		if _, err := q.Enqueue(context.Background(), m); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	_ = q.Run(context.Background()) // until killed
	os.Exit(3)
}

// TestRedisCrashMidSend kills a process with SIGKILL while it has two
// messages in flight to the provider, one taken but waiting for its rate,
// and the rest queued; a second process on the same Redis then delivers
// every message exactly once. The provider never completes a request of
// the first process, so every message is outside the at-least-once window
// and exactly once is the right expectation.
func TestRedisCrashMidSend(t *testing.T) {
	if os.Getenv(helperEnv) == "1" {
		t.Skip("inside the helper process")
	}
	addr, _ := redistest.StartServer(t)
	client := redistest.Client(t, addr)

	var (
		afterCrash atomic.Bool
		doomed     atomic.Int32 // requests from the first process
		mu         sync.Mutex
		delivered  = map[string]int{}
	)
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ ID string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.ID != r.Header.Get("Idempotency-Key") {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if !afterCrash.Load() {
			doomed.Add(1)
			<-r.Context().Done() // never answers; the client dies waiting
			return
		}
		mu.Lock()
		delivered[body.ID]++
		mu.Unlock()
		t.Logf("provider: delivered %s", body.ID)
	}))
	defer provider.Close()

	const n = 8
	child := testutil.StartChild(t, "TestHelperProcess", helperEnv+"=1", "HELPER_REDIS="+addr, "HELPER_URL="+provider.URL, "HELPER_MESSAGES="+strconv.Itoa(n))

	testutil.WaitFor(t, "the helper to have 2 sends in flight and 3 messages taken", func() bool {
		child.Alive(t)
		p, _ := client.XPending(context.Background(), crashStream, outbound.DefaultGroup).Result()
		return doomed.Load() == 2 && p != nil && p.Count == 3
	})
	// Which two of the three taken messages got the rate's tokens is up
	// to the helper's workers.
	var inDoubt []string
	for i := range n {
		switch st := mustStatus(t, client, fmt.Sprint("c", i)); st {
		case outbound.StateSending:
			inDoubt = append(inDoubt, fmt.Sprint("c", i))
		case outbound.StateQueued:
		default:
			t.Fatalf("c%d is %s before the crash, want sending or queued", i, st)
		}
	}
	if len(inDoubt) != 2 {
		t.Fatalf("%v sending before the crash, want 2", inDoubt)
	}
	child.Kill(t)
	afterCrash.Store(true)

	q := newRedis(t, client, outbound.Options{
		Senders: map[string]carrier.Sender{crashCarrier: httpSender{url: provider.URL, client: provider.Client()}},
		Workers: 2,
		// Generous: a send that times out after the provider took it is the
		// at-least-once window, which this test keeps out of the way.
		SendTimeout: 2 * time.Second,
		Log:         testLog(t),
	}, outbound.RedisOptions{Consumer: "survivor", Visibility: 3 * time.Second, ClaimEvery: 100 * time.Millisecond})
	run(t, q)
	for i := range n {
		testutil.WaitFor(t, fmt.Sprint("c", i, " sent"), stateIs(t, q, fmt.Sprint("c", i), outbound.StateSent))
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range n {
		if c := delivered[fmt.Sprint("c", i)]; c != 1 {
			t.Errorf("c%d delivered %d times, want exactly 1", i, c)
		}
	}
	if len(delivered) != n {
		t.Errorf("delivered %d distinct messages, want %d", len(delivered), n)
	}
	for _, id := range inDoubt {
		// The crashed attempt counts: the in-doubt send was sent again.
		if st := status(t, q, id); st.Attempts != 2 {
			t.Errorf("%s: %d attempts, want 2 (the crashed one and the resend)", id, st.Attempts)
		}
	}
	if strings.Contains(child.Output(), "panic") {
		t.Errorf("helper panicked:\n%s", child.Output())
	}
}

func mustStatus(t *testing.T, c *redis.Client, id string) string {
	t.Helper()
	return c.HGet(context.Background(), "{ventanilla:outbound}:msg:"+id, "state").Val()
}
