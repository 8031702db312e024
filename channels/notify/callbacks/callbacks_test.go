package callbacks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

var (
	t0     = time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	secret = []byte("0123456789abcdef0123456789abcdef-transito")
)

// institution is an institution's endpoint on loopback: it verifies
// every request as the docs tell institutions to, and answers with the
// statuses of plan in turn (200 once the plan runs out).
type institution struct {
	*httptest.Server
	clock clockwork.Clock
	mu    sync.Mutex
	plan  []int
	got   []received
}

type received struct {
	event     callbacks.Event
	body      []byte
	signature string
	verified  error
}

func newInstitution(t *testing.T, clock clockwork.Clock, plan ...int) *institution {
	in := &institution{clock: clock, plan: plan}
	in.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := received{body: body, signature: r.Header.Get(callbacks.SignatureHeader)}
		rec.verified = callbacks.Verify(rec.signature, body, secret, in.clock.Now(), 0)
		_ = json.Unmarshal(body, &rec.event)
		in.mu.Lock()
		in.got = append(in.got, rec)
		status := http.StatusOK
		if len(in.plan) > 0 {
			status, in.plan = in.plan[0], in.plan[1:]
		}
		in.mu.Unlock()
		if r.Header.Get(callbacks.EventHeader) != rec.event.ID {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(in.Close)
	return in
}

func (in *institution) received() []received {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]received(nil), in.got...)
}

type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) Callback(inst, outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[inst+"/"+outcome]++
}

func (c *counts) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

func (c *counts) all() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

type rig struct {
	cb    *callbacks.Callbacks
	clock *clockwork.FakeClock
	store callbacks.Store
	obs   *counts
}

// start runs a pusher on a fake clock, to the endpoints given by
// institution id, with a backoff without jitter.
func start(t *testing.T, store callbacks.Store, clock *clockwork.FakeClock, endpoints map[string]string, tune func(*callbacks.Options)) *rig {
	t.Helper()
	obs := &counts{}
	opts := callbacks.Options{
		Store: store,
		Endpoint: func(inst string) (callbacks.Endpoint, bool) {
			u, ok := endpoints[inst]
			return callbacks.Endpoint{URL: u, Secret: secret}, ok
		},
		Backoff:  callbacks.BackoffInterval,
		Now:      clock.Now,
		Sleep:    testutil.Sleep(clock),
		Observer: obs,
	}
	if tune != nil {
		tune(&opts)
	}
	cb, err := callbacks.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = cb.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &rig{cb: cb, clock: clock, store: store, obs: obs}
}

func event(id string) callbacks.Event {
	return callbacks.Event{ID: id, Type: callbacks.TypeNotificationStatus, Data: json.RawMessage(`{"notification_id":"ntf_1","status":"delivered"}`)}
}

func (r *rig) status(t *testing.T, id string) callbacks.Status {
	t.Helper()
	st, err := r.cb.Status(context.Background(), id)
	if err != nil {
		t.Fatalf("status of %s: %v", id, err)
	}
	return st
}

// observed waits until the observer has heard outcome, which it hears
// after the delivery's record says it, and returns all it heard.
func (r *rig) observed(t *testing.T, outcome string) map[string]int {
	t.Helper()
	testutil.WaitFor(t, "the observer to hear "+outcome, func() bool { return r.obs.get(outcome) > 0 })
	return r.obs.all()
}

func (r *rig) waitState(t *testing.T, id, state string, attempts int) callbacks.Status {
	t.Helper()
	var st callbacks.Status
	testutil.WaitFor(t, fmt.Sprintf("%s %s after %d attempts", id, state, attempts), func() bool {
		st, _ = r.cb.Status(context.Background(), id)
		return st.State == state && st.Attempts == attempts
	})
	return st
}

func TestSignedCallbackVerifies(t *testing.T) {
	clock := testutil.NewClock(t0)
	in := newInstitution(t, clock)
	r := start(t, callbacks.NewMemory(clock.Now), clock, map[string]string{"transito": in.URL}, nil)

	if err := r.cb.Push(context.Background(), "transito", event("evt_1")); err != nil {
		t.Fatal(err)
	}
	st := r.waitState(t, "evt_1", callbacks.StateDelivered, 1)
	got := in.received()
	if len(got) != 1 {
		t.Fatalf("the institution got %d requests, want 1", len(got))
	}
	if got[0].verified != nil {
		t.Fatalf("Verify refused the gateway's own signature: %v (header %q)", got[0].verified, got[0].signature)
	}
	ev := got[0].event
	if ev.ID != "evt_1" || ev.Type != callbacks.TypeNotificationStatus || ev.Institution != "transito" || !ev.Created.Equal(t0) || string(ev.Data) != `{"notification_id":"ntf_1","status":"delivered"}` {
		t.Errorf("event received = %+v", ev)
	}
	if want := fmt.Sprintf("t=%d,", t0.Unix()); !strings.HasPrefix(got[0].signature, want) {
		t.Errorf("signature %q does not start with %q", got[0].signature, want)
	}
	if st.LastError != "" || !st.Updated.Equal(t0) {
		t.Errorf("status = %+v", st)
	}
	if obs := r.observed(t, "transito/delivered"); obs["transito/attempted"] != 1 || obs["transito/delivered"] != 1 {
		t.Errorf("observed %v", obs)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"evt_1"}`)
	header := callbacks.Sign(secret, t0, body)
	cases := []struct {
		name   string
		header string
		body   []byte
		secret []byte
		now    time.Time
		want   error
	}{
		{"fresh", header, body, secret, t0.Add(time.Minute), nil},
		{"at the edge of the tolerance", header, body, secret, t0.Add(callbacks.DefaultTolerance), nil},
		{"replayed after the tolerance", header, body, secret, t0.Add(callbacks.DefaultTolerance + time.Second), callbacks.ErrOldSignature},
		{"from the future", header, body, secret, t0.Add(-callbacks.DefaultTolerance - time.Second), callbacks.ErrOldSignature},
		{"old time written fresh", strings.Replace(header, fmt.Sprint(t0.Unix()), fmt.Sprint(t0.Add(time.Hour).Unix()), 1), body, secret, t0.Add(time.Hour), callbacks.ErrBadSignature},
		{"body changed", header, []byte(`{"id":"evt_2"}`), secret, t0, callbacks.ErrBadSignature},
		{"another secret", header, body, []byte("someone else's secret, 32 bytes."), t0, callbacks.ErrBadSignature},
		{"no header", "", body, secret, t0, callbacks.ErrNoSignature},
		{"no v1", fmt.Sprintf("t=%d", t0.Unix()), body, secret, t0, callbacks.ErrNoSignature},
		{"t not a number", "t=yesterday,v1=00", body, secret, t0, callbacks.ErrNoSignature},
		{"one of two v1 matches", "v1=00ff," + header, body, secret, t0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := callbacks.Verify(c.header, c.body, c.secret, c.now, 0)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

// A request captured on its way to the institution and sent again later
// does not verify.
func TestCapturedCallbackReplayedLaterIsRefused(t *testing.T) {
	clock := testutil.NewClock(t0)
	in := newInstitution(t, clock)
	r := start(t, callbacks.NewMemory(clock.Now), clock, map[string]string{"transito": in.URL}, nil)
	if err := r.cb.Push(context.Background(), "transito", event("evt_1")); err != nil {
		t.Fatal(err)
	}
	r.waitState(t, "evt_1", callbacks.StateDelivered, 1)
	got := in.received()[0]
	if err := callbacks.Verify(got.signature, got.body, secret, t0.Add(10*time.Minute), 0); !errors.Is(err, callbacks.ErrOldSignature) {
		t.Errorf("the captured request verified 10 minutes later: %v", err)
	}
}

func TestRetriesAfterServerErrorsUntilTaken(t *testing.T) {
	clock := testutil.NewClock(t0)
	in := newInstitution(t, clock, 500, 503, 500)
	r := start(t, callbacks.NewMemory(clock.Now), clock, map[string]string{"transito": in.URL}, nil)
	if err := r.cb.Push(context.Background(), "transito", event("evt_1")); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 3; n++ {
		st := r.waitState(t, "evt_1", callbacks.StatePending, n)
		wait := callbacks.BackoffInterval(n)
		if !strings.HasPrefix(st.LastError, "answered 50") || !st.Next.Equal(clock.Now().Add(wait)) {
			t.Fatalf("after attempt %d: %+v, want the next attempt %s later", n, st, wait)
		}
		// Nothing happens before the backoff has passed.
		clock.Advance(wait - time.Millisecond)
		testutil.Asleep(t, clock, 1)
		if got := len(in.received()); got != n {
			t.Fatalf("%d attempts before the backoff after attempt %d had passed", got, n)
		}
		// Due now: taken at the pusher's next look, within a second.
		clock.Advance(callbacks.DefaultEvery)
	}
	st := r.waitState(t, "evt_1", callbacks.StateDelivered, 4)
	if st.LastError != "answered 500 Internal Server Error" {
		t.Errorf("last error = %q", st.LastError)
	}
	got := in.received()
	for i, g := range got {
		if g.verified != nil || string(g.body) != string(got[0].body) {
			t.Errorf("attempt %d: verified %v; body %s, want the first's", i+1, g.verified, g.body)
		}
	}
	if obs := r.observed(t, "transito/delivered"); obs["transito/attempted"] != 4 || obs["transito/delivered"] != 1 || obs["transito/failed"] != 0 {
		t.Errorf("observed %v", obs)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	clock := testutil.NewClock(t0)
	in := newInstitution(t, clock, 500, 500, 500, 500, 500)
	r := start(t, callbacks.NewMemory(clock.Now), clock, map[string]string{"transito": in.URL}, func(o *callbacks.Options) { o.MaxAttempts = 3 })
	if err := r.cb.Push(context.Background(), "transito", event("evt_1")); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 2; n++ {
		r.waitState(t, "evt_1", callbacks.StatePending, n)
		clock.Advance(callbacks.BackoffInterval(n))
	}
	st := r.waitState(t, "evt_1", callbacks.StateFailed, 3)
	if st.LastError != "gave up after 3 attempts: answered 500 Internal Server Error" {
		t.Errorf("last error = %q", st.LastError)
	}
	clock.Advance(24 * time.Hour)
	testutil.Asleep(t, clock, 1)
	if got := len(in.received()); got != 3 {
		t.Errorf("%d attempts, want 3", got)
	}
	if obs := r.observed(t, "transito/failed"); obs["transito/failed"] != 1 || obs["transito/attempted"] != 3 {
		t.Errorf("observed %v", obs)
	}
}

func TestGivesUpPastMaxAge(t *testing.T) {
	clock := testutil.NewClock(t0)
	in := newInstitution(t, clock, 500, 500, 500)
	r := start(t, callbacks.NewMemory(clock.Now), clock, map[string]string{"transito": in.URL}, func(o *callbacks.Options) {
		o.MaxAge = time.Minute // 10s, 20s, then 40s would come after it
	})
	if err := r.cb.Push(context.Background(), "transito", event("evt_1")); err != nil {
		t.Fatal(err)
	}
	r.waitState(t, "evt_1", callbacks.StatePending, 1)
	clock.Advance(10 * time.Second)
	r.waitState(t, "evt_1", callbacks.StatePending, 2)
	clock.Advance(20 * time.Second)
	st := r.waitState(t, "evt_1", callbacks.StateFailed, 3)
	if !strings.HasPrefix(st.LastError, "gave up after 3 attempts, the next would be older than 1m0s") {
		t.Errorf("last error = %q", st.LastError)
	}
}

// A 3xx is not followed: the signed body goes where it was configured
// to, and nowhere else.
func TestRedirectIsNotFollowed(t *testing.T) {
	clock := testutil.NewClock(t0)
	elsewhere := newInstitution(t, clock)
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	r := start(t, callbacks.NewMemory(clock.Now), clock, map[string]string{"transito": redirect.URL}, nil)
	if err := r.cb.Push(context.Background(), "transito", event("evt_1")); err != nil {
		t.Fatal(err)
	}
	st := r.waitState(t, "evt_1", callbacks.StatePending, 1)
	if st.LastError != "answered 307 Temporary Redirect" || len(elsewhere.received()) != 0 {
		t.Errorf("status %+v; the redirect's target got %d requests", st, len(elsewhere.received()))
	}
}

// An endpoint that never answers costs one attempt its timeout, and
// holds at most PerInstitution workers: other institutions hear back.
func TestHangingInstitutionHoldsNobodyElse(t *testing.T) {
	clock := testutil.NewClock(t0)
	release := make(chan struct{})
	var hung atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the server sees the client leave only once the body is read
		hung.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	fast := newInstitution(t, clock)
	r := start(t, callbacks.NewMemory(clock.Now), clock, map[string]string{"slow": slow.URL, "fast": fast.URL}, func(o *callbacks.Options) {
		o.Workers, o.PerInstitution, o.Timeout = 3, 2, time.Hour
	})
	ctx := context.Background()
	for i := range 5 {
		if err := r.cb.Push(ctx, "slow", event(fmt.Sprintf("evt_slow_%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, "two attempts hanging at the slow institution", func() bool { return hung.Load() == 2 })
	if err := r.cb.Push(ctx, "fast", event("evt_fast")); err != nil {
		t.Fatal(err)
	}
	r.waitState(t, "evt_fast", callbacks.StateDelivered, 1)
	if n := hung.Load(); n != 2 {
		t.Errorf("%d attempts in flight at the slow institution, want at most 2", n)
	}
}

func TestAttemptTimesOut(t *testing.T) {
	clock := testutil.NewClock(t0)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the server sees the client leave only once the body is read
		<-r.Context().Done()
	}))
	defer slow.Close()
	r := start(t, callbacks.NewMemory(clock.Now), clock, map[string]string{"slow": slow.URL}, func(o *callbacks.Options) { o.Timeout = 20 * time.Millisecond })
	if err := r.cb.Push(context.Background(), "slow", event("evt_1")); err != nil {
		t.Fatal(err)
	}
	st := r.waitState(t, "evt_1", callbacks.StatePending, 1)
	if st.LastError != "no answer within the attempt's timeout" {
		t.Errorf("last error = %q", st.LastError)
	}
}

func TestPushRefuses(t *testing.T) {
	clock := testutil.NewClock(t0)
	r := start(t, callbacks.NewMemory(clock.Now), clock, map[string]string{"transito": "https://transito.example/cb"}, nil)
	ctx := context.Background()
	if err := r.cb.Push(ctx, "registro", event("evt_1")); !errors.Is(err, callbacks.ErrNoEndpoint) {
		t.Errorf("push to an institution without a callback: %v", err)
	}
	big := event("evt_2")
	big.Data = json.RawMessage(`"` + strings.Repeat("x", callbacks.MaxPayload) + `"`)
	if err := r.cb.Push(ctx, "transito", big); err == nil || !strings.Contains(err.Error(), "the limit is 65536") {
		t.Errorf("push of a body over the limit: %v", err)
	}
	if err := r.cb.Push(ctx, "transito", callbacks.Event{Type: callbacks.TypeReply}); err == nil {
		t.Error("push without an id accepted")
	}
	if _, err := r.cb.Status(ctx, "evt_2"); !errors.Is(err, callbacks.ErrNotFound) {
		t.Errorf("a refused push is kept: %v", err)
	}
}

// The same event pushed twice (a carrier's receipt repeated) reaches the
// institution once.
func TestPushingAnEventAgainPushesItOnce(t *testing.T) {
	clock := testutil.NewClock(t0)
	in := newInstitution(t, clock)
	r := start(t, callbacks.NewMemory(clock.Now), clock, map[string]string{"transito": in.URL}, nil)
	ctx := context.Background()
	for range 2 {
		if err := r.cb.Push(ctx, "transito", event("evt_1")); err != nil {
			t.Fatal(err)
		}
	}
	r.waitState(t, "evt_1", callbacks.StateDelivered, 1)
	if err := r.cb.Push(ctx, "transito", event("evt_1")); err != nil {
		t.Fatal(err)
	}
	if err := r.cb.Push(ctx, "transito", event("evt_2")); err != nil {
		t.Fatal(err)
	}
	r.waitState(t, "evt_2", callbacks.StateDelivered, 1)
	if n := len(in.received()); n != 2 {
		t.Errorf("the institution got %d requests, want 2", n)
	}
}

func TestCheckURL(t *testing.T) {
	cases := []struct{ url, err string }{
		{"https://api.transito.gob.ec/ventanilla/callbacks", ""},
		{"https://api.transito.gob.ec:8443/cb?k=v", ""},
		{"http://127.0.0.1:8080/cb", ""},
		{"http://localhost/cb", ""},
		{"http://[::1]:9000/cb", ""},
		{"http://api.transito.gob.ec/cb", "callbacks go over https"},
		{"http://10.0.0.4/cb", "callbacks go over https"},
		{"ftp://api.transito.gob.ec/cb", "the scheme must be https"},
		{"api.transito.gob.ec/cb", "not an absolute URL"},
		{"https://", "not an absolute URL"},
		{"https://user:pass@api.transito.gob.ec/cb", "no user or password"},
		{"https://api.transito.gob.ec/cb#x", "no fragment"},
		{"https://api.transito.gob.ec/%zz", "not an absolute URL"},
	}
	for _, c := range cases {
		err := callbacks.CheckURL(c.url)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("CheckURL(%q) = %v, want nil", c.url, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("CheckURL(%q) = %v, want %q", c.url, err, c.err)
		}
	}
}

func TestSecretIsNeverPrinted(t *testing.T) {
	s := callbacks.Secret("super-secret-value-0123456789abcdef")
	ep := callbacks.Endpoint{URL: "https://x.example", Secret: s}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %x %q", ep, ep, ep, s, s, s), s.LogValue().String()} {
		if strings.Contains(out, "super-secret") || strings.Contains(out, fmt.Sprintf("%x", []byte("super"))) {
			t.Errorf("the secret shows in %q", out)
		}
	}
}
