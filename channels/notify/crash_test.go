package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

const outcomeCrashEnv = "VENTANILLA_NOTIFY_OUTCOME_CRASH_HELPER"

// refused is the number the crash tests' carrier refuses for good.
const refused = "+593991230000"

// refusingCarrier accepts every message but those to refused, which it
// refuses as a carrier refuses an invalid number (not worth retrying).
type refusingCarrier struct{ fakeCarrier }

func (c *refusingCarrier) SendID(ctx context.Context, m carrier.Message) (string, error) {
	if m.To == refused {
		return "", errors.New("HTTP 400: error 21211")
	}
	return c.fakeCarrier.SendID(ctx, m)
}

func (c *refusingCarrier) Send(ctx context.Context, m carrier.Message) error {
	_, err := c.SendID(ctx, m)
	return err
}

// crashGateway is the part of the gateway the outcome of a notification
// goes through, on one Redis: the queue, the notifications API and its
// records, and the callbacks' store and pusher.
type crashGateway struct {
	queue *outbound.Redis
	h     *notify.Handler
	cb    *callbacks.Callbacks
	e     *echo.Echo
}

func newCrashGateway(t testing.TB, client *redis.Client, consumer, url string, now func() time.Time, finished func(context.Context, outbound.Status) error) *crashGateway {
	g := &crashGateway{}
	cb, err := callbacks.New(callbacks.Options{
		Store: callbacks.NewRedis(client),
		Endpoint: func(inst string) (callbacks.Endpoint, bool) {
			return callbacks.Endpoint{URL: url, Secret: callbackSecret}, inst == "registro_civil"
		},
		Every: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	g.cb = cb
	if finished == nil {
		finished = func(ctx context.Context, st outbound.Status) error { return g.h.Finished(ctx, st) }
	}
	q, err := outbound.NewRedis(client, outbound.Options{
		Senders:  map[string]carrier.Sender{"twilio-sms": &refusingCarrier{fakeCarrier{name: "twilio-sms"}}},
		Now:      now,
		Finished: finished,
	}, outbound.RedisOptions{Consumer: consumer, Block: 20 * time.Millisecond, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	g.queue = q
	records := sessions.NewRedis(client, sessions.RedisOptions{})
	tpl, err := notify.LoadTemplates("testdata/templates.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	h, err := notify.New(notify.Options{
		Queue: q, Store: records, Records: records, Templates: tpl, Callbacks: cb,
		Tokens:   map[string]string{"registro_civil": civilToken},
		Carriers: map[string]string{"sms": "twilio-sms"},
		IDs:      func() string { n++; return fmt.Sprintf("ntf_crash%d", n) },
		Now:      now,
	})
	if err != nil {
		t.Fatal(err)
	}
	g.h = h
	g.e = echo.New()
	h.Mount(g.e)
	return g
}

func (g *crashGateway) run(ctx context.Context, wg *sync.WaitGroup) {
	wg.Go(func() { _ = g.queue.Run(ctx) })
	wg.Go(func() { _ = g.cb.Run(ctx) })
}

func (g *crashGateway) post(to string) error {
	body := `{"to": "` + to + `", "template": "tramite_listo", "params": {"numero": "123"}}`
	req := httptest.NewRequest(http.MethodPost, "/v1/notifications", strings.NewReader(body))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	req.Header.Set("Authorization", "Bearer "+civilToken)
	rec := httptest.NewRecorder()
	g.e.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		return fmt.Errorf("POST: %d %s", rec.Code, rec.Body)
	}
	return nil
}

// TestOutcomeCrashHelperProcess is the process
// TestOutcomeRecordedThenKilledIsPushed kills: its queue records two
// notifications' final statuses — one delivered by the carrier's
// receipt, one refused by the carrier — and it stops, for good, where
// the queue tells the notifications API, before the callback event is
// stored. It does nothing in a normal test run.
func TestOutcomeCrashHelperProcess(t *testing.T) {
	if os.Getenv(outcomeCrashEnv) != "1" {
		return
	}
	client := redis.NewClient(&redis.Options{Addr: os.Getenv("HELPER_REDIS")})
	stopped := func(_ context.Context, st outbound.Status) error {
		fmt.Printf("recorded %s %s\n", st.ID, st.State)
		select {} // the process dies here
	}
	g := newCrashGateway(t, client, "doomed", os.Getenv("HELPER_URL"), time.Now, stopped)
	var wg sync.WaitGroup
	g.run(context.Background(), &wg)
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := g.post(citizen); err != nil {
		fail(err)
	}
	if err := g.post(refused); err != nil {
		fail(err)
	}
	ctx := context.Background()
	testutil.WaitFor(t, "the notification sent", func() bool {
		st, err := g.queue.Status(ctx, "ntf_crash1")
		return err == nil && st.State == outbound.StateSent
	})
	if err := g.queue.MarkDelivered(ctx, "SMntf_crash1", "delivered"); err != nil {
		fail(err)
	}
	select {} // until killed
}

// TestOutcomeRecordedThenKilledIsPushed kills with SIGKILL a process
// whose queue recorded two notifications' final statuses (delivered,
// failed) and died before it stored their callback events; a new
// instance on the same Redis pushes each outcome to the institution,
// once.
func TestOutcomeRecordedThenKilledIsPushed(t *testing.T) {
	if os.Getenv(outcomeCrashEnv) == "1" {
		t.Skip("inside the helper process")
	}
	addr, _ := redistest.StartServer(t)
	client := redistest.Client(t, addr)
	var (
		mu  sync.Mutex
		got = map[string]int{}
	)
	institution := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := callbacks.Verify(r.Header.Get(callbacks.SignatureHeader), body, callbackSecret, time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev callbacks.Event
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		got[ev.ID]++
		mu.Unlock()
	}))
	defer institution.Close()

	child := testutil.StartChild(t, "TestOutcomeCrashHelperProcess", outcomeCrashEnv+"=1", "HELPER_REDIS="+addr, "HELPER_URL="+institution.URL)
	testutil.WaitFor(t, "the doomed process to record both outcomes", func() bool {
		child.Alive(t)
		out := child.Output()
		return strings.Contains(out, "recorded ntf_crash1 delivered") && strings.Contains(out, "recorded ntf_crash2 failed")
	})
	child.Kill(t)

	// The new instance comes up after the process that died would have
	// told the notifications API itself.
	later := func() time.Time { return time.Now().Add(time.Hour) }
	g := newCrashGateway(t, client, "survivor", institution.URL, later, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	g.run(ctx, &wg)

	want := []string{notify.StatusEventID("ntf_crash1", "delivered"), notify.StatusEventID("ntf_crash2", "failed")}
	testutil.WaitFor(t, "both outcomes pushed to the institution", func() bool {
		for _, id := range want {
			if st, _ := g.cb.Status(ctx, id); st.State != callbacks.StateDelivered {
				return false
			}
		}
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	for _, id := range want {
		if got[id] != 1 {
			t.Errorf("event %s pushed %d times, want once", id, got[id])
		}
	}
	if len(got) != len(want) {
		t.Errorf("the institution got %v, want %v once each", got, want)
	}
}
