package interop_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/interop"
)

// counted serves h and counts the requests it gets.
func counted(t testing.TB, h http.HandlerFunc) (url string, hits *atomic.Int32) {
	hits = new(atomic.Int32)
	url = backend(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	})
	return url, hits
}

// client declares svc (ID "svc") against url and returns a Client for it.
func client(t testing.TB, url string, svc interop.Service, opts ...interop.Option) *interop.Client {
	svc.ID = "svc"
	svc.BaseURL = url
	opts = append([]interop.Option{interop.WithLogger(quiet)}, opts...)
	return interop.NewClient(interop.NewRegistry(svc), loopbackClient(t), opts...)
}

// quiet drops the breaker's log lines, which tests assert through the
// observer instead.
var quiet = slog.New(slog.DiscardHandler)

func hang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-time.After(5 * time.Second):
	case <-r.Context().Done():
	}
}

func TestRetries(t *testing.T) {
	fast := interop.Retry{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	tests := []struct {
		name     string
		h        http.HandlerFunc
		svc      interop.Service
		want     interop.Outcome
		wantHits int32
	}{
		{"GET on 503 is tried every attempt", reply(503, nil, ``),
			interop.Service{Retry: fast}, interop.Error, 3},
		{"POST on 503 is tried once", reply(503, nil, ``),
			interop.Service{Method: "POST", Retry: fast}, interop.Error, 1},
		{"POST declared idempotent is retried", reply(503, nil, ``),
			interop.Service{Method: "POST", Idempotent: true, Retry: fast}, interop.Error, 3},
		{"PUT and DELETE are idempotent", reply(502, nil, ``),
			interop.Service{Method: "DELETE", Retry: fast}, interop.Error, 3},
		{"no retry policy: one try", reply(503, nil, ``),
			interop.Service{}, interop.Error, 1},
		{"404 is an answer, not retried", reply(404, nil, ``),
			interop.Service{Retry: fast}, interop.NotFound, 1},
		{"409 is an answer, not retried", reply(409, nil, ``),
			interop.Service{Retry: fast}, interop.Rejected, 1},
		{"HTML on 200 would come back the same", reply(200, ct("text/html"), `<p>mantenimiento</p>`),
			interop.Service{Retry: fast}, interop.Error, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, hits := counted(t, tt.h)
			r := client(t, url, tt.svc).Call(context.Background(), "svc", nil)
			if r.Outcome != tt.want || hits.Load() != tt.wantHits || r.Attempts != int(tt.wantHits) {
				t.Errorf("Outcome %q, server hit %d times, Attempts %d; want %q, %d", r.Outcome, hits.Load(), r.Attempts, tt.want, tt.wantHits)
			}
		})
	}

	t.Run("recovers on the second try", func(t *testing.T) {
		var n atomic.Int32
		url, hits := counted(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				reply(503, nil, ``)(w, r)
				return
			}
			reply(200, ct("application/json"), `{"ok":true}`)(w, r)
		})
		r := client(t, url, interop.Service{Retry: fast}).Call(context.Background(), "svc", nil)
		if r.Outcome != interop.OK || r.Get("ok") != true || hits.Load() != 2 || r.Attempts != 2 {
			t.Errorf("Outcome %q, hits %d, Attempts %d", r.Outcome, hits.Load(), r.Attempts)
		}
	})

	t.Run("a timed-out attempt is retried", func(t *testing.T) {
		var n atomic.Int32
		url, hits := counted(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				hang(w, r)
				return
			}
			reply(200, ct("application/json"), `{}`)(w, r)
		})
		r := client(t, url, interop.Service{Timeout: 300 * time.Millisecond, Retry: fast}).Call(context.Background(), "svc", nil)
		if r.Outcome != interop.OK || hits.Load() != 2 {
			t.Errorf("Outcome %q (%v), hits %d", r.Outcome, r.Err, hits.Load())
		}
	})

	t.Run("a refused connection is retried", func(t *testing.T) {
		r := client(t, closedURL(), interop.Service{Retry: fast}).Call(context.Background(), "svc", nil)
		if r.Outcome != interop.Error || r.Attempts != 3 || r.Status != 0 {
			t.Errorf("Outcome %q, Attempts %d, Status %d", r.Outcome, r.Attempts, r.Status)
		}
	})

	t.Run("unusable params are not retried", func(t *testing.T) {
		url, hits := counted(t, reply(200, nil, `{}`))
		r := client(t, url, interop.Service{Path: "/x/{id}", Retry: fast}).Call(context.Background(), "svc", nil)
		if r.Outcome != interop.Error || !errors.Is(r.Err, interop.ErrMissingParam) || hits.Load() != 0 {
			t.Errorf("Outcome %q, Err %v, hits %d", r.Outcome, r.Err, hits.Load())
		}
	})

	t.Run("the budget, not the attempts, ends the retries", func(t *testing.T) {
		url, hits := counted(t, hang)
		c := client(t, url, interop.Service{
			Timeout: 100 * time.Millisecond,
			Retry:   interop.Retry{Attempts: 10, Backoff: 20 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		}, interop.WithSafetyMargin(50*time.Millisecond))
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		r := c.Call(ctx, "svc", nil)
		// Ten attempts of 100ms cannot fit in 350ms: without the budget all
		// ten would be sent. (That no attempt outlives the deadline less the
		// margin is TestAttemptDeadlines, without a clock in the way.)
		if r.Outcome != interop.Timeout || r.Attempts >= 10 || hits.Load() >= 10 {
			t.Errorf("Outcome %q, Attempts %d, hits %d", r.Outcome, r.Attempts, hits.Load())
		}
	})
}

// closedURL is the URL of a loopback port nothing listens on any more.
func closedURL() string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

func TestBreaker(t *testing.T) {
	var status atomic.Int32
	status.Store(500)
	url, hits := counted(t, func(w http.ResponseWriter, r *http.Request) {
		reply(int(status.Load()), ct("application/json"), `{}`)(w, r)
	})
	var mu sync.Mutex
	var changes []string
	// open_for is long enough that the checks right after opening never
	// race it, short enough to wait for.
	c := client(t, url, interop.Service{Breaker: interop.Breaker{Failures: 3, OpenFor: time.Second}},
		interop.WithCircuitObserver(func(service string, from, to interop.CircuitState) {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, service+": "+string(from)+" → "+string(to))
		}))
	transitions := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(changes)
	}
	ctx := context.Background()

	for i := range 3 {
		if r := c.Call(ctx, "svc", nil); r.Outcome != interop.Error {
			t.Fatalf("call %d: %q", i+1, r.Outcome)
		}
	}
	if got := c.CircuitState("svc"); got != interop.CircuitOpen {
		t.Fatalf("after 3 failures the circuit is %q", got)
	}
	r := c.Call(ctx, "svc", nil)
	if r.Outcome != interop.Unavailable || !errors.Is(r.Err, interop.ErrCircuitOpen) || r.Attempts != 0 {
		t.Errorf("open circuit: Outcome %q, Err %v, Attempts %d", r.Outcome, r.Err, r.Attempts)
	}
	if hits.Load() != 3 {
		t.Errorf("the back-end was called %d times, want 3: an open circuit does not call", hits.Load())
	}

	// After open_for, one trial call goes through; the back-end is fixed.
	status.Store(200)
	testutil.WaitFor(t, "the circuit to half-open", func() bool { return c.CircuitState("svc") == interop.CircuitHalfOpen })
	if r := c.Call(ctx, "svc", nil); r.Outcome != interop.OK {
		t.Errorf("trial call: %q %v", r.Outcome, r.Err)
	}
	if got := c.CircuitState("svc"); got != interop.CircuitClosed {
		t.Errorf("after a good trial call the circuit is %q", got)
	}
	want := []string{"svc: closed → open", "svc: open → half-open", "svc: half-open → closed"}
	if got := transitions(); !slices.Equal(got, want) {
		t.Errorf("transitions %q, want %q", got, want)
	}

	t.Run("a failed trial call opens it again", func(t *testing.T) {
		status.Store(503)
		for range 3 {
			c.Call(ctx, "svc", nil)
		}
		testutil.WaitFor(t, "the circuit to half-open", func() bool { return c.CircuitState("svc") == interop.CircuitHalfOpen })
		c.Call(ctx, "svc", nil)
		if got := c.CircuitState("svc"); got != interop.CircuitOpen {
			t.Errorf("circuit %q", got)
		}
	})

	if got := c.CircuitState("nope"); got != "" {
		t.Errorf("unknown service: %q", got)
	}
}

func TestBreakerCountsOnlyBackendFailures(t *testing.T) {
	tests := []struct {
		name   string
		h      http.HandlerFunc
		svc    interop.Service
		params map[string]any
		ctx    func() (context.Context, context.CancelFunc)
	}{
		{name: "answers: 404", h: reply(404, nil, ``)},
		{name: "answers: 409", h: reply(409, ct("application/json"), `{"error":"slot_taken"}`)},
		{name: "unusable params", h: reply(200, nil, `{}`), svc: interop.Service{Path: "/x/{id}"}},
		{name: "timeouts the caller's deadline caused", h: hang, ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 80*time.Millisecond)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.svc.Breaker = interop.Breaker{Failures: 2, OpenFor: time.Minute}
			c := client(t, backend(t, tt.h), tt.svc, interop.WithSafetyMargin(10*time.Millisecond))
			for range 4 {
				ctx, cancel := context.Background(), func() {}
				if tt.ctx != nil {
					ctx, cancel = tt.ctx()
				}
				c.Call(ctx, "svc", tt.params)
				cancel()
			}
			if got := c.CircuitState("svc"); got != interop.CircuitClosed {
				t.Errorf("circuit %q after 4 such calls", got)
			}
		})
	}
}

func TestHopBudget(t *testing.T) {
	t.Run("cuts a slow call to the caller's deadline less the margin", func(t *testing.T) {
		c := client(t, backend(t, hang), interop.Service{Timeout: 5 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		r := c.Call(ctx, "svc", nil)
		// 300ms − the 250ms default margin: the call gets ~50ms. Well before
		// 5s, with room for a loaded machine.
		if r.Outcome != interop.Timeout || r.Attempts != 1 || r.Elapsed > 2*time.Second {
			t.Errorf("Outcome %q, Attempts %d, after %v (Err %v)", r.Outcome, r.Attempts, r.Elapsed, r.Err)
		}
	})

	t.Run("the service's timeout when it is shorter", func(t *testing.T) {
		c := client(t, backend(t, hang), interop.Service{Timeout: 50 * time.Millisecond})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if r := c.Call(ctx, "svc", nil); r.Outcome != interop.Timeout || r.Elapsed > 10*time.Second {
			t.Errorf("Outcome %q after %v", r.Outcome, r.Elapsed)
		}
	})

	t.Run("no time left: Timeout without calling", func(t *testing.T) {
		url, hits := counted(t, reply(200, nil, `{}`))
		c := client(t, url, interop.Service{}, interop.WithSafetyMargin(100*time.Millisecond))
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Millisecond)
		defer cancel()
		r := c.Call(ctx, "svc", nil)
		if r.Outcome != interop.Timeout || !errors.Is(r.Err, interop.ErrNoBudget) || hits.Load() != 0 || r.Attempts != 0 {
			t.Errorf("Outcome %q, Err %v, hits %d", r.Outcome, r.Err, hits.Load())
		}
	})

	t.Run("a smaller margin leaves time to call", func(t *testing.T) {
		url, _ := counted(t, reply(200, nil, `{}`))
		c := client(t, url, interop.Service{}, interop.WithSafetyMargin(10*time.Millisecond))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		// With the default margin there would be no time at all.
		if r := c.Call(ctx, "svc", nil); r.Attempts != 1 || errors.Is(r.Err, interop.ErrNoBudget) {
			t.Errorf("Outcome %q, Attempts %d, Err %v", r.Outcome, r.Attempts, r.Err)
		}
	})
}

func TestRateLimit(t *testing.T) {
	t.Run("over the limit: Unavailable at once", func(t *testing.T) {
		url, hits := counted(t, reply(200, nil, `{}`))
		c := client(t, url, interop.Service{Rate: interop.Rate{PerSecond: 0.1, Burst: 2}}) // a token every 10s
		var outcomes []interop.Outcome
		start := time.Now()
		for range 3 {
			r := c.Call(context.Background(), "svc", nil)
			outcomes = append(outcomes, r.Outcome)
			if r.Outcome == interop.Unavailable && !errors.Is(r.Err, interop.ErrRateLimited) {
				t.Errorf("Err %v", r.Err)
			}
		}
		if want := []interop.Outcome{interop.OK, interop.OK, interop.Unavailable}; !slices.Equal(outcomes, want) {
			t.Errorf("outcomes %q, want %q", outcomes, want)
		}
		if hits.Load() != 2 {
			t.Errorf("back-end hit %d times", hits.Load())
		}
		if time.Since(start) > 5*time.Second {
			t.Error("the refused call queued")
		}
		if got := c.CircuitState("svc"); got != interop.CircuitClosed {
			t.Errorf("a rate-limited call moved the breaker: %q", got)
		}
	})

	t.Run("a short wait is taken", func(t *testing.T) {
		url, hits := counted(t, reply(200, nil, `{}`))
		c := client(t, url, interop.Service{Timeout: time.Second, Rate: interop.Rate{PerSecond: 20, Burst: 1}})
		start := time.Now()
		for range 3 {
			if r := c.Call(context.Background(), "svc", nil); r.Outcome != interop.OK {
				t.Errorf("Outcome %q, Err %v", r.Outcome, r.Err)
			}
		}
		// Three calls at 20/s with a burst of 1: two waits of ~50ms.
		if elapsed := time.Since(start); elapsed < 80*time.Millisecond || hits.Load() != 3 {
			t.Errorf("3 calls in %v, %d hits", elapsed, hits.Load())
		}
	})

	t.Run("no queueing past the deadline", func(t *testing.T) {
		url, hits := counted(t, reply(200, nil, `{}`))
		c := client(t, url, interop.Service{Rate: interop.Rate{PerSecond: 0.2, Burst: 1}}, interop.WithSafetyMargin(10*time.Millisecond))
		c.Call(context.Background(), "svc", nil)
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		// The next token is ~5s away, past this caller's deadline.
		if r := c.Call(ctx, "svc", nil); r.Outcome != interop.Unavailable || !errors.Is(r.Err, interop.ErrRateLimited) {
			t.Errorf("Outcome %q, Err %v", r.Outcome, r.Err)
		}
		if hits.Load() != 1 {
			t.Errorf("hits %d", hits.Load())
		}
	})
}

func TestCache(t *testing.T) {
	slots := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("office") == "loja" {
			reply(404, nil, ``)(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"office":"`+r.URL.Query().Get("office")+`","slots":["09:00"]}`)
	}

	t.Run("two identical GETs within the TTL hit the back-end once", func(t *testing.T) {
		url, hits := counted(t, slots)
		c := client(t, url, interop.Service{Cache: time.Minute})
		params := map[string]any{"office": "cuenca", "day": "lun"}
		first := c.Call(context.Background(), "svc", params)
		second := c.Call(context.Background(), "svc", map[string]any{"day": "lun", "office": "cuenca"})
		if hits.Load() != 1 {
			t.Errorf("back-end hit %d times", hits.Load())
		}
		if first.Cached || !second.Cached || second.Outcome != interop.OK || second.Get("office") != "cuenca" || second.Attempts != 0 {
			t.Errorf("first %+v\nsecond %+v", first, second)
		}
		c.Call(context.Background(), "svc", map[string]any{"office": "ambato"})
		if hits.Load() != 2 {
			t.Errorf("other params: back-end hit %d times, want 2", hits.Load())
		}
	})

	t.Run("only OK answers are kept", func(t *testing.T) {
		url, hits := counted(t, slots)
		c := client(t, url, interop.Service{Cache: time.Minute})
		for range 2 {
			if r := c.Call(context.Background(), "svc", map[string]any{"office": "loja"}); r.Outcome != interop.NotFound || r.Cached {
				t.Errorf("%q cached=%v", r.Outcome, r.Cached)
			}
		}
		if hits.Load() != 2 {
			t.Errorf("hits %d", hits.Load())
		}
	})

	t.Run("expires after the TTL", func(t *testing.T) {
		url, hits := counted(t, slots)
		clock := testutil.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		c := client(t, url, interop.Service{Cache: 30 * time.Millisecond}, interop.WithClock(clock.Now))
		c.Call(context.Background(), "svc", nil)
		clock.Advance(30*time.Millisecond - time.Nanosecond)
		if r := c.Call(context.Background(), "svc", nil); !r.Cached || hits.Load() != 1 {
			t.Errorf("just before the TTL: cached=%v, hits %d", r.Cached, hits.Load())
		}
		clock.Advance(time.Nanosecond)
		if r := c.Call(context.Background(), "svc", nil); r.Cached || hits.Load() != 2 {
			t.Errorf("cached=%v, hits %d", r.Cached, hits.Load())
		}
	})

	t.Run("bounded: least recently used go first", func(t *testing.T) {
		url, hits := counted(t, slots)
		c := client(t, url, interop.Service{Cache: time.Minute}, interop.WithCacheSize(300)) // room for one answer
		for _, office := range []string{"a", "b", "a"} {
			c.Call(context.Background(), "svc", map[string]any{"office": office})
		}
		if hits.Load() != 3 {
			t.Errorf("hits %d: the cache kept more than its size", hits.Load())
		}
		if r := c.Call(context.Background(), "svc", map[string]any{"office": "a"}); !r.Cached {
			t.Error("the most recent answer was not kept")
		}
	})

	t.Run("served while the circuit is open", func(t *testing.T) {
		var fail atomic.Bool
		url, _ := counted(t, func(w http.ResponseWriter, r *http.Request) {
			if fail.Load() {
				reply(500, nil, ``)(w, r)
				return
			}
			slots(w, r)
		})
		c := client(t, url, interop.Service{Cache: time.Minute, Breaker: interop.Breaker{Failures: 1, OpenFor: time.Minute}})
		c.Call(context.Background(), "svc", map[string]any{"office": "a"})
		fail.Store(true)
		c.Call(context.Background(), "svc", map[string]any{"office": "b"})
		if c.CircuitState("svc") != interop.CircuitOpen {
			t.Fatal("circuit not open")
		}
		if r := c.Call(context.Background(), "svc", map[string]any{"office": "a"}); r.Outcome != interop.OK || !r.Cached {
			t.Errorf("%q cached=%v", r.Outcome, r.Cached)
		}
	})
}
