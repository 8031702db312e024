package callbacks_test

import (
	"context"
	"encoding/json"
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

	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

const crashHelperEnv = "VENTANILLA_CALLBACKS_CRASH_HELPER"

// tally is an institution's endpoint that counts each event id it took.
type tally struct {
	mu  sync.Mutex
	got map[string]int
}

func (c *tally) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := callbacks.Verify(r.Header.Get(callbacks.SignatureHeader), body, secret, time.Now(), time.Hour*24); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var ev callbacks.Event
	_ = json.Unmarshal(body, &ev)
	c.mu.Lock()
	c.got[ev.ID]++
	c.mu.Unlock()
}

func (c *tally) count() (n int, each map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	each = map[string]int{}
	for k, v := range c.got {
		each[k] = v
		n += v
	}
	return n, each
}

// TestCrashHelperProcess is the process TestKilledPusherLosesNoCallback
// kills: it pushes events to an endpoint that never answers. It does
// nothing in a normal test run.
func TestCrashHelperProcess(t *testing.T) {
	if os.Getenv(crashHelperEnv) != "1" {
		return
	}
	client := redis.NewClient(&redis.Options{Addr: os.Getenv("HELPER_REDIS")})
	cb, err := callbacks.New(callbacks.Options{
		Store: callbacks.NewRedis(client),
		Endpoint: func(string) (callbacks.Endpoint, bool) {
			return callbacks.Endpoint{URL: os.Getenv("HELPER_URL"), Secret: secret}, true
		},
		Workers: 1, Timeout: time.Hour, Every: 20 * time.Millisecond,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	for i := range 4 {
		if err := cb.Push(ctx, "transito", event(fmt.Sprintf("evt_%d", i))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	_ = cb.Run(ctx) // until killed
	os.Exit(3)
}

// TestKilledPusherLosesNoCallback kills with SIGKILL a process that has
// pushed four events, one of them in flight to an institution that has
// not answered yet; another process on the same Redis delivers all four
// once the lease of the one in flight runs out.
func TestKilledPusherLosesNoCallback(t *testing.T) {
	if os.Getenv(crashHelperEnv) == "1" {
		t.Skip("inside the helper process")
	}
	addr, _ := redistest.StartServer(t)
	client := redistest.Client(t, addr)

	var (
		afterCrash atomic.Bool
		doomed     atomic.Int32
	)
	survivor := &tally{got: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !afterCrash.Load() {
			_, _ = io.ReadAll(r.Body)
			doomed.Add(1)
			<-r.Context().Done() // never answers: the client dies waiting
			return
		}
		survivor.ServeHTTP(w, r)
	}))
	defer srv.Close()

	child := testutil.StartChild(t, "TestCrashHelperProcess", crashHelperEnv+"=1", "HELPER_REDIS="+addr, "HELPER_URL="+srv.URL)
	testutil.WaitFor(t, "the doomed process to have one attempt in flight", func() bool {
		child.Alive(t)
		return doomed.Load() == 1 && client.ZCard(context.Background(), "{ventanilla:callbacks}:due").Val() == 4
	})
	child.Kill(t)
	afterCrash.Store(true)

	// The restarted gateway's clock is past the lease of the attempt that
	// died with the process (an hour's timeout and 30 s).
	clock := testutil.NewClock(time.Now().Add(2 * time.Hour))
	r := start(t, callbacks.NewRedis(client), clock, map[string]string{"transito": srv.URL}, nil)
	testutil.WaitFor(t, "every event delivered after the restart", func() bool {
		n, _ := survivor.count()
		return n >= 4
	})
	for i := range 4 {
		r.waitState(t, fmt.Sprintf("evt_%d", i), callbacks.StateDelivered, 1)
	}
	n, each := survivor.count()
	if n != 4 {
		t.Errorf("%d deliveries after the restart, want 4: %v", n, each)
	}
	for i := range 4 {
		if id := fmt.Sprintf("evt_%d", i); each[id] != 1 {
			t.Errorf("%s delivered %d times, want 1", id, each[id])
		}
	}
	if doomed.Load() != 1 {
		t.Errorf("the doomed process made %d attempts, want 1", doomed.Load())
	}
}

// Two instances on one Redis push every event once.
func TestTwoInstancesPushEachEventOnce(t *testing.T) {
	client := redistest.Start(t)
	other := redis.NewClient(&redis.Options{Addr: client.Options().Addr, DB: client.Options().DB})
	t.Cleanup(func() { _ = other.Close() })
	inst := &tally{got: map[string]int{}}
	srv := httptest.NewServer(inst)
	defer srv.Close()

	mk := func(c *redis.Client) *callbacks.Callbacks {
		cb, err := callbacks.New(callbacks.Options{
			Store: callbacks.NewRedis(c),
			Endpoint: func(string) (callbacks.Endpoint, bool) {
				return callbacks.Endpoint{URL: srv.URL, Secret: secret}, true
			},
			Every: 5 * time.Millisecond, PerInstitution: 8,
		})
		if err != nil {
			t.Fatal(err)
		}
		return cb
	}
	a, b := mk(client), mk(other)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Go(func() { _ = a.Run(ctx) })
	wg.Go(func() { _ = b.Run(ctx) })
	const events = 60
	for i := range events {
		pusher := a
		if i%2 == 1 {
			pusher = b
		}
		if err := pusher.Push(ctx, "transito", event(fmt.Sprintf("evt_%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, "every event delivered", func() bool {
		for i := range events {
			if st, _ := a.Status(ctx, fmt.Sprintf("evt_%d", i)); st.State != callbacks.StateDelivered {
				return false
			}
		}
		return true
	})
	n, each := inst.count()
	if n != events || len(each) != events {
		t.Errorf("%d requests for %d events, want %d each once", n, len(each), events)
	}
}
