package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

var callbackSecret = []byte("registro-civil-signing-secret-0123456789")

// civilEndpoint is the registro civil's callback endpoint on loopback:
// it verifies each request as docs/notifications.md tells institutions
// to, and answers the statuses of plan in turn (then 204).
type civilEndpoint struct {
	*httptest.Server
	mu   sync.Mutex
	plan []int
	got  []callbacks.Event
	bad  []error
}

func newCivilEndpoint(t *testing.T, clock clockwork.Clock, plan ...int) *civilEndpoint {
	e := &civilEndpoint{plan: plan}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, callbacks.MaxPayload+1))
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := callbacks.Verify(r.Header.Get(callbacks.SignatureHeader), body, callbackSecret, clock.Now(), 0); err != nil {
			e.bad = append(e.bad, err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev callbacks.Event
		_ = json.Unmarshal(body, &ev)
		e.got = append(e.got, ev)
		status := http.StatusNoContent
		if len(e.plan) > 0 {
			status, e.plan = e.plan[0], e.plan[1:]
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *civilEndpoint) events() ([]callbacks.Event, []error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]callbacks.Event(nil), e.got...), append([]error(nil), e.bad...)
}

// withCallbacks gives the registro civil (not the IESS) a callback to
// url, pushed on clock.
func withCallbacks(t *testing.T, clock *clockwork.FakeClock, url string) (*callbacks.Callbacks, func(*notify.Options)) {
	cb, err := callbacks.New(callbacks.Options{
		Store: callbacks.NewMemory(clock.Now),
		Endpoint: func(inst string) (callbacks.Endpoint, bool) {
			return callbacks.Endpoint{URL: url, Secret: callbackSecret}, inst == "registro_civil"
		},
		Now: clock.Now, Sleep: testutil.Sleep(clock), Backoff: callbacks.BackoffInterval, MaxAttempts: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = cb.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return cb, func(o *notify.Options) { o.Callbacks = cb }
}

// A delivery receipt reaches the institution's endpoint, signed, and
// GET shows that it did.
func TestDeliveryReceiptIsPushedToTheInstitution(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	endpoint := newCivilEndpoint(t, clock)
	_, edit := withCallbacks(t, clock, endpoint.URL)
	f := newFixture(t, edit)
	f.run(t)

	if r := f.post(t, civilToken, listo); r.Code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", r.Code, r.Body)
	}
	testutil.WaitFor(t, "the notification sent", func() bool { return f.get(t, civilToken, "ntf_test1").Body["status"] == "sent" })
	if r := f.get(t, civilToken, "ntf_test1"); r.Body["callback"] != nil {
		t.Errorf("a callback before any outcome: %v", r.Body)
	}
	if err := f.queue.MarkDelivered(context.Background(), "SMntf_test1", "delivered"); err != nil {
		t.Fatal(err)
	}
	var cb map[string]any
	testutil.WaitFor(t, "GET to show the callback delivered", func() bool {
		cb, _ = f.get(t, civilToken, "ntf_test1").Body["callback"].(map[string]any)
		return cb != nil && cb["status"] == "delivered"
	})
	eventID := notify.StatusEventID("ntf_test1", "delivered")
	if cb["event_id"] != eventID || cb["attempts"] != 1.0 || cb["last_error"] != nil {
		t.Errorf("callback in GET = %v", cb)
	}
	got, bad := endpoint.events()
	if len(bad) > 0 || len(got) != 1 {
		t.Fatalf("the endpoint got %d events and refused %v", len(got), bad)
	}
	var receipt notify.Receipt
	if err := json.Unmarshal(got[0].Data, &receipt); err != nil {
		t.Fatal(err)
	}
	if got[0].ID != eventID || got[0].Type != callbacks.TypeNotificationStatus || got[0].Institution != "registro_civil" ||
		receipt.NotificationID != "ntf_test1" || receipt.Status != "delivered" || receipt.Channel != "sms" || receipt.Attempts != 1 {
		t.Errorf("event %+v with receipt %+v", got[0], receipt)
	}
}

// An endpoint that keeps failing: GET shows the attempts, the last error
// and the next attempt, then that the push gave up.
func TestFailingCallbackShowsInGET(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	endpoint := newCivilEndpoint(t, clock, 500, 500, 500)
	cbs, edit := withCallbacks(t, clock, endpoint.URL)
	f := newFixture(t, edit)
	f.run(t)
	if r := f.post(t, civilToken, listo); r.Code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", r.Code, r.Body)
	}
	testutil.WaitFor(t, "the notification sent", func() bool { return f.get(t, civilToken, "ntf_test1").Body["status"] == "sent" })
	if err := f.queue.MarkDelivered(context.Background(), "SMntf_test1", "undelivered"); err != nil {
		t.Fatal(err)
	}
	eventID := notify.StatusEventID("ntf_test1", "failed")
	for n := 1; n <= 2; n++ {
		testutil.WaitFor(t, "a failed attempt", func() bool {
			st, _ := cbs.Status(context.Background(), eventID)
			return st.Attempts == n && st.State == callbacks.StatePending
		})
		cb, _ := f.get(t, civilToken, "ntf_test1").Body["callback"].(map[string]any)
		next := clock.Now().Add(callbacks.BackoffInterval(n)).UTC().Format(time.RFC3339)
		if cb["status"] != "pending" || cb["attempts"] != float64(n) || cb["last_error"] != "answered 500 Internal Server Error" || cb["next_attempt"] != next {
			t.Errorf("after attempt %d, callback in GET = %v; want pending, next at %s", n, cb, next)
		}
		clock.Advance(callbacks.BackoffInterval(n))
	}
	var cb map[string]any
	testutil.WaitFor(t, "GET to show the callback failed", func() bool {
		cb, _ = f.get(t, civilToken, "ntf_test1").Body["callback"].(map[string]any)
		return cb != nil && cb["status"] == "failed"
	})
	if cb["attempts"] != 3.0 || cb["last_error"] != "gave up after 3 attempts: answered 500 Internal Server Error" || cb["next_attempt"] != nil {
		t.Errorf("callback in GET = %v", cb)
	}
	got, _ := endpoint.events()
	var receipt notify.Receipt
	_ = json.Unmarshal(got[0].Data, &receipt)
	if receipt.Status != "failed" || receipt.Error != "carrier reported undelivered" {
		t.Errorf("receipt %+v", receipt)
	}
}

// An institution without a callback polls: nothing is pushed for it,
// and GET has no callback.
func TestInstitutionWithoutCallbackPolls(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	endpoint := newCivilEndpoint(t, clock)
	cbs, edit := withCallbacks(t, clock, endpoint.URL)
	f := newFixture(t, edit)
	f.run(t)
	if r := f.post(t, iessToken, listo); r.Code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", r.Code, r.Body)
	}
	testutil.WaitFor(t, "the notification sent", func() bool { return f.get(t, iessToken, "ntf_test1").Body["status"] == "sent" })
	if err := f.queue.MarkDelivered(context.Background(), "SMntf_test1", "delivered"); err != nil {
		t.Fatal(err)
	}
	r := f.get(t, iessToken, "ntf_test1")
	if r.Body["status"] != "delivered" || r.Body["callback"] != nil {
		t.Errorf("GET = %v", r.Body)
	}
	if _, err := cbs.Status(context.Background(), notify.StatusEventID("ntf_test1", "delivered")); err == nil {
		t.Error("an event kept for an institution without a callback")
	}
	if got, _ := endpoint.events(); len(got) != 0 {
		t.Errorf("another institution's endpoint got %d events", len(got))
	}
}
